import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { FailureError } from '../../main/core/failure.js';
import { HISTORY_COLUMNS, historyCsv } from '../../main/core/history-export.js';
import {
  type Alert,
  type FigureName,
  type Figures,
  type RefreshOutcome,
  TOTAL_HOST,
} from '../../main/core/monitor-types.js';
import { HistoryDb, WINDOW_SECONDS } from '../../main/store/history-db.js';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from '../../main/store/history-migrations.js';
import { CRASH_BASE_AT, CRASH_HOSTS, crashFigures } from './history-crash-writer.js';

const NOW = 1_795_536_000;
const HOUR = 3600;
const DAY = 24 * HOUR;

const dir = mkdtempSync(join(tmpdir(), 'pau-history-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(mkdtempSync(join(dir, `${files++}-`)), 'history.sqlite');

const opened: HistoryDb[] = [];
after(() => opened.forEach((h) => h.close()));

function open(path = freshPath()): HistoryDb {
  const r = HistoryDb.open(path);
  if (!r.ok) assert.fail(`open failed: ${JSON.stringify(r.failure)}`);
  opened.push(r.value);
  return r.value;
}

const figs = (dau: number, extra: Partial<Figures> = {}): Figures => ({
  dau,
  wau: dau * 2,
  mau: dau * 3,
  accounts: dau * 4,
  new1d: 0,
  new7d: 1,
  new30d: 2,
  newestEvent: NOW - 60,
  ...extra,
});

function success(at: number, hosts: Record<string, Figures>, profile = 'main'): RefreshOutcome {
  return { ok: true, profile, at, hosts, method: 'sqlite', bytesReceived: 512, seconds: 0.5 };
}

function failure(at: number, profile = 'main'): RefreshOutcome {
  return { ok: false, profile, at, kind: 'network', message: 'Cannot reach xmpp.example port 22.' };
}

/** Reads the file with a connection of its own, as another process would. */
function raw<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function schemaOf(path: string): Record<string, unknown> {
  return raw(path, (db) => {
    const objects = db
      .prepare("SELECT type, name, tbl_name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'")
      .all() as Array<{ type: string; name: string; tbl_name: string }>;
    const out: Record<string, unknown> = {};
    for (const o of objects.sort((a, b) => a.name.localeCompare(b.name))) {
      out[`${o.type} ${o.name}`] =
        o.type === 'table'
          ? db.pragma(`table_xinfo(${o.name})`)
          : db.pragma(`index_xinfo(${o.name})`);
    }
    return out;
  });
}

/** The v1 schema as version 1 of the app created it, written out by hand. */
const V1_SCHEMA = `
  CREATE TABLE refreshes (
    id INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    at INTEGER NOT NULL,
    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
    method TEXT,
    error_kind TEXT,
    error_message TEXT,
    CHECK (ok = 1 OR (error_kind IS NOT NULL AND error_message IS NOT NULL)),
    CHECK (ok = 0 OR (method IS NOT NULL AND error_kind IS NULL))
  ) STRICT;
  CREATE INDEX refreshes_by_profile_at ON refreshes (profile, at);
  CREATE TABLE figures (
    refresh_id INTEGER NOT NULL REFERENCES refreshes (id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    dau INTEGER NOT NULL CHECK (dau >= 0),
    wau INTEGER NOT NULL CHECK (wau >= 0),
    mau INTEGER NOT NULL CHECK (mau >= 0),
    accounts INTEGER NOT NULL CHECK (accounts >= 0),
    new1d INTEGER NOT NULL CHECK (new1d >= 0),
    new7d INTEGER NOT NULL CHECK (new7d >= 0),
    new30d INTEGER NOT NULL CHECK (new30d >= 0),
    newest_event INTEGER,
    PRIMARY KEY (refresh_id, host)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE state (
    profile TEXT NOT NULL,
    key TEXT NOT NULL,
    json TEXT NOT NULL CHECK (json_valid(json)),
    PRIMARY KEY (profile, key)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO refreshes (id, profile, at, ok, method) VALUES (1, 'main', ${NOW - DAY}, 1, 'sqlite');
  INSERT INTO figures VALUES (1, '*', 7, 8, 9, 20, 1, 2, 3, ${NOW - DAY - 5});
  INSERT INTO figures VALUES (1, 'a.test', 7, 8, 9, 20, 1, 2, 3, ${NOW - DAY - 5});
  INSERT INTO refreshes (id, profile, at, ok, error_kind, error_message)
    VALUES (2, 'main', ${NOW - DAY + HOUR}, 0, 'timeout', 'xmpp.example did not answer.');
  INSERT INTO state VALUES ('main', 'alert-policy', '{"failures":1}');
  PRAGMA user_version = 1;
`;

test('a new file is created at the current schema version, in WAL mode with full sync', () => {
  const h = open();
  assert.equal(h.version(), SCHEMA_VERSION);
  assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
  assert.deepEqual(h.settings(), {
    journalMode: 'wal',
    synchronous: 'full',
    foreignKeys: true,
    busyTimeoutMs: 5000,
  });
});

test('an empty existing file is taken as a new database', () => {
  const path = freshPath();
  writeFileSync(path, '');
  assert.equal(open(path).version(), SCHEMA_VERSION);
});

test('migrations are numbered 1, 2, 3 … without gaps', () => {
  assert.deepEqual(
    MIGRATIONS.map((m) => m.version),
    MIGRATIONS.map((_m, i) => i + 1),
  );
});

test('migrate applies each step once, stops at a target, and resumes from there', () => {
  const path = freshPath();
  raw(path, (db) => {
    assert.deepEqual(migrate(db, 1), [1]);
    assert.equal(db.pragma('user_version', { simple: true }), 1);
    assert.deepEqual(migrate(db), [2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(migrate(db), []);
  });
  assert.deepEqual(schemaOf(path), schemaOf(open().path));
});

test('a step that fails leaves the database at the previous version', () => {
  const path = freshPath();
  raw(path, (db) => {
    migrate(db, 1);
    db.exec('CREATE TABLE alerts (x)'); // in the way of step 3
    assert.throws(() => migrate(db), /already exists/);
    assert.equal(db.pragma('user_version', { simple: true }), 2);
    const columns = db.pragma('table_info(refreshes)') as Array<{ name: string }>;
    assert.ok(columns.some((c) => c.name === 'bytes_received'));
  });
});

test('a version 1 database with data migrates to the current version and keeps its data', () => {
  const path = freshPath();
  raw(path, (db) => db.exec(V1_SCHEMA));
  const h = open(path);
  assert.equal(h.version(), SCHEMA_VERSION);

  const [failed, succeeded] = h.refreshes('main');
  assert.deepEqual(failed, {
    id: 2,
    ok: false,
    profile: 'main',
    at: NOW - DAY + HOUR,
    kind: 'timeout',
    message: 'xmpp.example did not answer.',
  });
  const old: Figures = {
    dau: 7,
    wau: 8,
    mau: 9,
    accounts: 20,
    new1d: 1,
    new7d: 2,
    new30d: 3,
    newestEvent: NOW - DAY - 5,
  };
  assert.deepEqual(succeeded, {
    id: 1,
    ok: true,
    profile: 'main',
    at: NOW - DAY,
    method: 'sqlite',
    bytesReceived: null,
    seconds: null,
    hosts: { [TOTAL_HOST]: old, 'a.test': old },
  });
  assert.equal(h.loadState('main', 'alert-policy'), '{"failures":1}');

  // The new columns and the new table work on the migrated file.
  h.record(success(NOW, { [TOTAL_HOST]: figs(10) }));
  h.recordAlert({ kind: 'recovered', profile: 'main', failures: 1 }, NOW);
  assert.equal(h.latest('main').lastSuccess?.bytesReceived, 512);
  assert.equal(h.alerts('main').length, 1);
  assert.deepEqual(
    h.series('main', TOTAL_HOST, NOW - DAY, NOW).map((p) => [p.at, p.dau]),
    [
      [NOW - DAY, 7],
      [NOW, 10],
    ],
  );
  // Migrated from v1 or built from nothing: the same schema.
  h.close();
  assert.deepEqual(schemaOf(path), schemaOf(open().path));
});

test('the accounts Prosody 13 left out are kept per host, and absent where never recorded', () => {
  const h = open();
  h.record(success(NOW, { 'a.test': figs(5, { excludedDisabled: 2, excludedNoAccount: 3 }) }));
  h.record(success(NOW + HOUR, { 'a.test': figs(6) }));
  const [newer, older] = h.refreshes('main');
  assert.ok(newer?.ok && older?.ok);
  assert.deepEqual(older.hosts['a.test'], figs(5, { excludedDisabled: 2, excludedNoAccount: 3 }));
  assert.deepEqual(newer.hosts['a.test'], figs(6));
});

test('a file written by a newer schema version is refused and left untouched', () => {
  const path = freshPath();
  open(path).close();
  raw(path, (db) => db.pragma(`user_version = ${SCHEMA_VERSION + 1}`));
  const before = readFileSync(path);
  const r = HistoryDb.open(path);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'state-file');
  assert.match(
    (r.failure as { detail: string }).detail,
    new RegExp(`newer version .*schema ${SCHEMA_VERSION + 1}.*up to ${SCHEMA_VERSION}`),
  );
  assert.deepEqual(readFileSync(path), before);
  assert.equal(
    raw(path, (db) => db.pragma('user_version', { simple: true })),
    SCHEMA_VERSION + 1,
  );
});

test('a file that is not a database is refused and left untouched', () => {
  const path = freshPath();
  const text = 'profile,at,dau\nmain,1,2\n'.repeat(300);
  writeFileSync(path, text);
  const r = HistoryDb.open(path);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'state-file');
  assert.match((r.failure as { detail: string }).detail, /not a SQLite database/);
  assert.equal(readFileSync(path, 'utf8'), text);
  assert.ok(!existsSync(`${path}-wal`));
});

test("someone else's SQLite database (tables, no schema version) is refused and left untouched", () => {
  const path = freshPath();
  raw(path, (db) => db.exec("CREATE TABLE prosody (host TEXT); INSERT INTO prosody VALUES ('x')"));
  const before = readFileSync(path);
  const r = HistoryDb.open(path);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'state-file');
  assert.match((r.failure as { detail: string }).detail, /not a history database/);
  assert.deepEqual(readFileSync(path), before);
});

test('a missing folder is reported as not found', () => {
  const path = join(dir, 'no-such-folder', 'history.sqlite');
  const r = HistoryDb.open(path);
  assert.deepEqual(r, {
    ok: false,
    failure: {
      kind: 'not-found',
      path: join(dir, 'no-such-folder'),
      what: 'folder for the history database',
    },
  });
});

test('series returns one host of one profile within the bounds, oldest first, skipping failures', () => {
  const h = open();
  for (let i = 0; i <= 48; i++) {
    const at = NOW - i * HOUR;
    if (i === 5) h.record(failure(at));
    else h.record(success(at, { [TOTAL_HOST]: figs(100 + i), 'a.test': figs(i) }));
  }
  h.record(success(NOW, { [TOTAL_HOST]: figs(999) }, 'other'));

  const day = h.series('main', TOTAL_HOST, NOW - WINDOW_SECONDS['24h'], NOW);
  assert.deepEqual(
    day.map((p) => p.at),
    Array.from({ length: 25 }, (_v, k) => NOW - (24 - k) * HOUR).filter(
      (at) => at !== NOW - 5 * HOUR,
    ),
  );
  assert.equal(day.at(-1)?.dau, 100);
  assert.deepEqual(day.at(-1), { at: NOW, ...figs(100) });
  assert.deepEqual(
    h.seriesFor('main', 'a.test', '24h', NOW).map((p) => p.dau),
    day.map((p) => p.dau - 100),
  );
  assert.equal(h.seriesFor('main', TOTAL_HOST, '7d', NOW).length, 48);
  assert.deepEqual(h.series('main', 'b.test', 0, NOW), []);
  assert.deepEqual(WINDOW_SECONDS, { '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY, '90d': 90 * DAY });
});

test('nearest picks the closest success within the tolerance, the earlier on a tie', () => {
  const h = open();
  h.record(success(NOW - DAY - 600, { [TOTAL_HOST]: figs(10), 'a.test': figs(1) }));
  h.record(success(NOW - DAY + 600, { [TOTAL_HOST]: figs(20) }));
  h.record(failure(NOW - DAY + 60));
  h.record(success(NOW - DAY + 900, { [TOTAL_HOST]: figs(30) }, 'other'));

  const cases: Array<[name: string, at: number, tol: number, host: string, want: unknown]> = [
    ['a tie goes to the earlier', NOW - DAY, 600, TOTAL_HOST, { value: 10, at: NOW - DAY - 600 }],
    ['later and closer', NOW - DAY + 100, 3600, TOTAL_HOST, { value: 20, at: NOW - DAY + 600 }],
    ['exactly at the edge', NOW - DAY - 1200, 600, TOTAL_HOST, { value: 10, at: NOW - DAY - 600 }],
    ['beyond the tolerance', NOW - DAY - 1201, 600, TOTAL_HOST, null],
    [
      'only refreshes that have the host',
      NOW - DAY + 600,
      3600,
      'a.test',
      { value: 1, at: NOW - DAY - 600 },
    ],
    ['nothing recorded', NOW, 600, TOTAL_HOST, null],
  ];
  for (const [name, at, tol, host, want] of cases) {
    assert.deepEqual(h.nearest('main', host, 'dau', at, tol), want, name);
  }
  assert.throws(
    () => h.nearest('main', TOTAL_HOST, 'constructor' as FigureName, NOW, 600),
    RangeError,
  );
  assert.deepEqual(h.nearest('main', TOTAL_HOST, 'mau', NOW - DAY, 600), {
    value: 30,
    at: NOW - DAY - 600,
  });
});

test('deltas give the figures about 24 hours and 7 days earlier, or null', () => {
  const h = open();
  h.record(success(NOW - 7 * DAY + 2 * HOUR, { [TOTAL_HOST]: figs(3) }));
  h.record(success(NOW - DAY - HOUR, { [TOTAL_HOST]: figs(5) }));
  h.record(success(NOW - DAY + 2 * HOUR, { [TOTAL_HOST]: figs(6) }));
  h.record(success(NOW, { [TOTAL_HOST]: figs(9) }));

  assert.deepEqual(h.deltas('main', TOTAL_HOST, NOW), {
    d24h: figs(5),
    d24hAt: NOW - DAY - HOUR,
    d7d: figs(3),
    d7dAt: NOW - 7 * DAY + 2 * HOUR,
  });
  // Half a day later, nothing lies within 3 hours of 24 hours earlier.
  assert.deepEqual(h.deltas('main', TOTAL_HOST, NOW + 12 * HOUR), {
    d24h: null,
    d24hAt: null,
    d7d: figs(3),
    d7dAt: NOW - 7 * DAY + 2 * HOUR,
  });
  assert.deepEqual(h.deltas('main', 'a.test', NOW), {
    d24h: null,
    d24hAt: null,
    d7d: null,
    d7dAt: null,
  });
});

test('latest gives the newest refresh and the newest success apart', () => {
  const h = open();
  assert.deepEqual(h.latest('main'), { last: null, lastSuccess: null });
  h.record(success(NOW - HOUR, { [TOTAL_HOST]: figs(4) }));
  h.record(failure(NOW));
  h.record(success(NOW + HOUR, { [TOTAL_HOST]: figs(8) }, 'other'));
  const { last, lastSuccess } = h.latest('main');
  assert.equal(last?.ok, false);
  assert.equal(last?.at, NOW);
  assert.equal(lastSuccess?.at, NOW - HOUR);
  assert.deepEqual(lastSuccess?.hosts, { [TOTAL_HOST]: figs(4) });
});

test('a failed refresh is stored as an error, never as zero figures', () => {
  const path = freshPath();
  const h = open(path);
  h.record(failure(NOW));
  assert.deepEqual(
    raw(path, (db) => db.prepare('SELECT count(*) AS n FROM figures').get()),
    { n: 0 },
  );
  assert.deepEqual(h.series('main', TOTAL_HOST, 0, NOW), []);
  assert.equal(h.nearest('main', TOTAL_HOST, 'dau', NOW, DAY), null);
  assert.deepEqual(h.latest('main').lastSuccess, null);
  const rows = [...h.exportRows()];
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.figures, null);
  assert.equal(rows[0]?.errorKind, 'network');
});

test('refreshes lists newest first, per profile or all, up to a limit', () => {
  const h = open();
  h.record(success(NOW - 2 * HOUR, { [TOTAL_HOST]: figs(1) }));
  h.record(failure(NOW - HOUR, 'other'));
  h.record(failure(NOW));
  assert.deepEqual(
    h.refreshes().map((r) => [r.profile, r.at]),
    [
      ['main', NOW],
      ['other', NOW - HOUR],
      ['main', NOW - 2 * HOUR],
    ],
  );
  assert.deepEqual(
    h.refreshes('main', 1).map((r) => r.at),
    [NOW],
  );
});

test('exported rows carry online and the exclusions as recorded, and empty where unknown', () => {
  const h = open();
  h.record(
    success(NOW, {
      [TOTAL_HOST]: figs(3, { online: 0, excludedDisabled: 2, excludedNoAccount: 0 }),
      'old.test': figs(1),
    }),
  );
  const lines = historyCsv(h.exportRows()).trimEnd().split('\n');
  const cells = (i: number) => {
    const fields = lines[i]?.split(',') ?? [];
    return ['online', 'excludedDisabled', 'excludedNoAccount'].map(
      (c) => fields[HISTORY_COLUMNS.indexOf(c as (typeof HISTORY_COLUMNS)[number])],
    );
  };
  assert.deepEqual(cells(1), ['0', '2', '0']);
  assert.deepEqual(cells(2), ['', '', '']);
});

test('exportRows yields every refresh oldest first, the total before the hosts', () => {
  const h = open();
  h.record(success(NOW - HOUR, { 'b.test': figs(2), [TOTAL_HOST]: figs(3), 'a.test': figs(1) }));
  h.record(failure(NOW));
  h.record(success(NOW, { [TOTAL_HOST]: figs(5) }, 'other'));
  assert.deepEqual(
    [...h.exportRows()].map((r) => [r.profile, r.at, r.host, r.figures?.dau ?? null]),
    [
      ['main', NOW - HOUR, TOTAL_HOST, 3],
      ['main', NOW - HOUR, 'a.test', 1],
      ['main', NOW - HOUR, 'b.test', 2],
      ['main', NOW, null, null],
      ['other', NOW, TOTAL_HOST, 5],
    ],
  );
  assert.equal([...h.exportRows('other')].length, 1);
});

test('alerts are recorded whole and listed oldest first, per profile and from a time', () => {
  const h = open();
  const alerts: Alert[] = [
    {
      kind: 'large-change',
      profile: 'main',
      host: TOTAL_HOST,
      figure: 'dau',
      from: 10,
      to: 30,
      baselineAt: NOW - DAY,
    },
    { kind: 'failing', profile: 'main', failures: 3, message: 'Cannot reach "x", port 22.' },
    { kind: 'recovered', profile: 'other', failures: 3 },
    { kind: 'stale', profile: 'main', host: 'a.test', newestEvent: NOW - DAY, hours: 24 },
  ];
  alerts.forEach((a, i) => h.recordAlert(a, NOW + i));
  assert.deepEqual(
    h.alerts().map((a) => a.alert),
    alerts,
  );
  assert.deepEqual(
    h.alerts('main', NOW + 1).map((a) => [a.at, a.alert.kind]),
    [
      [NOW + 1, 'failing'],
      [NOW + 3, 'stale'],
    ],
  );
});

test('state is saved per profile and key, replaced on save, and must be JSON', () => {
  const h = open();
  assert.equal(h.loadState('main', 'policy'), null);
  h.saveState('main', 'policy', '{"a":1}');
  h.saveState('other', 'policy', '{"b":2}');
  h.saveState('main', 'policy', '{"a":2}');
  assert.equal(h.loadState('main', 'policy'), '{"a":2}');
  assert.equal(h.loadState('other', 'policy'), '{"b":2}');
  assert.throws(() => h.saveState('main', 'policy', '{oops'), SyntaxError);
  assert.equal(h.loadState('main', 'policy'), '{"a":2}');
});

test('a refresh time in fractions of a second is refused as a bug', () => {
  const h = open();
  assert.throws(() => h.record(failure(NOW + 0.5)), RangeError);
  assert.throws(
    () => h.recordAlert({ kind: 'recovered', profile: 'main', failures: 1 }, 1.5),
    RangeError,
  );
});

test('a refresh that cannot be stored whole is not stored at all', () => {
  const h = open();
  assert.throws(() => h.record(success(NOW, { [TOTAL_HOST]: figs(3), 'a.test': figs(-1) })));
  assert.deepEqual(h.refreshes(), []);
});

test(
  'a write while another connection holds the lock fails as busy after the timeout',
  {
    timeout: 20_000,
  },
  () => {
    const path = freshPath();
    const h = open(path);
    const other = new Database(path);
    try {
      other.exec('BEGIN IMMEDIATE');
      const started = process.hrtime.bigint();
      assert.throws(
        () => h.record(failure(NOW)),
        (e: unknown) => e instanceof FailureError && e.failure.kind === 'busy',
      );
      assert.ok(process.hrtime.bigint() - started >= 4_000_000_000n, 'waited for busy_timeout');
    } finally {
      other.close();
    }
    h.record(failure(NOW));
    assert.equal(h.refreshes().length, 1);
  },
);

test(
  'a writer killed in the middle of a refresh leaves a consistent file with every committed refresh',
  { timeout: 120_000 },
  async () => {
    const path = freshPath();
    const committed = 20;
    const partialHosts = 200_000;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, 'history-crash-writer.ts'),
        path,
        String(committed),
        String(partialHosts),
      ],
      { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await new Promise<string>((resolve, reject) => {
        lines.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
      });
      const report = JSON.parse(first) as {
        written: number;
        walAfterCommits: number;
        walNow: number;
      };
      assert.equal(report.written, partialHosts / 2);
      // The half refresh's pages overflowed the cache into the WAL: uncommitted data is on disk.
      assert.ok(
        report.walNow > report.walAfterCommits,
        `WAL grew mid-transaction (${report.walAfterCommits} -> ${report.walNow})`,
      );
      child.kill('SIGKILL');
      assert.deepEqual(await exited, { code: null, signal: 'SIGKILL' });
    } finally {
      child.kill('SIGKILL');
    }

    const h = open(path);
    assert.equal(
      raw(path, (db) => db.pragma('integrity_check', { simple: true })),
      'ok',
    );
    assert.deepEqual(
      raw(path, (db) => db.pragma('foreign_key_check')),
      [],
    );
    const refreshes = h.refreshes('crash');
    assert.equal(refreshes.length, committed);
    for (const r of refreshes) {
      assert.ok(r.ok);
      const i = (r.at - CRASH_BASE_AT) / 3600;
      assert.deepEqual(
        r.hosts,
        Object.fromEntries(CRASH_HOSTS.map((host) => [host, crashFigures(i)])),
      );
      assert.equal(r.bytesReceived, 1000 + i);
    }
    assert.deepEqual(
      raw(path, (db) => db.prepare('SELECT count(*) AS n FROM figures').get()),
      { n: committed * CRASH_HOSTS.length },
    );
    assert.equal(h.latest('crash').last?.at, CRASH_BASE_AT + (committed - 1) * 3600);
    // And the file takes new refreshes.
    h.record(failure(CRASH_BASE_AT + committed * 3600, 'crash'));
    assert.equal(h.refreshes('crash').length, committed + 1);
  },
);

