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
 * Each account becomes one number below P (a prime, 2^31 - 1) from every field that can move a
 * figure (last_active, registered, account status, the three skip counts) and from its name (length,
 * first, middle and last characters); the fields are chained with a multiplier, then the result is
 * cubed modulo P. The host's digest is the sum modulo P: independent of row order, exact (every
 * product stays below 2^62, the sum below 2^63 up to 4 billion accounts) and the same in every
 * SQLite. Why it catches a changed membership: replacing account x by y leaves the sum unchanged
 * only when y's number has the same cube as x's, at most 3 values in 2^31 for a given x; any other
 * mix of additions, deletions and changed times whose counts happen to agree collides with the
 * same chance, about one in 700 million. Timestamps go in as their whole seconds (a changed
 * fraction alone is not seen, and moves no figure by more than that second).
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
  length: (s: string) => string;
  firstCode: (s: string) => string;
  lastCode: (s: string) => string;
  middleCode: (s: string) => string;
  user: string;
}

const DIALECTS: Record<'sqlite' | 'postgres' | 'mysql', Dialect> = {
  sqlite: {
    whole: (x) => `CAST(${x} AS INTEGER)`,
    length: (s) => `length(${s})`,
    firstCode: (s) => `coalesce(unicode(${s}), 0)`,
    lastCode: (s) => `coalesce(unicode(substr(${s}, -1)), 0)`,
    middleCode: (s) => `coalesce(unicode(substr(${s}, (length(${s}) + 1) / 2)), 0)`,
    user: 'user',
  },
  postgres: {
    whole: (x) => `trunc(${x})::bigint`,
    length: (s) => `length(${s})::bigint`,
    firstCode: (s) => `ascii(${s})::bigint`,
    lastCode: (s) => `ascii(right(${s}, 1))::bigint`,
    middleCode: (s) => `ascii(substr(${s}, (length(${s}) + 1) / 2))::bigint`,
    user: '"user"',
  },
  mysql: {
    whole: (x) => `CAST(TRUNCATE(${x}, 0) AS SIGNED)`,
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

/** x reduced into [0, P): % keeps the sign of x in all three. */
const mod = (x: string) => `((${x}) % ${P} + ${P}) % ${P}`;
const chain = (acc: string, next: string) => `(${acc} * ${STEP} + ${mod(next)}) % ${P}`;

/** One account's number before mixing, from the columns of ACTIVITY_QUERY's rows. */
function accountKey(d: Dialect): string {
  const u = d.user;
  return [
    `coalesce(${d.whole('registered')}, -1)`,
    'coalesce(account, 3) + 4 * (not_an_event + 4096 * (malformed + 4096 * no_timestamp))',
    `${d.length(u)} * 1114112 + ${d.firstCode(u)}`,
    `${d.lastCode(u)} * 1114112 + ${d.middleCode(u)}`,
  ].reduce(chain, mod(`coalesce(${d.whole('last_active')}, -1)`));
}

/** A SELECT's column expression: the account's number, mixed (k³ mod P). */
export function accountDigestTerm(dialect: keyof typeof DIALECTS): string {
  const k = accountKey(DIALECTS[dialect]);
  return `((${k}) * (${k}) % ${P}) * (${k}) % ${P}`;
}

/** The same for SQLite, which the remote query and the cache use. */
export const ACCOUNT_DIGEST_TERM = accountDigestTerm('sqlite');

/** An aggregate over those terms: the host's digest, in [0, P). */
export const hostDigest = (term: string) => `(sum(${term}) % ${P})`;

/** A digest as it may come from a server: a whole number below P. */
export const isDigest = (x: unknown): x is number =>
  typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < P;
