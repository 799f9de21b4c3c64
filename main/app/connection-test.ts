/**
 * "Test connection" for a profile the user is editing: connect, check the host key, authenticate,
 * find the data, read it; each step reported, nothing saved, nothing recorded in history.
 */
import { countSources } from '../core/activity-source.js';
import type { Failure } from '../core/failure.js';
import type { ConnectionStep, ConnectionTestResult } from '../core/ipc-contract.js';
import { TOTAL_HOST } from '../core/monitor-types.js';
import { type SourceDeps, openSources } from '../monitor/open-sources.js';
import type { MonitorProfile } from '../monitor/monitor.js';
import { reportToOutcome } from '../monitor/report-to-outcome.js';
import { describeAppFailure } from './describe-app-failure.js';

type StepName = ConnectionStep['step'];
const STEPS: readonly StepName[] = ['connect', 'host-key', 'authenticate', 'find-data', 'read'];
const SSH_STEPS: readonly StepName[] = ['connect', 'host-key', 'authenticate'];

/** The step a failure of this kind belongs to, when its kind says so regardless of progress. */
function stepOfKind(kind: Failure['kind']): StepName | undefined {
  switch (kind) {
    case 'network':
    case 'ssh-config':
      return 'connect';
    case 'host-key-unknown':
    case 'host-key-changed':
    case 'host-key-revoked':
      return 'host-key';
    case 'auth':
    case 'key-format':
    case 'key-passphrase':
      return 'authenticate';
    case 'no-prosody-data':
    case 'unsupported-storage':
      return 'find-data';
    default:
      return undefined;
  }
}

/**
 * Runs the steps for `profile` through `sources` (the profile's own SourceDeps) at `clock.now()`.
 * `lastFailure` returns the failure the sources reported last (see profileSourceDeps), so that a
 * failure's kind, not only its sentence, decides where it belongs.
 */
export async function testConnection(
  profile: MonitorProfile,
  sources: SourceDeps,
  clock: { now(): number },
  lastFailure: () => Failure | null,
): Promise<ConnectionTestResult> {
  const startedMs = clock.now();
  const now = Math.floor(startedMs / 1000);
  const done = new Map<StepName, string>();
  const isSsh = profile.spec.kind === 'ssh';
  let current: StepName = isSsh ? 'connect' : 'find-data';
  let connectText = '';
  const advance = (to: StepName, detailOfPrevious: string) => {
    if (!done.has(current)) done.set(current, detailOfPrevious);
    current = to;
  };
  const onStep = (text: string) => {
    if (/^connecting to /.test(text) && current === 'connect') {
      connectText = text.replace(/^connecting to /, '');
    } else if (text === 'checking the host key' && current === 'connect') {
      advance('host-key', `Reached ${connectText || 'the server'}`);
    } else if (text === 'authenticating' && current === 'host-key') {
      advance('authenticate', "The server's host key matches known_hosts");
    } else if (text.startsWith('logged in to ')) {
      if (current === 'host-key')
        advance('authenticate', "The server's host key matches known_hosts");
      advance('find-data', `Logged in to ${text.slice('logged in to '.length)}`);
    } else if (text.startsWith('added ') && current === 'host-key') {
      advance('authenticate', text);
    }
  };

  const finish = (failure: Failure | null): ConnectionTestResult => {
    const failedStep = failure ? (stepOfKind(failure.kind) ?? current) : null;
    const steps: ConnectionStep[] = STEPS.map((step): ConnectionStep => {
      if (!isSsh && SSH_STEPS.includes(step)) {
        return { step, state: 'skipped', detail: 'Not needed: Prosody runs on this computer' };
      }
      if (step === failedStep && failure) {
        // The window asks about an unknown key right below the steps.
        const detail =
          failure.kind === 'host-key-unknown'
            ? `${failure.host} is not in known_hosts yet; its ${failure.keyType} key is ${failure.fingerprint}. Compare that with the server's own before trusting it.`
            : describeAppFailure(failure);
        return { step, state: 'failed', detail };
      }
      const detail = done.get(step);
      if (detail !== undefined) return { step, state: 'ok', detail };
      return { step, state: 'skipped', detail: 'Not tried' };
    });
    return {
      steps,
      unknownHostKey:
        failure?.kind === 'host-key-unknown'
          ? {
              host: failure.host,
              port: failure.port,
              keyType: failure.keyType,
              fingerprint: failure.fingerprint,
            }
          : null,
      changedHostKey:
        failure?.kind === 'host-key-changed' || failure?.kind === 'host-key-revoked'
          ? {
              host: failure.host,
              fingerprint: failure.fingerprint,
              message: describeAppFailure(failure),
            }
          : null,
      outcome: failure
        ? {
            ok: false,
            profile: profile.name,
            at: now,
            kind: failure.kind,
            message: describeAppFailure(failure),
          }
        : null,
    };
  };

  const opened = await openSources(profile.spec, sources, onStep, () => undefined);
  if (!opened.ok) return finish(opened.failure);
  try {
    advance('read', opened.value.sources.map((s) => s.label).join('; '));
    const counted = await countSources(opened.value.sources, now);
    if (!counted.ok) {
      const reported = lastFailure();
      return finish(reported?.kind === counted.failure.kind ? reported : counted.failure);
    }
    const outcome = reportToOutcome(profile.name, counted.value, profile.filter);
    if (outcome.seconds === 0) outcome.seconds = (clock.now() - startedMs) / 1000;
    const t = outcome.hosts[TOTAL_HOST];
    const figures = t ? `DAU ${t.dau} · WAU ${t.wau} · MAU ${t.mau}, ${t.accounts} accounts` : '';
    done.set(
      'read',
      `${figures} (${outcome.method}, ${outcome.bytesReceived} bytes, ${outcome.seconds.toFixed(2)} s)`,
    );
    return { ...finish(null), outcome };
  } finally {
    opened.value.close();
  }
}
