/**
 * A per-host digest of the accounts a source holds, so that a changes-only fetch can tell that
 * the cached accounts are still the server's, not merely as many (issue 15, item 3: one account
 * deleted and another, with only an old login, added on the same host kept every count equal).
 *
 * The same SQL text runs in the server's `sqlite3` (3.40 at least: nothing but integer arithmetic,
 * `length`, `unicode` and `substr`, all defined by character, not by build options) over the query's
 * rows, and in our cache's SQLite over the rows it holds, so both sides compute it the same way.
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

/** x reduced into [0, P): SQLite's % keeps the sign of x. */
const mod = (x: string) => `((${x}) % ${P} + ${P}) % ${P}`;
const chain = (acc: string, next: string) => `(${acc} * ${STEP} + ${mod(next)}) % ${P}`;

/** One account's number before mixing, from the columns of ACTIVITY_QUERY's rows. */
const ACCOUNT_KEY = [
  'coalesce(CAST(registered AS INTEGER), -1)',
  'coalesce(account, 3) + 4 * (not_an_event + 4096 * (malformed + 4096 * no_timestamp))',
  'length(user) * 1114112 + coalesce(unicode(user), 0)',
  'coalesce(unicode(substr(user, -1)), 0) * 1114112 + coalesce(unicode(substr(user, (length(user) + 1) / 2)), 0)',
].reduce(chain, mod('coalesce(CAST(last_active AS INTEGER), -1)'));

/** A SELECT's column expression: the account's number, mixed (k³ mod P). */
export const ACCOUNT_DIGEST_TERM = `((${ACCOUNT_KEY}) * (${ACCOUNT_KEY}) % ${P}) * (${ACCOUNT_KEY}) % ${P}`;

/** An aggregate over those terms: the host's digest, in [0, P). */
export const hostDigest = (term: string) => `(sum(${term}) % ${P})`;

/** A digest as it may come from a server: a whole number below P. */
export const isDigest = (x: unknown): x is number =>
  typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < P;
