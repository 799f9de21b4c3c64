/**
 * Watch mode end to end: the built CLI watches a profile over a real sshd, reading a database with
 * Prosody's own schema (created by a real Prosody); logins are added between refreshes and the
 * large-change alert must arrive exactly once, be recorded in history, and SIGTERM ends with exit 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { cleanupProsody, createProsody } from '../helpers/prosody-server.js';
import { activityRow } from '../fixtures/prosody-sqlite.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

const projectDir = join(__dirname, '..', '..');
let sshd: SshdInstance;
let key: GeneratedKey;
let user: TestUser;
let stateDir: string;
let dbPath: string;

before(async () => {
  const prosody = await createProsody({ storage: 'sql', hosts: ['a.test'] });
  const now = Math.floor(Date.now() / 1000);
  await prosody.seed(
    Array.from({ length: 20 }, (_, i) => ({
      host: 'a.test',
      user: `old${i}`,
      event: 'login' as const,
      timestamp: now - 3600,
    })),
  );
  dbPath = prosody.sqlitePath!;
  sshd = await startSshd({ passwordAuth: false });
  key = await generateKey('ed25519');
  user = await sshd.addUser('watcher', { authorizedKeys: [key.authorizedKey] });
  for (let dir = dbPath; dir !== '/tmp'; dir = join(dir, '..')) chmodSync(dir, 0o755);
  chownSync(dbPath, user.uid, user.gid);
  stateDir = mkdtempSync(join(tmpdir(), 'pau-watch-'));
  writeFileSync(join(stateDir, 'known_hosts'), sshd.knownHostsLine());
  const settings = {
    version: 1,
    profiles: [
      {
        name: 'e2e',
        ssh: {
          target: `${user.name}@127.0.0.1:${sshd.port}`,
          identity: key.privatePath,
          knownHosts: join(stateDir, 'known_hosts'),
          sshConfig: '/dev/null',
          remoteDb: dbPath,
        },
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
  await sshd?.stop();
  await cleanupProsody();
  rmSync(stateDir, { recursive: true, force: true });
});

test(
  'a watched server whose logins jump raises one alert, recorded, and SIGTERM exits 0',
  { timeout: 90_000 },
  async () => {
    const child = spawn(
      process.execPath,
      [
        join(projectDir, 'dist', 'main', 'cli.js'),
        '--watch',
        '--profile',
        'e2e',
        '--interval',
        '1s',
        '--state-dir',
        stateDir,
      ],
      { cwd: projectDir, env: { ...process.env, SSH_AUTH_SOCK: '', DBUS_SESSION_BUS_ADDRESS: '' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const refreshes = () => stdout.split('\n').filter((l) => / e2e {2}DAU /.test(l)).length;
    const waitFor = async (what: string, done: () => boolean, ms = 30_000) => {
      const end = Date.now() + ms;
      while (!done()) {
        if (Date.now() > end)
          throw new Error(`timed out waiting for ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        if (child.exitCode !== null)
          throw new Error(`watch exited early (${child.exitCode})\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    // A steady state long enough for the baseline to exist.
    await waitFor('six steady refreshes', () => refreshes() >= 6);
    assert.doesNotMatch(stdout, /^alert:/m);
    assert.match(stdout, /DAU 20 · WAU 20 · MAU 20/);

    // Twelve more people log in: DAU 20 → 32 (+60 %, +12 users).
    const db = new Database(dbPath);
    const now = Math.floor(Date.now() / 1000);
    const insert = db.prepare(
      'INSERT INTO prosody (host, user, store, key, type, value) VALUES (@host, @user, @store, @key, @type, @value)',
    );
    for (let i = 0; i < 12; i++)
      insert.run(activityRow({ host: 'a.test', user: `new${i}`, event: 'login', timestamp: now }));
    db.close();
    const before = refreshes();
    await waitFor('eight refreshes after the change', () => refreshes() >= before + 8);

    const alerts = stdout.split('\n').filter((l) => l.startsWith('alert:'));
    const dauAlerts = alerts.filter((l) => /DAU 20 → 32 \(\+60 %\) on a\.test/.test(l));
    assert.equal(dauAlerts.length, 1, `alerts:\n${alerts.join('\n')}`);
    assert.match(stdout, /DAU 32 · WAU 32 · MAU 32/);

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0, stderr);

    const history = spawn(
      process.execPath,
      [join(projectDir, 'dist', 'main', 'cli.js'), 'history', '--json', '--state-dir', stateDir],
      { cwd: projectDir },
    );
    let json = '';
    history.stdout.on('data', (d: Buffer) => (json += d.toString()));
    await new Promise((r) => history.once('exit', r));
    const rows = JSON.parse(json) as Array<{ host: string; dau: number; ok: boolean }>;
    assert.ok(rows.filter((r) => r.host === 'a.test').length >= before + 8);
    assert.ok(rows.some((r) => r.host === 'a.test' && r.dau === 32));
    const recorded = new Database(join(stateDir, 'history.sqlite'), { readonly: true });
    const stored = recorded
      .prepare(
        "SELECT count(*) AS n FROM alerts WHERE kind = 'large-change' AND host = 'a.test' AND figure = 'dau'",
      )
      .get() as { n: number };
    recorded.close();
    assert.equal(stored.n, 1);
  },
);
