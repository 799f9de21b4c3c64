import { type AlertState, evaluateAlerts, restoreAlertState } from '../core/alert-policy.js';
import { alertBody, alertTitle } from '../core/alert-text.js';
import type { Alert, AlertSettings, FigureName, RefreshOutcome } from '../core/monitor-types.js';
import { type Clock, RefreshScheduler, type SchedulerState } from '../core/scheduler.js';
import type { Notifier } from '../notify/notifier.js';
import { type SourceDeps, type SourceSpec, countOnce } from './open-sources.js';
import { type HostFilter, failureToOutcome, reportToOutcome } from './report-to-outcome.js';

/** What the monitor keeps: the history database, as far as the monitor needs it. */
export interface HistoryPort {
  /** Runs the writes in `fn` as one transaction. */
  atomically<T>(fn: () => T): T;
  record(outcome: RefreshOutcome): void;
  recordAlert(alert: Alert, at: number): void;
  nearest(
    profile: string,
    host: string,
    figure: FigureName,
    at: number,
    toleranceSeconds: number,
  ): { value: number; at: number } | null;
  loadState(profile: string, key: string): string | null;
  saveState(profile: string, key: string, json: string): void;
}

/** One server the monitor watches. */
export interface MonitorProfile {
  name: string;
  spec: SourceSpec;
  filter?: HostFilter;
  alerts: AlertSettings;
  intervalSeconds: number;
}

export interface MonitorDeps {
  clock: Clock;
  /** The operator's local time of day in minutes, for quiet hours. */
  localMinuteOfDay(ms: number): number;
  history: HistoryPort;
  notifier: Notifier;
  sources: SourceDeps;
  onRefresh?(outcome: RefreshOutcome): void;
  onAlert?(alert: Alert): void;
  onStep?(profile: string, step: string): void;
  onState?(profile: string, state: SchedulerState): void;
  /** Unexpected errors (bugs), logged once at the edge. */
  onError(error: unknown): void;
  /** Caps each timer, so that an overdue refresh runs soon after the machine wakes. */
  recheckMs?: number;
}

const ALERT_STATE_KEY = 'alert-policy';

/**
 * How far from the baseline moment a recorded figure may lie: less than half the baseline (so the
 * refresh being judged is never its own baseline) and at most two intervals.
 */
function baselineTolerance(profile: MonitorProfile): number {
  return Math.min(profile.alerts.baselineSeconds / 2, 2 * profile.intervalSeconds);
}

/**
 * Counts each profile at start and every interval, records history, decides alerts with the pure
 * policy and hands them to the notifier. The same engine serves the CLI's watch mode and the app.
 */
export class Monitor {
  private readonly schedulers = new Map<string, RefreshScheduler>();
  private abandoned = false;

  constructor(
    private readonly profiles: readonly MonitorProfile[],
    private readonly deps: MonitorDeps,
  ) {
    for (const profile of profiles) {
      this.schedulers.set(
        profile.name,
        new RefreshScheduler({
          clock: deps.clock,
          intervalMs: profile.intervalSeconds * 1000,
          refresh: () => this.refresh(profile),
          onState: (s) => deps.onState?.(profile.name, s),
          onError: deps.onError,
          recheckMs: deps.recheckMs,
        }),
      );
    }
  }

  start(): void {
    for (const s of this.schedulers.values()) s.start();
  }

  /** Refreshes one profile, or all; a refresh already running is joined, not repeated. */
  async refreshNow(profile?: string): Promise<void> {
    const chosen = [...this.schedulers.entries()].filter(([n]) => !profile || n === profile);
    await Promise.all(chosen.map(([, s]) => s.refreshNow()));
  }

  /** After the machine wakes from sleep: overdue refreshes run at once. */
  wake(): void {
    for (const s of this.schedulers.values()) s.wake();
  }

  state(profile: string): SchedulerState | undefined {
    return this.schedulers.get(profile)?.state;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.schedulers.values()].map((s) => s.stop()));
  }

  /**
   * Gives up on the refreshes under way (a shutdown that cannot wait for a silent server): when
   * they end, if ever, nothing of them is recorded, shown or notified. A refresh is recorded in one
   * transaction, so the history holds it whole or not at all.
   */
  abandon(): void {
    this.abandoned = true;
  }

  private async refresh(profile: MonitorProfile): Promise<boolean> {
    const { deps } = this;
    const startedMs = deps.clock.now();
    const now = Math.floor(startedMs / 1000);
    const step = (text: string) => deps.onStep?.(profile.name, text);
    const counted = await countOnce(profile.spec, deps.sources, now, step, step);
    if (this.abandoned) return false;
    const outcome = counted.ok
      ? reportToOutcome(profile.name, counted.value, profile.filter)
      : failureToOutcome(profile.name, now, counted.failure);
    if (outcome.ok && outcome.seconds === 0)
      outcome.seconds = (deps.clock.now() - startedMs) / 1000;

    // Judge against history before this refresh joins it.
    const stored = deps.history.loadState(profile.name, ALERT_STATE_KEY);
    const state: AlertState = restoreAlertState(stored === null ? null : JSON.parse(stored));
    const tolerance = baselineTolerance(profile);
    const judged = evaluateAlerts({
      settings: profile.alerts,
      now,
      localMinuteOfDay: deps.localMinuteOfDay(startedMs),
      outcome,
      baseline: (host, figure, at) =>
        deps.history.nearest(profile.name, host, figure, at, tolerance),
      state,
    });
    // The refresh, the policy's new state and the alerts it raised are recorded together, so that
    // a crash cannot leave an alert to be raised twice.
    deps.history.atomically(() => {
      deps.history.record(outcome);
      deps.history.saveState(profile.name, ALERT_STATE_KEY, JSON.stringify(judged.state));
      for (const alert of judged.deliver) deps.history.recordAlert(alert, now);
    });
    deps.onRefresh?.(outcome);
    for (const alert of judged.deliver) {
      deps.onAlert?.(alert);
      const sent = await deps.notifier.notify({
        title: alertTitle(alert),
        body: alertBody(alert),
        profile: profile.name,
      });
      if (!sent.ok) step(`the notification could not be shown: ${sent.failure.kind}`);
    }
    return outcome.ok;
  }
}
