/**
 * A per-host digest of the accounts a source holds, so that a changes-only fetch can tell that
 * the cached accounts are still the server's, not merely as many (issue 15, item 3: one account
 * deleted and another, with only an old login, added on the same host kept every count equal).
 *
 * The same SQL text runs in the server's `sqlite3` (3.40 at least: nothing but integer arithmetic,
 * `length`, `unicode` and `substr`, all defined by character, not by build options) over the query's
 * rows, and in our cache's SQLite over the rows it holds, so both sides compute it the same way;
 * PostgreSQL and MySQL/MariaDB compute the same integers with their own spelling of each function.
 *
 * Each account becomes one number k below P (a prime, 2^31 - 1) from every field that can move a
 * figure (last_active, registered, account status, the three skip counts) and from its name (length,
 * first, middle and last characters); the fields are chained with a multiplier, and the account's
 * term is k² modulo P, so that the sum is not linear in the fields (two accounts trading their
 * times move it). The host's digest is the sum of the terms modulo P: independent of row order,
 * exact (every product stays below 2^62, the sum below 2^63 up to 4 billion accounts) and the same
 * everywhere. Why it catches a changed membership: replacing account x by y leaves the sum unchanged
 * only when y's term equals x's, 2 values of k in 2^31 for a given x; any other mix of additions,
 * deletions and changed times whose counts happen to agree collides with about the same chance, one
 * in a billion. Timestamps go in as their whole seconds (a changed fraction alone is not seen, and
 * moves no figure by more than that second). The cache keeps each account's term beside it, so its
 * side costs a sum; the server computes it only when asked for changes.
 */

const P = 2147483647;
const STEP = 1000003;

/**
 * How each database spells the few functions used, so that all give the same integers: a
 * timestamp's whole seconds (truncated toward zero, as SQLite's CAST), a name's length in
 * characters and the code point of one of its characters (0 for none).
 */
interface Dialect {
  whole: (x: string) => string;
  /** A count as an integer: better-sqlite3 binds every number as a REAL, and a REAL stays one. */
  int: (x: string) => string;
  length: (s: string) => string;
  firstCode: (s: string) => string;
  lastCode: (s: string) => string;
  middleCode: (s: string) => string;
  user: string;
}

const DIALECTS: Record<'sqlite' | 'postgres' | 'mysql', Dialect> = {
  sqlite: {
    whole: (x) => `CAST(${x} AS INTEGER)`,
    int: (x) => `CAST(${x} AS INTEGER)`,
    length: (s) => `length(${s})`,
    firstCode: (s) => `coalesce(unicode(${s}), 0)`,
    lastCode: (s) => `coalesce(unicode(substr(${s}, -1)), 0)`,
    middleCode: (s) => `coalesce(unicode(substr(${s}, (length(${s}) + 1) / 2)), 0)`,
    user: 'user',
  },
  postgres: {
    whole: (x) => `trunc(${x})::bigint`,
    int: (x) => x,
    length: (s) => `length(${s})::bigint`,
    firstCode: (s) => `ascii(${s})::bigint`,
    lastCode: (s) => `ascii(right(${s}, 1))::bigint`,
    middleCode: (s) => `ascii(substr(${s}, (length(${s}) + 1) / 2))::bigint`,
    user: '"user"',
  },
  mysql: {
    whole: (x) => `CAST(TRUNCATE(${x}, 0) AS SIGNED)`,
    int: (x) => x,
    length: (s) => `CHAR_LENGTH(${s})`,
    firstCode: (s) => codePoint(`LEFT(${s}, 1)`),
    lastCode: (s) => codePoint(`RIGHT(${s}, 1)`),
    middleCode: (s) => codePoint(`SUBSTRING(${s}, GREATEST(1, (CHAR_LENGTH(${s}) + 1) DIV 2), 1)`),
    user: '`user`',
  },
};

/** MySQL's ORD() gives a character's UTF-8 bytes as one number, not its code point. */
function codePoint(oneChar: string): string {
  return `COALESCE(CAST(CONV(HEX(CONVERT(${oneChar} USING utf32)), 16, 10) AS SIGNED), 0)`;
}

/** Added to whole seconds (|t| < 1e15) to make them positive: no sign rules for % then. */
const OFFSET = '1000000000000000';

/** A timestamp's whole seconds, positive; a number too large for that (never usable) is -2. */
const seconds = (d: Dialect, x: string) =>
  `coalesce(CASE WHEN abs(${x}) < 1e15 THEN ${d.whole(x)} ELSE -2 END, -1) + ${OFFSET}`;

/**
 * One account's number in [0, P), from the columns of ACTIVITY_QUERY's rows: each part added to
 * the running number times STEP, reduced modulo P (every intermediate stays below 2^53).
 */
export function accountDigestKey(dialect: keyof typeof DIALECTS): string {
  const d = DIALECTS[dialect];
  const u = d.user;
  const parts = [
    seconds(d, 'registered'),
    `coalesce(${d.int('account')}, 3) + 4 * (${d.int('not_an_event')} + 4096 * (${d.int('malformed')} + 4096 * ${d.int('no_timestamp')}))`,
    `${d.length(u)} * 1114112 + ${d.firstCode(u)}`,
    `${d.lastCode(u)} * 1114112 + ${d.middleCode(u)}`,
  ];
  return parts.reduce(
    (acc, part) => `((${acc}) * ${STEP} + ${part}) % ${P}`,
    `(${seconds(d, 'last_active')}) % ${P}`,
  );
}

/** An account's term from its number `k` (a column: computed once): k² mod P. */
export const digestTerm = (k: string) => `${k} * ${k} % ${P}`;

/** An aggregate over those terms: the host's digest, in [0, P). */
export const hostDigest = (term: string) => `(sum(${term}) % ${P})`;

/** A digest as it may come from a server: a whole number below P. */
export const isDigest = (x: unknown): x is number =>
  typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < P;
