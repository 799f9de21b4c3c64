/**
 * The state files are private: history.sqlite, cache.sqlite and their -wal/-shm (SQLite gives them
 * the database file's mode), settings.json; a new state folder is 0700; a folder other users can
 * read is reported in one line by the CLI and in the window. Real files, real modes, the process's
 * usual umask (022), in folders that already exist with mode 0755.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openProfilesStore } from '../../main/config/profiles-store.js';
import { stateFolderWarning } from '../../main/config/state-folder-check.js';
import { openAccountCache } from '../../main/store/account-cache-db.js';
import { HistoryDb } from '../../main/store/history-db.js';
import { makeApp } from '../app/app-fixture.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { runBuiltCli } from '../fixtures/run-built-cli.js';
import { buildRenderer, launchChromium, openAppWindow } from '../support/chromium.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-private-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** A folder that already exists, readable by everyone. */
function openFolder(): string {
  const folder = mkdtempSync(join(dir, `${n++}-`));
  chmodSync(folder, 0o755);
  return folder;
}
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

test('the umask these tests run under would make a new file readable by others', () => {
  assert.equal(process.umask() & 0o044, 0);
});

test('history.sqlite and its -wal and -shm are created 0600 in a folder open to others', () => {
  const folder = openFolder();
  const path = join(folder, 'history.sqlite');
  const opened = HistoryDb.open(path);
  assert.ok(opened.ok);
  opened.value.record({ ok: false, profile: 'p', at: NOW, kind: 'network', message: 'x' });
  try {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(file), '600', file);
  } finally {
    opened.value.close();
  }
});

test('cache.sqlite and its -wal and -shm are created 0600 in a folder open to others', () => {
  const folder = openFolder();
  const path = join(folder, 'cache.sqlite');
  const cache = openAccountCache(path);
  try {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(file), '600', file);
  } finally {
    cache.close();
  }
});

test('a history file an earlier version left 0644 is made 0600 when opened', () => {
  const folder = openFolder();
  const path = join(folder, 'history.sqlite');
  writeFileSync(path, '');
  chmodSync(path, 0o644);
  const opened = HistoryDb.open(path);
  assert.ok(opened.ok);
  opened.value.close();
  assert.equal(mode(path), '600');
});

test('a rollback journal gets the database file\u2019s mode', () => {
  const folder = openFolder();
  const path = join(folder, 'history.sqlite');
  const opened = HistoryDb.open(path);
  assert.ok(opened.ok);
  opened.value.close();
  const db = new Database(path);
  try {
    db.pragma('journal_mode = DELETE');
    db.exec('BEGIN IMMEDIATE; CREATE TABLE t (x); INSERT INTO t VALUES (1);');
    // The journal exists while the transaction is open.
    assert.equal(mode(`${path}-journal`), '600');
    db.exec('COMMIT');
  } finally {
    db.close();
  }
});

test('settings.json is written 0600, and a new state folder is made 0700', async () => {
  const folder = join(openFolder(), 'state');
  const saved = await openProfilesStore(folder).save({ version: 1, profiles: [] });
  assert.ok(saved.ok);
  assert.equal(mode(folder), '700');
  assert.equal(mode(join(folder, 'settings.json')), '600');
});

const warnings: Array<[name: string, mode: number, warns: boolean]> = [
  ['a folder open to everyone (0755) is reported', 0o755, true],
  ['a folder open to its group (0750) is reported', 0o750, true],
  ['a private folder (0700) is not', 0o700, false],
];
for (const [name, folderMode, warns] of warnings) {
  test(`state folder warning: ${name}`, () => {
    const folder = openFolder();
    chmodSync(folder, folderMode);
    const line = stateFolderWarning(folder, 'linux');
    if (!warns) assert.equal(line, null);
    else {
      assert.match(line ?? '', /is open to other users \(mode 7[0-7]{2}\).*: chmod 700 /);
      assert.ok(!line?.includes('\n'));
    }
  });
}

test('the CLI says in one line that the state folder is open to others', () => {
  const folder = openFolder();
  const opened = HistoryDb.open(join(folder, 'history.sqlite'));
  assert.ok(opened.ok);
  opened.value.close();
  chmodSync(folder, 0o755);
  const r = runBuiltCli(['history', '--state-dir', folder]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    r.stderr,
    `prosody-active-users: warning: The state folder ${folder} is open to other users (mode 755) and holds every account's last activity: chmod 700 ${folder}.\n`,
  );
});

test('a one-shot count that keeps its cache in the state folder warns too', () => {
  const folder = openFolder();
  const db = join(folder, 'prosody.sqlite');
  writeProsodySqlite(db, [
    activityRow({ host: 'a.test', user: 'u', event: 'login', timestamp: NOW }),
  ]);
  const r = runBuiltCli(['--db', db, '--at', String(NOW), '--state-dir', folder]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^prosody-active-users: warning: The state folder .* is open to other users \(mode 755\)/,
  );
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
});

test('the window shows the state folder warning', { timeout: 120_000 }, async () => {
  const folder = openFolder();
  buildRenderer();
  const browser = await launchChromium();
  const app = await makeApp({ stateFolderWarning: stateFolderWarning(folder, 'linux') });
  try {
    await app.service.start();
    const win = await openAppWindow(browser, app.service);
    try {
      const text = await win.page.locator('#state-folder-warning').textContent();
      assert.match(text ?? '', /is open to other users \(mode 755\).*chmod 700/);
    } finally {
      await win.close();
    }
  } finally {
    await app.close();
    await browser.close();
  }
});
