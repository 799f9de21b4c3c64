import type { AccountStatus } from './account-rule.js';

/**
 * What every source yields: one activity event of one account, or one stored row that could not
 * be used. Sources emit all records of one account next to each other, so that folding them needs
 * no map of every account (the core stays flat in memory at a million accounts).
 */

/** lastlog2's keys, plus Prosody 13's account_activity timestamp. */
export type ActivityEvent = 'login' | 'logout' | 'registered' | 'activity';

export interface ActivityRecord {
  readonly host: string;
  readonly user: string;
  readonly event: ActivityEvent;
  /** Unix seconds. */
  readonly timestamp: number;
}

/**
 * The widest timestamp that counts as an event: what a JavaScript Date can show (±8.64e12 s, about
 * year ±275760). Prosody writes os.time() integers; a value beyond that (1e308, or 1e400 read as
 * Infinity) was never written by a server's clock, and a time nobody can display is a time nobody
 * can check. So every source classifies such a row as `malformed`, and no output ever has to show
 * it. Fractions are valid: a float is a number Prosody can store and the module compares as one.
 */
export const MAX_EVENT_SECONDS = 8.64e12;

/** Whether `x` is a timestamp an event may carry (see MAX_EVENT_SECONDS). */
export function isUsableTimestamp(x: number): boolean {
  return Number.isFinite(x) && Math.abs(x) <= MAX_EVENT_SECONDS;
}

/**
 * Why a stored row was left out of the count.
 * - not-an-event: a lastlog2 key other than login/logout/registered (mod_lastlog2 on a component
 *   stores `<room> / <component host> = "message"`).
 * - malformed: the value is not JSON / not a table / the file is not data we can read, or the
 *   timestamp is beyond what a date can be (see MAX_EVENT_SECONDS).
 * - no-timestamp: the event has no numeric timestamp.
 */
export type SkipReason = 'not-an-event' | 'malformed' | 'no-timestamp';

export const SKIP_REASONS: readonly SkipReason[] = ['not-an-event', 'malformed', 'no-timestamp'];

export interface SkippedRecord {
  readonly host: string;
  readonly user: string;
  readonly skipped: SkipReason;
  /** Where it was found, for the message: a file name or `store/key`. */
  readonly where?: string;
}

/**
 * What a source learnt of one account itself (Prosody's `accounts` store): only whether it exists
 * and whether it is disabled, never a hash, salt or key. Comes next to the account's activity
 * records, like them. A source that did not read accounts sends none (the status stays unknown).
 */
export interface AccountStatusRecord {
  readonly host: string;
  readonly user: string;
  readonly status: AccountStatus;
}

export type SourceRecord = ActivityRecord | SkippedRecord | AccountStatusRecord;

export function isSkipped(r: SourceRecord): r is SkippedRecord {
  return 'skipped' in r;
}

export function isAccountStatus(r: SourceRecord): r is AccountStatusRecord {
  return 'status' in r;
}

/** One account's activity reduced to what counting needs. */
export interface AccountActivity {
  readonly host: string;
  readonly user: string;
  /** max(login, logout, activity), or null when the account has none of them. */
  readonly lastActive: number | null;
  /** The `registered` timestamp, or null. */
  readonly registered: number | null;
  /** Whether the account exists and is enabled, when the source read it. */
  readonly status?: AccountStatus;
}