test('online is kept per host when the live view knew it, and absent when not', () => {
  const db = open();
  db.record({
    ok: true,
    profile: 'p',
    at: 1_795_536_000,
    hosts: {
      'a.test': {
        dau: 2,
        wau: 3,
        mau: 3,
        accounts: 4,
        new1d: 0,
        new7d: 0,
        new30d: 0,
        newestEvent: null,
        online: 3,
      },
      'b.test': {
        dau: 0,
        wau: 0,
        mau: 0,
        accounts: 0,
        new1d: 0,
        new7d: 0,
        new30d: 0,
        newestEvent: null,
      },
    },
    method: 'SFTP files',
    bytesReceived: 1,
    seconds: 0.1,
  });
  const series = (host: string) => db.series('p', host, 0, 2_000_000_000).map((p) => p.online);
  assert.deepEqual(series('a.test'), [3]);
  assert.deepEqual(series('b.test'), [undefined]);
});

test('a fractional newest event is stored and read back as it is', () => {
  const h = open();
  h.record(success(NOW, { 'a.test': figs(1, { newestEvent: 1_796_302_731.5 }) }));
  const last = h.latest('main').last;
  assert.ok(last?.ok);
  assert.equal(last.hosts['a.test']?.newestEvent, 1_796_302_731.5);
});

test("the alert policy's keys for the old total '*' move to the total's new key", () => {
  const path = freshPath();
  raw(path, (db) => {
    migrate(db, 7);
    db.prepare('INSERT INTO state VALUES (?, ?, ?)').run(
      'main',
      'alert-policy',
      JSON.stringify({
        consecutiveFailures: 0,
        changeLatch: { '*/dau': 1, 'a.test/wau': -1 },
        lastSent: { 'large-change/*/mau': 5, 'stale/a.test': 6, failing: 7 },
        staleLatch: { 'a.test': true },
      }),
    );
    migrate(db);
  });
  const h = open(path);
  assert.deepEqual(JSON.parse(h.loadState('main', 'alert-policy') ?? 'null'), {
    consecutiveFailures: 0,
    changeLatch: { [`${TOTAL_HOST}/dau`]: 1, 'a.test/wau': -1 },
    lastSent: { [`large-change/${TOTAL_HOST}/mau`]: 5, 'stale/a.test': 6, failing: 7 },
    staleLatch: { 'a.test': true },
  });
});
