/**
 * The built main process (dist/main/electron/main.js), unchanged, end to end: run under Node with
 * the Electron TEST DOUBLE (test/electron-double/), whose window is real headless Chromium showing
 * the real page with the real preload, and whose tray, menu, power monitor and dialogs are
 * recorded so that this test can read and click them. Against a real OpenSSH sshd on loopback
 * serving a seeded Prosody database, with a real settings file, history database and autostart
 * folder in a temporary HOME. Build first: `npm run build`.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AppSnapshot } from '../../main/core/ipc-contract.js';
import type { Settings } from '../../main/core/profile-validation.js';
import type { DoubleState } from '../electron-double/control.js';
import { type MainProcess, startMainProcess } from '../electron-double/main-process.js';
import { HistoryDb } from '../../main/store/history-db.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { type FaultServer, startFaultServer } from '../support/fault-server.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

const HOUR = 3600;
const DAY = 24 * HOUR;

/** A HOME for one app, removed when the tests end. */
function tempHome(prefix: string): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(home, { recursive: true, force: true }));
  return home;
}

/** The app's state folder under `home` (XDG_CONFIG_HOME is HOME/.config). */
function stateFolder(home: string): string {
  return join(home, '.config', 'prosody-active-users');
}

function writeSettings(home: string, settings: Settings): void {
  mkdirSync(stateFolder(home), { recursive: true, mode: 0o700 });
  writeFileSync(join(stateFolder(home), 'settings.json'), JSON.stringify(settings, null, 2));
}

/** The snapshot as the page gets it: through the real preload and main's real IPC handlers. */
function snapshotOf(app: MainProcess): Promise<AppSnapshot> {
  return app.evaluate<AppSnapshot>('window.prosodyActiveUsers.getSnapshot()');
}

function menuLabels(state: DoubleState): string[] {
  return (state.tray?.menu ?? []).map((i) => i.label);
}

function visible(state: DoubleState): boolean {
  return state.windows[0]?.visible === true;
}

/** The view the page shows: 'dashboard', 'settings', or null while it boots. */
const PAGE_VIEW = `(() => {
  if (!document.getElementById('dashboard')?.hidden) return 'dashboard';
  if (!document.getElementById('settings')?.hidden) return 'settings';
  return null;
})()`;

