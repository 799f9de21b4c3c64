/**
 * The account cache's own rules: a merge that would leave totals unlike the server's keeps
 * nothing, and a file this version cannot use is set aside, never reused or destroyed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { CachedFolder } from '../../main/sources/account-cache.js';
import type { ActivityQueryTuple } from '../../main/sources/activity-query.js';
import type { DigestedTuple } from '../../main/sources/row-digest.js';
import { type FileRow, FileTable } from '../../main/sources/file-table.js';
import { PART_ROWS } from '../../main/sources/file-table-writer.js';
import { PACK_SLOTS } from '../../main/sources/account-packs.js';
import { cachedAccounts } from '../helpers/cached-accounts.js';
import { type SqliteAccountCache, openAccountCache } from '../../main/store/account-cache-db.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const info = { stamp: 'query', fullAt: 1000, serverNow: 2000 };

/** Keeps `folder` as a count does: its rows as they are read, then the folder. */
function save(cache: SqliteAccountCache, path: string, folder: CachedFolder): void {
  const { files, ...dates } = folder;
  const writer = cache.writeFolder('k', path, dates);
  for (const [name, row] of files.entries()) writer.add(name, row);
  writer.commit();
}

const plain = (f: CachedFolder | null) => f && { ...f, files: f.files.entries() };
const a1: ActivityQueryTuple = ['a.test', 'u1', 100, null, 0, 0, 0, 1, 1];
const a2: ActivityQueryTuple = ['a.test', 'u2', 200, 150, 0, 0, 0, 2, 1];
const b1: ActivityQueryTuple = ['b.test', 'u1', null, null, 0, 1, 0, null, 0];

test('replace, then a merge whose totals match, updates and adds accounts', () => {
  const path = join(dir, 'one', 'cache.sqlite');
  const cache = openAccountCache(path);
  cache.replace('k', info, [a1, b1]);
  assert.deepEqual(cache.snapshot('k'), { ...info, proof: null, rest: null, newest: 100 });
  const newer: ActivityQueryTuple = ['a.test', 'u1', 300, null, 0, 0, 0, 1, 1];
  const merged = cache.merge(
    'k',
    { ...info, serverNow: 3000 },
    [newer, a2],
    [
      { host: 'a.test', accounts: 2, notAnEvent: 0, malformed: 0, noTimestamp: 0 },
      { host: 'b.test', accounts: 1, notAnEvent: 0, malformed: 1, noTimestamp: 0 },
    ],
  );
  assert.equal(merged, true);
  assert.deepEqual(cachedAccounts(path, 'k'), [newer, a2, b1]);
  assert.deepEqual(cache.snapshot('k'), {
    ...info,
    serverNow: 3000,
    proof: null,
    rest: null,
    newest: 300,
  });
  assert.equal(cache.snapshot('other'), null, 'keys keep apart');
  cache.close();
});

test('a merge whose totals differ from the server keeps nothing', () => {
  const path = join(dir, 'two', 'cache.sqlite');
  const cache = openAccountCache(path);
  cache.replace('k', info, [a1, b1]);
  for (const totals of [
    // An account was deleted on the server: it holds one fewer than the cache would.
    [{ host: 'a.test', accounts: 1, notAnEvent: 0, malformed: 0, noTimestamp: 0 }],
    // A row went bad without a newer timestamp.
    [
      { host: 'a.test', accounts: 2, notAnEvent: 0, malformed: 0, noTimestamp: 0 },
      { host: 'b.test', accounts: 1, notAnEvent: 0, malformed: 2, noTimestamp: 0 },
    ],
  ]) {
    assert.equal(cache.merge('k', { ...info, serverNow: 9999 }, [a2], totals), false);
    assert.deepEqual(cachedAccounts(path, 'k'), [a1, b1]);
    assert.equal(cache.snapshot('k')?.serverNow, 2000);
  }
  cache.close();
});

const P = 2147483647;
const d1: DigestedTuple = ['a.test', 'u1', 100, null, 0, 0, 0, 1, 1, 10];
const d2: DigestedTuple = ['a.test', 'u2', 200, 150, 0, 0, 0, 2, 1, 20];
const digested = { ...info, rest: 5 };

