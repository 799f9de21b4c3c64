/**
 * The remote query's scan for changes (row-digest.ts), run by the sqlite3 command as the server
 * runs it: the cheap text test before JSON keeps every account whose timestamp Prosody may write,
 * and the digest of the rows moves with any content that moves a figure.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type ProsodyRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { ACTIVITY_ROWS } from '../../main/sources/activity-query.js';
import {
  DIGESTED_ACTIVITY_QUERY,
  ROW_DIGEST_P,
  TIMESTAMP_TEXT,
  changesScan,
  rowDigestTerm,
} from '../../main/sources/row-digest.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-row-digest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SINCE = 1795536000;

/** The scan's answer on a database of these rows: the digest, and the accounts it lists. */
function scan(
  name: string,
  rows: ProsodyRow[],
  since = SINCE,
  afterRowid = 'NULL',
): { d: number; c: string[] } {
  const path = join(dir, `${name}.sqlite`);
  writeProsodySqlite(path, rows);
  const out = execFileSync('sqlite3', [
    '-readonly',
    '-json',
    path,
    `SELECT d, c FROM (${changesScan(String(since), afterRowid)})`,
  ]).toString();
  const [row] = JSON.parse(out) as [{ d: number; c: string | null }];
  const listed = JSON.parse(`[${row.c ?? ''}]`) as [string, string][];
  return { d: row.d, c: listed.map(([, user]) => user).sort() };
}

const lastlog2 = (user: string, key: string, value: string): ProsodyRow => ({
  host: 'a.test',
  user,
  store: 'lastlog2',
  key,
  type: 'json',
  value,
});

test('the text test keeps every timestamp Prosody may write at or after the time: integer, fraction, exponent, after another key', () => {
  const forms: Array<[string, string]> = [
    ['integer', `{"timestamp":${SINCE}}`],
    ['fraction', `{"timestamp":${SINCE}.25}`],
    ['exponent', '{"timestamp":1.795536e9}'],
    ['exponentsign', '{"timestamp":1.795536E+09}'],
    ['withip', `{"timestamp":${SINCE + 1},"ip":"2001:db8::1"}`],
    ['ipfirst', `{"ip":"192.0.2.1","timestamp":${SINCE + 2}}`],
    ['registered', `{"timestamp":${SINCE + 3}}`],
  ];
  const rows = forms.map(([user, value]) =>
    lastlog2(user, user === 'registered' ? 'registered' : 'login', value),
  );
  const older = [
    lastlog2('older', 'login', `{"timestamp":${SINCE - 1}}`),
    lastlog2('olderfraction', 'logout', `{"timestamp":${SINCE - 0.5}}`),
    lastlog2('notanevent', 'other', `{"timestamp":${SINCE + 5}}`),
    lastlog2('text', 'login', `{"timestamp":"${SINCE + 5}"}`),
  ];
  assert.deepEqual(scan('forms', [...rows, ...older]).c, forms.map(([u]) => u).sort());
});

test('an account updated at or after the time is listed, one updated before is not', () => {
  const account = (user: string, updated: number): ProsodyRow => ({
    host: 'a.test',
    user,
    store: 'accounts',
    key: 'updated',
    type: 'number',
    value: String(updated),
  });
  assert.deepEqual(scan('updated', [account('new', SINCE), account('old', SINCE - 1)]).c, ['new']);
});

test('the digest moves with a timestamp, a malformed value, a disable and a row added, never with a password', () => {
  const base: ProsodyRow[] = [
    lastlog2('u1', 'login', `{"timestamp":${SINCE - 100}}`),
    {
      host: 'a.test',
      user: 'u1',
      store: 'accounts',
      key: 'stored_key',
      type: 'string',
      value: 'k1',
    },
  ];
  const digest = (name: string, rows: ProsodyRow[]) => scan(name, rows).d;
  const d0 = digest('base', base);
  assert.equal(digest('base-again', base), d0);
  assert.equal(
    digest('password', [base[0]!, { ...base[1]!, value: 'another-key' }]),
    d0,
    'a password change',
  );
  const moved = [
    [lastlog2('u1', 'login', `{"timestamp":${SINCE - 200}}`), base[1]!],
    [lastlog2('u1', 'login', `{"timestamp":${SINCE - 100}]`), base[1]!],
    [lastlog2('u1', 'login', `{"timestamp":${SINCE - 100}.5}`), base[1]!],
    [...base, { ...base[1]!, key: 'disabled', type: 'boolean', value: 'true' }],
    [...base, { ...base[1]!, store: 'account_roles', key: '_default', value: 'prosody:member' }],
  ];
  moved.forEach((rows, i) => assert.notEqual(digest(`moved${i}`, rows), d0, `change ${i}`));
});