describe('the main process under the Electron test double, against a real sshd', () => {
  let sshd: SshdInstance;
  let key: GeneratedKey;
  let user: TestUser;
  let home: string;
  let app: MainProcess;

  before(async () => {
    sshd = await startSshd({ passwordAuth: false, hostKeyTypes: ['ed25519'] });
    key = await generateKey('ed25519');
    user = await sshd.addUser('appmain', { authorizedKeys: [key.authorizedKey] });
    const remoteDir = mkdtempSync(join(sshd.dir, 'prosody-'));
    chmodSync(remoteDir, 0o755);
    const remoteDb = join(remoteDir, 'prosody.sqlite');
    const now = Math.floor(Date.now() / 1000);
    // DAU 2, WAU 3, MAU 4 on one host.
    writeProsodySqlite(remoteDb, [
      activityRow({ host: 'a.test', user: 'ann', event: 'login', timestamp: now - HOUR }),
      activityRow({ host: 'a.test', user: 'bob', event: 'login', timestamp: now - 2 * HOUR }),
      activityRow({ host: 'a.test', user: 'cat', event: 'login', timestamp: now - 3 * DAY }),
      activityRow({ host: 'a.test', user: 'dan', event: 'login', timestamp: now - 20 * DAY }),
    ]);
    chownSync(remoteDb, user.uid, user.gid);

    home = tempHome('pau-main-process-');
    // The default known_hosts file (~/.ssh/known_hosts) already knows the server.
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'known_hosts'), sshd.knownHostsLine());
    writeSettings(home, {
      version: 1,
      profiles: [
        {
          name: 'home',
          ssh: {
            target: `${user.name}@127.0.0.1:${sshd.port}`,
            identity: key.privatePath,
            sshConfig: '/dev/null',
            remoteDb,
          },
        },
      ],
    });
    app = startMainProcess({ home });
  });

  after(async () => {
    await app?.kill();
    await sshd?.stop();
  });

  test('starts: one tray icon, one hidden window, the single-instance lock held', async () => {
    const state = await app.waitFor('the tray icon', (s) => s.tray !== null && s);
    assert.equal(state.singleInstanceLock, true);
    assert.ok(
      state.listenersAtWhenReady?.includes('second-instance'),
      'a second launch is heard before anything is awaited',
    );
    assert.equal(state.windows.length, 1);
    assert.deepEqual(state.errorBoxes, []);
    assert.equal(menuLabels(state)[0], 'Open Prosody Active Users');
  });

  test('the first refresh fills the tray tooltip and the window', async () => {
    const tooltip = await app.waitFor(
      'the figures in the tooltip',
      (s) => s.tray?.tooltip.startsWith('home — DAU') && s.tray.tooltip,
    );
    assert.match(tooltip, /^home — DAU 2 · WAU 3 · MAU 4\nupdated /);
    const state = await app.state();
    assert.ok(menuLabels(state).includes('home — DAU 2 · WAU 3 · MAU 4'));
    const dau = await app.waitForPage(
      'the DAU on the page',
      `document.getElementById('figure-dau-value')?.textContent`,
    );
    assert.equal(dau, '2');
    // Served by main's own protocol handler (the double serves it on loopback for Chromium).
    assert.equal((await app.state()).windows[0]?.url, 'prosody-active-users://app/index.html');
    assert.equal(await app.evaluate(PAGE_VIEW), 'dashboard');
  });

  test('"Open Prosody Active Users" shows the window; losing the focus hides it', async () => {
    await app.clickMenuItem('Open Prosody Active Users');
    await app.waitFor('the window shown', visible);
    await app.blurWindow();
    await app.waitFor('the window hidden', (s) => !visible(s));
  });

  test('"Settings…" shows the window on the settings view', async () => {
    assert.equal(await app.evaluate(PAGE_VIEW), 'dashboard');
    await app.clickMenuItem('Settings…');
    await app.waitFor('the window shown', visible);
    await app.waitForPage('the settings view', `${PAGE_VIEW} === 'settings'`);
    await app.waitForPage(
      'the settings heading',
      `document.activeElement?.id === 'settings-heading'`,
    );
  });

  test('Escape hides the window', async () => {
    assert.equal(visible(await app.state()), true);
    await app.press('Escape');
    await app.waitFor('the window hidden', (s) => !visible(s));
  });

  test('"Refresh now" counts again', async () => {
    const before = (await snapshotOf(app)).profiles[0]?.lastAttemptAt ?? null;
    assert.notEqual(before, null);
    // Attempts are stamped in whole seconds: the next one must be in a later second.
    await app.waitForPage('a new second', `Date.now() / 1000 >= ${before! + 1}`);
    await app.clickMenuItem('Refresh now');
    await app.waitForPage(
      'a later refresh',
      `window.prosodyActiveUsers.getSnapshot().then((s) =>
        s.profiles[0].lastSuccessAt > ${before})`,
    );
  });

  test('"Pause alerts for 1 hour" pauses alerts for an hour, and "Resume alerts" resumes them', async () => {
    await app.clickMenuItem('Pause alerts for 1 hour');
    const paused = await app.waitFor(
      'the pause in the menu',
      (s) => menuLabels(s).includes('Resume alerts') && s,
    );
    assert.ok(menuLabels(paused).some((l) => l.startsWith('Alerts paused until ')));
    const until = (await snapshotOf(app)).alertsPausedUntil;
    assert.ok(until !== null && Math.abs(until - (Date.now() / 1000 + HOUR)) < 60, `${until}`);

    await app.clickMenuItem('Resume alerts');
    await app.waitFor('the pause ended', (s) => menuLabels(s).includes('Pause alerts for 1 hour'));
    assert.equal((await snapshotOf(app)).alertsPausedUntil, null);
  });

  test('"Pause alerts until tomorrow" pauses alerts until local midnight', async () => {
    await app.clickMenuItem('Pause alerts until tomorrow');
    await app.waitFor('the pause in the menu', (s) => menuLabels(s).includes('Resume alerts'));
    const until = (await snapshotOf(app)).alertsPausedUntil;
    // The app runs with TZ=UTC: local midnight is a multiple of a day.
    assert.equal(until, Math.ceil(Date.now() / 1000 / DAY) * DAY);
    await app.clickMenuItem('Resume alerts');
    await app.waitFor('the pause ended', (s) => menuLabels(s).includes('Pause alerts for 1 hour'));
  });

  test('"Start at login" writes the autostart entry and ticks; again, removes it', async () => {
    const entry = join(home, '.config', 'autostart', 'prosody-active-users.desktop');
    const checked = (s: DoubleState) =>
      s.tray?.menu.find((i) => i.label === 'Start at login')?.checked;
    const startAtLogin = 'window.prosodyActiveUsers.getSnapshot().then((s) => s.startAtLogin)';
    assert.equal(checked(await app.state()), false);
    // Electron ticks the box itself on a click; what counts is what the app then draws.
    await app.clickMenuItem('Start at login');
    await app.waitForPage('start at login on', startAtLogin);
    await app.waitFor('the box ticked', (s) => checked(s) === true);
    assert.equal(existsSync(entry), true);
    await app.clickMenuItem('Start at login');
    await app.waitForPage('start at login off', `${startAtLogin}.then((on) => !on)`);
    await app.waitFor('the box cleared', (s) => checked(s) === false);
    assert.equal(existsSync(entry), false);
  });

  test('a second instance shows the first one’s window and leaves', async () => {
    assert.equal(visible(await app.state()), false);
    const second = startMainProcess({ home });
    try {
      const exit = await second.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, second.output());
      await app.waitFor('the first window shown', visible);
    } finally {
      await second.kill();
    }
    await app.blurWindow();
    await app.waitFor('the window hidden', (s) => !visible(s));
  });

  test('waking from sleep refreshes a server that fell due while asleep', async () => {
    const before = (await snapshotOf(app)).profiles[0]?.lastSuccessAt ?? 0;
    await app.power('suspend');
    // Two hours of wall time pass during the sleep: the hourly refresh is overdue.
    await app.power('resume', 2 * HOUR * 1000);
    await app.waitForPage(
      'a refresh after waking',
      `window.prosodyActiveUsers.getSnapshot().then((s) =>
        s.profiles[0].lastSuccessAt >= ${before + 2 * HOUR})`,
    );
  });

  test('"Quit" ends the process', async () => {
    await app.clickMenuItem('Quit');
    assert.deepEqual(await app.exited, { code: 0, signal: null });
    assert.equal(existsSync(join(stateFolder(home), 'DoubleSingletonLock')), false);
  });
});

