/**
 * What the monitor records for each refresh, whatever happened: the real SQLite source reads a file
 * with Prosody's schema, the real history database keeps it. A refresh that fails for any reason
 * (the count threw, the history refused the figures) leaves an error row and feeds the failing
 * alert. The notifier is a recording double: delivery has its own tests against a real daemon.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { DEFAULT_ALERT_SETTINGS } from '../../main/core/monitor-types.js';
import { Monitor, type MonitorDeps } from '../../main/monitor/monitor.js';
import type { SourceDeps } from '../../main/monitor/open-sources.js';
import type { NotificationContent } from '../../main/notify/notifier.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';
import { HistoryDb } from '../../main/store/history-db.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-monitor-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** 2026-12-03: the fractional timestamp below is an hour before. */
const NOW_S = 1_796_306_331;

const sourceDeps = (overrides: Partial<SourceDeps> = {}): SourceDeps => ({
  sqliteSource: (path) => new SqliteSource(path),
  internalSource: (d) => new InternalStorageSource(d),
  discoverSources: () => Promise.reject(new Error('not used')),
  sshSources: () => Promise.reject(new Error('not used')),
  ...overrides,
});

interface Run {
  history: HistoryDb;
  notes: NotificationContent[];
  errors: unknown[];
}

async function refreshOnce(
  rows: Parameters<typeof writeProsodySqlite>[1],
  options: { sources?: Partial<SourceDeps>; prepare?: (historyPath: string) => void } = {},
): Promise<Run> {
  const folder = mkdtempSync(join(dir, `${n++}-`));
  const dbPath = join(folder, 'prosody.sqlite');
  writeProsodySqlite(dbPath, rows);
  const historyPath = join(folder, 'history.sqlite');
  const opened = HistoryDb.open(historyPath);
  assert.ok(opened.ok);
  options.prepare?.(historyPath);
  const history = opened.value;
  after(() => history.close());
  const notes: NotificationContent[] = [];
  const errors: unknown[] = [];
  const deps: MonitorDeps = {
    clock: new FakeClock(NOW_S * 1000),
    localMinuteOfDay: () => 12 * 60,
    history,
    notifier: {
      notify: (note) => {
        notes.push(note);
        return Promise.resolve({ ok: true, value: undefined });
      },
    },
    sources: sourceDeps(options.sources),
    onError: (e) => errors.push(e),
  };
  const monitor = new Monitor(
    [
      {
        name: 'main',
        spec: { kind: 'db', path: dbPath },
        alerts: { ...DEFAULT_ALERT_SETTINGS, failuresBeforeAlert: 1 },
        intervalSeconds: 3600,
      },
    ],
    deps,
  );
  await monitor.refreshNow();
  await monitor.stop();
  return { history, notes, errors };
}

const login = (user: string, timestamp: number) =>
  activityRow({ host: 'a.test', user, event: 'login', timestamp });

test('a fractional timestamp is recorded as it is, and the refresh succeeds', async () => {
  const { history, errors } = await refreshOnce([
    login('frac', 1_796_302_731.5),
    login('whole', NOW_S - 7200),
  ]);
  assert.deepEqual(errors, []);
  const last = history.latest('main').last;
  assert.ok(last?.ok, JSON.stringify(last));
  assert.equal(last.hosts['a.test']?.newestEvent, 1_796_302_731.5);
  assert.equal(last.hosts['a.test']?.dau, 2);
});

test('a refresh whose figures the history refuses leaves an error row and raises the failing alert', async () => {
  const { history, notes, errors } = await refreshOnce([login('alice', NOW_S - 60)], {
    // A real SQLite refusal of the figures, of the kind the REAL-in-INTEGER column gave.
    prepare: (path) => {
      const db = new Database(path);
      db.exec(
        "CREATE TRIGGER refuse BEFORE INSERT ON figures BEGIN SELECT RAISE(ABORT, 'refused'); END",
      );
      db.close();
    },
  });
  assert.equal(errors.length, 1, 'the bug is logged once');
  const last = history.latest('main').last;
  assert.ok(last && !last.ok, JSON.stringify(last));
  assert.equal(last.kind, 'unexpected');
  assert.match(last.message, /refused/);
  assert.deepEqual(
    history.alerts('main').map((a) => a.alert.kind),
    ['failing'],
  );
  assert.equal(notes.length, 1);
});

test('a count that throws leaves an error row and raises the failing alert', async () => {
  const { history, notes, errors } = await refreshOnce([login('alice', NOW_S - 60)], {
    sources: {
      sqliteSource: () => {
        throw new TypeError('a bug in a source');
      },
    },
  });
  assert.equal(errors.length, 1, 'the bug is logged once');
  const last = history.latest('main').last;
  assert.ok(last && !last.ok, JSON.stringify(last));
  assert.equal(last.kind, 'unexpected');
  assert.match(last.message, /a bug in a source/);
  assert.deepEqual(
    history.alerts('main').map((a) => a.alert.kind),
    ['failing'],
  );
  assert.equal(notes.length, 1);
});

test('a refresh whose alerts cannot be judged still leaves a row, each bug logged once', async () => {
  const { history, errors } = await refreshOnce([login('alice', NOW_S - 60)], {
    // The baseline lookup (and the figures' insert) meet a column that is not there: real SQLite
    // errors that are bugs, not failures of the file.
    prepare: (path) => {
      const db = new Database(path);
      db.exec('ALTER TABLE figures RENAME COLUMN dau TO dau_renamed');
      db.close();
    },
  });
  assert.equal(errors.length, 2, errors.map(String).join('\n'));
  assert.match(String(errors[0]), /no such column/);
  const last = history.latest('main').last;
  assert.ok(last && !last.ok, JSON.stringify(last));
  assert.equal(last.kind, 'unexpected');
});