test("a digested merge is kept when the cache then predicts the server's digest", () => {
  const path = join(dir, 'five', 'cache.sqlite');
  const cache = openAccountCache(path);
  cache.replaceDigested('k', digested, [d1, d2]);
  const newer: DigestedTuple = ['a.test', 'u1', 300, null, 0, 0, 0, 1, 1, 11];
  // u1 sent again (11 in place of 10); u3 new, without lastlog2 rows: 4 more in the rest.
  const changed = [
    { host: 'a.test', user: 'u1', rest: 3, fresh: false },
    { host: 'a.test', user: 'u3', rest: 4, fresh: true },
  ];
  assert.equal(cache.mergeDigested('k', info, [newer], changed, (11 + 20 + 5 + 4) % P), true);
  assert.deepEqual(
    cachedAccounts(path, 'k').map((a) => a[2]),
    [300, 200],
  );
  assert.equal(cache.snapshot('k')?.rest, 9);
  cache.close();
});

test("a digested merge that does not predict the server's digest keeps nothing", () => {
  const path = join(dir, 'six', 'cache.sqlite');
  const cache = openAccountCache(path);
  cache.replaceDigested('k', digested, [d1, d2]);
  const newer: DigestedTuple = ['a.test', 'u1', 300, null, 0, 0, 0, 1, 1, 11];
  const changed = [{ host: 'a.test', user: 'u1', rest: 3, fresh: false }];
  for (const [accounts, digest] of [
    // u2's rows changed on the server though it was not sent again.
    [[newer], 11 + 21 + 5],
    // An account line that no changed line names.
    [[newer, ['b.test', 'x', 1, null, 0, 0, 0, 1, 0, 1] as DigestedTuple], 11 + 20 + 5 + 1],
  ] as const) {
    assert.equal(cache.mergeDigested('k', info, accounts, changed, digest), false);
    assert.deepEqual(
      cachedAccounts(path, 'k').map((a) => a[2]),
      [100, 200],
    );
    assert.equal(cache.snapshot('k')?.rest, 5);
  }
  // A cache without the rest (another source's) is never merged into.
  cache.replace('k', info, [a1]);
  assert.equal(cache.mergeDigested('k', info, [], [], 0), false);
  cache.close();
});

test('folders are kept as given and pruned to what still exists', () => {
  const cache = openAccountCache(join(dir, 'three', 'cache.sqlite'));
  const folder: CachedFolder = {
    mtime: 5,
    listedAt: 70,
    fullAt: 70,
    files: FileTable.of([
      ['x.dat', { size: 1, mtime: 2, readAt: 3, summary: 1 }],
      ['y.dat', { size: 4, mtime: 5, readAt: 6, summary: [7.5, null, 0, 2, 1] }],
    ]),
  };
  save(cache, '/d/a', folder);
  save(cache, '/d/b', folder);
  assert.deepEqual(plain(cache.folder('k', '/d/a')), plain(folder));
  assert.deepEqual(cache.folderDates('k', '/d/a'), { listedAt: 70, fullAt: 70 });
  cache.pruneFolders('k', new Set(['/d/b']));
  assert.equal(cache.folder('k', '/d/a'), null);
  assert.equal(cache.folderDates('k', '/d/a'), null);
  assert.deepEqual(plain(cache.folder('k', '/d/b')), plain(folder));
  cache.close();
});

const FOLDER: CachedFolder = {
  mtime: 5,
  listedAt: 70.5,
  fullAt: 60,
  files: FileTable.of([
    ['x.dat', { size: 1, mtime: 2, readAt: 3, summary: 1 }],
    ['y.dat', { size: 4, mtime: 5, readAt: 6, summary: [7.5, null, 0, 2, 1] }],
  ]),
};

test("a folder's numbers are kept as their bytes, not as text: 40 + 6 + 1 bytes a file", () => {
  const path = join(dir, 'bytes', 'cache.sqlite');
  const cache = openAccountCache(path);
  save(cache, '/d/a', FOLDER);
  cache.close();
  const db = new Database(path, { readonly: true });
  const row = db
    .prepare(
      "SELECT typeof(nums) || ' ' || length(nums) || ' ' || length(skips) || ' ' || length(kinds) AS kept FROM folder_part",
    )
    .get() as { kept: string };
  db.close();
  assert.equal(row.kept, 'blob 80 12 2');
});

