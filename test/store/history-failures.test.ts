/**
 * The history file failing: not a database, damaged, or on a full disk. Each is one sentence with
 * what to do (never a stack trace), and `history`, a read command, never writes to the file. The
 * full disk is a real one: a 1 MiB tmpfs mounted for the test (the tests run as root) and filled.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { describeFailure } from '../../main/core/describe-failure.js';
import {
  DEFAULT_ALERT_SETTINGS,
  type Figures,
  type RefreshOutcome,
} from '../../main/core/monitor-types.js';
import { HistoryDb } from '../../main/store/history-db.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { runBuiltCli } from '../fixtures/run-built-cli.js';
import { hourlyDbMonitor } from '../fixtures/db-monitor.js';
import { flatFigures } from '../fixtures/monitor-figures.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-history-fail-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshDir = () => mkdtempSync(join(dir, `${n++}-`));

const figs = (dau: number): Figures => flatFigures(dau, NOW - 60);

function success(at: number, hosts: number): RefreshOutcome {
  const all: Record<string, Figures> = { '': figs(hosts) };
  for (let i = 0; i < hosts; i++) all[`h${i}.test`] = figs(1);
  return {
    ok: true,
    profile: 'main',
    at,
    hosts: all,
    method: 'sqlite',
    bytesReceived: 1,
    seconds: 0,
  };
}

/** A history with a few hundred refreshes, closed (checkpointed into the main file). */
function filledHistory(folder: string): string {
  const path = join(folder, 'history.sqlite');
  const opened = HistoryDb.open(path);
  assert.ok(opened.ok);
  for (let i = 0; i < 200; i++) opened.value.record(success(NOW + i * 3600, 20));
  opened.value.close();
  return path;
}

const historyCli = (folder: string, ...args: string[]) =>
  runBuiltCli(['history', '--state-dir', folder, ...args]);

