/**
 * The user's local time, for the tray's text and the alert pause. Runs in the main process. Reads
 * the platform's time zone through Date (the core never does: it takes these as functions).
 */

const DAY_MS = 86_400_000;

/** Unix seconds of the next local midnight after `now` (daylight saving included). */
export function nextLocalMidnight(now: number): number {
  const d = new Date(now * 1000);
  d.setHours(24, 0, 0, 0);
  return Math.floor(d.getTime() / 1000);
}

/** Minutes since local midnight at `ms`, for quiet hours. */
export function localMinuteOfDay(ms: number): number {
  const d = new Date(ms);
  return d.getHours() * 60 + d.getMinutes();
}

/**
 * A past moment as the tray says it, in the user's locale: the time today ("14:05"), the weekday
 * and time within the last week ("Tue 14:05"), else the date and time.
 */
export function formatLocalTime(at: number, now: number, locale?: string): string {
  const when = new Date(at * 1000);
  const today = new Date(now * 1000);
  today.setHours(0, 0, 0, 0);
  const time: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit' };
  if (when.getTime() >= today.getTime() && when.getTime() < today.getTime() + DAY_MS) {
    return when.toLocaleTimeString(locale, time);
  }
  if (Math.abs(today.getTime() - when.getTime()) < 6 * DAY_MS) {
    return when.toLocaleString(locale, { weekday: 'short', ...time });
  }
  return when.toLocaleString(locale, { day: 'numeric', month: 'short', ...time });
}
