import { join } from 'node:path';
import { alertLine } from '../core/alert-text.js';
import { describeFailure } from '../core/describe-failure.js';
import type { Result } from '../core/failure.js';
import { type RefreshOutcome, TOTAL_HOST } from '../core/monitor-types.js';
import { formatTime } from '../core/parse-time.js';
import { showControls } from '../core/terminal-text.js';
import type { Settings } from '../core/profile-validation.js';
import type { Clock } from '../core/scheduler.js';
import type { Notifier } from '../notify/notifier.js';
import type { HistoryDb } from '../store/history-db.js';
import { Monitor } from '../monitor/monitor.js';
import { withAccountCache } from '../monitor/open-sources.js';
import { ACCOUNT_CACHE_FILE } from '../sources/account-cache.js';
import { HISTORY_FILE } from '../config/state-files.js';
import type { CliOptions } from './cli-options.js';
import { monitorProfileOf } from './monitor-profile.js';
import type { CliDeps } from './run-cli.js';

/** What watch mode and the history command need beyond a one-shot count. */
export interface MonitorCliDeps {
  clock: Clock;
  localMinuteOfDay(ms: number): number;
  stateDir(override: string | undefined): string;
  loadSettings(stateDir: string): Promise<Result<Settings>>;
  openHistory(path: string): Result<HistoryDb>;
  /** The history to read, opened so that nothing is written to it (`history`). */
  readHistory(path: string): Result<HistoryDb>;
  /** A line when other users can read the state folder (see config/state-folder-check.ts). */
  stateFolderWarning(dir: string): string | null;
  notifier: Notifier;
  /** Resolves on Ctrl-C or SIGTERM. */
  untilStopped(): Promise<void>;
}

/** How long stopping waits for a refresh under way before abandoning it. */
export const STOP_GRACE_MS = 3000;

/** One line per refresh: when, which profile, the total figures and how they came. */
export function refreshLine(outcome: RefreshOutcome): string {
  const when = formatTime(outcome.at);
  if (!outcome.ok) return `${when}  ${outcome.profile}  refresh failed: ${outcome.message}`;
  const t = outcome.hosts[TOTAL_HOST];
  const figures = t ? `DAU ${t.dau} · WAU ${t.wau} · MAU ${t.mau}` : 'no hosts';
  return `${when}  ${outcome.profile}  ${figures}  (${outcome.method}, ${outcome.bytesReceived} bytes, ${outcome.seconds.toFixed(2)} s)`;
}

/** `--watch`: counts at start and every interval until stopped; exit 0 on Ctrl-C or SIGTERM. */
export async function runWatch(
  options: CliOptions,
  deps: CliDeps & MonitorCliDeps,
): Promise<number> {
  const complain = (text: string) => deps.stderr(`prosody-active-users: ${showControls(text)}\n`);
  const dir = deps.stateDir(options.stateDir);
  const settings = await deps.loadSettings(dir);
  if (!settings.ok) {
    complain(describeFailure(settings.failure));
    return 1;
  }
  const profile = monitorProfileOf(options, settings.value, join(dir, 'settings.json'));
  if (!profile.ok) {
    complain(describeFailure(profile.failure));
    return 2;
  }
  const history = deps.openHistory(join(dir, HISTORY_FILE));
  if (!history.ok) {
    complain(describeFailure(history.failure));
    return 1;
  }
  const exposed = deps.stateFolderWarning(dir);
  if (exposed) complain(`warning: ${exposed}`);
  const verbose = options.verbose;
  const watched = {
    ...profile.value,
    spec: withAccountCache(profile.value.spec, join(dir, ACCOUNT_CACHE_FILE)),
  };
  const monitor = new Monitor([watched], {
    clock: deps.clock,
    localMinuteOfDay: deps.localMinuteOfDay,
    history: history.value,
    notifier: deps.notifier,
    sources: deps,
    recheckMs: 60_000,
    onRefresh: (outcome) => deps.stdout(`${showControls(refreshLine(outcome))}\n`),
    onAlert: (alert) => deps.stdout(`${showControls(alertLine(alert))}\n`),
    onStep: verbose
      ? (name, step) => deps.stderr(`${showControls(`${name}: ${step}`)}\n`)
      : undefined,
    // A stack spans lines; the writer still shows every other control character escaped.
    onError: (e) =>
      deps.stderr(
        `prosody-active-users: unexpected error, please report it: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
      ),
  });
  deps.stderr(
    `Watching ${profile.value.name} every ${profile.value.intervalSeconds} s; history in ${join(dir, HISTORY_FILE)}. Ctrl-C stops.\n`,
  );
  monitor.start();
  await deps.untilStopped();
  // A refresh under way may wait minutes on a silent server, past a service manager's stop
  // timeout: it gets a few seconds to end, then is abandoned and nothing of it is recorded.
  let timer: unknown;
  const gaveUp = new Promise<'gave-up'>((resolve) => {
    timer = deps.clock.setTimeout(() => resolve('gave-up'), STOP_GRACE_MS);
  });
  const ended = await Promise.race([monitor.stop().then(() => 'stopped' as const), gaveUp]);
  deps.clock.clearTimeout(timer);
  if (ended === 'gave-up') {
    monitor.abandon();
    deps.stderr('Stopped without waiting for the refresh under way; nothing of it was recorded.\n');
  }
  history.value.close();
  return 0;
}
