/**
 * Whether a refresh deserves a notification. A pure policy decides, a notifier delivers: this is a
 * function of (settings, the time, the refresh's outcome, recorded history, the policy's own state)
 * that returns the alerts to send now and the state to keep for the next refresh. No clock, no I/O.
 *
 * The rules, and the choices made where the issue leaves room:
 *
 * - Large change. For each host in the outcome (the total, TOTAL_HOST, included) and each watched
 *   figure, the baseline is the recorded figure `baselineSeconds` before the figures' time
 *   (`outcome.at`, which is what the figures describe; the caller's lookup applies its own
 *   tolerance). No baseline recorded, no alert. A change alerts when it is at least the absolute
 *   minimum AND at least the relative threshold times the baseline: `|to − from| ≥ minimum` and
 *   `|to − from| ≥ threshold × from`, both inclusive. From 0 the relative change is undefined, and
 *   the second test always holds, so only the absolute minimum counts (0 → 5 alerts at the defaults).
 *   A figure that did not move never alerts, whatever the settings. `perFigure` overrides either
 *   threshold for one figure.
 *   With a single host, the total (which equals it) is not compared on top of it.
 * - Hysteresis. After a large-change alert the (host, figure) is latched: it does not alert again
 *   until the change falls below HALF the minimum or below HALF the relative threshold (no longer
 *   large by the halved thresholds), or until a large change in the other direction. 100 → 120 →
 *   119 → 121 → 118 alerts once; back to 109 re-arms (9 < 10, half of 20 % of 100).
 * - Cooldown. The same alert (kind, host, figure) is not sent again within `cooldownSeconds` of the
 *   last one (delivered, or accepted and held). A condition suppressed by the cooldown is not
 *   latched: if it still holds when the cooldown ends, it is announced then.
 * - Failures. `failuresBeforeAlert` failed refreshes in a row raise one 'failing' alert for that run
 *   of failures; the first success after it raises one 'recovered' alert. No recovery is announced
 *   for failures the operator was never told about. So that a flapping connection cannot storm, a
 *   'failing' alert also waits out the cooldown of the last 'recovered' one; every 'recovered'
 *   answers exactly one 'failing', so neither kind repeats within the cooldown.
 * - Stale records. A host (not the total, which would only repeat its hosts) with activity
 *   (`newestEvent` not null) and `outcome.at − newestEvent > staleSeconds` raises a 'stale' alert
 *   once; it re-arms when the host's records are fresh again.
 * - Quiet hours and pause. While the local time is within `quietHours` (from inclusive, to
 *   exclusive; may wrap midnight; from == to means none; text that is not HH:MM is ignored, config
 *   validation reports it) or `now < pausedUntil`, accepted alerts are held in the state, oldest
 *   first, and delivered at the first evaluation outside both. Of held alerts with the same key only
 *   the newest is kept; 'failing' and 'recovered' share one slot, so the operator is told the
 *   connection's latest news, not its night.
 *
 * One AlertState per profile: the keys do not name the profile.
 */
import {
  TOTAL_HOST,
  type Alert,
  type AlertSettings,
  type FigureName,
  type Figures,
  type RefreshOutcome,
} from './monitor-types.js';
import { getOwn, setOwn } from './host-record.js';

/** The recorded figure nearest to `at` (within the caller's tolerance), from history; or null. */
export type BaselineLookup = (
  host: string,
  figure: FigureName,
  at: number,
) => { value: number; at: number } | null;

export interface PolicyInput {
  settings: AlertSettings;
  /** Unix seconds, now: for the cooldown and the pause. */
  now: number;
  /** The operator's local time, 0..1439 minutes after midnight, for quiet hours. */
  localMinuteOfDay: number;
  outcome: RefreshOutcome;
  baseline: BaselineLookup;
  state: AlertState;
}

export interface PolicyResult {
  /** Alerts to send now, oldest first. */
  deliver: Alert[];
  /** To store and pass to the next evaluation. */
  state: AlertState;
}

