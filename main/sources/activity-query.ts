import type { AccountStatus } from '../core/account-rule.js';
import { MAX_EVENT_SECONDS } from '../core/activity-record.js';

/**
 * The one query that reads activity from Prosody's SQL storage: it touches only the lastlog2,
 * accounts and account_roles stores, never selects anything but timestamps (no IP addresses) and,
 * of an account, only whether it exists and whether it is disabled (no hash, salt or key ever
 * leaves SQLite), and reduces them to one row per account in SQLite itself, so that a million
 * accounts cost one pass and a million small rows rather than three million JSON values.
 *
 * Columns: host, user, last_active (max of login and logout, or NULL), registered (or NULL), how
 * many rows of that account were skipped for each reason, then the account: 0 none, 1 enabled,
 * 2 disabled; whether it has an account_roles entry (only Prosody 13 writes them); and its
 * `updated` time (13 sets it on create, password change, disable and enable), for the incremental
 * fetch. Only users with lastlog2 rows come out: mod_measure_active_users walks lastlog2's users.
 * Rows come out grouped by (host, user). Kept a constant: the SSH source sends the same text to the
 * server's sqlite3 command, so it must stay valid for sqlite3 3.40 (Debian 12).
 *
 * mod_account_activity's store is not read: Prosody 13's mod_measure_active_users takes the last
 * activity from mod_lastlog2 alone (`module:depends("lastlog2").get_last_active`), so a timestamp
 * found only there never counts (test/parity shows it on the real 13.0.1).
 *
 * "Disabled" as Prosody reads it: the keyval store drops a `false` value, so any `disabled` row
 * but a boolean false is true. An account exists when it has any row; the rows `salt`,
 * `server_key` and `iteration_count` are always written together with `stored_key`, so leaving them
 * out of the scan changes no answer and sorts a third fewer rows.
 *
 * Shaped for speed (see test/bench): the inner SELECT classifies each row once, into a small
 * integer, and `LIMIT -1` keeps SQLite from flattening it into the outer query, which would
 * evaluate the JSON functions again for each aggregate. SQLite then reads the table in storage
 * order and sorts the small rows by (host, user); on a real server's file, where one account's
 * rows lie wherever they were last written, that beats walking prosody_index (a lookup per account
 * into the index is random reads over the whole file: 1 M accounts took minutes that way).
 *
 * Classes: 0 login/logout with a numeric timestamp, 1 registered with one, 2 not an event,
 * 3 malformed, 4 no numeric timestamp, 5 an account row, 6 an account's `disabled` row, 7 a role.
 * A timestamp beyond ±MAX_EVENT_SECONDS (core/activity-record.ts; 1e400 reads as Infinity) is
 * malformed. BETWEEN rather than abs(): abs() of the smallest 64-bit integer is an error that
 * would end the whole statement.
 */
/**
 * The class of a lastlog2 row, one rule for every query that reads them: 0 login/logout with a
 * usable timestamp, 1 registered with one, 2 not an event, 3 malformed (a timestamp beyond
 * MAX_EVENT_SECONDS too; BETWEEN, not abs(), since abs() of the smallest 64-bit integer is an
 * error that would end the whole statement), 4 no numeric timestamp.
 */
export const LASTLOG2_CLASS = `CASE
      WHEN key NOT IN ('login', 'logout', 'registered') THEN 2
      WHEN NOT json_valid(value) OR type <> 'json' THEN 3
      WHEN json_type(value, '$.timestamp') IN ('integer', 'real') THEN
        CASE
          WHEN json_extract(value, '$.timestamp')
            NOT BETWEEN -${MAX_EVENT_SECONDS} AND ${MAX_EVENT_SECONDS} THEN 3
          WHEN key = 'registered' THEN 1
          ELSE 0
        END
      ELSE 4
    END`;

/** The rows ACTIVITY_QUERY reads: every other row of the table leaves no trace in a count. */
export const ACTIVITY_ROWS = `store = 'lastlog2' OR store = 'account_roles'
    OR (store = 'accounts' AND key NOT IN ('salt', 'server_key', 'iteration_count'))`;

