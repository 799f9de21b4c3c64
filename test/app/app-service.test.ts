/**
 * The app service on real parts: the profiles store and the history database in a temporary
 * folder, the real monitor engine counting real Prosody SQLite files, a fake clock.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { ProfileView } from '../../main/core/ipc-contract.js';
import { type Figures, TOTAL_HOST } from '../../main/core/monitor-types.js';
import type { Settings } from '../../main/core/profile-validation.js';
import { DAY } from '../../main/core/windows.js';
import type { HistoryDb } from '../../main/store/history-db.js';
import { FAKE_EPOCH_MS, FakeClock, settle } from '../fakes/fake-clock.js';
import { type ActivitySeed, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { type AppFixture, gate, heldSources, makeApp } from './app-fixture.js';

const NOW = FAKE_EPOCH_MS / 1000;
const HOUR = 3600;

/** a.test: 3 active today, 5 this week, 6 this month; b.test: 1, 2, 2. Two registrations today. */
function seeds(now: number): ActivitySeed[] {
  const login = (host: string, user: string, ago: number): ActivitySeed => ({
    host,
    user,
    event: 'login',
    timestamp: now - ago,
  });
  return [
    login('a.test', 'ann', HOUR),
    login('a.test', 'bob', 2 * HOUR),
    login('a.test', 'cy', 20 * HOUR),
    login('a.test', 'dee', 3 * DAY),
    login('a.test', 'eve', 6 * DAY),
    login('a.test', 'fay', 20 * DAY),
    login('b.test', 'gus', 5 * HOUR),
    login('b.test', 'hal', 2 * DAY),
    { host: 'a.test', user: 'ann', event: 'registered', timestamp: now - 3 * HOUR },
    { host: 'b.test', user: 'gus', event: 'registered', timestamp: now - 6 * HOUR },
  ];
}

function figures(dau: number, wau: number, mau: number, newestEvent: number | null): Figures {
  return { dau, wau, mau, accounts: mau, new1d: 0, new7d: 0, new30d: 0, newestEvent };
}

function recordSuccess(history: HistoryDb, profile: string, at: number, f: Figures): void {
  history.record({
    ok: true,
    profile,
    at,
    hosts: { [TOTAL_HOST]: f, 'a.test': f },
    method: 'local read',
    bytesReceived: 0,
    seconds: 0.01,
  });
}

function localSettings(...profiles: Array<{ name: string; db: string }>): Settings {
  return {
    version: 1,
    profiles: profiles.map((p) => ({ name: p.name, local: { db: p.db }, intervalSeconds: 3600 })),
  };
}

let app: AppFixture | undefined;
afterEach(async () => {
  if (app) assert.deepEqual(app.errors, []);
  await app?.close();
  app = undefined;
});

async function started(options: Parameters<typeof makeApp>[0] = {}): Promise<AppFixture> {
  app = await makeApp({ clock: new FakeClock(), ...options });
  await app.service.start();
  await app.service.refreshNow(null);
  return app;
}

function dbIn(dir: string, name = 'prosody.sqlite'): string {
  const path = join(dir, name);
  writeProsodySqlite(path, seeds(NOW).map(activityRow));
  return path;
}

function only(view: ProfileView[] | undefined): ProfileView {
  assert.equal(view?.length, 1);
  return view[0]!;
}

