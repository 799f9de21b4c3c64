import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fail } from '../../main/core/failure.js';
import { realCliDeps } from '../../main/cli/real-cli-deps.js';
import { type CliDeps, runCli } from '../../main/cli/run-cli.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';
import { DAY } from '../../main/core/windows.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const NOW = 1_795_536_000;

const dir = mkdtempSync(join(tmpdir(), 'pau-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let dbs = 0;

function sampleDb(): string {
  const path = join(dir, `prosody-${dbs++}.sqlite`);
  writeProsodySqlite(path, [
    activityRow({ host: 'a.test', user: 'alice', event: 'login', timestamp: NOW - 60 }),
    activityRow({ host: 'a.test', user: 'bob', event: 'logout', timestamp: NOW - 2 * DAY }),
    activityRow({ host: 'b.test', user: 'carol', event: 'login', timestamp: NOW - 10 * DAY }),
    activityRow({ host: 'b.test', user: 'carol', event: 'registered', timestamp: NOW - 10 * DAY }),
    {
      host: 'b.test',
      user: 'room',
      store: 'lastlog2',
      key: 'muc.b.test',
      type: 'string',
      value: 'message',
    },
  ]);
  return path;
}

async function run(argv: string[], overrides: Partial<CliDeps> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    ...realCliDeps(),
    version: '9.9.9',
    now: () => NOW,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    sqliteSource: (p) => new SqliteSource(p),
    internalSource: (d) => new InternalStorageSource(d),
    discoverSources: async () => fail({ kind: 'no-prosody-data', looked: ['/nowhere'] }),
    stderrIsTTY: false,
    sshSources: async () =>
      fail({ kind: 'network', host: 'h', port: 22, detail: 'not in this test' }),
    ...overrides,
  });
  return { code, stdout, stderr };
}

test('--json prints one object with the fixed names', async () => {
  const { code, stdout, stderr } = await run(['--db', sampleDb(), '--json']);
  assert.equal(code, 0, stderr);
  const out = JSON.parse(stdout);
  assert.equal(out.at, NOW);
  assert.deepEqual(
    [out.hosts['a.test'].dau, out.hosts['a.test'].wau, out.hosts['a.test'].mau],
    [1, 2, 2],
  );
  assert.deepEqual([out.total.dau, out.total.wau, out.total.mau], [1, 2, 3]);
  assert.equal(out.hosts['b.test'].skipped, 1);
  assert.equal(stdout.trim().split('\n').length, 1);
});

test('--at counts as of the given time, in Unix seconds or ISO 8601', async () => {
  const db = sampleDb();
  const later = await run(['--db', db, '--json', '--at', String(NOW + 2 * DAY)]);
  assert.equal(JSON.parse(later.stdout).total.dau, 0);
  const iso = new Date((NOW + 30) * 1000).toISOString();
  const same = await run(['--db', db, '--json', '--at', iso]);
  assert.equal(JSON.parse(same.stdout).at, NOW + 30);
  assert.equal(JSON.parse(same.stdout).total.dau, 1);
});

test('the table names every host, the total and the skipped rows', async () => {
  const { code, stdout } = await run(['--db', sampleDb()]);
  assert.equal(code, 0);
  assert.match(stdout, /^a\.test\s+1\s+2\s+2\s+2\s/m);
  assert.match(stdout, /^b\.test\s+0\s+0\s+1\s+1\s/m);
  assert.match(stdout, /^TOTAL\s+1\s+2\s+3\s+3\s/m);
  assert.match(stdout, /Skipped 1 record: 1 not a login\/logout\/registration/);
});

test('--openmetrics uses Prosody\u2019s metric names and ends with # EOF', async () => {
  const { code, stdout } = await run(['--db', sampleDb(), '--openmetrics']);
  assert.equal(code, 0);
  assert.match(stdout, /^prosody_mod_measure_active_users__active_users_1d\{host="a\.test"\} 1$/m);
  assert.match(stdout, /^prosody_mod_measure_active_users__active_users_7d\{host="a\.test"\} 2$/m);
  assert.match(stdout, /^prosody_mod_measure_active_users__active_users_30d\{host="b\.test"\} 1$/m);
  assert.match(stdout, /^prosody_active_users_accounts\{host="b\.test"\} 1$/m);
  assert.match(
    stdout,
    /^prosody_active_users_skipped_records\{host="b\.test",reason="not-an-event"\} 1$/m,
  );
  assert.ok(stdout.endsWith('# EOF\n'));
});

const usageErrors: Array<[string, string[], RegExp]> = [
  ['an unknown option', ['--frobnicate'], /Unknown option '--frobnicate'/],
  ['both --db and --data-dir', ['--db', 'x', '--data-dir', 'y'], /cannot be used together/],
  ['a bad --at', ['--db', 'x', '--at', 'yesterday'], /--at "yesterday" is not Unix seconds/],
  ['--db without a value', ['--db'], /argument missing|requires/i],
];
for (const [what, argv, message] of usageErrors) {
  test(`${what} is a usage error with exit 2`, async () => {
    const { code, stdout, stderr } = await run(argv);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, message);
    assert.match(stderr, /--help/);
  });
}

test('a missing database exits 1 with one line that says what to do', async () => {
  const { code, stdout, stderr } = await run(['--db', '/nonexistent/prosody.sqlite']);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.equal(stderr.trim().split('\n').length, 1);
  assert.match(
    stderr,
    /No Prosody SQLite database at \/nonexistent\/prosody\.sqlite: check the path/,
  );
});

test('with neither option the data is discovered', async () => {
  const { code, stderr } = await run([]);
  assert.equal(code, 1);
  assert.match(
    stderr,
    /No Prosody data found \(looked in \/nowhere\): pass --db FILE or --data-dir DIR/,
  );
});

test('--help and --version print and exit 0', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--db FILE/);
  const version = await run(['--version']);
  assert.equal(version.stdout, 'prosody-active-users 9.9.9\n');
});

test('--profile counts a saved server from settings.json in the state folder', async () => {
  const state = join(dir, `state-${dbs++}`);
  mkdirSync(state);
  const db = sampleDb();
  writeFileSync(
    join(state, 'settings.json'),
    JSON.stringify({ version: 1, profiles: [{ name: 'Home', local: { db } }] }),
  );
  const { code, stdout, stderr } = await run(['--profile', 'home', '--state-dir', state, '--json']);
  assert.equal(code, 0, stderr);
  assert.equal(JSON.parse(stdout).total.mau, 3);
  const missing = await run(['--profile', 'work', '--state-dir', state]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no profile named "work" in .*settings\.json \(it has Home\)/);
});

test('a broken settings file is reported with the field, and nothing is counted', async () => {
  const state = join(dir, `state-${dbs++}`);
  mkdirSync(state);
  writeFileSync(
    join(state, 'settings.json'),
    JSON.stringify({ version: 1, profiles: [{ name: '' }] }),
  );
  const { code, stdout, stderr } = await run(['--profile', 'x', '--state-dir', state]);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.match(stderr, /profiles\[0\]\.name/);
});