/** What the remote query adds to ACTIVITY_QUERY for its digest of the rows (row-digest.ts). */
export interface RowDigestColumns {
  /** An expression over one row, computed once: `rk` in `aggregates`. */
  rowKey: string;
  /** More aggregate columns, over `rk` and `class`. */
  aggregates: string;
}

/**
 * ACTIVITY_QUERY's text; with `digest`, its columns after the usual ones, `counted` (whether the
 * account has lastlog2 rows: ACTIVITY_QUERY keeps only those), and every account with any row.
 */
export function activityQueryText(rowDigest?: RowDigestColumns): string {
  const digest =
    rowDigest === undefined
      ? ''
      : `,
  coalesce(max(class <= 4), 0) AS counted,
  ${rowDigest.aggregates}`;
  return `
SELECT host, user,
  max(CASE WHEN class = 0 THEN ts END) AS last_active,
  max(CASE WHEN class = 1 THEN ts END) AS registered,
  coalesce(sum(class = 2), 0) AS not_an_event,
  coalesce(sum(class = 3), 0) AS malformed,
  coalesce(sum(class = 4), 0) AS no_timestamp,
  coalesce(max(class IN (5, 6)), 0) + coalesce(max(class = 6), 0) AS account,
  coalesce(max(class = 7), 0) AS has_role,
  max(CASE WHEN class = 5 THEN ts END) AS account_updated${digest}
FROM (
  SELECT host, user,
    CASE
      WHEN store = 'accounts' THEN
        CASE WHEN key = 'disabled' AND NOT (type = 'boolean' AND value = 'false') THEN 6 ELSE 5 END
      WHEN store = 'account_roles' THEN 7
      ELSE ${LASTLOG2_CLASS}
    END AS class,
    CASE
      WHEN store = 'accounts' THEN
        CASE WHEN key = 'updated' AND type = 'number' THEN CAST(value AS INTEGER) END
      WHEN store = 'account_roles' THEN NULL
      WHEN json_valid(value) THEN json_extract(value, '$.timestamp')
    END AS ts${
      rowDigest === undefined
        ? ''
        : `,
    ${rowDigest.rowKey} AS rk`
    }
  FROM prosody
  WHERE ${ACTIVITY_ROWS}
  LIMIT -1
)
GROUP BY host, user${rowDigest === undefined ? '\nHAVING max(class <= 4) = 1' : ''}
`;
}

export const ACTIVITY_QUERY = activityQueryText();

/** One row of ACTIVITY_QUERY. */
export interface ActivityQueryRow {
  host: string;
  user: string;
  last_active: number | null;
  registered: number | null;
  not_an_event: number;
  malformed: number;
  no_timestamp: number;
  /** 0 no account, 1 enabled, 2 disabled; null when the source did not read accounts. */
  account: AccountCode | null;
}

/** An account as the query gives it: 0 none, 1 enabled, 2 disabled. */
export type AccountCode = 0 | 1 | 2;

/** What an AccountCode (or its absence) means to the tally. */
export function accountStatus(code: number | null | undefined): AccountStatus {
  return code === 1 ? 'enabled' : code === 2 ? 'disabled' : code === 0 ? 'missing' : 'unknown';
}

/** The same row as `.raw()` gives it: the columns in ACTIVITY_QUERY's order. */
export type ActivityQueryTuple = [
  host: string,
  user: string,
  last_active: number | null,
  registered: number | null,
  not_an_event: number,
  malformed: number,
  no_timestamp: number,
  account: AccountCode | null,
  /** 1 when the account has an account_roles entry (only Prosody 13 writes them). */
  has_role: 0 | 1,
];

/** ACTIVITY_QUERY's `.raw()` row as it comes: the tuple, then account_updated. */
export type ActivityQueryOutput = [...ActivityQueryTuple, account_updated: number | null];

/** One host's totals over every account a source holds: what an incremental fetch is checked by. */
export interface HostTotals {
  host: string;
  accounts: number;
  notAnEvent: number;
  malformed: number;
  noTimestamp: number;
  /**
   * Accounts with records by what is known of their account: enabled, disabled, none. Absent from
   * an older server script (then the cache is checked without them).
   */
  enabled?: number;
  disabled?: number;
  missing?: number;
  /** Whether any of the host's accounts has an account_roles entry (Prosody 13 writes them). */
  hasRoles?: boolean;
}
