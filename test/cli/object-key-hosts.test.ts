/**
 * Host names that are JavaScript object keys (`__proto__`, `constructor`, …) and the `*` that used
 * to name the total come out as themselves in every output: the table, --json, --openmetrics, the
 * history (recorded by the monitor, exported by `history`), and the window's view of a profile.
 * The database has Prosody's schema; the CLI is the built one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildProfileView } from '../../main/app/profile-view.js';
import { evaluateAlerts, INITIAL_ALERT_STATE } from '../../main/core/alert-policy.js';
import { DEFAULT_ALERT_SETTINGS, type Figures } from '../../main/core/monitor-types.js';
import { HistoryDb } from '../../main/store/history-db.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { runBuiltCli } from '../fixtures/run-built-cli.js';
import { hourlyDbMonitor } from '../fixtures/db-monitor.js';
import { flatFigures } from '../fixtures/monitor-figures.js';

const NOW = 1_795_536_000;
const HOSTS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '*', 'a.test'];
const dir = mkdtempSync(join(tmpdir(), 'pau-object-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, 'prosody.sqlite');
const stateDir = join(dir, 'state');

// One account per host, active an hour ago; a.test has a second one.
writeProsodySqlite(db, [
  ...HOSTS.map((host) => activityRow({ host, user: 'u', event: 'login', timestamp: NOW - 3600 })),
  activityRow({ host: 'a.test', user: 'v', event: 'login', timestamp: NOW - 3600 }),
]);

const run = (...args: string[]) => {
  const r = runBuiltCli([...args]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

before(async () => {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(stateDir);
  const opened = HistoryDb.open(join(stateDir, 'history.sqlite'));
  assert.ok(opened.ok);
  const history = opened.value;
  const monitor = hourlyDbMonitor('main', db, NOW, {
    history,
    onError: (e) => assert.fail(String(e)),
  });
  await monitor.refreshNow();
  await monitor.stop();
  history.close();
});

test('the table shows every host, and the total counts exactly them', () => {
  const out = run('--db', db, '--at', String(NOW));
  for (const host of HOSTS) {
    const expected = host === 'a.test' ? 2 : 1;
    assert.match(out, new RegExp(`^${host.replace(/[*]/g, '\\*')}\\s+${expected}\\s`, 'm'), out);
  }
  assert.match(out, /^TOTAL\s+7\s/m);
});

test('--json has every host as its own key', () => {
  const parsed = JSON.parse(run('--db', db, '--at', String(NOW), '--json')) as {
    hosts: Record<string, { dau: number }>;
    total: { dau: number };
  };
  assert.deepEqual(Object.keys(parsed.hosts).sort(), [...HOSTS].sort());
  assert.ok(Object.hasOwn(parsed.hosts, '__proto__'));
  assert.equal(parsed.hosts['*']?.dau, 1);
  assert.equal(parsed.total.dau, 7);
});

test('--openmetrics has a sample for every host', () => {
  const out = run('--db', db, '--at', String(NOW), '--openmetrics');
  for (const host of HOSTS) {
    assert.match(
      out,
      new RegExp(
        `^prosody_mod_measure_active_users__active_users_1d\\{host="${host.replace(/[*]/g, '\\*')}"\\} ${host === 'a.test' ? 2 : 1}$`,
        'm',
      ),
    );
  }
});

test('the history keeps every host apart from the total, and exports each as itself', () => {
  const opened = HistoryDb.open(join(stateDir, 'history.sqlite'));
  assert.ok(opened.ok);
  const last = opened.value.latest('main').lastSuccess;
  opened.value.close();
  assert.ok(last);
  assert.deepEqual(Object.keys(last.hosts).sort(), ['', ...HOSTS].sort());
  assert.equal(last.hosts['*']?.dau, 1);
  assert.equal(last.hosts['']?.dau, 7);

  const rows = JSON.parse(run('history', '--json', '--state-dir', stateDir)) as Array<{
    host: string | null;
    total: boolean;
    dau: number;
  }>;
  assert.deepEqual(
    rows.map((r) => [r.host, r.total, r.dau]),
    [[null, true, 7], ...[...HOSTS].sort().map((h) => [h, false, h === 'a.test' ? 2 : 1])],
  );
  const csv = run('history', '--csv', '--state-dir', stateDir);
  assert.match(csv, /,main,true,\*,1,/);
  assert.match(csv, /,main,true,__proto__,1,/);
});

test("the window's view lists every host of the last refresh", () => {
  const opened = HistoryDb.open(join(stateDir, 'history.sqlite'));
  assert.ok(opened.ok);
  try {
    const view = buildProfileView({
      name: 'main',
      staleSeconds: 12 * 3600,
      history: opened.value,
      scheduler: undefined,
      now: NOW,
    });
    // The IPC hands the view over by structured clone, which keeps own keys as they are.
    const sent = structuredClone(view);
    assert.deepEqual(
      sent.hosts.map((h) => [h.host, h.figures.dau]),
      [...HOSTS].sort().map((h) => [h, h === 'a.test' ? 2 : 1]),
    );
    assert.equal(sent.total?.dau.value, 7);
  } finally {
    opened.value.close();
  }
});

const stale = (newestEvent: number): Figures => flatFigures(1, newestEvent);

for (const host of ['__proto__', 'constructor', 'toString']) {
  test(`a host named ${host} goes stale once, not on every refresh`, () => {
    let state = INITIAL_ALERT_STATE;
    const kinds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const at = NOW + i * 3600;
      const r = evaluateAlerts({
        settings: DEFAULT_ALERT_SETTINGS,
        now: at,
        localMinuteOfDay: 720,
        outcome: {
          ok: true,
          profile: 'main',
          at,
          hosts: { [host]: stale(NOW - 86_400) },
          method: 'sqlite',
          bytesReceived: 1,
          seconds: 0,
        },
        baseline: () => null,
        state: JSON.parse(JSON.stringify(state)) as typeof state,
      });
      state = r.state;
      kinds.push(...r.deliver.map((a) => `${a.kind} ${'host' in a ? a.host : ''}`));
    }
    assert.deepEqual(kinds, [`stale ${host}`]);
  });
}