describe('Quit while a refresh hangs on a silent server', () => {
  let silent: FaultServer;
  let home: string;
  let app: MainProcess;

  before(async () => {
    // It logs the app in, takes the query command, and never answers it.
    silent = await startFaultServer({ exec: () => {} });
    home = tempHome('pau-main-process-quit-');
    const localDb = join(home, 'prosody.sqlite');
    const now = Math.floor(Date.now() / 1000);
    writeProsodySqlite(localDb, [
      activityRow({ host: 'b.test', user: 'eve', event: 'login', timestamp: now - HOUR }),
    ]);
    writeSettings(home, {
      version: 1,
      profiles: [
        { name: 'local', local: { db: localDb } },
        {
          name: 'silent',
          ssh: {
            target: `${silent.user}@${silent.host}:${silent.port}`,
            identity: silent.identityPath,
            knownHosts: silent.knownHostsPath,
            sshConfig: '/dev/null',
            remoteDb: '/var/lib/prosody/prosody.sqlite',
            method: 'query',
          },
        },
      ],
    });
    app = startMainProcess({ home });
  });

  after(async () => {
    await app?.kill();
    await silent?.close();
  });

  test('Quit ends the process within 5 s, and the history stays whole', async () => {
    await app.waitFor(
      'the local figures in the tooltip',
      (s) => s.tray?.tooltip.includes('local — DAU 1') && menuLabels(s).includes('Refreshing…'),
    );
    await app.waitFor(
      'the query sent to the silent server',
      () => silent.stats.commands.length > 0,
    );
    const asked = Date.now();
    await app.clickMenuItem('Quit');
    const exit = await app.exited;
    const seconds = (Date.now() - asked) / 1000;
    assert.deepEqual(exit, { code: 0, signal: null }, app.output());
    assert.ok(seconds < 5, `Quit took ${seconds} s`);

    const history = HistoryDb.open(join(stateFolder(home), 'history.sqlite'));
    assert.ok(history.ok);
    try {
      const refreshes = history.value.refreshes();
      assert.deepEqual(
        refreshes.map((r) => [r.profile, r.ok]),
        [['local', true]],
      );
    } finally {
      history.value.close();
    }
  });
});

