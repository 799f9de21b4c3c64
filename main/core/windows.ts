/** The three windows of mod_measure_active_users, in seconds. */
export const DAY = 86_400;

export const WINDOWS = { d1: DAY, d7: 7 * DAY, d30: 30 * DAY } as const;

export type WindowName = keyof typeof WINDOWS;

/**
 * mod_measure_active_users' test, kept strict: `now - t < W`. A timestamp exactly one window old
 * is out; one second younger is in.
 */
export function withinWindow(now: number, timestamp: number, window: number): boolean {
  return now - timestamp < window;
}
