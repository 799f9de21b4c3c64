/**
 * A merge keeps the accounts it changes as slot edits beside their parts (sources/account-packs.ts
 * SlotEdit): the parts it does not extend stay byte for byte as they were, the packs read back
 * agree with the account rows after merge upon merge, a full write drops the edits, and an edit
 * that fits no part makes the packs damaged (a full read then).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  EMPTY_FLAG,
  PACK_SLOTS,
  accountCodeOf,
  packFlags,
} from '../../main/sources/account-packs.js';
import type { DigestedTuple } from '../../main/sources/row-digest.js';
import { openAccountCache } from '../../main/store/account-cache-db.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-slot-edits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const info = { stamp: 'query', fullAt: 1000, serverNow: 2000 };
const P = 2147483647;

const tuple = (host: string, user: string, last: number | null, account = 1): DigestedTuple => [
  host,
  user,
  last,
  null,
  0,
  0,
  0,
  account as 0 | 1 | 2,
  0,
  1,
];

/** What the file holds, read beside the cache's own connection. */
function file(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return {
      parts: db
        .prepare(
          'SELECT host, part, last_active, registered, flags FROM account_pack ORDER BY 1, 2',
        )
        .all(),
      edits: (db.prepare('SELECT count(*) AS n FROM account_pack_edit').get() as { n: number }).n,
      rows: db
        .prepare('SELECT host, user, last_active, account, has_role, slot FROM account')
        .all() as {
        host: string;
        user: string;
        last_active: number | null;
        account: number | null;
        has_role: number;
        slot: number;
      }[],
    };
  } finally {
    db.close();
  }
}

/** Every account row's figures are its slot's, and every other slot is empty. */
function packsAgreeWithRows(path: string): void {
  const fresh = openAccountCache(path);
  try {
    const packs = [...fresh.packs('k')];
    const bySlot = new Map(file(path).rows.map((r) => [`${r.host} ${r.slot}`, r]));
    for (const p of packs) {
      for (let i = 0; i < p.flags.length; i++) {
        const row = bySlot.get(`${p.host} ${p.first + i}`);
        const last = p.lastActive[i]!;
        if (row === undefined) {
          assert.equal(p.flags[i], EMPTY_FLAG, `${p.host} slot ${p.first + i} is empty`);
          continue;
        }
        assert.equal(Number.isNaN(last) ? null : last, row.last_active, `${row.user}'s time`);
        assert.equal(accountCodeOf(p.flags[i]!), row.account, `${row.user}'s account`);
        assert.equal(
          p.flags[i],
          packFlags(tuple(row.host, row.user, null, row.account ?? 3)) | (row.has_role ? 4 : 0),
        );
      }
    }
  } finally {
    fresh.close();
  }
}

test('a merge of accounts already held writes no part, and merge upon merge the packs agree with the rows', () => {
  const path = join(dir, 'merges', 'cache.sqlite');
  const cache = openAccountCache(path);
  const accounts = [tuple('b.test', 'only', 50)];
  for (let i = 0; i < PACK_SLOTS + 10; i++) accounts.push(tuple('a.test', `u${i}`, i % 100));
  cache.replaceDigested('k', { ...info, rest: 0 }, accounts);
  const partsBefore = file(path).parts;
  let digest = accounts.length;
  let rest = 0;
  const merge = (
    sent: DigestedTuple[],
    changed: { user: string; host: string; rest: number; fresh: boolean }[],
  ) => assert.equal(cache.mergeDigested('k', info, sent, changed, (digest + rest) % P), true);

  // Two accounts of part 0 and one of part 1 again, one of them disabled now.
  merge(
    [
      tuple('a.test', 'u1', 900),
      tuple('a.test', 'u2', 901, 2),
      tuple('a.test', `u${PACK_SLOTS + 3}`, 902),
    ],
    ['u1', 'u2', `u${PACK_SLOTS + 3}`].map((user) => ({
      host: 'a.test',
      user,
      rest: 0,
      fresh: false,
    })),
  );
  assert.deepEqual(file(path).parts, partsBefore, 'no part written again');
  assert.equal(file(path).edits, 3);
  packsAgreeWithRows(path);

  // u1 again (its edit replaced), u5 gone from lastlog2 (emptied), a new account (its host's
  // last part written with it).
  digest += 1 - 1;
  rest += 7;
  merge(
    [tuple('a.test', 'u1', 950), tuple('a.test', 'new', 960)],
    [
      { host: 'a.test', user: 'u1', rest: 0, fresh: false },
      { host: 'a.test', user: 'u5', rest: 7, fresh: false },
      { host: 'a.test', user: 'new', rest: 0, fresh: true },
    ],
  );
  assert.equal(file(path).edits, 4, 'u1, u2, u5 and the part-1 account');
  assert.deepEqual(file(path).parts[0], partsBefore[0], "a.test's first part as it was");
  packsAgreeWithRows(path);
  assert.equal(cache.snapshot('k')?.newest, 960);

  cache.replaceDigested('k', { ...info, rest: 0 }, accounts);
  assert.equal(file(path).edits, 0, 'a full write drops the edits');
  packsAgreeWithRows(path);
  cache.close();
});

test('an edit of a slot no part holds makes the packs damaged: everything is read again', () => {
  const path = join(dir, 'stray', 'cache.sqlite');
  const cache = openAccountCache(path);
  cache.replaceDigested('k', { ...info, rest: 0 }, [
    tuple('a.test', 'u1', 100),
    tuple('a.test', 'u2', 200),
  ]);
  cache.close();
  for (const [what, sql] of [
    ['beyond the last slot', "INSERT INTO account_pack_edit VALUES ('k', 'a.test', 2, 5, NULL, 1)"],
    [
      'of a host with no part',
      "INSERT INTO account_pack_edit VALUES ('k', 'z.test', 0, 5, NULL, 1)",
    ],
    [
      'with flags out of a byte',
      "INSERT INTO account_pack_edit VALUES ('k', 'a.test', 0, 5, NULL, 256)",
    ],
  ] as const) {
    const db = new Database(path);
    db.exec(`DELETE FROM account_pack_edit; ${sql}`);
    db.close();
    const again = openAccountCache(path);
    assert.equal(again.snapshot('k'), null, what);
    assert.throws(() => again.packs('k'), /damaged/, what);
    again.close();
  }
  const db = new Database(path);
  db.exec(
    "DELETE FROM account_pack_edit; INSERT INTO account_pack_edit VALUES ('k', 'a.test', 1, 300, NULL, 1)",
  );
  db.close();
  const again = openAccountCache(path);
  assert.deepEqual(
    [...again.packs('k')].map((p) => [...p.lastActive]),
    [[100, 300]],
    'an edit in place is read over its part',
  );
  again.close();
});