describe('snapshot', () => {
  test('with no settings file it is the first run, and nothing is monitored', async () => {
    const { service } = await started();
    const s = await service.getSnapshot();
    assert.equal(s.firstRun, true);
    assert.deepEqual(s.profiles, []);
    assert.equal(s.settingsProblem, null);
    assert.equal(s.secretsAvailable, true);
    assert.equal(s.alertsPausedUntil, null);
  });

  test('a local profile is counted at once: total, hosts, method and the next refresh', async () => {
    const a = await makeApp({ clock: new FakeClock() });
    app = a;
    const db = dbIn(a.dir);
    assert.equal((await a.store.save(localSettings({ name: 'home', db }))).ok, true);
    await a.service.start();
    await a.service.refreshNow('home');
    const p = only((await a.service.getSnapshot()).profiles);
    assert.equal(p.status, 'ok');
    assert.deepEqual([p.total?.dau.value, p.total?.wau.value, p.total?.mau.value], [4, 7, 8]);
    assert.equal(p.total?.new1d, 2);
    assert.deepEqual(
      p.hosts.map((h) => [h.host, h.figures.dau, h.figures.wau, h.figures.mau]),
      [
        ['a.test', 3, 5, 6],
        ['b.test', 1, 2, 2],
      ],
    );
    assert.equal(p.lastSuccessAt, NOW);
    assert.equal(p.lastAttemptAt, NOW);
    assert.equal(p.nextRefreshAt, NOW + 3600);
    assert.equal(p.method, 'local read');
    assert.equal(p.error, null);
    // Nothing recorded 24 hours or 7 days ago: no deltas, not zeros.
    assert.equal(p.total?.dau.d24h, null);
    assert.equal(p.total?.dau.d7d, null);
    assert.ok(a.snapshots.some((s) => s.profiles[0]?.status === 'refreshing'));
    assert.equal(a.snapshots.at(-1)?.profiles[0]?.status, 'ok');
  });

  test('deltas are against the figures recorded 24 hours and 7 days earlier', async () => {
    const a = await makeApp({
      clock: new FakeClock(),
      seed: (h) => {
        recordSuccess(h, 'home', NOW - DAY + 600, figures(2, 7, 10, NOW - DAY));
        recordSuccess(h, 'home', NOW - 7 * DAY - 3600, figures(5, 5, 4, NOW - 7 * DAY));
      },
    });
    app = a;
    await a.store.save(localSettings({ name: 'home', db: dbIn(a.dir) }));
    await a.service.start();
    await a.service.refreshNow(null);
    const t = only((await a.service.getSnapshot()).profiles).total;
    assert.deepEqual(t?.dau, { value: 4, d24h: 2, d7d: -1 });
    assert.deepEqual(t?.wau, { value: 7, d24h: 0, d7d: 2 });
    assert.deepEqual(t?.mau, { value: 8, d24h: -2, d7d: 4 });
  });

  test('a failed refresh keeps the last good figures and says what to do', async () => {
    const a = await makeApp({
      clock: new FakeClock(),
      seed: (h) => recordSuccess(h, 'work', NOW - 2 * HOUR, figures(9, 12, 20, NOW - 3 * HOUR)),
    });
    app = a;
    const missing = join(a.dir, 'gone', 'prosody.sqlite');
    await a.store.save(localSettings({ name: 'work', db: missing }));
    await a.service.start();
    await a.service.refreshNow(null);
    const p = only((await a.service.getSnapshot()).profiles);
    assert.equal(p.status, 'failing');
    assert.equal(p.total?.dau.value, 9, 'the last good figures are kept');
    assert.equal(p.lastSuccessAt, NOW - 2 * HOUR);
    assert.equal(p.lastAttemptAt, NOW);
    assert.equal(p.error?.kind, 'not-found');
    assert.equal(p.error?.at, NOW);
    assert.match(p.error?.message ?? '', new RegExp(`${missing}.*: check the path`));
  });

  test("an SSH failure is told in the app's words, not with command-line options", async () => {
    const a = await makeApp({ clock: new FakeClock() });
    app = a;
    await a.store.save({
      version: 1,
      profiles: [
        {
          name: 'far',
          ssh: {
            target: 'monitor@127.0.0.1:1',
            identity: join(a.dir, 'no-such-key'),
            sshConfig: '/dev/null',
          },
        },
      ],
    });
    await a.service.start();
    await a.service.refreshNow(null);
    const p = only((await a.service.getSnapshot()).profiles);
    assert.equal(p.status, 'failing');
    assert.ok(p.error);
    assert.doesNotMatch(p.error.message, /--[a-z]/);
  });

  test('the status is refreshing while a refresh runs, and never before anything was recorded', async () => {
    const held = gate();
    const a = await makeApp({ clock: new FakeClock(), sources: heldSources(held.wait) });
    app = a;
    await a.store.save(localSettings({ name: 'home', db: dbIn(a.dir) }));
    await a.service.start();
    const during = only((await a.service.getSnapshot()).profiles);
    assert.equal(during.status, 'refreshing');
    assert.equal(during.total, null);
    assert.equal(during.lastAttemptAt, null);
    held.open();
    await a.service.refreshNow(null);
    assert.equal(only((await a.service.getSnapshot()).profiles).status, 'ok');
    await a.service.stop();
    assert.equal(only((await a.service.getSnapshot()).profiles).status, 'ok');
  });

  test("the status is stale when the newest login is older than the profile's staleSeconds", async () => {
    const a = await makeApp({ clock: new FakeClock() });
    app = a;
    const db = join(a.dir, 'old.sqlite');
    writeProsodySqlite(db, [
      activityRow({ host: 'a.test', user: 'ann', event: 'login', timestamp: NOW - 2 * DAY }),
    ]);
    await a.store.save({
      version: 1,
      profiles: [{ name: 'quiet', local: { db }, alerts: { staleSeconds: DAY } }],
    });
    await a.service.start();
    await a.service.refreshNow(null);
    assert.equal(only((await a.service.getSnapshot()).profiles).status, 'stale');
  });

  test('the status is alerting for some hours after a large change was announced', async () => {
    const a = await makeApp({
      clock: new FakeClock(),
      seed: (h) =>
        h.recordAlert(
          {
            kind: 'large-change',
            profile: 'home',
            host: TOTAL_HOST,
            figure: 'dau',
            from: 40,
            to: 4,
            baselineAt: NOW - DAY,
          },
          NOW - HOUR,
        ),
    });
    app = a;
    await a.store.save(localSettings({ name: 'home', db: dbIn(a.dir) }));
    await a.service.start();
    await a.service.refreshNow(null);
    assert.equal(only((await a.service.getSnapshot()).profiles).status, 'alerting');
  });

  test('a broken settings file is reported, and saving does not overwrite it', async () => {
    const a = await makeApp({ clock: new FakeClock() });
    app = a;
    mkdirSync(dirname(a.store.path), { recursive: true });
    writeFileSync(a.store.path, '{"version": 1, "profiles": [ {"name": 3} ]}');
    await a.service.start();
    const s = await a.service.getSnapshot();
    assert.equal(s.firstRun, false);
    assert.match(s.settingsProblem ?? '', /profiles\[0\]\.name/);
    const saved = await a.service.saveSettings({ version: 1, profiles: [] });
    assert.equal(saved.ok, false);
    assert.match(saved.message ?? '', /broken.*left untouched/);
    assert.match(readFileSync(a.store.path, 'utf8'), /"name": 3/);
  });
});