/** Plain JSON data the monitor keeps between refreshes (one per profile). */
export interface AlertState {
  /** Failed refreshes in a row, up to the last outcome. */
  consecutiveFailures: number;
  /** A 'failing' alert was sent (or held) for the current run of failures: a success announces recovery. */
  failingAnnounced: boolean;
  /** Unix seconds each alert key (see alertKey) was last sent or held, for the cooldown. */
  lastSent: Record<string, number>;
  /** Latched `host/figure` pairs after a large-change alert: the direction of that change. */
  changeLatch: Record<string, 1 | -1>;
  /** Hosts that had a 'stale' alert and whose records have not moved since. */
  staleLatch: Record<string, true>;
  /** Hosts that had a 'module-missing' alert and have not had the module loaded since. */
  moduleLatch?: Record<string, true>;
  /** Alerts accepted during quiet hours or a pause, oldest first, at most one per key. */
  held: Alert[];
}

export const INITIAL_ALERT_STATE: AlertState = Object.freeze({
  consecutiveFailures: 0,
  failingAnnounced: false,
  lastSent: Object.freeze({}) as Record<string, number>,
  changeLatch: Object.freeze({}) as Record<string, 1 | -1>,
  staleLatch: Object.freeze({}) as Record<string, true>,
  held: Object.freeze([]) as unknown as Alert[],
});

/** The cooldown's key: kind, host and figure (`large-change/example.org/dau`, `stale/example.org`, `failing`). */
export function alertKey(alert: Alert): string {
  switch (alert.kind) {
    case 'large-change':
      return `large-change/${alert.host}/${alert.figure}`;
    case 'stale':
      return `stale/${alert.host}`;
    case 'module-missing':
      return `module-missing/${alert.host}`;
    case 'failing':
    case 'recovered':
      return alert.kind;
  }
}

export interface Thresholds {
  relativeThreshold: number;
  absoluteMinimum: number;
}

/** The profile's thresholds with the figure's overrides applied. */
export function thresholdsFor(settings: AlertSettings, figure: FigureName): Thresholds {
  const own = settings.perFigure?.[figure];
  return {
    relativeThreshold: own?.relativeThreshold ?? settings.relativeThreshold,
    absoluteMinimum: own?.absoluteMinimum ?? settings.absoluteMinimum,
  };
}

/**
 * At least the minimum and at least the threshold times `from` (so from 0 only the minimum counts);
 * no change is never large. Float noise (0.1 × 30 = 3.0000000000000004) does not hide a change of
 * exactly the threshold.
 */
export function isLargeChange(from: number, to: number, t: Thresholds): boolean {
  const change = Math.abs(to - from);
  if (change === 0) return false;
  return (
    atLeast(change, t.absoluteMinimum) && atLeast(change, t.relativeThreshold * Math.abs(from))
  );
}

/** The latch's lower threshold: large by half the minimum and half the relative threshold. */
function stillLargeByHalf(from: number, to: number, t: Thresholds): boolean {
  return isLargeChange(from, to, {
    relativeThreshold: t.relativeThreshold / 2,
    absoluteMinimum: t.absoluteMinimum / 2,
  });
}

function atLeast(value: number, limit: number): boolean {
  return value >= limit - Math.abs(limit) * 1e-12;
}

/** Minutes after midnight for `HH:MM` (00:00..23:59), or null. */
export function parseClockTime(text: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const hours = Number(m[1]);
  const minutes = Number(m[2]);
  if (hours > 23 || minutes > 59) return null;
  return hours * 60 + minutes;
}

/** Whether `minuteOfDay` is within the quiet hours: from inclusive, to exclusive, across midnight if from > to. */
export function inQuietHours(
  quietHours: AlertSettings['quietHours'],
  minuteOfDay: number,
): boolean {
  if (!quietHours) return false;
  const from = parseClockTime(quietHours.from);
  const to = parseClockTime(quietHours.to);
  if (from === null || to === null || from === to) return false;
  const m = Math.floor(minuteOfDay);
  return from < to ? m >= from && m < to : m >= from || m < to;
}

