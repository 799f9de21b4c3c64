// The per-host totals query (host-totals-query.ts) against ACTIVITY_QUERY's row per account.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { MODULE_COUNT_PERIOD } from '../../main/core/timing-slack.js';
import { DAY } from '../../main/core/windows.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';
import { sourceReport } from '../fixtures/source-report.js';
import { type ProsodyRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-host-totals-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** Ages at and around every edge the tally tests: the windows and the module's count period. */
const EDGES = [0, 1, DAY, 7 * DAY, 30 * DAY].flatMap((w) => [
  w - 1,
  w,
  w + 0.5,
  w + MODULE_COUNT_PERIOD - 1,
  w + MODULE_COUNT_PERIOD,
]);

const timestampText = fc.oneof(
  fc.constantFrom(...EDGES).map((age) => String(NOW - age)),
  fc.integer({ min: -40 * DAY, max: 40 * DAY }).map((age) => String(NOW - age)),
  fc.constantFrom('1e308', '-1e308', '1e400', '8640000000001', '-8.64e12', '1.7955e9', '0'),
  fc.constantFrom('"1795535000"', 'true', 'null', '[1]', '{}'),
  spelledTimestamp(),
);

/** One moment spelled as JSON can (integer, float, exponent, sign, leading zero, spaces). */
function spelledTimestamp(): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.integer({ min: -40 * DAY, max: 40 * DAY }),
      fc.constantFrom('int', 'float', 'exponent', 'negative', 'zero-led', 'spaced'),
    )
    .map(([age, form]) => {
      const t = NOW - age;
      if (form === 'float') return `${t}.0`;
      if (form === 'exponent') return `${t / 1e9}e9`;
      if (form === 'negative') return `-${t}`;
      if (form === 'zero-led') return `0${t}`;
      if (form === 'spaced') return ` ${t} `;
      return String(t);
    });
}

const value = fc.oneof(
  timestampText.map((t) => `{"timestamp":${t}}`),
  fc
    .tuple(timestampText, fc.constantFrom('192.0.2.1', '2001:db8::1', '', 'x"y', 'a\\b', '\u0001'))
    .map(([t, ip]) => `{"timestamp":${t},"ip":"${ip}"}`),
  fc.constantFrom('{not json', '{"ip":"x"}', '', 'message', '{"timestamp":1795535000'),
);

const row: fc.Arbitrary<ProsodyRow> = fc.oneof(
  fc.record({
    host: fc.constantFrom('a.test', 'b.test'),
    user: fc.constantFrom('u1', 'u2', 'u3', "o'neil"),
    store: fc.constant('lastlog2'),
    key: fc.constantFrom('login', 'logout', 'registered', 'muc.a.test'),
    type: fc.constantFrom('json', 'json', 'json', 'string'),
    value,
  }),
  fc.record({
    host: fc.constantFrom('a.test', 'b.test'),
    user: fc.constantFrom('u1', 'u2', 'u3', "o'neil"),
    store: fc.constantFrom('accounts', 'account_roles'),
    key: fc.constantFrom('created', 'disabled', 'salt', '_default'),
    type: fc.constantFrom('boolean', 'number', 'string'),
    value: fc.constantFrom('true', 'false', '1795000000'),
  }),
);

const online = fc.uniqueArray(
  fc.tuple(fc.constantFrom('a.test', 'b.test'), fc.constantFrom('u1', 'u2', "o'neil", 'nobody')),
  { selector: ([h, u]) => `${h}/${u}` },
);

test('per-host totals, through sqlite3 and in-process, agree with a row per account on random rows', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(row, { minLength: 1, maxLength: 30 }),
      online,
      async (rows, pairs) => {
        const base = join(mkdtempSync(join(dir, `${files++}-`)), 'prosody.sqlite');
        writeProsodySqlite(base, rows);
        const wal = join(mkdtempSync(join(dir, `${files++}-`)), 'prosody.sqlite');
        writeProsodySqlite(wal, rows);
        const db = new Database(wal);
        db.pragma('journal_mode = wal');
        db.close();
        const perAccount = await sourceReport(
          new SqliteSource(base, undefined, () => {}),
          NOW,
          pairs,
        );
        const throughCli = await sourceReport(new SqliteSource(base), NOW, pairs);
        const inProcess = await sourceReport(new SqliteSource(wal), NOW, pairs);
        assert.deepEqual(throughCli, perAccount);
        assert.deepEqual(inProcess, perAccount);
      },
    ),
    { numRuns: 60 },
  );
});