describe('history series', () => {
  test('gives the total over 7, 30 and 90 days, oldest first', async () => {
    const a = await makeApp({
      clock: new FakeClock(),
      seed: (h) => {
        for (const daysAgo of [80, 20, 3]) {
          recordSuccess(h, 'home', NOW - daysAgo * DAY, figures(daysAgo, daysAgo, daysAgo, null));
        }
        recordSuccess(h, 'other', NOW - DAY, figures(1, 1, 1, null));
      },
    });
    app = a;
    await a.service.start();
    const at = async (w: '7d' | '30d' | '90d') =>
      (await a.service.getSeries('home', w)).map((p) => p.dau);
    assert.deepEqual(await at('7d'), [3]);
    assert.deepEqual(await at('30d'), [20, 3]);
    assert.deepEqual(await at('90d'), [80, 20, 3]);
    assert.deepEqual(Object.keys((await a.service.getSeries('home', '7d'))[0]!).sort(), [
      'at',
      'dau',
      'mau',
      'wau',
    ]);
    await assert.rejects(a.service.getSeries('home', '1y' as '7d'), RangeError);
  });
});

describe('settings', () => {
  test('a bad field is refused with a message naming it, and nothing is written', async () => {
    const { service, store } = await started();
    const result = await service.saveSettings({
      version: 1,
      profiles: [
        { name: 'home', ssh: { target: 'bad target' } },
        { name: 'HOME', local: {}, intervalSeconds: 0 },
      ],
    });
    assert.equal(result.ok, false);
    const lines = (result.message ?? '').split('\n');
    assert.match(lines[0] ?? '', /^profiles\[0\]\.ssh\.target: must be \[user@\]host\[:port\]/);
    assert.ok(lines.some((l) => /^profiles\[1\]\.intervalSeconds: /.test(l)));
    assert.ok(lines.some((l) => /^profiles\[1\]\.name: "HOME" is already the name/.test(l)));
    assert.equal(existsSync(store.path), false);
  });

  test('saving restarts the monitor with the new profiles', async () => {
    const a = await started();
    const db = dbIn(a.dir);
    assert.deepEqual(await a.service.saveSettings(localSettings({ name: 'one', db })), {
      ok: true,
      message: null,
    });
    await a.service.refreshNow(null);
    assert.deepEqual(
      (await a.service.getSnapshot()).profiles.map((p) => [p.name, p.status]),
      [['one', 'ok']],
    );
    assert.equal((await a.service.getSnapshot()).firstRun, false);
    await a.service.saveSettings(localSettings({ name: 'one', db }, { name: 'two', db }));
    await a.service.refreshNow(null);
    const s = await a.service.getSnapshot();
    assert.deepEqual(
      s.profiles.map((p) => [p.name, p.status, p.total?.dau.value]),
      [
        ['one', 'ok', 4],
        ['two', 'ok', 4],
      ],
    );
    assert.deepEqual(
      (await a.service.getSettings()).profiles.map((p) => p.name),
      ['one', 'two'],
    );
  });

  test('secrets go to the secret store, never into settings, and go with their profile', async () => {
    const a = await started();
    const db = dbIn(a.dir);
    await a.service.saveSettings(localSettings({ name: 'one', db }));
    assert.deepEqual(await a.service.setSecret('one', 'password', 'hunter2'), {
      ok: true,
      message: null,
    });
    assert.equal(await a.secrets.get('one', 'password'), 'hunter2');
    assert.doesNotMatch(readFileSync(a.store.path, 'utf8'), /hunter2/);
    await a.service.saveSettings({ version: 1, profiles: [] });
    assert.equal(await a.secrets.get('one', 'password'), null);
    const sneaky = await a.service.saveSettings({
      version: 1,
      profiles: [{ name: 'x', local: {}, password: 'hunter2' } as never],
    });
    assert.equal(sneaky.ok, false);
    assert.match(sneaky.message ?? '', /profiles\[0\]\.password: secrets are never kept/);
  });

  test('secrets are refused, saying why, where the system cannot keep them', async () => {
    const a = await started({ secretsAvailable: false });
    const result = await a.service.setSecret('one', 'passphrase', 'x');
    assert.equal(result.ok, false);
    assert.match(result.message ?? '', /ssh-agent/);
    assert.equal(a.secrets.secrets.size, 0);
    assert.equal((await a.service.getSnapshot()).secretsAvailable, false);
  });

  test('start at login is set through the platform, and a refusal is told', async () => {
    const a = await started();
    assert.deepEqual(await a.service.setStartAtLogin(true), { ok: true, message: null });
    assert.equal((await a.service.getSnapshot()).startAtLogin, true);
    a.startAtLogin.refuse = true;
    const refused = await a.service.setStartAtLogin(false);
    assert.equal(refused.ok, false);
    assert.match(refused.message ?? '', /Permission denied.*autostart file/);
    assert.equal((await a.service.getSnapshot()).startAtLogin, true);
  });
});