/** `n` rows named from `prefix`, each unlike the others. */
function rows(n: number, prefix = 'u'): Array<[string, FileRow]> {
  return Array.from({ length: n }, (_, i): [string, FileRow] => [
    `${prefix}${i}.dat`,
    { size: i, mtime: i + 1, readAt: i + 2, summary: i % 3 ? 2 : [i, null, 0, i % 4, 0] },
  ]);
}

function partsOf(path: string): Array<{ path: string; part: number; files: number }> {
  const db = new Database(path, { readonly: true });
  const held = db
    .prepare('SELECT path, part, length(kinds) AS files FROM folder_part ORDER BY path, gen, part')
    .all() as Array<{ path: string; part: number; files: number }>;
  db.close();
  return held;
}

test('a folder of more files than a part holds is written in parts and comes back whole', () => {
  const path = join(dir, 'parts', 'cache.sqlite');
  const cache = openAccountCache(path);
  const folder: CachedFolder = {
    mtime: 5,
    listedAt: 70,
    fullAt: 60,
    files: FileTable.of(rows(2 * PART_ROWS + 5)),
  };
  save(cache, '/d/a', folder);
  assert.deepEqual(plain(cache.folder('k', '/d/a')), plain(folder));
  cache.close();
  assert.deepEqual(
    partsOf(path).map((p) => [p.part, p.files]),
    [
      [0, PART_ROWS],
      [1, PART_ROWS],
      [2, 5],
    ],
  );
});

test('a folder without files is kept as none, with no part', () => {
  const path = join(dir, 'no-files', 'cache.sqlite');
  const cache = openAccountCache(path);
  cache.writeFolder('k', '/d/a', { mtime: 5, listedAt: 70, fullAt: 60 }).commit();
  assert.deepEqual(plain(cache.folder('k', '/d/a')), {
    mtime: 5,
    listedAt: 70,
    fullAt: 60,
    files: [],
  });
  cache.close();
  assert.deepEqual(partsOf(path), []);
});

test('the parts of a write that never ended are not the folder, and its next write drops them', () => {
  const path = join(dir, 'unended', 'cache.sqlite');
  const cache = openAccountCache(path);
  save(cache, '/d/a', FOLDER);
  // A count that failed half-way: a part written, no commit.
  const unended = cache.writeFolder('k', '/d/a', { mtime: 9, listedAt: 90, fullAt: 90 });
  for (const [name, row] of rows(PART_ROWS + 1)) unended.add(name, row);
  assert.equal(partsOf(path).length, 2);
  assert.deepEqual(plain(cache.folder('k', '/d/a')), plain(FOLDER));
  const next: CachedFolder = { mtime: 9, listedAt: 95, fullAt: 95, files: FileTable.of(rows(3)) };
  save(cache, '/d/a', next);
  assert.deepEqual(plain(cache.folder('k', '/d/a')), plain(next));
  cache.close();
  assert.deepEqual(partsOf(path), [{ path: '/d/a', part: 0, files: 3 }]);
});

test('writes of a folder that keep failing leave only the last one behind, beside what was kept', () => {
  const path = join(dir, 'failing-writes', 'cache.sqlite');
  const cache = openAccountCache(path);
  save(cache, '/d/a', FOLDER);
  for (let attempt = 0; attempt < 3; attempt++) {
    const unended = cache.writeFolder('k', '/d/a', { mtime: 9, listedAt: 90, fullAt: 90 });
    for (const [name, row] of rows(PART_ROWS)) unended.add(name, row);
  }
  assert.deepEqual(plain(cache.folder('k', '/d/a')), plain(FOLDER));
  cache.close();
  // Ordered by size: the writes' numbers are drawn at random.
  assert.deepEqual(
    partsOf(path)
      .map((p) => p.files)
      .sort((a, b) => a - b),
    [2, PART_ROWS],
  );
});