/** Whether alerts are held now: quiet hours or a pause. */
export function isHolding(settings: AlertSettings, now: number, localMinuteOfDay: number): boolean {
  const paused = settings.pausedUntil !== undefined && now < settings.pausedUntil;
  return paused || inQuietHours(settings.quietHours, localMinuteOfDay);
}

const CONNECTION_KINDS: ReadonlySet<Alert['kind']> = new Set(['failing', 'recovered']);

/**
 * The alerts one refresh's outcome deserves (rules in the header above): those to deliver now, and
 * the state to keep. Never modifies `input.state`; the same input always gives the same result.
 */
export function evaluateAlerts(input: PolicyInput): PolicyResult {
  const { settings, now, outcome } = input;
  const state = copyState(input.state);

  const coolingDown = (key: string): boolean => {
    const last = getOwn(state.lastSent, key);
    return last !== undefined && now - last < settings.cooldownSeconds;
  };
  const accept = (alert: Alert): void => {
    const key = alertKey(alert);
    const connection = CONNECTION_KINDS.has(alert.kind);
    state.held = state.held.filter((h) =>
      connection ? !CONNECTION_KINDS.has(h.kind) : alertKey(h) !== key,
    );
    state.held.push(alert);
    setOwn(state.lastSent, key, now);
  };

  if (!outcome.ok) {
    state.consecutiveFailures += 1;
    if (
      !state.failingAnnounced &&
      state.consecutiveFailures >= Math.max(1, settings.failuresBeforeAlert) &&
      !coolingDown('failing') &&
      !coolingDown('recovered')
    ) {
      accept({
        kind: 'failing',
        profile: outcome.profile,
        failures: state.consecutiveFailures,
        message: outcome.message,
        at: outcome.at,
      });
      state.failingAnnounced = true;
    }
  } else {
    if (state.failingAnnounced) {
      accept({
        kind: 'recovered',
        profile: outcome.profile,
        failures: state.consecutiveFailures,
        at: outcome.at,
      });
    }
    state.consecutiveFailures = 0;
    state.failingAnnounced = false;

    const figureNames = [...new Set(settings.figures)];
    // With one host the total is that host's figures again: one change, one notification.
    const totalRepeatsHost =
      Object.keys(outcome.hosts).filter((h) => h !== TOTAL_HOST).length === 1;
    for (const [host, figures] of Object.entries(outcome.hosts)) {
      if (host === TOTAL_HOST && totalRepeatsHost) continue;
      for (const figure of figureNames) {
        const alert = changeAlert(input, state, host, figure, figures[figure]);
        if (alert && !coolingDown(alertKey(alert))) {
          accept(alert);
          setOwn(state.changeLatch, latchKey(host, figure), alert.to > alert.from ? 1 : -1);
        }
      }
      if (host === TOTAL_HOST) continue;
      const alert = staleAlert(input, state, host, figures);
      if (alert && !coolingDown(alertKey(alert))) {
        accept(alert);
        setOwn(state.staleLatch, host, true);
      }
    }
    // Only what the live view saw: unknown (not asked, or refused) leaves the latches as they were.
    if (outcome.activityModuleMissing !== undefined) {
      const missing = new Set(outcome.activityModuleMissing);
      const latch = (state.moduleLatch ??= {});
      for (const host of Object.keys(latch)) if (!missing.has(host)) delete latch[host];
      for (const host of [...missing].sort()) {
        const alert: Alert = {
          kind: 'module-missing',
          profile: outcome.profile,
          host,
          at: outcome.at,
        };
        if (getOwn(latch, host) || coolingDown(alertKey(alert))) continue;
        accept(alert);
        setOwn(latch, host, true);
      }
    }
  }

  if (isHolding(settings, now, input.localMinuteOfDay)) return { deliver: [], state };
  const deliver = state.held;
  state.held = [];
  for (const alert of deliver) setOwn(state.lastSent, alertKey(alert), now);
  return { deliver, state };
}

function latchKey(host: string, figure: FigureName): string {
  return `${host}/${figure}`;
}