test('the digest moves with a value broken inside its braces, its length and timestamp kept', () => {
  const account = {
    host: 'a.test',
    user: 'u1',
    store: 'accounts',
    key: 'stored_key',
    type: 'string',
    value: 'k',
  };
  const d = (name: string, value: string) =>
    scan(name, [lastlog2('u1', 'login', value), account]).d;
  // A comma made a semicolon: the same length, braces and timestamp; a malformed row now.
  assert.notEqual(
    d('whole', `{"timestamp":${SINCE - 100},"ip":"192.0.2.1"}`),
    d('broken', `{"timestamp":${SINCE - 100};"ip":"192.0.2.1"}`),
  );
});

test('a row written after the highest rowid of the last read lists its account, whatever its time; the rows before it do not', () => {
  const old = (user: string, t: number) => lastlog2(user, 'login', `{"timestamp":${t}}`);
  const rows = [
    old('before1', SINCE - 9 * 86400),
    old('before2', SINCE - 30),
    old('after1', SINCE - 9 * 86400),
    {
      ...old('after2', SINCE - 30),
      store: 'accounts',
      key: 'disabled',
      type: 'boolean',
      value: 'true',
    },
  ];
  // writeProsodySqlite numbers the rows from 1 in order: rows 3 and 4 come after rowid 2.
  assert.deepEqual(scan('after-rowid', rows, SINCE, '2').c, ['after1', 'after2']);
  assert.deepEqual(scan('no-rowid', rows, SINCE, 'NULL').c, []);
});

test('each row has a term exactly when ACTIVITY_ROWS reads it, and the scan sums what the accounts’ digests sum', () => {
  const kinds: Array<[string, string, string, string]> = [
    ['lastlog2', 'login', 'json', `{"timestamp":${SINCE - 5}}`],
    ['lastlog2', 'logout', 'json', `{"ip":"192.0.2.1","timestamp":${SINCE}.5}`],
    ['lastlog2', 'other', 'json', 'not json'],
    ['lastlog2', 'registered', '', '{"timestamp":1.795536e9}'],
    ['accounts', 'updated', 'number', String(SINCE - 9)],
    ['accounts', 'disabled', 'boolean', 'true'],
    ['accounts', 'created', 'number', '-5'],
    ['accounts', 'stored_key', 'string', 'k'],
    ['accounts', 'salt', 'string', 's'],
    ['accounts', 'server_key', 'string', 's'],
    ['accounts', 'iteration_count', 'number', '4096'],
    ['account_roles', '_default', 'string', 'prosody:member'],
    ['account_activity', 'timestamp', 'number', String(SINCE)],
    ['roster', 'x', 'json', '{}'],
  ];
  const rows: ProsodyRow[] = [];
  for (let user = 0; user < 6; user++) {
    kinds.forEach(([store, key, type, value], i) => {
      if ((user + i) % 3 !== 0)
        rows.push({ host: 'a.test', user: `u${user}`, store, key, type, value });
    });
  }
  const path = join(dir, 'kinds.sqlite');
  writeProsodySqlite(path, rows);
  // Rowids far from 1 and below 0 too: the digest must not depend on their signs.
  execFileSync('sqlite3', [path, 'UPDATE prosody SET rowid = (rowid - 40) * 1000003']);
  const one = (sql: string) => execFileSync('sqlite3', ['-readonly', path, sql]).toString().trim();
  assert.equal(
    one(
      `SELECT count(*) FROM prosody WHERE (${rowDigestTerm(TIMESTAMP_TEXT)} IS NOT NULL) <> (${ACTIVITY_ROWS})`,
    ),
    '0',
  );
  const perAccount = one(
    `SELECT coalesce(sum(row_digest), 0) % ${ROW_DIGEST_P} FROM (${DIGESTED_ACTIVITY_QUERY})`,
  );
  assert.equal(one(`SELECT d FROM (${changesScan(String(SINCE), 'NULL')})`), perAccount);
  assert.ok(Number(one('SELECT min(rowid) FROM prosody')) < 0);
});
