// A local --db read next to a writer that, like Prosody 0.12, sets no busy timeout.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { countSources } from '../../main/core/activity-source.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';
import { type ProsodyRow, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-lock-free-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** `accounts` users on a.test, one logged in a minute ago, the rest 3 days ago. */
function database(accounts: number, journal: 'delete' | 'wal' = 'delete'): string {
  const path = join(mkdtempSync(join(dir, `${files++}-`)), 'prosody.sqlite');
  const rows: ProsodyRow[] = [];
  for (let i = 0; i < accounts; i++) {
    const timestamp = i === 0 ? NOW - 60 : NOW - 3 * 86_400;
    rows.push(activityRow({ host: 'a.test', user: `u${i}`, event: 'login', timestamp }));
    rows.push(activityRow({ host: 'a.test', user: `u${i}`, event: 'logout', timestamp }));
  }
  rows.push({ host: 'a.test', user: 'w', store: 'roster', key: 'k', type: 'json', value: '0' });
  writeProsodySqlite(path, rows);
  const db = new Database(path);
  db.pragma(`journal_mode = ${journal}`);
  db.close();
  return path;
}

/** A new login for a new account on b.test: a commit that changes the figures. */
function commitLogin(path: string, user: string): void {
  const db = new Database(path, { timeout: 0 });
  try {
    const row = activityRow({ host: 'b.test', user, event: 'login', timestamp: NOW - 10 });
    db.prepare('INSERT INTO prosody VALUES (@host, @user, @store, @key, @type, @value)').run(row);
  } finally {
    db.close();
  }
}

/**
 * A process that commits COMMITS times, 5 ms apart, with busy timeout 0 (as Prosody 0.12 does),
 * then prints how many commits failed.
 */
const COMMITS = 80;
const WRITER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1], { timeout: 0 });
const update = db.prepare("UPDATE prosody SET value = ? WHERE store = 'roster' AND user = 'w'");
let tried = 0, failed = 0;
(function loop() {
  if (tried === ${COMMITS}) { console.log(JSON.stringify({ tried, failed })); return; }
  tried++;
  try { update.run(String(tried)); } catch (e) { if (e.code !== 'SQLITE_BUSY') throw e; failed++; }
  setTimeout(loop, 5);
})();
`;

test('reads of a rollback-journal file make no commit of a writer without busy timeout fail', async () => {
  const path = database(5_000);
  const writer = spawn(process.execPath, ['-e', WRITER, path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let running = true;
  writer.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise((r) => writer.on('close', r)).then(() => (running = false));
  let reads = 0;
  while (running) {
    const r = await countSources([new SqliteSource(path)], NOW);
    reads++;
    // Lets the writer's exit be seen even when a read never waits on anything.
    await new Promise((r) => setImmediate(r));
    // A read that saw commits each time says so; one that counts has the right figures.
    if (!r.ok) assert.equal(r.failure.kind, 'busy');
    else assert.deepEqual([r.value.total.dau, r.value.total.wau], [1, 5_000]);
  }
  await closed;
  const { failed } = JSON.parse(out) as { failed: number };
  assert.equal(failed, 0, `${failed} of ${COMMITS} commits failed during ${reads} reads`);
});

test('a commit that lands during a read is seen, and the file is read again', async () => {
  const path = database(50);
  const steps: string[] = [];
  const source = new SqliteSource(path, undefined, undefined, {
    onStep: (step) => {
      steps.push(step);
      if (steps.length === 1) commitLogin(path, 'late');
    },
  });
  const r = await countSources([source], NOW);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(steps.length, 2);
  assert.equal(r.value.hosts['b.test']?.dau, 1, 'the second read has the new login');
  assert.equal(r.value.total.dau, 2);
});

test('a file that changes during every read is reported busy, never counted', async () => {
  const path = database(50);
  let n = 0;
  const source = new SqliteSource(path, undefined, undefined, {
    onStep: () => commitLogin(path, `late${n++}`),
  });
  const r = await countSources([source], NOW);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'busy');
  assert.ok(n > 1);
});

test('without the sqlite3 command, the file is read in-process and a notice says what that risks', async () => {
  const path = database(50);
  const source = new SqliteSource(path, undefined, undefined, { sqlite3: join(dir, 'no-sqlite3') });
  const r = await countSources([source], NOW);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.value.total.wau, 50);
  assert.match(r.value.notices.join('\n'), /rollback-journal mode and the sqlite3 command/);
});

test('a WAL file in a folder this user cannot write, without its -shm, is named as such', () => {
  // Root may write anywhere, so the CLI runs here as the unprivileged user nobody.
  const path = database(5, 'wal');
  const folder = join(path, '..');
  chmodSync(dir, 0o755);
  chmodSync(folder, 0o755);
  chmodSync(path, 0o644);
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) chmodSync(folder, 0o555);
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'main/cli.ts', '--db', path, '--at', String(NOW)],
    {
      uid: asRoot ? 65534 : undefined,
      encoding: 'utf8',
      env: { ...process.env, TSX_DISABLE_CACHE: '1' },
    },
  );
  chmodSync(folder, 0o755);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /is a WAL-mode database in a folder this user cannot write to/);
  assert.doesNotMatch(run.stderr, /check the path|partial copy/);
});