describe('alerts', () => {
  test('a pause holds alerts, shows in the snapshot, and outlives a restart of the app', async () => {
    const clock = new FakeClock();
    const a = await makeApp({
      clock,
      seed: (h) => recordSuccess(h, 'home', NOW - DAY, figures(40, 40, 40, NOW - DAY)),
    });
    app = a;
    await a.store.save(localSettings({ name: 'home', db: dbIn(a.dir) }));
    await a.service.pauseAlerts(NOW + HOUR);
    await a.service.start();
    await a.service.refreshNow(null);
    assert.equal((await a.service.getSnapshot()).alertsPausedUntil, NOW + HOUR);
    assert.deepEqual(a.notifier.shown, [], 'DAU fell from 40 to 4, but alerts are paused');
    await a.service.stop();

    const again = await makeApp({ clock, dir: a.dir });
    try {
      await again.service.start();
      assert.equal((await again.service.getSnapshot()).alertsPausedUntil, NOW + HOUR);
      await again.service.pauseAlerts(null);
      await again.service.refreshNow(null);
      assert.equal((await again.service.getSnapshot()).alertsPausedUntil, null);
      // DAU, WAU and MAU fell, for the total and for a.test: the held alerts come after the pause.
      assert.ok(again.notifier.shown.length > 0);
      assert.ok(again.notifier.shown.every((n) => n.profile === 'home'));
    } finally {
      await again.service.stop();
      again.history.close();
    }
  });
});

