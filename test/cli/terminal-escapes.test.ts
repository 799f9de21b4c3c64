/**
 * Host names and server messages are untrusted: in human-readable output every control character
 * (and bidi override) is shown escaped, so a crafted name cannot clear the screen, move the cursor,
 * set the title or fake a TOTAL row. The machine formats stay exact. All through the built CLI,
 * with the names in a real SQLite file and a real history file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TOTAL_HOST } from '../../main/core/monitor-types.js';
import { HistoryDb } from '../../main/store/history-db.js';
import { PROJECT_DIR, cliArgv, runBuiltCli } from '../fixtures/run-built-cli.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const NOW = Math.floor(Date.now() / 1000);
const dir = mkdtempSync(join(tmpdir(), 'pau-escapes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HOSTILE = [
  'clear\x1b[2J\x1b[H.test',
  '\x1b]0;pwned\x07title.test',
  'csi\u009b2Kc1.test',
  'fake\nTOTAL  999  999  999.test',
  'cr\rTOTAL  999.test',
  'bidi\u202egnp.test',
  'del\x7fnul\x00.test',
];

/** Raw controls a terminal acts on: C0 but the line feed, DEL, C1, and the bidi controls. */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function hostileDb(): string {
  const path = join(dir, 'prosody.sqlite');
  writeProsodySqlite(
    path,
    HOSTILE.map((host, i) =>
      activityRow({ host, user: `u${i}`, event: 'login', timestamp: NOW - 3 * 86400 }),
    ),
  );
  return path;
}
const db = hostileDb();

function assertShownEscaped(out: string): void {
  assert.doesNotMatch(out, RAW, JSON.stringify(out));
  assert.match(out, /clear\\x1b\[2J\\x1b\[H\.test/);
  assert.match(out, /csi\\x9b2Kc1\.test/);
  assert.match(out, /bidi\\u202egnp\.test/);
  assert.doesNotMatch(out, /^TOTAL {2}999/m);
}

test('the table shows control characters in host names escaped, and one TOTAL row', () => {
  const r = runBuiltCli(['--db', db, '--at', String(NOW)]);
  assert.equal(r.status, 0, r.stderr);
  assertShownEscaped(r.stdout);
  assert.match(r.stdout, /fake\\nTOTAL {2}999/);
  assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('TOTAL')).length, 1);
});

test('--json and --openmetrics keep host names exact', () => {
  const json = runBuiltCli(['--db', db, '--at', String(NOW), '--json']);
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(Object.keys(JSON.parse(json.stdout).hosts).sort(), [...HOSTILE].sort());
  const om = runBuiltCli(['--db', db, '--at', String(NOW), '--openmetrics']);
  assert.equal(om.status, 0, om.stderr);
  assert.ok(om.stdout.includes('host="clear\x1b[2J\x1b[H.test"'));
  assert.ok(om.stdout.includes('host="fake\\nTOTAL  999  999  999.test"'));
});

test('history shows control characters in host names and error messages escaped', () => {
  const stateDir = join(dir, 'history-state');
  mkdirSync(stateDir);
  const opened = HistoryDb.open(join(stateDir, 'history.sqlite'));
  assert.ok(opened.ok);
  const f = { dau: 1, wau: 1, mau: 1, accounts: 1, new1d: 0, new7d: 0, new30d: 0, newestEvent: 1 };
  opened.value.record({
    ok: true,
    profile: 'p',
    at: NOW,
    hosts: { [TOTAL_HOST]: f, ...Object.fromEntries(HOSTILE.map((h) => [h, f])) },
    method: 'local read',
    bytesReceived: 0,
    seconds: 0.01,
  });
  opened.value.record({
    ok: false,
    profile: 'p',
    at: NOW + 1,
    kind: 'network',
    message: 'The server said: sqlite3: \x1b[2Jclear\nTOTAL  999',
  });
  opened.value.close();
  const r = runBuiltCli(['history', '--state-dir', stateDir]);
  assert.equal(r.status, 0, r.stderr);
  assertShownEscaped(r.stdout);
  assert.match(r.stdout, /\\x1b\[2Jclear\\nTOTAL {2}999/);
  assert.equal(r.stdout.split('\n').filter((l) => / UTC {2}p {2}TOTAL /.test(l)).length, 1);
});

test("watch mode's refresh and alert lines show control characters escaped", async () => {
  const stateDir = join(dir, 'watch-state');
  const child = spawn(
    process.execPath,
    cliArgv(['--watch', '--db', db, '--state-dir', stateDir, '--interval', '1h']),
    { cwd: PROJECT_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  // Every hostile host's records are 3 days old: each gets a stale alert after the first count.
  while (stdout.split('\n').filter((l) => l.startsWith('alert:')).length < HOSTILE.length) {
    if (child.exitCode !== null) assert.fail(`watch exited early\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assertShownEscaped(stdout);
  assert.doesNotMatch(stderr, RAW, stderr);
});