test('pruning drops the parts of a folder that was never kept whole', () => {
  const path = join(dir, 'prune-parts', 'cache.sqlite');
  const cache = openAccountCache(path);
  save(cache, '/d/a', FOLDER);
  const unended = cache.writeFolder('k', '/d/gone', { mtime: 9, listedAt: 90, fullAt: 90 });
  for (const [name, row] of rows(PART_ROWS)) unended.add(name, row);
  cache.pruneFolders('k', new Set(['/d/a']));
  cache.close();
  assert.deepEqual(
    partsOf(path).map((p) => p.path),
    ['/d/a'],
  );
});

test('a name in two parts of a write makes no folder', () => {
  const cache = openAccountCache(join(dir, 'twice-across', 'cache.sqlite'));
  const writer = cache.writeFolder('k', '/d/a', { mtime: 9, listedAt: 90, fullAt: 90 });
  for (const [name, row] of [...rows(PART_ROWS), ...rows(1)]) writer.add(name, row);
  writer.commit();
  assert.equal(cache.folder('k', '/d/a'), null);
  cache.close();
});

test('a cache of the version that kept folders as JSON is set aside: its folders are read again', () => {
  const sub = join(dir, 'json');
  const path = join(sub, 'cache.sqlite');
  mkdirSync(sub);
  const old = new Database(path);
  old.exec(
    'CREATE TABLE folder (key TEXT NOT NULL, path TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (key, path)) STRICT, WITHOUT ROWID',
  );
  old.pragma(`application_id = ${0x50415543}`);
  old.pragma('user_version = 6');
  old.prepare('INSERT INTO folder VALUES (?, ?, ?)').run('k', '/d/a', '{"mtime":5}');
  old.close();
  const cache = openAccountCache(path);
  assert.equal(cache.folder('k', '/d/a'), null);
  assert.equal(cache.folderDates('k', '/d/a'), null);
  cache.close();
  assert.equal(
    readdirSync(sub).some((f) => f.startsWith('cache.sqlite.unusable-')),
    true,
  );
});

/** What a tampered or damaged row holds instead of what a count wrote (STRICT keeps the types). */
const ODD_FOLDERS: Array<[what: string, change: string]> = [
  ['numbers cut short', 'UPDATE folder_part SET nums = substr(nums, 2)'],
  ['skips one byte longer', "UPDATE folder_part SET skips = CAST(skips || x'00' AS BLOB)"],
  ['kinds empty', "UPDATE folder_part SET kinds = x''"],
  ['a kind no table writes', "UPDATE folder_part SET kinds = x'0700'"],
  ['a name twice', "UPDATE folder_part SET names = 'x.dat/x.dat'"],
  ['an extra name', "UPDATE folder_part SET names = names || '/z.dat'"],
  ['one file more than its parts hold', 'UPDATE folder SET files = files + 1'],
  ['a million files more than its parts hold', 'UPDATE folder SET files = files + 1000000'],
  ['the parts of another write', 'UPDATE folder SET gen = gen + 1'],
  ['its only part numbered 1', 'UPDATE folder_part SET part = 1'],
];

for (const [what, change] of ODD_FOLDERS) {
  test(`a folder whose rows were changed is no folder, so its files are read again: ${what}`, () => {
    const path = join(dir, 'odd', `${ODD_FOLDERS.findIndex(([w]) => w === what)}.sqlite`);
    const cache = openAccountCache(path);
    save(cache, '/d/a', FOLDER);
    cache.close();
    const db = new Database(path);
    assert.equal(db.prepare(change).run().changes, 1);
    db.close();
    const again = openAccountCache(path);
    assert.equal(again.folder('k', '/d/a'), null);
    again.close();
  });
}

test('a file that is not this cache is set aside untouched and a new cache started', () => {
  const sub = join(dir, 'four');
  const path = join(sub, 'cache.sqlite');
  openAccountCache(path).close();
  writeFileSync(path, 'not a database');
  const cache = openAccountCache(path);
  cache.replace('k', info, [a1]);
  cache.close();
  const aside = readdirSync(sub).filter(
    (f) => f.startsWith('cache.sqlite.unusable-') && !f.includes('-wal') && !f.includes('-shm'),
  );
  assert.equal(aside.length, 1);
  assert.equal(readFileSync(join(sub, aside[0]!), 'utf8'), 'not a database');

  // Another program's database (or a newer version's cache) is set aside the same way.
  const foreign = join(dir, 'five', 'cache.sqlite');
  openAccountCache(foreign).close();
  const db = new Database(foreign);
  db.pragma('user_version = 99');
  db.close();
  const fresh = openAccountCache(foreign);
  assert.equal(fresh.snapshot('k'), null);
  fresh.close();
  assert.equal(
    readdirSync(join(dir, 'five')).filter((f) => f.includes('unusable')).length >= 1,
    true,
  );
});

