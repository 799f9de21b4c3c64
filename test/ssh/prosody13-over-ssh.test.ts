/**
 * A real Prosody 13.0.1's SQLite database read over a real sshd: the remote query sends an
 * account's "exists" and "disabled" and nothing else (no salt, key or password leaves the
 * server), and a cached count notices an account disabled, one enabled and one deleted while its
 * records stay, matching mod_measure_active_users' own /metrics at the end.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { remoteQueryCommand } from '../../main/ssh/remote-query-command.js';
import { runBuiltCli } from '../fixtures/run-built-cli.js';
import {
  type ProsodyInstance,
  type SeedRecord,
  cleanupProsody,
  createProsody,
} from '../helpers/prosody-server.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

const HOST = 'a.test';
const USERS = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];

let prosody: ProsodyInstance;
let sshd: SshdInstance;
let key: GeneratedKey;
let reader: TestUser;
let local: string;
let knownHosts: string;
let remoteDb: string;
let start: number;

/** Ages that put u1 and u2 in different windows, so that swapping their flags shows. */
const AGES: Record<string, number> = {
  u0: 3600,
  u1: 2 * 86400,
  u2: 2 * 3600,
  u3: 3 * 3600,
  u4: 10 * 86400,
  u5: 4 * 3600,
};
const records = (): SeedRecord[] =>
  USERS.map((user) => ({ host: HOST, user, event: 'login', timestamp: start - AGES[user]! }));
const figures = (h: { dau: number; wau: number; mau: number }) => [h.dau, h.wau, h.mau];

/** The server's database as sshd's user sees it: a consistent copy of Prosody's live file. */
async function publish(): Promise<void> {
  const db = new Database(prosody.sqlitePath!, { readonly: true });
  try {
    await db.backup(remoteDb);
  } finally {
    db.close();
  }
  chmodSync(remoteDb, 0o644);
}

async function shell(...args: string[]): Promise<void> {
  const r = await prosody.prosodyctl('shell', ...args);
  assert.match(r.stdout, /OK:/, `prosodyctl shell ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
}

before(async () => {
  local = mkdtempSync(join(tmpdir(), 'pau-p13-ssh-'));
  [prosody, sshd, key] = await Promise.all([
    createProsody({ storage: 'sql', hosts: [HOST], version: '13', adminSocket: true }),
    startSshd({ passwordAuth: false }),
    generateKey('ed25519'),
  ]);
  reader = await sshd.addUser('reader', { authorizedKeys: [key.authorizedKey] });
  knownHosts = join(local, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine());
  const dir = mkdtempSync(join(sshd.dir, 'prosody-'));
  chmodSync(dir, 0o755);
  remoteDb = join(dir, 'prosody.sqlite');
  start = Math.floor(Date.now() / 1000);
  await prosody.seed(records());
  await prosody.start();
  for (const user of USERS.slice(0, 5))
    await shell('user', 'create', `${user}@${HOST}`, 'pw-of-' + user);
  await shell('user', 'disable', `u1@${HOST}`);
  await publish();
});

after(async () => {
  await sshd?.stop();
  await cleanupProsody();
  rmSync(local, { recursive: true, force: true });
});

function overSsh(state: string) {
  const run = runBuiltCli([
    '--ssh',
    `${reader.name}@127.0.0.1:${sshd.port}`,
    '--identity',
    key.privatePath,
    '--known-hosts',
    knownHosts,
    '--ssh-config',
    '/dev/null',
    '--remote-db',
    remoteDb,
    '--state-dir',
    state,
    '--json',
  ]);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as {
    hosts: Record<
      string,
      { dau: number; wau: number; mau: number; excludedDisabled: number; excludedNoAccount: number }
    >;
    fetch: Array<{ method: string }>;
  };
}

test('the server-side command sends no salt, key or password of any account', () => {
  const secrets = prosody
    .sqlRows({ store: 'accounts' })
    .filter((r) => ['salt', 'stored_key', 'server_key', 'password'].includes(r.key))
    .map((r) => r.value);
  assert.ok(secrets.length >= 15, `the accounts hold their secrets: ${secrets.length}`);
  const command = remoteQueryCommand(remoteDb);
  assert.ok(command);
  // Exactly what crosses the wire: the command's output as the ssh client receives it.
  const ssh = spawnSync(
    'ssh',
    [
      ...['-F', '/dev/null', '-i', key.privatePath, '-o', 'IdentitiesOnly=yes'],
      ...['-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'BatchMode=yes'],
      ...['-p', String(sshd.port), `${reader.name}@127.0.0.1`, command],
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(ssh.status, 0, ssh.stderr);
  assert.match(ssh.stdout, /^\["a\.test","u1",\d+,null,2,[01],\d+\]$/m, 'u1 travels as disabled');
  assert.match(ssh.stdout, /^\["a\.test","u5",\d+,null,0,[01],\d+\]$/m, 'u5 travels as no account');
  for (const secret of secrets) assert.ok(!ssh.stdout.includes(secret), `leaked ${secret}`);
  assert.doesNotMatch(ssh.stdout, /salt|stored_key|server_key|iteration|pw-of-/);
});

test('a cached count notices a disable, an enable and an account deleted while its records stay, and ends equal to Prosody 13', async () => {
  const state = mkdtempSync(join(local, 'state-'));
  const first = overSsh(state);
  const f = first.hosts[HOST]!;
  assert.deepEqual(figures(f), [3, 3, 4]);
  assert.deepEqual([f.excludedDisabled, f.excludedNoAccount], [1, 1]);

  // A swap leaves every total as it was: only the accounts' `updated` times tell.
  await shell('user', 'disable', `u2@${HOST}`);
  await shell('user', 'enable', `u1@${HOST}`);
  await publish();
  const swapped = overSsh(state);
  assert.equal(swapped.fetch[0]?.method, 'remote query, changes only');
  assert.deepEqual(figures(swapped.hosts[HOST]!), [2, 3, 4]);
  assert.equal(swapped.hosts[HOST]!.excludedDisabled, 1);

  // `user delete` purges the user's stores; the records come back as records outliving it.
  await shell('user', 'delete', `u3@${HOST}`);
  await prosody.stop();
  await prosody.seed(records().filter((r) => r.user === 'u3'));
  await prosody.start();
  await publish();
  const deleted = overSsh(state);
  const d = deleted.hosts[HOST]!;
  assert.deepEqual(figures(d), [1, 2, 3]);
  assert.deepEqual([d.excludedDisabled, d.excludedNoAccount], [1, 2]);

  await prosody.waitForActiveUsersCount([HOST]);
  const theirs = (await prosody.metrics()).get(HOST);
  const h = deleted.hosts[HOST]!;
  assert.deepEqual({ d1: h.dau, d7: h.wau, d30: h.mau }, theirs);
});
