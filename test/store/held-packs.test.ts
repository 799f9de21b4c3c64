/**
 * The packs a cache holds decoded between reads (store/held-packs.ts) are always what its file
 * holds: after another connection's write, after its own merges (parts changed, emptied, added,
 * a host added) and after a merge that was not kept. Each check compares them with the packs a
 * fresh connection decodes from the file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type AccountPack, PACK_SLOTS } from '../../main/sources/account-packs.js';
import type { DigestedTuple } from '../../main/sources/row-digest.js';
import { type SqliteAccountCache, openAccountCache } from '../../main/store/account-cache-db.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-held-packs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const info = { stamp: 'query', fullAt: 1000, serverNow: 2000 };
const digested = { ...info, rest: 5 };

const plain = (packs: Iterable<AccountPack>) =>
  [...packs].map((p) => [p.host, p.first, [...p.lastActive], [...p.registered], [...p.flags]]);

/** The packs as a connection that held nothing before decodes them from the file. */
function inFile(path: string): unknown[] {
  const fresh = openAccountCache(path);
  try {
    return plain(fresh.packs('k'));
  } finally {
    fresh.close();
  }
}

const tuple = (host: string, user: string, last: number, digest = 1): DigestedTuple => [
  host,
  user,
  last,
  null,
  0,
  0,
  0,
  1,
  0,
  digest,
];

function started(name: string, accounts: DigestedTuple[]): [string, SqliteAccountCache] {
  const path = join(dir, name, 'cache.sqlite');
  const cache = openAccountCache(path);
  cache.replaceDigested('k', digested, accounts);
  // Held from here on.
  assert.equal(plain(cache.packs('k')).length > 0, true);
  return [path, cache];
}

test("another connection's write is seen: what was held is decoded again", () => {
  const [path, cache] = started('other', [tuple('a.test', 'u1', 100), tuple('a.test', 'u2', 200)]);
  assert.equal(cache.snapshot('k')?.newest, 200);
  const other = openAccountCache(path);
  const changed = [{ host: 'a.test', user: 'u1', rest: 0, fresh: false }];
  assert.equal(other.mergeDigested('k', info, [tuple('a.test', 'u1', 300)], changed, 2 + 5), true);
  other.close();
  assert.deepEqual(
    [...cache.packs('k')].map((p) => [...p.lastActive]),
    [[300, 200]],
  );
  assert.equal(cache.snapshot('k')?.newest, 300);
  cache.close();
});

test('a merge patches what is held to what it wrote: parts changed, emptied and added', () => {
  const accounts = [tuple('b.test', 'only', 50)];
  for (let i = 0; i < 2 * PACK_SLOTS; i++) accounts.push(tuple('a.test', `u${i}`, i));
  const [path, cache] = started('own', accounts);
  const changed = [
    // Sent again with a newer time: part 0.
    { host: 'a.test', user: 'u3', rest: 0, fresh: false },
    // No lastlog2 rows left: its slot in part 1 is emptied, 7 goes to the rest.
    { host: 'a.test', user: `u${PACK_SLOTS + 4}`, rest: 7, fresh: false },
    // New: a.test's two parts are full, so a third; and a host not held before.
    { host: 'a.test', user: 'n1', rest: 0, fresh: true },
    { host: 'c.test', user: 'n2', rest: 0, fresh: true },
  ];
  const sent = [
    tuple('a.test', 'u3', 999_999),
    tuple('a.test', 'n1', 10),
    tuple('c.test', 'n2', 20),
  ];
  // Accounts: 2 PACK_SLOTS + 1, less one, plus two; rest: 5 + 7.
  const digest = 2 * PACK_SLOTS + 2 + 12;
  assert.equal(cache.mergeDigested('k', info, sent, changed, digest), true);
  const held = plain(cache.packs('k'));
  assert.deepEqual(held, inFile(path));
  assert.deepEqual(
    held.map(([host, first, last]) => [host, first, (last as number[]).length]),
    [
      ['a.test', 0, PACK_SLOTS],
      ['a.test', PACK_SLOTS, PACK_SLOTS],
      ['a.test', 2 * PACK_SLOTS, 1],
      ['b.test', 0, 1],
      ['c.test', 0, 1],
    ],
  );
  assert.equal(cache.snapshot('k')?.newest, 999_999);
  cache.close();
});

test('a merge that is not kept leaves what is held as the file holds it', () => {
  const [path, cache] = started('refused', [
    tuple('a.test', 'u1', 100),
    tuple('a.test', 'u2', 200),
  ]);
  const before = inFile(path);
  const changed = [{ host: 'a.test', user: 'u1', rest: 0, fresh: false }];
  // The server's digest says another account's rows changed too.
  assert.equal(cache.mergeDigested('k', info, [tuple('a.test', 'u1', 300)], changed, 3 + 5), false);
  assert.deepEqual(plain(cache.packs('k')), before);
  assert.equal(cache.snapshot('k')?.newest, 200);
  cache.close();
});