describe('placement of the panel, with the double’s screen (1920×1080, top panel 32 px)', () => {
  const started: MainProcess[] = [];
  after(async () => {
    for (const app of started) await app.kill();
  });

  for (const [session, env, at] of [
    // The cursor the double reports (1800, 10), as after a click on a top-right tray icon.
    ['X11: next to the cursor, below the top panel', { XDG_SESSION_TYPE: 'x11' }, [1512, 40]],
    ['Wayland: centred, the cursor being unknown', { XDG_SESSION_TYPE: 'wayland' }, [760, 256]],
  ] as const) {
    test(`first run opens the panel; ${session}`, async () => {
      const app = startMainProcess({ home: tempHome('pau-placement-'), env });
      started.push(app);
      const win = await app.waitFor('the panel shown', (s) => visible(s) && s.windows[0]);
      assert.deepEqual(win.position, at);
      await app.waitForPage('the settings view on first run', `${PAGE_VIEW} === 'settings'`);
      await app.clickMenuItem('Quit');
      assert.deepEqual(await app.exited, { code: 0, signal: null });
    });
  }
});

describe('an alert, shown as an Electron notification', () => {
  let app: MainProcess;

  before(() => {
    const home = tempHome('pau-main-process-alert-');
    const localDb = join(home, 'prosody.sqlite');
    writeProsodySqlite(localDb, [
      activityRow({
        host: 'c.test',
        user: 'fay',
        event: 'login',
        timestamp: Math.floor(Date.now() / 1000) - HOUR,
      }),
    ]);
    writeSettings(home, {
      version: 1,
      profiles: [
        { name: 'fine', local: { db: localDb } },
        {
          name: 'broken',
          local: { db: join(home, 'missing.sqlite') },
          alerts: { failuresBeforeAlert: 1 },
        },
      ],
    });
    app = startMainProcess({ home });
  });

  after(async () => {
    await app?.kill();
  });

  test('a failing server raises one notification; a click opens the window on that server', async () => {
    const state = await app.waitFor('a notification', (s) => s.notifications.length > 0 && s);
    assert.equal(state.notifications.length, 1);
    assert.match(state.notifications[0]!.title + state.notifications[0]!.body, /broken/);
    await app.waitForPage(
      'the first server on the page',
      `document.getElementById('figures-heading')?.textContent === 'fine'`,
    );
    assert.equal(visible(state), false);

    await app.clickNotification(0);
    await app.waitFor('the window shown', visible);
    await app.waitForPage(
      'the failing server on the page',
      `document.getElementById('figures-heading')?.textContent === 'broken'`,
    );
  });
});

describe('a start that cannot go on', () => {
  test('a history file that is not a database: an error box says so, and the app exits with 1', async () => {
    const home = tempHome('pau-main-process-broken-');
    mkdirSync(stateFolder(home), { recursive: true });
    writeFileSync(join(stateFolder(home), 'history.sqlite'), 'not a database, '.repeat(512));
    const app = startMainProcess({ home });
    assert.deepEqual(await app.exited, { code: 1, signal: null });
    assert.match(
      app.output(),
      /\[electron test double\] error box: Prosody Active Users cannot start\n.*history\.sqlite/,
    );
  });
});
