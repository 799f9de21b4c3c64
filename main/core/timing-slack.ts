/**
 * mod_measure_active_users counts about hourly (0.12: 3600 s plus up to 300 s of jitter after the
 * previous count), so its gauges may be this old. A minute more for the count itself.
 */
export const MODULE_COUNT_PERIOD = 3600 + 300 + 60;

/**
 * How far the module's last count (at some moment within MODULE_COUNT_PERIOD before ours) may lie
 * from our figures by timing alone, per host.
 */
export interface TimingSlack {
  /** Accounts counted now whose newest event is younger than one period: perhaps not then. */
  recent: number;
  /** Accounts no longer in a window that were in it one period ago: perhaps counted then. */
  leftSince: { d1: number; d7: number; d30: number };
  /** Online accounts found in the records (so counted in every window). */
  onlineCounted: number;
}

export function emptySlack(): TimingSlack {
  return { recent: 0, leftSince: { d1: 0, d7: 0, d30: 0 }, onlineCounted: 0 };
}

export function addSlack(into: TimingSlack, s: TimingSlack): void {
  into.recent += s.recent;
  into.leftSince.d1 += s.leftSince.d1;
  into.leftSince.d7 += s.leftSince.d7;
  into.leftSince.d30 += s.leftSince.d30;
  into.onlineCounted += s.onlineCounted;
}
