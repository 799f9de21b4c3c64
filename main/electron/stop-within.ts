/**
 * Quitting waits for the monitor to stop, but not for long: a refresh hung on a silent server
 * would otherwise hold Quit until its own timeout (about two minutes). Runs in the main process.
 * The history stays consistent either way: every record is one SQLite transaction, written
 * synchronously, so a refresh cut short by the exit has written all of its record or none of it.
 */

/** How long Quit waits for refreshes under way. */
export const QUIT_GRACE_MS = 3000;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Runs `stop`; 'stopped' when it finished within `ms`, else 'gave-up' (it may still run). */
export async function stopWithin(
  stop: () => Promise<void>,
  ms: number,
  timers: Timers,
): Promise<'stopped' | 'gave-up'> {
  let handle: unknown;
  const late = new Promise<'gave-up'>((resolve) => {
    handle = timers.setTimeout(() => resolve('gave-up'), ms);
  });
  try {
    return await Promise.race([stop().then(() => 'stopped' as const), late]);
  } finally {
    timers.clearTimeout(handle);
  }
}
