/**
 * What one refresh raises is one notification per server: 300 hosts going stale at once are 300
 * alerts (recorded, and listed in the window) but one notification naming the first few. Through
 * the pure policy and text, then end to end: the monitor reading a Prosody SQLite file, the real
 * desktop notifier (node-notifier → notify-send → dunst under Xvfb, see desktop-notifier.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { INITIAL_ALERT_STATE, evaluateAlerts } from '../../main/core/alert-policy.js';
import { alertBody, alertTitle, groupedNotification } from '../../main/core/alert-text.js';
import {
  type Alert,
  DEFAULT_ALERT_SETTINGS,
  type Figures,
  TOTAL_HOST,
} from '../../main/core/monitor-types.js';
import { DesktopNotifier } from '../../main/notify/desktop-notifier.js';
import { HistoryDb } from '../../main/store/history-db.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import {
  type NotificationDaemon,
  startNotificationDaemon,
} from '../support/notification-daemon.js';
import { hourlyDbMonitor } from '../fixtures/db-monitor.js';
import { flatFigures } from '../fixtures/monitor-figures.js';

const NOW = 1_795_536_000;
const HOSTS = Array.from({ length: 300 }, (_, i) => `h${String(i).padStart(3, '0')}.test`);
const dir = mkdtempSync(join(tmpdir(), 'pau-grouped-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const quiet = (newestEvent: number): Figures => flatFigures(1, newestEvent);

test('300 hosts going stale in one refresh are 300 alerts for one notification', () => {
  const hosts: Record<string, Figures> = { [TOTAL_HOST]: quiet(NOW - 13 * 3600) };
  for (const host of HOSTS) hosts[host] = quiet(NOW - 13 * 3600);
  const judged = evaluateAlerts({
    settings: DEFAULT_ALERT_SETTINGS,
    now: NOW,
    localMinuteOfDay: 720,
    outcome: {
      ok: true,
      profile: 'prod',
      at: NOW,
      hosts,
      method: 'x',
      bytesReceived: 0,
      seconds: 0,
    },
    baseline: () => null,
    state: INITIAL_ALERT_STATE,
  });
  assert.equal(judged.deliver.length, 300);
  assert.ok(judged.deliver.every((a) => a.kind === 'stale'));
  assert.deepEqual(groupedNotification(judged.deliver), {
    title: 'prod: no logins lately on 300 hosts',
    body:
      'no logins on h000.test for 13 h; no logins on h001.test for 13 h; no logins on h002.test ' +
      'for 13 h; and 297 more. Every one is listed in the window.',
  });
});

const stale = (host: string): Alert => ({
  kind: 'stale',
  profile: 'prod',
  host,
  newestEvent: NOW - 13 * 3600,
  hours: 13,
  at: NOW,
});
const failing: Alert = { kind: 'failing', profile: 'prod', failures: 3, message: 'Boom.' };

const texts: Array<[name: string, alerts: Alert[], title: string, body: RegExp]> = [
  [
    'one alert is notified as it is',
    [stale('a.test')],
    alertTitle(stale('a.test')),
    new RegExp(`^${alertBody(stale('a.test')).replace(/[()?.]/g, '\\$&')}$`),
  ],
  [
    'two alerts of different kinds are counted and both named',
    [failing, stale('a.test')],
    'prod: 2 alerts',
    /^refreshes failing; no logins on a\.test for 13 h\. Every one is listed in the window\.$/,
  ],
  [
    'three alerts are all named, with no "more"',
    [stale('a'), stale('b'), stale('c')],
    'prod: no logins lately on 3 hosts',
    /^no logins on a for 13 h; no logins on b for 13 h; no logins on c for 13 h\. Every/,
  ],
];
for (const [name, alerts, title, body] of texts) {
  test(`grouped notification: ${name}`, () => {
    const n = groupedNotification(alerts);
    assert.equal(n.title, title);
    assert.match(n.body, body);
  });
}

let daemon: NotificationDaemon;
const saved = { ...process.env };
before(async () => {
  daemon = await startNotificationDaemon();
  Object.assign(process.env, daemon.env);
});
after(async () => {
  for (const k of ['DISPLAY', 'DBUS_SESSION_BUS_ADDRESS'] as const) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  await daemon?.stop();
});

test(
  'the monitor shows one desktop notification for 300 hosts going stale, and records 300 alerts',
  { timeout: 60_000 },
  async () => {
    const db = join(dir, 'prosody.sqlite');
    writeProsodySqlite(
      db,
      HOSTS.map((host) =>
        activityRow({ host, user: 'u', event: 'login', timestamp: NOW - 13 * 3600 }),
      ),
    );
    const opened = HistoryDb.open(join(dir, 'history.sqlite'));
    assert.ok(opened.ok);
    const history = opened.value;
    const errors: unknown[] = [];
    const monitor = hourlyDbMonitor('grouped', db, NOW, {
      history,
      notifier: new DesktopNotifier(),
      onStep: (_p, step) => errors.push(step),
      onError: (e) => errors.push(e),
    });
    try {
      await monitor.refreshNow();
      await monitor.stop();
      assert.deepEqual(errors, []);
      assert.equal(history.alerts('grouped').length, 300);
      const shown = await daemon.waitFor((n) => n.summary.startsWith('grouped:'), 20_000);
      assert.equal(shown.summary, 'grouped: no logins lately on 300 hosts');
      assert.match(shown.body, /; and 297 more\. Every one is listed in the window\.$/);
      const all = (await daemon.history()).filter((n) => n.summary.startsWith('grouped:'));
      assert.equal(all.length, 1, JSON.stringify(all.map((n) => n.summary)));
    } finally {
      history.close();
    }
  },
);
