/**
 * One digest of the raw rows the activity query reads (issue 14: an unchanged refresh over SSH),
 * so that the server can tell "nothing changed since last time" without parsing any JSON or
 * grouping any account: one pass over the table in storage order, a few text functions a row
 * (`length`, `unicode`, `substr`, `instr` and a CAST, all in sqlite3 3.40), no sort.
 *
 * Each row becomes a number k below P (2^31 - 1) from its host, user, store, key and type, its
 * value's length and the number that follows `"timestamp"` in it (the login time, read as text,
 * whatever its form: integer, fraction, exponent); the row's term is k² modulo P and the digest is
 * the sum of the terms modulo P, beside the row count: independent of row order, and not linear in
 * the fields, so that two rows trading their times move it. One digest for the whole file, not one
 * a host: GROUP BY would sort every row, which cost a third more than the rest (measured at 100 k).
 * A host added or removed changes the rows, so the count or the digest.
 *
 * What it does not see: a value rewritten to the same length with the same timestamp number (an IP
 * address, say), which moves no figure; a JSON value damaged in place without changing its length
 * or number is seen at the daily full fetch (FULL_RECHECK_SECONDS). Every other change collides with
 * the chance of one in two billion.
 */

const P = 2147483647;
const STEP = 1000003;

/** The rows ACTIVITY_QUERY reads (the same WHERE), in storage order: no index walk. */
const ROWS = `FROM prosody NOT INDEXED WHERE store = 'lastlog2' OR store = 'account_roles'
  OR (store = 'accounts' AND key NOT IN ('salt', 'server_key', 'iteration_count'))`;

/**
 * The number after "timestamp" in a value, past any JSON whitespace and the colon, read by CAST as
 * far as it is a number (any form: 17e8, -1.5, 1.7E+9), in 2^-20 s: a change of a microsecond or
 * more is seen. 0 for none.
 */
const TIMESTAMP_NUMBER = `CAST(CAST(ltrim(substr(value, instr(value, '"timestamp"') + 11), ' :' || char(9, 10, 13)) AS REAL) * 1048576 AS INTEGER) % ${P}`;

const KEY = `CASE key WHEN 'login' THEN 1 WHEN 'logout' THEN 2 WHEN 'registered' THEN 3
  WHEN 'updated' THEN 4 WHEN 'disabled' THEN 5 WHEN 'created' THEN 6 WHEN 'stored_key' THEN 7
  ELSE 8 + length(key) * 1024 + coalesce(unicode(key), 0) END`;

const PARTS = [
  `length(value) * 1114112 + length(host) * 64 + (store = 'accounts') * 4 + (store = 'account_roles') * 8 + (type = 'json') + (type = 'number') * 2 + (type = 'boolean') * 3`,
  `length(user) * 1114112 + coalesce(unicode(user), 0)`,
  `coalesce(unicode(substr(user, -1)), 0) * 1114112 + ${KEY}`,
];

/** Only lastlog2's values hold a timestamp; the others' text is read as a number, more cheaply. */
const VALUE_NUMBER = `CASE WHEN store = 'lastlog2' THEN ${TIMESTAMP_NUMBER} ELSE CAST(CAST(value AS REAL) * 1048576 AS INTEGER) % ${P} END`;

const ROW_KEY = PARTS.reduce((acc, part) => `((${acc}) * ${STEP} + ${part}) % ${P}`, VALUE_NUMBER);

/**
 * Prints `count|digest` for the file. `LIMIT -1` keeps each row's k computed once (flattened, it
 * would be computed again for k * k).
 */
export const RAW_DIGEST_SQL = `SELECT count(*) || ':' || coalesce(sum(k * k % ${P}) % ${P}, 0)
FROM (SELECT ${ROW_KEY} AS k ${ROWS} LIMIT -1)`
  .replace(/\s+/g, ' ')
  .trim();

/** A raw digest as the server prints it and the cache keeps it: `count:digest`. */
export const isRawDigest = (s: unknown): s is string =>
  typeof s === 'string' && /^\d{1,15}:\d{1,10}$/.test(s);
