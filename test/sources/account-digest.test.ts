/**
 * The per-host digest of accounts (account-digest.ts): it moves with any change of who is there or
 * of what counts about them, not with the order of rows, and the server's sqlite3 command (3.40)
 * computes exactly what the cache's SQLite does, for any name and any usable timestamp.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { accountDigestKey, digestTerm, hostDigest } from '../../main/sources/account-digest.js';

type Account = [
  user: string,
  lastActive: number | null,
  registered: number | null,
  account: number | null,
  notAnEvent?: number,
  malformed?: number,
  noTimestamp?: number,
];

const NOW = 1_795_536_000;
const DAY = 86_400;

/** VALUES rows SQLite reads back as the columns the digest uses. */
function valuesSql(accounts: readonly Account[]): string {
  const lit = (x: unknown) =>
    x === null || x === undefined
      ? 'NULL'
      : typeof x === 'string'
        ? `'${x.replace(/'/g, "''")}'`
        : String(x);
  const rows = accounts.map(
    ([u, l, r, a, n = 0, m = 0, t = 0]) => `(${[u, l, r, a, n, m, t].map(lit).join(', ')})`,
  );
  return `WITH v(user, last_active, registered, account, not_an_event, malformed, no_timestamp) AS (VALUES ${rows.join(', ')}) SELECT ${hostDigest(digestTerm('k'))} FROM (SELECT *, ${accountDigestKey('sqlite')} AS k FROM v LIMIT -1)`;
}

function digest(accounts: readonly Account[]): number {
  const db = new Database(':memory:');
  try {
    return db.prepare(valuesSql(accounts)).pluck().get() as number;
  } finally {
    db.close();
  }
}

function digestBySqlite3Command(accounts: readonly Account[]): number {
  return Number(execFileSync('sqlite3', [':memory:', valuesSql(accounts)], { encoding: 'utf8' }));
}

const BASE: Account[] = [
  ['today', NOW - 60, null, 1],
  ['older', NOW - 20 * DAY, NOW - 400 * DAY, 1],
  ['gone', NOW - 40 * DAY, null, 0],
];

test('the digest is the same whatever the order of the accounts', () => {
  assert.equal(digest([...BASE].reverse()), digest(BASE));
});

const CHANGES: Array<[string, Account[]]> = [
  [
    'an account active today swapped for one whose only login is 5 days old (the issue)',
    [['fivedays', NOW - 5 * DAY, null, 1], BASE[1]!, BASE[2]!],
  ],
  ['the same timestamps under another name', [['todax', NOW - 60, null, 1], BASE[1]!, BASE[2]!]],
  ['a login moved back in time', [['today', NOW - 9 * DAY, null, 1], BASE[1]!, BASE[2]!]],
  ['an account disabled', [['today', NOW - 60, null, 2], BASE[1]!, BASE[2]!]],
  ['an account removed, its records kept', [['today', NOW - 60, null, 0], BASE[1]!, BASE[2]!]],
  ['a registration time changed', [BASE[0]!, ['older', NOW - 20 * DAY, null, 1], BASE[2]!]],
  ['a row become malformed', [BASE[0]!, BASE[1]!, ['gone', NOW - 40 * DAY, null, 0, 0, 1, 0]]],
  [
    'two accounts trading their times',
    [['today', NOW - 20 * DAY, NOW - 400 * DAY, 1], ['older', NOW - 60, null, 1], BASE[2]!],
  ],
];

for (const [what, changed] of CHANGES) {
  test(`the digest moves when ${what}`, () => {
    assert.notEqual(digest(changed), digest(BASE));
  });
}

const ODD: Account[] = [
  ['', null, null, null],
  ['zoë', NOW - 0.5, null, 1],
  ['😀x', 1796302731.5, -1, 2],
  ['a\u0301', -8.64e12, 8.64e12, 0, 3, 2, 1],
  ['x'.repeat(1023), 1e12, null, 1],
  ["o'neil", NOW, NOW, 1],
  ['日本語', 0, 0, 2],
];

test("the server's sqlite3 command computes the same digest as the cache's SQLite", () => {
  assert.equal(digestBySqlite3Command(ODD), digest(ODD));
  assert.equal(digestBySqlite3Command(BASE), digest(BASE));
});