/** Updates the (host, figure) latch and returns the alert the change deserves, if any. */
function changeAlert(
  input: PolicyInput,
  state: AlertState,
  host: string,
  figure: FigureName,
  to: number,
): Extract<Alert, { kind: 'large-change' }> | null {
  const { settings, outcome } = input;
  if (!outcome.ok) return null;
  const base = input.baseline(host, figure, outcome.at - settings.baselineSeconds);
  // Nothing recorded to compare with: no alert, and the latch stays as it was.
  if (base === null) return null;
  const from = base.value;
  const t = thresholdsFor(settings, figure);
  const key = latchKey(host, figure);
  const latched = getOwn(state.changeLatch, key);
  const large = isLargeChange(from, to, t);
  const direction = to > from ? 1 : -1;
  if (latched !== undefined) {
    const reversed = large && direction !== latched;
    if (!reversed && stillLargeByHalf(from, to, t)) return null;
    delete state.changeLatch[key];
  }
  if (!large) return null;
  return {
    kind: 'large-change',
    profile: outcome.profile,
    host,
    figure,
    from,
    to,
    baselineAt: base.at,
    at: outcome.at,
  };
}

/** Updates the host's stale latch and returns the alert its records deserve, if any. */
function staleAlert(
  input: PolicyInput,
  state: AlertState,
  host: string,
  figures: Figures,
): Extract<Alert, { kind: 'stale' }> | null {
  const { settings, outcome } = input;
  if (!outcome.ok) return null;
  const newest = figures.newestEvent;
  const stale = newest !== null && outcome.at - newest > settings.staleSeconds;
  if (!stale) {
    delete state.staleLatch[host];
    return null;
  }
  if (getOwn(state.staleLatch, host)) return null;
  return {
    kind: 'stale',
    profile: outcome.profile,
    host,
    newestEvent: newest,
    hours: Math.floor((outcome.at - newest) / 3600),
    at: outcome.at,
  };
}

function copyState(s: AlertState): AlertState {
  return {
    consecutiveFailures: s.consecutiveFailures,
    failingAnnounced: s.failingAnnounced,
    lastSent: { ...s.lastSent },
    changeLatch: { ...s.changeLatch },
    staleLatch: { ...s.staleLatch },
    ...(s.moduleLatch === undefined ? {} : { moduleLatch: { ...s.moduleLatch } }),
    held: [...s.held],
  };
}

const ALERT_KINDS: ReadonlySet<unknown> = new Set([
  'large-change',
  'failing',
  'recovered',
  'stale',
  'module-missing',
]);

/**
 * A stored state read back (JSON.parse of what the monitor kept). Parts that are missing or not of
 * the expected shape start over from INITIAL_ALERT_STATE's, so a damaged file costs at most a
 * repeated alert, never a crash.
 */
export function restoreAlertState(value: unknown): AlertState {
  const v = isRecord(value) ? value : {};
  const numbers = (x: unknown): Record<string, number> =>
    pick(x, (e): e is number => typeof e === 'number' && Number.isFinite(e));
  return {
    consecutiveFailures:
      typeof v.consecutiveFailures === 'number' &&
      Number.isInteger(v.consecutiveFailures) &&
      v.consecutiveFailures >= 0
        ? v.consecutiveFailures
        : 0,
    failingAnnounced: v.failingAnnounced === true,
    lastSent: numbers(v.lastSent),
    changeLatch: pick(v.changeLatch, (e): e is 1 | -1 => e === 1 || e === -1),
    staleLatch: pick(v.staleLatch, (e): e is true => e === true),
    ...(isRecord(v.moduleLatch)
      ? { moduleLatch: pick(v.moduleLatch, (e): e is true => e === true) }
      : {}),
    held: Array.isArray(v.held)
      ? (v.held.filter(
          (a) => isRecord(a) && ALERT_KINDS.has(a.kind) && typeof a.profile === 'string',
        ) as Alert[])
      : [],
  };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function pick<T>(x: unknown, keep: (e: unknown) => e is T): Record<string, T> {
  const out: Record<string, T> = {};
  if (!isRecord(x)) return out;
  for (const [k, e] of Object.entries(x)) if (keep(e)) setOwn(out, k, e);
  return out;
}
