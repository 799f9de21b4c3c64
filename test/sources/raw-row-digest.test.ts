/**
 * The raw rows' digest (raw-row-digest.ts) against the query it stands in for, both run by the
 * real `sqlite3` command the server runs: whatever form a login time is written in, two databases
 * whose digests are equal give the same accounts (so an "unchanged" answer can never hide a
 * change of a figure), and a time changed by a millisecond or more always moves the digest.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { ACTIVITY_QUERY } from '../../main/sources/activity-query.js';
import { RAW_DIGEST_SQL } from '../../main/sources/raw-row-digest.js';
import { type ProsodyRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const work = mkdtempSync(join(tmpdir(), 'pau-raw-digest-'));
after(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function run(rows: readonly ProsodyRow[], sql: string): string {
  const path = join(work, `db-${n++}.sqlite`);
  writeProsodySqlite(path, rows);
  try {
    return execFileSync('sqlite3', ['-readonly', '-batch', '-bail', '-list', path, sql], {
      encoding: 'utf8',
    });
  } finally {
    rmSync(path, { force: true });
  }
}

/** A number as JSON may spell it: integer, fraction, exponent in any case and sign. */
const spelled = (ms: number, form: number, pad: string): string => {
  const t = ms / 1000;
  const forms = [
    () => (Number.isInteger(t) ? String(t) : t.toFixed(3)),
    () => t.toExponential(),
    () => t.toExponential().toUpperCase(),
    () => t.toExponential(12).replace('e+', 'e'),
    () => t.toFixed(3),
    () => t.toExponential().replace('e+', 'E+0'),
  ];
  return `${pad}${forms[form % forms.length]!()}`;
};

/** Login times Prosody could store, in milliseconds: around now, negative, and far off. */
const millis = fc.oneof(
  fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
  fc.integer({ min: -2_000_000_000_000, max: 2_000_000_000_000 }),
  fc.integer({ min: -8_640_000_000_000, max: 8_640_000_000_000 }).map((s) => s * 1000),
);

const login = (value: string): ProsodyRow => ({
  host: 'a.test',
  user: 'u',
  store: 'lastlog2',
  key: 'login',
  type: 'json',
  value,
});

const valueWith = (time: string, ipFirst: boolean, space: string) =>
  ipFirst
    ? `{"ip":"192.0.2.1","timestamp"${space}:${time}}`
    : `{"timestamp"${space}:${time},"ip":"192.0.2.1"}`;

test('equal raw digests mean equal accounts, whatever form the login time takes', () => {
  fc.assert(
    fc.property(
      millis,
      millis,
      fc.nat(),
      fc.nat(),
      fc.boolean(),
      fc.constantFrom('', ' ', '\t', '\n '),
      fc.constantFrom('', ' ', '\r\n'),
      (a, b, formA, formB, ipFirst, space, pad) => {
        const rowsA = [login(valueWith(spelled(a, formA, pad), ipFirst, space))];
        const rowsB = [login(valueWith(spelled(b, formB, pad), ipFirst, space))];
        const sameDigest = run(rowsA, RAW_DIGEST_SQL) === run(rowsB, RAW_DIGEST_SQL);
        if (sameDigest) assert.equal(run(rowsA, ACTIVITY_QUERY), run(rowsB, ACTIVITY_QUERY));
        // And a different time is always seen, whatever its spelling.
        if (a !== b) assert.equal(sameDigest, false, `${a} and ${b}`);
      },
    ),
    { numRuns: 150 },
  );
});

test('a time rewritten in another spelling of the same length is seen', () => {
  const rows = (t: string) => [login(`{"timestamp":${t}}`)];
  assert.notEqual(run(rows('1.7e9'), RAW_DIGEST_SQL), run(rows('1.6e9'), RAW_DIGEST_SQL));
  assert.notEqual(run(rows('17e8'), RAW_DIGEST_SQL), run(rows('16e8'), RAW_DIGEST_SQL));
  assert.notEqual(run(rows('-1e9'), RAW_DIGEST_SQL), run(rows('-2e9'), RAW_DIGEST_SQL));
});
