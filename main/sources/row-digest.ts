import {
  ACTIVITY_ROWS,
  type ActivityQueryTuple,
  type RowDigestColumns,
  activityQueryText,
} from './activity-query.js';

/**
 * A digest of the rows ACTIVITY_QUERY reads, for the remote query's changes-only refresh (issue 14,
 * row 3): the server sums it over the whole table in one scan, with no GROUP BY (grouping a million
 * accounts' rows is a sort, seconds at 1 M; a scan with a sum is not), and the client checks that
 * sum against the one it predicts from its cache. Equal: no row of an account that was not sent
 * again has changed, so every cached account still stands. Any difference means a full read.
 *
 * Each row becomes one number k below P from its rowid and cheap text functions only (no JSON,
 * which costs more than the scan; each function called costs about a tenth of it at 1 M): the
 * rowid stands for the row's identity (host, user, store, key: Prosody writes a row again by
 * DELETE and INSERT, and SQLite gives a new row the next rowid, so a row added, moved or put back
 * from a copy shows), and for the rows whose content moves a figure, that content: a lastlog2
 * row's key and type, its length, whether it is JSON at all (cheap beside parsing it) and its
 * timestamp as CAST reads it after `"timestamp":`, in thousandths (an UPDATE in place keeps the rowid); an account's `disabled` and `updated` values
 * (never a password field: a password change must not look like a changed account). The row's
 * term is k² mod P, so that two rows trading their contents move the sum; the sum of terms mod P
 * is exact in 64-bit integers. Only the server computes these numbers, so nothing here needs to
 * agree with another database's spelling; a sqlite3 upgraded in between, or a VACUUM (which may
 * number the rows again), at worst costs one full read.
 */

export const ROW_DIGEST_P = 2147483647;
const P = ROW_DIGEST_P;
const STEP = 1000003;

/** The text right after a row's first `"timestamp":`, read as a number by CAST (0 when none). */
export const TIMESTAMP_TEXT = `CAST(substr(value, instr(value, '"timestamp":') + 12) AS REAL)`;

/** One row's number in [0, P) (`t`: TIMESTAMP_TEXT). Never NULL: no row may drop out of the sum. */
export function rowDigestKey(t: string): string {
  const parts = [
    `CASE
      WHEN store = 'lastlog2' THEN
        length(value) * 1114112 + length(key) * 4096 + coalesce(unicode(type), 0) * 2 + json_valid(value)
      WHEN key = 'disabled' OR key = 'updated' THEN
        length(value) * 1114112 + length(key) * 4096 + coalesce(unicode(type), 0) + 1
      ELSE 0 END`,
    `CASE
      WHEN store = 'lastlog2' THEN coalesce(CAST(${t} * 1000 AS INTEGER) % ${P}, 7)
      WHEN key = 'disabled' OR key = 'updated' THEN CAST(value AS INTEGER) % ${P}
      ELSE 0 END`,
  ];
  const chained = parts.reduce(
    (acc, part) => `((${acc}) * ${STEP} + ${part}) % ${P}`,
    `rowid % ${P}`,
  );
  return `coalesce(${chained}, 1)`;
}

/** A row's term from its number `k` (a column: computed once). */
export const rowDigestTerm = (k: string) => `(${k} * ${k} % ${P})`;

/**
 * Whether a lastlog2 row may hold an event at or after `since` (a SQL expression): a cheap text
 * test first, then the exact one. The text test passes every row whose timestamp, in any form
 * Prosody writes (integer, fraction, exponent), is at or after `since`; it may wrongly drop only
 * a value whose first `"timestamp":` is not the one JSON reads (nested, or the key twice): such an
 * account is not sent, and the digest then asks for a full read.
 */
export function mayBeSince(since: string): string {
  return `key IN ('login', 'logout', 'registered') AND ${TIMESTAMP_TEXT} >= ${since}
    AND CASE WHEN json_valid(value) THEN json_extract(value, '$.timestamp') >= ${since} END`;
}

/**
 * The changes-only answer's first step: one scan of ACTIVITY_ROWS giving the digest of every row
 * (`d`) and, JSON-listed, the accounts with an event or an account `updated` at or after SINCE
 * (`c`: the ones that are sent again, whole).
 */
export function changesScan(since: string): string {
  const t = TIMESTAMP_TEXT;
  return `SELECT coalesce(sum(${rowDigestTerm('k')}), 0) % ${P} AS d,
  group_concat(CASE WHEN c THEN json_array(host, user) END) AS c
FROM (SELECT host, user, ${rowDigestKey(t)} AS k,
    CASE WHEN store = 'lastlog2' THEN ${mayBeSince(since)}
      WHEN store = 'accounts' AND key = 'updated' THEN type = 'number' AND CAST(value AS INTEGER) >= ${since}
      ELSE 0 END AS c
  FROM main.prosody WHERE ${ACTIVITY_ROWS} LIMIT -1)`;
}

/** ACTIVITY_QUERY with each account's digest of its rows (`row_digest`), and of its rows but
 * lastlog2's (`rest_digest`: what it leaves in the remainder when it has no lastlog2 rows). */
export const DIGESTED_ACTIVITY_QUERY = activityQueryText({
  rowKey: rowDigestKey(TIMESTAMP_TEXT),
  aggregates: `sum(${rowDigestTerm('rk')}) % ${P} AS row_digest,
  coalesce(sum(CASE WHEN class >= 5 THEN ${rowDigestTerm('rk')} END), 0) % ${P} AS rest_digest`,
} satisfies RowDigestColumns);

/** An account as the remote query sends it: ACTIVITY_QUERY's tuple, then its digest of its rows. */
export type DigestedTuple = [...ActivityQueryTuple, digest: number];

/**
 * An account a changes-only answer sent again: the digest of its rows but lastlog2's (`rest`), and
 * whether it was registered or its account updated since the time asked for (`fresh`).
 */
export interface ChangedAccount {
  host: string;
  user: string;
  rest: number;
  fresh: boolean;
}

/** A digest as it may come from a server: a whole number below P. */
export const isRowDigest = (x: unknown): x is number =>
  typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < P;