test('the highest rowid of the last read is kept with the file state, and a bad one is dropped', () => {
  const path = join(dir, 'rowid', 'cache.sqlite');
  const cache = openAccountCache(path);
  const state = '1.1.0.64.32.32.0.0.0.7.1234.8192.1795536000.1795536001';
  cache.replace('k', { ...info, proof: { state, rowid: 8969995 } }, [a1]);
  assert.deepEqual(cache.snapshot('k')?.proof, { state, rowid: 8969995 });
  cache.close();
  const db = new Database(path);
  db.prepare('UPDATE snapshot SET proof = ?').run(JSON.stringify({ state, rowid: -3 }));
  db.close();
  const again = openAccountCache(path);
  assert.deepEqual(again.snapshot('k')?.proof, { state });
  again.close();
});

test('damaged packs of accounts leave the key as if nothing were kept, and a full read mends them', () => {
  const path = join(dir, 'damaged-pack', 'cache.sqlite');
  const cache = openAccountCache(path);
  cache.replaceDigested('k', digested, [d1, d2]);
  cache.close();
  const db = new Database(path);
  db.prepare("UPDATE account_pack SET flags = X'01' WHERE key = 'k'").run();
  db.close();
  const again = openAccountCache(path);
  assert.equal(again.snapshot('k'), null, 'no since to ask from: everything is read');
  assert.throws(() => again.packs('k'), /damaged/);
  again.replaceDigested('k', digested, [d1, d2]);
  assert.equal(again.snapshot('k')?.newest, 200);
  assert.deepEqual(
    [...again.packs('k')].map((p) => [p.host, [...p.lastActive]]),
    [['a.test', [100, 200]]],
  );
  again.close();
});

for (const [what, tamper] of [
  [
    "a part that is not its host's last holds fewer slots",
    'UPDATE account_pack SET last_active = substr(last_active, 1, 8), registered = substr(registered, 1, 8), flags = substr(flags, 1, 1) WHERE part = 0',
  ],
  ['a part is missing between two', 'DELETE FROM account_pack WHERE part = 1'],
  [
    'the parts are numbered from 1',
    'UPDATE account_pack SET part = -part - 1; UPDATE account_pack SET part = -part',
  ],
] as const) {
  test(`packs whose parts do not fit together are no cache: ${what}`, () => {
    const path = join(dir, `parts-${what.length}`, 'cache.sqlite');
    const cache = openAccountCache(path);
    const tuples: DigestedTuple[] = [];
    for (let i = 0; i < 2 * PACK_SLOTS + 5; i++) {
      tuples.push(['a.test', `u${i}`, i, null, 0, 0, 0, 1, 0, 1]);
    }
    cache.replaceDigested('k', digested, tuples);
    assert.equal(cache.snapshot('k')?.newest, 2 * PACK_SLOTS + 4);
    cache.close();
    const db = new Database(path);
    db.exec(tamper);
    db.close();
    const again = openAccountCache(path);
    assert.equal(again.snapshot('k'), null);
    assert.throws(() => again.packs('k'), /damaged/);
    again.close();
  });
}

test('a full read that names an account twice is not kept, and what was kept stands', () => {
  const path = join(dir, 'twice', 'cache.sqlite');
  const cache = openAccountCache(path);
  cache.replaceDigested('k', digested, [d1, d2]);
  const again: DigestedTuple = ['a.test', 'u1', 500, null, 0, 0, 0, 1, 1, 10];
  assert.throws(() => cache.replaceDigested('k', digested, [d1, again]), /UNIQUE/);
  assert.deepEqual(
    cachedAccounts(path, 'k'),
    [d1, d2].map((t) => t.slice(0, 9)),
  );
  assert.deepEqual(
    [...cache.packs('k')].map((p) => [...p.lastActive]),
    [[100, 200]],
  );
  cache.close();
});