test('the end of a pause is announced in a new snapshot', async () => {
  const clock = new FakeClock();
  const a = await started({ clock });
  await a.service.pauseAlerts(NOW + HOUR);
  await settle();
  assert.equal(a.snapshots.at(-1)?.alertsPausedUntil, NOW + HOUR);
  await clock.advance(HOUR * 1000 + 2000);
  await settle();
  assert.equal(a.snapshots.at(-1)?.alertsPausedUntil, null);
});

describe('test connection', () => {
  test('a local draft: the SSH steps are skipped, the data found and read, nothing saved', async () => {
    const a = await started();
    const db = dbIn(a.dir);
    const result = await a.service.testConnection('draft', localSettings({ name: 'draft', db }));
    assert.deepEqual(
      result.steps.map((s) => [s.step, s.state]),
      [
        ['connect', 'skipped'],
        ['host-key', 'skipped'],
        ['authenticate', 'skipped'],
        ['find-data', 'ok'],
        ['read', 'ok'],
      ],
    );
    assert.match(result.steps[3]!.detail, new RegExp(db));
    assert.match(result.steps[4]!.detail, /DAU 4 · WAU 7 · MAU 8/);
    assert.equal(result.outcome?.ok, true);
    assert.equal(existsSync(a.store.path), false);
    assert.deepEqual(a.history.refreshes(), []);
  });

  test('a draft whose data is missing fails at reading, with the sentence to act on', async () => {
    const a = await started();
    const db = join(a.dir, 'nope.sqlite');
    const result = await a.service.testConnection('draft', localSettings({ name: 'draft', db }));
    assert.equal(result.steps[4]!.state, 'failed');
    assert.match(result.steps[4]!.detail, /check the path/);
    assert.equal(result.outcome?.ok, false);
    rmSync(db, { force: true });
  });

  test('a bad field is named without connecting', async () => {
    const a = await started();
    const result = await a.service.testConnection('x', {
      version: 1,
      profiles: [{ name: 'x', ssh: { target: '-oProxyCommand=evil' } }],
    });
    assert.equal(result.steps[0]!.state, 'failed');
    assert.match(result.steps[0]!.detail, /^profiles\[0\]\.ssh\.target: /);
    assert.ok(result.steps.slice(1).every((s) => s.state === 'skipped'));
  });
});
