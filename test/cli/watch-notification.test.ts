/**
 * Watch mode's alert reaches a real desktop: the built CLI (`--watch`) runs with a private D-Bus
 * session bus and dunst under Xvfb (test/support/notification-daemon.ts) in its environment, and
 * the large-change alert it prints must also arrive in dunst, once, under the app's name. The
 * other watch test (watch-end-to-end.test.ts) blanks the bus to test the rest without a desktop.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import {
  type NotificationDaemon,
  startNotificationDaemon,
} from '../support/notification-daemon.js';

const projectDir = join(__dirname, '..', '..');
const PROFILE = 'dunst-watch';
let daemon: NotificationDaemon;
let stateDir: string;
let dbPath: string;
let child: ChildProcessWithoutNullStreams | undefined;

before(async () => {
  daemon = await startNotificationDaemon();
  stateDir = mkdtempSync(join(tmpdir(), 'pau-watch-notify-'));
  dbPath = join(stateDir, 'prosody.sqlite');
  const now = Math.floor(Date.now() / 1000);
  writeProsodySqlite(
    dbPath,
    Array.from({ length: 20 }, (_, i) =>
      activityRow({ host: 'a.test', user: `old${i}`, event: 'login', timestamp: now - 3600 }),
    ),
  );
  const settings = {
    version: 1,
    profiles: [
      {
        name: PROFILE,
        local: { db: dbPath },
        // A baseline a few seconds back stands in for "24 hours earlier" at this speed.
        alerts: {
          baselineSeconds: 4,
          cooldownSeconds: 3600,
          relativeThreshold: 0.2,
          absoluteMinimum: 5,
        },
      },
    ],
  };
  writeFileSync(join(stateDir, 'settings.json'), JSON.stringify(settings, null, 2));
});

after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await daemon?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

test(
  "watch mode's large-change alert arrives in the desktop's notification daemon, once",
  { timeout: 90_000 },
  async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...daemon.env };
    delete env.WAYLAND_DISPLAY;
    child = spawn(
      process.execPath,
      [
        join(projectDir, 'dist', 'main', 'cli.js'),
        '--watch',
        '--profile',
        PROFILE,
        '--interval',
        '1s',
        '--state-dir',
        stateDir,
      ],
      { cwd: projectDir, env },
    );
    const proc = child;
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const refreshes = () => stdout.split('\n').filter((l) => l.includes(`${PROFILE}  DAU `)).length;
    const waitFor = async (what: string, done: () => boolean, ms = 30_000) => {
      const end = Date.now() + ms;
      while (!done()) {
        if (Date.now() > end) {
          throw new Error(`timed out waiting for ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        }
        if (proc.exitCode !== null) {
          throw new Error(`watch exited early (${proc.exitCode})\n${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    await waitFor('six steady refreshes', () => refreshes() >= 6);
    assert.deepEqual(
      (await daemon.history()).filter((n) => n.summary.startsWith(`${PROFILE}:`)),
      [],
      'no alert while nothing changes',
    );

    // Twelve more people log in: DAU 20 → 32 (+60 %).
    const db = new Database(dbPath);
    const now = Math.floor(Date.now() / 1000);
    const insert = db.prepare(
      'INSERT INTO prosody (host, user, store, key, type, value) VALUES (@host, @user, @store, @key, @type, @value)',
    );
    for (let i = 0; i < 12; i++) {
      insert.run(activityRow({ host: 'a.test', user: `new${i}`, event: 'login', timestamp: now }));
    }
    db.close();

    // DAU, WAU and MAU moved in one refresh: one notification, the three named in it.
    const shown = await daemon.waitFor((n) => n.summary === `${PROFILE}: 3 alerts`, 30_000);
    assert.equal(
      shown.body,
      'DAU up 60 % on a.test; WAU up 60 % on a.test; MAU up 60 % on a.test. Every one is listed in the window.',
    );
    assert.equal(shown.appname, 'Prosody Active Users');
    assert.match(stdout, new RegExp(`^alert: ${PROFILE}: DAU 20 → 32`, 'm'));

    // A few more refreshes: the same change is not notified again.
    const seen = refreshes();
    await waitFor('three more refreshes', () => refreshes() >= seen + 3);
    const ours = (await daemon.history()).filter((n) => n.summary.startsWith(`${PROFILE}:`));
    assert.equal(ours.length, 1, JSON.stringify(ours));

    proc.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /notification .* was not shown/);
  },
);