/** One line, with no stack trace. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
  assert.match(stderr, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

test('history on a 1-byte file says it is not a history and leaves it byte for byte', () => {
  const folder = freshDir();
  const path = join(folder, 'history.sqlite');
  writeFileSync(path, 'x');
  const r = historyCli(folder);
  assert.equal(r.status, 1, r.stdout);
  assertOneLine(
    r.stderr,
    /history\.sqlite is not a usable history database .*1 byte.*move it aside/,
  );
  assert.deepEqual(readFileSync(path), Buffer.from('x'));
  assert.deepEqual(readdirSync(folder), ['history.sqlite']);
});

test('watch mode refuses a 1-byte history file and leaves it as it was', () => {
  const folder = freshDir();
  const path = join(folder, 'history.sqlite');
  writeFileSync(path, 'x');
  const r = HistoryDb.open(path);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'state-file');
  assert.deepEqual(readFileSync(path), Buffer.from('x'));
});

test('history on a damaged file says so in one line and leaves it as it was', () => {
  const folder = freshDir();
  const path = filledHistory(folder);
  // Garbage over every page after the first: the schema reads, the rows do not.
  const bytes = readFileSync(path);
  const pageSize = bytes.readUInt16BE(16);
  for (let i = pageSize; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
  writeFileSync(path, bytes);
  for (const format of [[], ['--csv'], ['--json']]) {
    const r = historyCli(folder, ...format);
    assert.equal(r.status, 1, r.stdout.slice(0, 500));
    assertOneLine(
      r.stderr,
      /history\.sqlite is not a usable history database \(.*(damaged|malformed)/,
    );
  }
  assert.deepEqual(readFileSync(path), bytes);
});

test('history reads a file of an older schema without upgrading it', () => {
  const folder = freshDir();
  const path = join(folder, 'history.sqlite');
  const db = new Database(path);
  db.exec(`
    CREATE TABLE refreshes (id INTEGER PRIMARY KEY, profile TEXT NOT NULL, at INTEGER NOT NULL,
      ok INTEGER NOT NULL, method TEXT, error_kind TEXT, error_message TEXT) STRICT;
    CREATE TABLE figures (refresh_id INTEGER NOT NULL, host TEXT NOT NULL, dau INTEGER NOT NULL,
      wau INTEGER NOT NULL, mau INTEGER NOT NULL, accounts INTEGER NOT NULL,
      new1d INTEGER NOT NULL, new7d INTEGER NOT NULL, new30d INTEGER NOT NULL,
      newest_event INTEGER, PRIMARY KEY (refresh_id, host)) STRICT, WITHOUT ROWID;
    CREATE TABLE state (profile TEXT NOT NULL, key TEXT NOT NULL, json TEXT NOT NULL,
      PRIMARY KEY (profile, key)) STRICT, WITHOUT ROWID;
    INSERT INTO refreshes VALUES (1, 'main', ${NOW}, 1, 'sqlite', NULL, NULL);
    INSERT INTO figures VALUES (1, '*', 7, 8, 9, 20, 1, 2, 3, ${NOW - 5});
    INSERT INTO figures VALUES (1, 'a.test', 7, 8, 9, 20, 1, 2, 3, ${NOW - 5});
    PRAGMA user_version = 1;
  `);
  db.close();
  const before = readFileSync(path);
  const r = historyCli(folder, '--json');
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Array<{ host: string | null; total: boolean }>;
  assert.deepEqual(
    rows.map((x) => [x.host, x.total]),
    [
      [null, true],
      ['a.test', false],
    ],
  );
  assert.deepEqual(readFileSync(path), before);
  assert.deepEqual(readdirSync(folder), ['history.sqlite']);
});

test('a refresh on a full disk is a failed refresh with one sentence, and the next one records again', async () => {
  const mount = mkdtempSync(join(dir, 'tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
  let history: HistoryDb | undefined;
  try {
    // The Prosody database lives off the small disk; 3000 hosts need more WAL than is left.
    const prosody = join(freshDir(), 'prosody.sqlite');
    writeProsodySqlite(
      prosody,
      Array.from({ length: 3000 }, (_, i) =>
        activityRow({ host: `h${i}.test`, user: 'u', event: 'login', timestamp: NOW - 60 }),
      ),
    );
    const opened = HistoryDb.open(join(mount, 'history.sqlite'));
    assert.ok(opened.ok);
    history = opened.value;
    const filler = join(mount, 'filler');
    const fd = openSync(filler, 'w');
    const block = Buffer.alloc(4096, 1);
    try {
      for (;;) writeSync(fd, block);
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      closeSync(fd);
    }

    const outcomes: RefreshOutcome[] = [];
    const errors: unknown[] = [];
    const monitor = hourlyDbMonitor(
      'main',
      prosody,
      NOW,
      { history, onRefresh: (o) => outcomes.push(o), onError: (e) => errors.push(e) },
      { ...DEFAULT_ALERT_SETTINGS, failuresBeforeAlert: 1 },
    );
    await monitor.refreshNow();
    assert.deepEqual(errors, []);
    const [full] = outcomes;
    assert.ok(full && !full.ok, JSON.stringify(full));
    assert.equal(full.kind, 'state-file');
    assert.match(
      full.message,
      /^The disk holding the history database .* is full, so nothing was recorded: free some space there/,
    );

    rmSync(filler);
    await monitor.refreshNow();
    await monitor.stop();
    assert.deepEqual(errors, []);
    assert.ok(outcomes[1]?.ok, JSON.stringify(outcomes[1]));
    assert.equal(history.latest('main').lastSuccess?.hosts['h2999.test']?.dau, 1);
  } finally {
    history?.close();
    execFileSync('umount', [mount]);
    rmSync(mount, { recursive: true, force: true });
  }
});

test('the full-disk sentence says what is wrong and what to do', () => {
  assert.equal(
    describeFailure({
      kind: 'state-file',
      path: '/s/history.sqlite',
      what: 'history database',
      problem: 'disk-full',
      detail: 'database or disk is full',
    }),
    'The disk holding the history database /s/history.sqlite is full, so nothing was recorded: free some space there, or use --state-dir DIR.',
  );
});

test('history on a WAL history leaves no -wal or -shm behind and the file byte for byte', () => {
  const folder = freshDir();
  const path = filledHistory(folder);
  const before = readFileSync(path);
  const r = historyCli(folder, '--csv');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trimEnd().split('\n').length, 1 + 200 * 21);
  assert.deepEqual(readFileSync(path), before);
  assert.deepEqual(readdirSync(folder), ['history.sqlite']);
});

test('history while watch mode has the file open reads what it committed', () => {
  const folder = freshDir();
  const opened = HistoryDb.open(join(folder, 'history.sqlite'));
  assert.ok(opened.ok);
  try {
    opened.value.record(success(NOW, 2));
    const r = historyCli(folder, '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as unknown[]).length, 3);
  } finally {
    opened.value.close();
  }
});
