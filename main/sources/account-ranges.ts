/**
 * Splitting one count over a SQLite file into ranges of accounts, so that several `sqlite3`
 * processes can each sort and sum a part at once: the count is sorting millions of rows by account,
 * which one process does on one core (issue 14: a million accounts took 1.7 times as long as an
 * operator's one-liner; in two halves on two cores each process does little more than half).
 *
 * A range is a half-open interval of (host, user) in the table's own order: every account falls in
 * exactly one, so the parts' totals add up to the whole. The bounds are picked from rows sampled
 * by rowid, which needs no pass over the table; a poor sample only makes the parts uneven, never
 * wrong.
 */

/** [host, user] of an account: where a range starts or ends. */
export type AccountKey = readonly [host: string, user: string];

/** From `lo` (included) to `hi` (excluded); an absent end is open. */
export interface AccountRange {
  lo?: AccountKey;
  hi?: AccountKey;
}

/** Below this many rows one process is about as fast: starting more costs more than it saves. */
export const MIN_ROWS_TO_SPLIT = 200_000;

/** Rows sampled for each part. */
const SAMPLES_PER_PART = 64;

/**
 * One JSON line: `[max(rowid), host and user NOT NULL?]`, then one `[host, user]` line per sampled
 * row, in (host, user) order. NULL keys would fall in no range, so a table that allows them is
 * never split; nor is a table without a rowid (the statement then fails and the count runs whole).
 */
export function sampleQuery(parts: number): string {
  const n = SAMPLES_PER_PART * parts;
  return `SELECT json_array(max(rowid), (SELECT count(*) FROM pragma_table_info('prosody')
    WHERE name IN ('host', 'user') AND "notnull") = 2) FROM prosody;
WITH RECURSIVE i(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM i WHERE k < ${n})
SELECT json_array(host, user) FROM prosody
WHERE rowid IN (SELECT k * (SELECT max(rowid) FROM prosody) / ${n + 1} FROM i)
ORDER BY host, user`;
}

/** Text safe to write as a SQL literal for the sqlite3 command: no NUL, which would end it. */
const literalSafe = (s: unknown): s is string =>
  typeof s === 'string' && !s.includes('\u0000') && s.length <= 3072;

/**
 * The ranges for `parts` processes from sampleQuery's lines, or one open range when the table is
 * small, keys can be NULL, or the sample says nothing usable.
 */
export function accountRanges(
  lines: readonly unknown[],
  parts: number,
  minRows = MIN_ROWS_TO_SPLIT,
): AccountRange[] {
  const whole: AccountRange[] = [{}];
  const [head, ...sample] = lines;
  if (parts < 2 || !Array.isArray(head)) return whole;
  const [maxRowid, notNull] = head as unknown[];
  if (typeof maxRowid !== 'number' || !(maxRowid >= minRows) || notNull !== 1) return whole;
  const keys = sample.filter(
    (k): k is [string, string] =>
      Array.isArray(k) && k.length === 2 && literalSafe(k[0]) && literalSafe(k[1]),
  );
  // Picked at rising places of a list sqlite3 sorted by the table's own collation, so the bounds
  // never descend in the order the conditions compare by; an equal pair only leaves a range empty.
  const bounds: AccountKey[] = [];
  for (let p = 1; p < parts; p++) {
    const key = keys[Math.floor((p * keys.length) / parts)];
    const last = bounds[bounds.length - 1];
    if (key !== undefined && (last === undefined || last[0] !== key[0] || last[1] !== key[1]))
      bounds.push(key);
  }
  if (bounds.length === 0) return whole;
  return [undefined, ...bounds].map((lo, i) => ({
    ...(lo === undefined ? {} : { lo }),
    ...(i < bounds.length ? { hi: bounds[i] } : {}),
  }));
}

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
const key = (k: AccountKey) => `(${literal(k[0])}, ${literal(k[1])})`;

/**
 * The range as a condition on a row's host and user; `TRUE` for the whole table. `indexed` lets
 * SQLite walk prosody_index over just the range; otherwise `+host` keeps it to a scan of the table
 * in storage order, since reading rows through the index would be random reads over the file.
 */
export function rangeCondition(range: AccountRange, indexed: boolean): string {
  const row = indexed ? '(host, user)' : '(+host, user)';
  const terms = [
    ...(range.lo === undefined ? [] : [`${row} >= ${key(range.lo)}`]),
    ...(range.hi === undefined ? [] : [`${row} < ${key(range.hi)}`]),
  ];
  return terms.length === 0 ? 'TRUE' : terms.join(' AND ');
}
