/**
 * What the window shows for one profile, from what the history recorded and what the scheduler is
 * doing. The history keeps every refresh, so the view after a restart of the app is the view before.
 */
import { alertBody, alertTitle } from '../core/alert-text.js';
import type { FigureWithDeltas, ProfileStatus, ProfileView } from '../core/ipc-contract.js';
import { type Figures, TOTAL_HOST } from '../core/monitor-types.js';
import type { SchedulerState } from '../core/scheduler.js';
import type { Deltas, LatestRefreshes, StoredAlert } from '../store/history-db.js';

/** How long after a large-change alert the profile counts as alerting (the tray's colour). */
export const ALERTING_SECONDS = 6 * 3600;

/** How far back the window's alert list goes, and how many it shows at most. */
export const ALERT_LIST_SECONDS = 24 * 3600;
export const ALERT_LIST_LIMIT = 500;

/** The part of HistoryDb the view reads. */
export interface ViewHistory {
  latest(profile: string): LatestRefreshes;
  deltas(profile: string, host: string, now: number): Deltas;
  alerts(profile?: string, fromAt?: number): StoredAlert[];
}

export interface ProfileViewInput {
  name: string;
  /** A host whose newest login/logout is older than this is stale (the profile's alert setting). */
  staleSeconds: number;
  history: ViewHistory;
  /** The profile's scheduler, when the monitor runs it. */
  scheduler: SchedulerState | undefined;
  /** Unix seconds. */
  now: number;
  /**
   * The app's sentence for the newest failure (the history holds the CLI's), when this run of the
   * app saw it happen.
   */
  failureMessage?: { at: number; message: string } | null;
}

type DeltaFigure = 'dau' | 'wau' | 'mau';

/**
 * `d24h` and `d7d` are the signed difference (now minus then) against the figure recorded about
 * 24 hours and 7 days before the figures' own time; null when nothing was recorded near enough.
 */
function withDeltas(figures: Figures, deltas: Deltas, figure: DeltaFigure): FigureWithDeltas {
  const value = figures[figure];
  return {
    value,
    d24h: deltas.d24h ? value - deltas.d24h[figure] : null,
    d7d: deltas.d7d ? value - deltas.d7d[figure] : null,
  };
}

export function buildProfileView(input: ProfileViewInput): ProfileView {
  const { name, history, scheduler, now } = input;
  const { last, lastSuccess } = history.latest(name);
  const total = lastSuccess?.hosts[TOTAL_HOST];
  const deltas = lastSuccess && total ? history.deltas(name, TOTAL_HOST, lastSuccess.at) : null;

  let status: ProfileStatus;
  if (scheduler?.running) status = 'refreshing';
  else if (!last) status = 'never';
  else if (!last.ok) status = 'failing';
  else if (
    total?.newestEvent !== null &&
    total?.newestEvent !== undefined &&
    now - total.newestEvent > input.staleSeconds
  ) {
    status = 'stale';
  } else if (
    history.alerts(name, now - ALERTING_SECONDS).some((a) => a.alert.kind === 'large-change')
  ) {
    status = 'alerting';
  } else status = 'ok';

  const error =
    last && !last.ok
      ? {
          kind: last.kind,
          message:
            input.failureMessage && input.failureMessage.at === last.at
              ? input.failureMessage.message
              : last.message,
          at: last.at,
        }
      : null;

  const recent = history.alerts(name, now - ALERT_LIST_SECONDS).reverse();
  const alerts = recent.slice(0, ALERT_LIST_LIMIT).map(({ at, alert }) => ({
    at,
    title: alertTitle(alert),
    body: alertBody(alert),
  }));

  return {
    name,
    status,
    total:
      total && deltas
        ? {
            dau: withDeltas(total, deltas, 'dau'),
            wau: withDeltas(total, deltas, 'wau'),
            mau: withDeltas(total, deltas, 'mau'),
            new1d: total.new1d,
            new7d: total.new7d,
            new30d: total.new30d,
            accounts: total.accounts,
            online: total.online ?? null,
          }
        : null,
    hosts: Object.entries(lastSuccess?.hosts ?? {})
      .filter(([host]) => host !== TOTAL_HOST)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([host, figures]) => ({ host, figures })),
    lastSuccessAt: lastSuccess?.at ?? null,
    lastAttemptAt: last?.at ?? null,
    nextRefreshAt:
      scheduler?.nextAt === null || scheduler?.nextAt === undefined
        ? null
        : Math.round(scheduler.nextAt / 1000),
    method: lastSuccess?.method ?? null,
    bytesReceived: lastSuccess?.bytesReceived ?? null,
    seconds: lastSuccess?.seconds ?? null,
    error,
    alerts,
    moreAlerts: recent.length - alerts.length,
  };
}
