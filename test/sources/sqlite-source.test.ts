import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { countSources } from '../../main/core/activity-source.js';
import { countRecords } from '../../main/core/count-active.js';
import { DAY } from '../../main/core/windows.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';
import {
  type ActivitySeed,
  type ProsodyRow,
  activityRow,
  writeProsodySqlite,
} from '../fixtures/prosody-sqlite.js';
import { NOW, PLAIN_ACTIVITY } from '../fixtures/prosody-tricky-rows.js';
import {
  NOW as OUT_OF_RANGE_NOW,
  OUT_OF_RANGE,
  OUT_OF_RANGE_EXPECTED,
} from '../fixtures/out-of-range-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tmp = () => mkdtempSync(join(dir, `${files++}-`));

function dbWith(rows: ProsodyRow[]): string {
  const path = join(tmp(), 'prosody.sqlite');
  writeProsodySqlite(path, rows);
  return path;
}

test('counts lastlog2 rows per host and leaves account_activity unread, as Prosody 13 does', async () => {
  const path = dbWith(PLAIN_ACTIVITY);
  const r = await countSources([new SqliteSource(path)], NOW);
  assert.ok(r.ok);
  assert.deepEqual(
    Object.fromEntries(
      Object.entries(r.value.hosts).map(([h, c]) => [
        h,
        [c.dau, c.wau, c.mau, c.accounts, c.new1d],
      ]),
    ),
    { 'a.test': [1, 1, 1, 1, 0], 'b.test': [0, 0, 1, 2, 1] },
  );
});

test('rows that do not fit are skipped by reason, and the host is still counted', async () => {
  const path = dbWith([
    activityRow({ host: 'a.test', user: 'alice', event: 'login', timestamp: NOW - 60 }),
    // mod_lastlog2 on a component: key = the component's host, a plain string value.
    {
      host: 'a.test',
      user: 'room',
      store: 'lastlog2',
      key: 'muc.a.test',
      type: 'string',
      value: 'message',
    },
    {
      host: 'a.test',
      user: 'eve',
      store: 'lastlog2',
      key: 'login',
      type: 'json',
      value: '{not json',
    },
    {
      host: 'a.test',
      user: 'eve',
      store: 'lastlog2',
      key: 'logout',
      type: 'json',
      value: '{"ip":"192.0.2.1"}',
    },
    {
      host: 'a.test',
      user: 'fay',
      store: 'lastlog2',
      key: 'login',
      type: 'json',
      value: '{"timestamp":"yesterday"}',
    },
    {
      host: 'a.test',
      user: 'gus',
      store: 'account_activity',
      key: 'timestamp',
      type: 'number',
      value: 'NaN',
    },
  ]);
  const r = await countSources([new SqliteSource(path)], NOW);
  assert.ok(r.ok);
  const a = r.value.hosts['a.test']!;
  assert.equal(a.dau, 1);
  assert.equal(a.accounts, 1);
  assert.deepEqual(a.skippedByReason, { 'not-an-event': 1, malformed: 1, 'no-timestamp': 2 });
});

test('other stores in the same table are never read', async () => {
  const path = dbWith([
    activityRow({ host: 'a.test', user: 'alice', event: 'login', timestamp: NOW - 60 }),
    {
      host: 'a.test',
      user: 'alice',
      store: 'roster',
      key: 'bob@a.test',
      type: 'json',
      value: '{"timestamp":1}',
    },
    {
      host: 'a.test',
      user: 'zed',
      store: 'accounts',
      key: 'password',
      type: 'string',
      value: 'secret',
    },
  ]);
  const r = await countSources([new SqliteSource(path)], NOW);
  assert.ok(r.ok);
  assert.equal(r.value.total.accounts, 1);
  assert.equal(r.value.total.skipped, 0);
});

test('a database without activity records is an error naming the module to enable', async () => {
  const path = dbWith([
    { host: 'a.test', user: 'x', store: 'roster', key: 'k', type: 'json', value: '{}' },
  ]);
  const r = await countSources([new SqliteSource(path)], NOW);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'no-activity-records');
});

test('a SQLite file that is not Prosody\u2019s is an error, not a zero', async () => {
  const path = join(tmp(), 'other.sqlite');
  const Database = (await import('better-sqlite3')).default;
  new Database(path).exec('CREATE TABLE t (x)').close();
  const r = await countSources([new SqliteSource(path)], NOW);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'no-activity-records');
});

test('a missing file is not-found and is not created', async () => {
  const path = join(tmp(), 'missing.sqlite');
  const r = await countSources([new SqliteSource(path)], NOW);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'not-found');
  assert.throws(() => chmodSync(path, 0o600), /ENOENT/);
});

test('a file that is not a database is corrupt', async () => {
  const path = join(tmp(), 'garbage.sqlite');
  writeFileSync(path, 'this is not a database at all, just text '.repeat(200));
  const r = await countSources([new SqliteSource(path)], NOW);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'corrupt');
});

test('the SQL reduction agrees with the record fold on random data', async () => {
  const seedArb = fc.record({
    host: fc.constantFrom('a.test', 'b.test', 'c.test'),
    user: fc.constantFrom('u1', 'u2', 'u3', 'zoë', "o'neil", 'x y'),
    event: fc.constantFrom('login', 'logout', 'registered', 'activity') as fc.Arbitrary<
      ActivitySeed['event']
    >,
    timestamp: fc.integer({ min: NOW - 40 * DAY, max: NOW + 100 }),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(seedArb, {
        minLength: 1,
        maxLength: 40,
        selector: (s) => `${s.host}/${s.user}/${s.event}`,
      }),
      async (seeds) => {
        const path = dbWith(seeds.map(activityRow));
        const r = await countSources([new SqliteSource(path)], NOW);
        const sorted = [...seeds].sort((a, b) =>
          a.host + '\0' + a.user < b.host + '\0' + b.user ? -1 : 1,
        );
        const expected = countRecords(sorted, NOW);
        // Only account_activity timestamps: no user of lastlog2's, so no records at all.
        if (Object.keys(expected.hosts).length === 0) return assert.ok(!r.ok);
        assert.ok(r.ok);
        assert.deepEqual(r.value.hosts, expected.hosts);
      },
    ),
    { numRuns: 40 },
  );
});

test('timestamps beyond a date’s range are malformed and fractions count (SQLite)', async () => {
  const path = dbWith(OUT_OF_RANGE);
  const r = await countSources([new SqliteSource(path)], OUT_OF_RANGE_NOW);
  assert.ok(r.ok);
  const a = r.value.hosts['a.test']!;
  assert.deepEqual(
    {
      dau: a.dau,
      wau: a.wau,
      mau: a.mau,
      accounts: a.accounts,
      skippedByReason: a.skippedByReason,
    },
    OUT_OF_RANGE_EXPECTED,
  );
});
