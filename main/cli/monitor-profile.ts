import { type Result, fail, ok } from '../core/failure.js';
import { DEFAULT_ALERT_SETTINGS } from '../core/monitor-types.js';
import {
  DEFAULT_INTERVAL_SECONDS,
  type Settings,
  withDefaults,
} from '../core/profile-validation.js';
import { DEFAULT_PROSODY_CONFIG } from '../sources/discover-sources.js';
import type { MonitorProfile } from '../monitor/monitor.js';
import { type CliOptions, sourceSpecOf } from './cli-options.js';

const DEFAULT_CONNECT_TIMEOUT = 15;

/**
 * The profile watch mode runs: a saved one by name (`--profile`), or one made of the one-shot
 * options, named after its target.
 */
export function monitorProfileOf(
  options: CliOptions,
  settings: Settings,
  settingsPath: string,
): Result<MonitorProfile> {
  if (options.profile === undefined) {
    const spec = sourceSpecOf(options);
    const name =
      spec.kind === 'ssh' ? spec.ssh.target : spec.kind === 'discover' ? 'local' : spec.path;
    return ok({
      name,
      spec,
      alerts: { ...DEFAULT_ALERT_SETTINGS },
      intervalSeconds: options.interval ?? DEFAULT_INTERVAL_SECONDS,
    });
  }
  const wanted = options.profile.toLowerCase();
  const found = settings.profiles.find((p) => p.name.toLowerCase() === wanted);
  if (!found) {
    const names = settings.profiles.map((p) => p.name);
    return fail({
      kind: 'usage',
      message: `no profile named ${JSON.stringify(options.profile)} in ${settingsPath} (${
        names.length > 0 ? `it has ${names.join(', ')}` : 'it has none yet'
      })`,
    });
  }
  const p = withDefaults(found);
  const intervalSeconds = options.interval ?? p.intervalSeconds;
  if (p.ssh) {
    const connectTimeout = p.ssh.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
    return ok({
      name: p.name,
      filter: p.hosts,
      alerts: p.alerts,
      intervalSeconds,
      spec: {
        kind: 'ssh',
        ssh: {
          target: p.ssh.target,
          identity: p.ssh.identity,
          sshConfig: p.ssh.sshConfig,
          knownHosts: p.ssh.knownHosts,
          acceptNewHostKey: false,
          remoteDb: p.ssh.remoteDb,
          remoteDataDir: p.ssh.remoteDataDir,
          remoteConfig: p.ssh.remoteConfig ?? DEFAULT_PROSODY_CONFIG,
          method: p.ssh.method ?? 'auto',
          connectTimeout,
          stepTimeout: connectTimeout * 8,
        },
      },
    });
  }
  const local = p.local ?? {};
  return ok({
    name: p.name,
    filter: p.hosts,
    alerts: p.alerts,
    intervalSeconds,
    spec:
      local.db !== undefined
        ? { kind: 'db', path: local.db }
        : local.dataDir !== undefined
          ? { kind: 'data-dir', path: local.dataDir }
          : { kind: 'discover', config: local.config ?? DEFAULT_PROSODY_CONFIG },
  });
}
