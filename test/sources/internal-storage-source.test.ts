import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { countSources } from '../../main/core/activity-source.js';
import { countRecords } from '../../main/core/count-active.js';
import { DAY } from '../../main/core/windows.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';
import { writeDatFile, writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { type ActivitySeed, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const NOW = 1_795_536_000;
const root = mkdtempSync(join(tmpdir(), 'pau-internal-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => mkdtempSync(join(root, `${dirs++}-`));

test('reads lastlog2 files with encoded host and user names, and leaves account_activity unread', async () => {
  const dir = freshDir();
  writeProsodyInternal(dir, [
    { host: 'example.org', user: 'zoë', event: 'login', timestamp: NOW - 60, ip: '2001:db8::1' },
    { host: 'example.org', user: 'o.neil-x_y', event: 'logout', timestamp: NOW - 3 * DAY },
    { host: 'example.org', user: 'o.neil-x_y', event: 'activity', timestamp: NOW - 30 },
    { host: 'example.org', user: 'newbie', event: 'registered', timestamp: NOW - 30 },
    { host: 'other.example', user: 'old', event: 'login', timestamp: NOW - 29 * DAY },
  ]);
  const r = await countSources([new InternalStorageSource(dir)], NOW);
  assert.ok(r.ok);
  const h = r.value.hosts['example.org']!;
  // o.neil-x_y's account_activity says 30 s ago; Prosody 13's module, too, goes by lastlog2 alone.
  assert.deepEqual([h.dau, h.wau, h.mau, h.accounts, h.new1d], [1, 2, 2, 3, 1]);
  assert.deepEqual([r.value.hosts['other.example']?.mau, r.value.total.mau], [1, 3]);
});

test('a component row, a file of code, a truncated file and a missing timestamp are skipped', async () => {
  const dir = freshDir();
  writeProsodyInternal(dir, [{ host: 'a.test', user: 'ok', event: 'login', timestamp: NOW - 60 }]);
  writeDatFile(dir, 'a.test', 'lastlog2', 'room', 'return {\n\t["muc.a.test"] = "message";\n};\n');
  writeDatFile(dir, 'a.test', 'lastlog2', 'evil', 'return os.execute("touch /tmp/pwned-by-pau")\n');
  writeDatFile(dir, 'a.test', 'lastlog2', 'cut', 'return {\n\t["login"] = {\n\t\t["timest');
  writeDatFile(
    dir,
    'a.test',
    'lastlog2',
    'nots',
    'return {\n\t["login"] = {\n\t\t["ip"] = "x";\n\t};\n};\n',
  );
  const r = await countSources([new InternalStorageSource(dir)], NOW);
  assert.ok(r.ok);
  const a = r.value.hosts['a.test']!;
  assert.equal(a.dau, 1);
  assert.equal(a.accounts, 1);
  assert.deepEqual(a.skippedByReason, { 'not-an-event': 1, malformed: 2, 'no-timestamp': 1 });
});

test('a file above the size cap is skipped unread', async () => {
  const dir = freshDir();
  writeProsodyInternal(dir, [{ host: 'a.test', user: 'ok', event: 'login', timestamp: NOW - 60 }]);
  writeDatFile(
    dir,
    'a.test',
    'lastlog2',
    'huge',
    `return { ["login"] = { ["timestamp"] = ${NOW}; ["pad"] = "${'x'.repeat(200_000)}"; }; };`,
  );
  const r = await countSources([new InternalStorageSource(dir)], NOW);
  assert.ok(r.ok);
  assert.equal(r.value.total.dau, 1);
  assert.equal(r.value.total.skippedByReason.malformed, 1);
});

test('files and folders that are not Prosody\u2019s are ignored', async () => {
  const dir = freshDir();
  writeProsodyInternal(dir, [{ host: 'a.test', user: 'ok', event: 'login', timestamp: NOW - 60 }]);
  writeFileSync(join(dir, 'a%2etest', 'lastlog2', 'notes.txt'), 'hello');
  mkdirSync(join(dir, 'a%2etest', 'roster'));
  writeFileSync(join(dir, 'prosody.err'), '');
  const r = await countSources([new InternalStorageSource(dir)], NOW);
  assert.ok(r.ok);
  assert.equal(r.value.total.accounts, 1);
  assert.deepEqual(Object.keys(r.value.hosts), ['a.test']);
});

test('a data folder without activity records says which module to enable', async () => {
  const dir = freshDir();
  mkdirSync(join(dir, 'a%2etest', 'accounts'), { recursive: true });
  const r = await countSources([new InternalStorageSource(dir)], NOW);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'no-activity-records');
});

test('a missing data folder is not-found', async () => {
  const r = await countSources([new InternalStorageSource(join(root, 'nope'))], NOW);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'not-found');
});

test('an unreadable activity folder is permission-denied, not a silent zero', () => {
  // Root reads every file, so the CLI runs here as the unprivileged user nobody.
  const dir = freshDir();
  writeProsodyInternal(dir, [{ host: 'a.test', user: 'ok', event: 'login', timestamp: NOW - 60 }]);
  chmodSync(root, 0o755);
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'a%2etest'), 0o755);
  const asRoot = process.getuid?.() === 0;
  chmodSync(join(dir, 'a%2etest', 'lastlog2'), asRoot ? 0o700 : 0o000);
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli.ts', '--data-dir', dir], {
    uid: asRoot ? 65534 : undefined,
    encoding: 'utf8',
    env: { ...process.env, TSX_DISABLE_CACHE: '1' },
  });
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stdout, '');
  assert.match(
    run.stderr,
    /Permission denied reading the Prosody data folder at .*lastlog2: run as a user in the prosody group/,
  );
});

test('internal storage, SQLite and the record fold agree on random data', async () => {
  const seedArb = fc.record({
    host: fc.constantFrom('a.test', 'b.test'),
    user: fc.constantFrom('u1', 'u2', 'zoë', "o'neil", 'x y', '\u{1F600}'),
    event: fc.constantFrom('login', 'logout', 'registered', 'activity') as fc.Arbitrary<
      ActivitySeed['event']
    >,
    timestamp: fc.integer({ min: NOW - 40 * DAY, max: NOW + 100 }),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(seedArb, {
        minLength: 1,
        maxLength: 30,
        selector: (s) => `${s.host}/${s.user}/${s.event}`,
      }),
      async (seeds) => {
        const dir = freshDir();
        writeProsodyInternal(dir, seeds);
        const db = join(dir, 'prosody.sqlite');
        writeProsodySqlite(db, seeds.map(activityRow));
        const fromFiles = await countSources([new InternalStorageSource(dir)], NOW);
        const fromDb = await countSources([new SqliteSource(db)], NOW);
        const sorted = [...seeds].sort((a, b) =>
          `${a.host}\0${a.user}` < `${b.host}\0${b.user}` ? -1 : 1,
        );
        const expected = countRecords(sorted, NOW).hosts;
        if (Object.keys(expected).length === 0) {
          // Only account_activity timestamps: no user of lastlog2's, so no records at all.
          assert.ok(!fromFiles.ok && !fromDb.ok);
          return;
        }
        assert.ok(fromFiles.ok && fromDb.ok);
        assert.deepEqual(fromFiles.value.hosts, expected);
        assert.deepEqual(fromDb.value.hosts, expected);
      },
    ),
    { numRuns: 30 },
  );
});
