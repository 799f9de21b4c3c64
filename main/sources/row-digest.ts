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
 * Each row's term comes from its rowid and cheap text functions only (no JSON parse, which costs
 * more than the scan; each function called costs about a tenth of it at 1 M): the rowid stands for
 * the row's identity (host, user, store, key: Prosody 0.12 writes a row again by DELETE and
 * INSERT, and SQLite gives a new row the next rowid, so a row added, moved or put back from a copy
 * shows); for the rows whose content moves a figure, that content: a lastlog2 row's key, type,
 * length, whether it is JSON at all and its timestamp as CAST reads it after `"timestamp":`,
 * in thousandths (an UPDATE in place, as Prosody 13's upsert, keeps the rowid); an account's
 * `disabled` and `updated` values (never a password field: a password change must not look like a
 * changed account); any other row's store (accounts or account_roles). The sum of terms mod P is
 * exact in 64-bit integers up to 2^31 rows. Only the server computes these numbers, so nothing
 * here needs to agree with another database's spelling; a sqlite3 upgraded in between, or a VACUUM
 * (which may number the rows again), at worst costs one full read.
 *
 * Whether a value is JSON costs a parse (json_valid, about a tenth of the scan's CPU at 1 M), and
 * stays: a test of its braces alone (`GLOB '{*}'`) would not see a value broken in place inside
 * them with its length and timestamp kept, and a row that went malformed moves a skip count now,
 * not at the next full read.
 */

export const ROW_DIGEST_P = 2147483647;
const P = ROW_DIGEST_P;
const STEP = 1000003;

/** The text right after a row's first `"timestamp":`, read as a number by CAST (0 when none). */
export const TIMESTAMP_TEXT = `CAST(substr(value, instr(value, '"timestamp":') + 12) AS REAL)`;

/** A sum of terms as a digest: in [0, P) whatever the signs of the rowids. */
export const digestOf = (sum: string) => `(${sum} % ${P} + ${P}) % ${P}`;

/**
 * One row's term (`t`: TIMESTAMP_TEXT), NULL exactly for the rows ACTIVITY_ROWS leaves out, so
 * that the scan needs no WHERE of its own and sorts the rows by store and key once (each test of
 * a column costs about a twentieth of the scan). A row whose content moves a figure: its
 * identity times its content's number, mod P, so that a content changed on one row, or two rows
 * trading theirs, moves the sum (P is prime). Any other row: its rowid, doubled, plus 1 for
 * accounts and 2 for account_roles. No square of a number computed once: that takes a subquery,
 * which costs more than the functions. Never NULL for a row ACTIVITY_ROWS reads: none may drop out
 * of the sum.
 */
export function rowDigestTerm(t: string): string {
  const shape = (extra: string) =>
    `(length(value) * 1114112 + length(key) * 4096 + coalesce(unicode(type), 0) * 2 + ${extra}) % ${P} * ${STEP}`;
  const times = (content: string) =>
    `coalesce((rowid % ${P} + 1) * ((${content}) % ${P}) % ${P}, 1)`;
  return `CASE store
    WHEN 'accounts' THEN CASE
      WHEN key = 'salt' OR key = 'server_key' OR key = 'iteration_count' THEN NULL
      WHEN key = 'disabled' OR key = 'updated'
        THEN ${times(`${shape('1')} + CAST(value AS INTEGER) % ${P}`)}
      ELSE rowid % ${P} * 2 + 1 END
    WHEN 'lastlog2'
      THEN ${times(`${shape('json_valid(value)')} + CAST(${t} * 1000 AS INTEGER) % ${P}`)}
    WHEN 'account_roles' THEN rowid % ${P} * 2 + 2 END`;
}

/**
 * Whether a lastlog2 row may hold an event at or after `since` (a SQL expression): a text test
 * first, then the exact one. The text test calls no function (each call costs about a tenth of
 * the scan at 1 M accounts): the value is compared, as bytes, with `{"timestamp":` and the digits
 * of `since`. Prosody writes `{"timestamp":N…}`; while times have ten digits (2001 to 2286), a
 * value that begins so with ten digits sorts below that text exactly when its timestamp is
 * earlier (a fraction or an exponent comes after the ten digits, and "." and "e" sort apart from
 * digits in the right direction), and any other shape (fewer digits, as `1.795536e9`; the key
 * after another, or spaced) sorts below `{"timestamp":1000000000`, so it is passed on. It may
 * drop only a timestamp of eleven digits or more: such an account is not sent, and the digest
 * then asks for a full read.
 */
export function mayBeSince(since: string): string {
  // CASE, not AND: SQLite evaluates both sides of an AND that gives a value, JSON included.
  // The text first: it settles almost every row, where the list of keys costs a lookup.
  return `CASE WHEN (value >= '{"timestamp":${since}' OR value < '{"timestamp":1000000000'
      OR ${since} NOT BETWEEN 1000000000 AND 9999999999)
    AND key IN ('login', 'logout', 'registered')
    AND json_valid(value) AND json_type(value, '$.timestamp') IN ('integer', 'real')
    THEN json_extract(value, '$.timestamp') >= ${since} ELSE 0 END`;
}

/**
 * The changes-only answer's first step: one scan giving the digest of every row ACTIVITY_ROWS
 * reads (`d`) and, JSON-listed, the accounts sent again, whole (`c`): those with such a row whose
 * rowid is above `afterRowid` (the table's highest at the last read, or NULL when unknown), or an
 * event or an account `updated` at or after `since`. Prosody 0.12 writes a row again by DELETE
 * and INSERT, which gives it a rowid above every one before: its accounts are found by rowid
 * alone, whatever the time they carry, and the accounts active just before the last read are not
 * sent again. Prosody 13's upsert keeps the rowid, but writes the time it runs: `since` finds
 * those. Anything else (a rowid freed and used again, an old time written in place) the digest
 * catches. The list is an aggregate FILTERed, so that no function runs for a row that is not in
 * it; its test is one CASE whose first branches (rowid, store, key) settle almost every row.
 * `within`: a condition on the rows, for a scan of part of the table.
 */
export function changesScan(since: string, afterRowid: string, within?: string): string {
  return `SELECT ${digestOf('coalesce(sum(k), 0)')} AS d,
  group_concat(json_array(host, user)) FILTER (WHERE c) AS c
FROM (SELECT host, user, ${rowDigestTerm(TIMESTAMP_TEXT)} AS k,
    CASE WHEN rowid > ${afterRowid} THEN CASE WHEN ${ACTIVITY_ROWS} THEN 1 ELSE 0 END
      WHEN store = 'lastlog2' THEN ${mayBeSince(since)}
      WHEN key = 'updated' AND store = 'accounts' AND type = 'number'
        THEN CAST(value AS INTEGER) >= ${since}
      ELSE 0 END AS c
  FROM main.prosody${within === undefined ? '' : ` WHERE ${within}`})`;
}

/** ACTIVITY_QUERY with each account's digest of its rows (`row_digest`), and of its rows but
 * lastlog2's (`rest_digest`: what it leaves in the remainder when it has no lastlog2 rows). */
export const DIGESTED_ACTIVITY_QUERY = activityQueryText({
  rowKey: rowDigestTerm(TIMESTAMP_TEXT),
  aggregates: `${digestOf('sum(rk)')} AS row_digest,
  ${digestOf('coalesce(sum(CASE WHEN class >= 5 THEN rk END), 0)')} AS rest_digest`,
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

/** A rowid as the server prints it and the client sends back: a whole number a JSON number holds. */
export const isRowid = (x: unknown): x is number =>
  typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
