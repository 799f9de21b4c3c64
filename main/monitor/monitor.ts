import {
  type AlertState,
  type PolicyResult,
  evaluateAlerts,
  restoreAlertState,
} from '../core/alert-policy.js';
import { groupedNotification } from '../core/alert-text.js';
import type { Alert, AlertSettings, FigureName, RefreshOutcome } from '../core/monitor-types.js';
import { type Clock, RefreshScheduler, type SchedulerState } from '../core/scheduler.js';
import { type Failure, FailureError, type Result, fail, ok } from '../core/failure.js';
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
  /** Each profile's alert state as of its last refresh, for when the history cannot be read. */
  private readonly alertStates = new Map<string, AlertState>();
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
    let outcome: RefreshOutcome;
    try {
      const counted = await countOnce(profile.spec, deps.sources, now, step, step);
      if (this.abandoned) return false;
      outcome = counted.ok
        ? reportToOutcome(profile.name, counted.value, profile.filter)
        : failureToOutcome(profile.name, now, counted.failure);
    } catch (e) {
      if (this.abandoned) return false;
      // A bug in a source: still a failed refresh, recorded and counted toward the failing alert.
      outcome = failureToOutcome(profile.name, now, this.unexpected(e));
    }
    if (outcome.ok && outcome.seconds === 0)
      outcome.seconds = (deps.clock.now() - startedMs) / 1000;

    let judged = this.judge(profile, outcome, now, startedMs);
    const kept = this.keep(profile.name, outcome, judged, now);
    if (!kept.ok) {
      // What could not be kept failed after all: that failure is the refresh's outcome, recorded
      // as an error row if the history takes one, and judged so that the failing alert counts it.
      outcome = failureToOutcome(profile.name, now, kept.failure);
      judged = this.judge(profile, outcome, now, startedMs);
      this.keep(profile.name, outcome, judged, now);
    }
    this.alertStates.set(profile.name, judged.state);
    deps.onRefresh?.(outcome);
    for (const alert of judged.deliver) deps.onAlert?.(alert);
    // One notification per refresh of a server, however many alerts it raised: the window lists
    // them all.
    if (judged.deliver.length > 0) {
      const sent = await deps.notifier.notify({
        ...groupedNotification(judged.deliver),
        profile: profile.name,
      });
      if (!sent.ok) step(`the notification could not be shown: ${sent.failure.kind}`);
    }
    return outcome.ok;
  }

  /** The policy's verdict on `outcome`, judged against history before the refresh joins it. */
  private judge(
    profile: MonitorProfile,
    outcome: RefreshOutcome,
    now: number,
    startedMs: number,
  ): PolicyResult {
    const { deps } = this;
    const tolerance = baselineTolerance(profile);
    try {
      return this.evaluate(profile, outcome, now, startedMs, tolerance);
    } catch (e) {
      // A bug in the policy must not cost the refresh its row: logged, and no alert this time.
      deps.onError(e);
      return { deliver: [], state: this.alertStates.get(profile.name) ?? restoreAlertState(null) };
    }
  }

  private evaluate(
    profile: MonitorProfile,
    outcome: RefreshOutcome,
    now: number,
    startedMs: number,
    tolerance: number,
  ): PolicyResult {
    const { deps } = this;
    return evaluateAlerts({
      settings: profile.alerts,
      now,
      localMinuteOfDay: deps.localMinuteOfDay(startedMs),
      outcome,
      // A history that cannot be read has no baseline: no large-change alert, no crash.
      baseline: (host, figure, at) =>
        orWhenFailing(() => deps.history.nearest(profile.name, host, figure, at, tolerance), null),
      state: this.alertState(profile.name),
    });
  }

  /** The policy's state as the history kept it, or as this process last knew it. */
  private alertState(name: string): AlertState {
    const remembered = this.alertStates.get(name) ?? restoreAlertState(null);
    const stored = orWhenFailing(
      () => this.deps.history.loadState(name, ALERT_STATE_KEY),
      undefined,
    );
    if (stored === undefined) return remembered;
    return restoreAlertState(stored === null ? null : JSON.parse(stored));
  }

  /**
   * The refresh, the policy's new state and the alerts it raised, recorded together, so that a
   * crash cannot leave an alert to be raised twice; or why they could not be.
   */
  private keep(
    name: string,
    outcome: RefreshOutcome,
    judged: PolicyResult,
    now: number,
  ): Result<void> {
    const { history } = this.deps;
    try {
      history.atomically(() => {
        history.record(outcome);
        history.saveState(name, ALERT_STATE_KEY, JSON.stringify(judged.state));
        for (const alert of judged.deliver) history.recordAlert(alert, now);
      });
      return ok(undefined);
    } catch (e) {
      return fail(e instanceof FailureError ? e.failure : this.unexpected(e));
    }
  }

  /** A bug, logged once at the edge, as the failure its refresh records. */
  private unexpected(e: unknown): Failure {
    this.deps.onError(e);
    const text = e instanceof Error ? e.message : String(e);
    return { kind: 'unexpected', detail: text.split('\n')[0] ?? '' };
  }
}

/** fn's value, or `fallback` when it throws an expected failure (the history file failing). */
function orWhenFailing<T, F>(fn: () => T, fallback: F): T | F {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FailureError) return fallback;
    throw e;
  }
}
