/**
 * The CLI over SSH against a real OpenSSH sshd on loopback: figures over SSH equal the figures
 * from the local file, for both storage layouts and both SQL methods.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DAY } from '../../main/core/windows.js';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { type ActivitySeed, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { runBuiltCli } from '../fixtures/run-built-cli.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

const NOW = 1_795_536_000;
const seeds: ActivitySeed[] = [];
for (let i = 0; i < 200; i++) {
  const host = ['a.test', 'b.test'][i % 2]!;
  seeds.push({ host, user: `user${i}`, event: 'login', timestamp: NOW - (i * 3 * DAY) / 20 - 60 });
  if (i % 3 === 0)
    seeds.push({ host, user: `user${i}`, event: 'logout', timestamp: NOW - i * 1000 });
  if (i % 7 === 0)
    seeds.push({ host, user: `user${i}`, event: 'registered', timestamp: NOW - i * 2000 });
}

let sshd: SshdInstance;
let key: GeneratedKey;
let user: TestUser;
let noSqliteUser: TestUser;
let local: string;
let knownHosts: string;
let remoteDir: string;

before(async () => {
  local = mkdtempSync(join(tmpdir(), 'pau-ssh-cli-'));
  sshd = await startSshd({ passwordAuth: false });
  key = await generateKey('ed25519');
  user = await sshd.addUser('reader', { authorizedKeys: [key.authorizedKey] });
  noSqliteUser = await sshd.addUser('nosqlite', {
    authorizedKeys: [key.authorizedKey],
    pathWithoutSqlite: true,
  });
  knownHosts = join(local, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine());
  // The server's data, readable by both users.
  remoteDir = mkdtempSync(join(sshd.dir, 'prosody-'));
  chmodSync(remoteDir, 0o755);
  writeProsodySqlite(join(remoteDir, 'prosody.sqlite'), seeds.map(activityRow));
  writeProsodyInternal(join(remoteDir, 'data'), seeds);
  cpSync(join(remoteDir, 'prosody.sqlite'), join(local, 'local.sqlite'));
  for (const p of [join(remoteDir, 'prosody.sqlite')]) chownSync(p, user.uid, user.gid);
  chmodSync(join(remoteDir, 'prosody.sqlite'), 0o644);
});

after(async () => {
  await sshd?.stop();
  rmSync(local, { recursive: true, force: true });
});

function sshArgs(who: TestUser, ...rest: string[]): string[] {
  return [
    '--ssh',
    `${who.name}@127.0.0.1:${sshd.port}`,
    '--identity',
    key.privatePath,
    '--known-hosts',
    knownHosts,
    '--ssh-config',
    '/dev/null',
    '--at',
    String(NOW),
    '--json',
    ...rest,
  ];
}

function hostsOf(stdout: string): unknown {
  return (JSON.parse(stdout) as { hosts: unknown }).hosts;
}

describe('over SSH', () => {
  test('the remote query gives the same figures as the local file, and says how', () => {
    const expected = runBuiltCli([
      '--db',
      join(local, 'local.sqlite'),
      '--at',
      String(NOW),
      '--json',
    ]);
    assert.equal(expected.status, 0, expected.stderr);
    const run = runBuiltCli(
      sshArgs(user, '--remote-db', join(remoteDir, 'prosody.sqlite'), '--verbose'),
    );
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(hostsOf(run.stdout), hostsOf(expected.stdout));
    const out = JSON.parse(run.stdout) as {
      fetch: Array<{ method: string; bytesReceived: number }>;
      notices: string[];
    };
    assert.equal(out.fetch[0]?.method, 'remote query');
    assert.ok(out.fetch[0]!.bytesReceived > 0);
    assert.match(out.notices.join('\n'), /rollback-journal mode/);
    assert.match(run.stderr, /Fetched by remote query: \d+ bytes received in [\d.]+ s\./);
  });

  test('without sqlite3 on the server the database is copied over SFTP, with the same figures', () => {
    const expected = runBuiltCli([
      '--db',
      join(local, 'local.sqlite'),
      '--at',
      String(NOW),
      '--json',
    ]);
    const run = runBuiltCli(
      sshArgs(noSqliteUser, '--remote-db', join(remoteDir, 'prosody.sqlite')),
    );
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(hostsOf(run.stdout), hostsOf(expected.stdout));
    assert.equal(
      (JSON.parse(run.stdout) as { fetch: Array<{ method: string }> }).fetch[0]?.method,
      'SFTP copy',
    );
  });

  test('internal storage is read over SFTP with the same figures', () => {
    const expected = runBuiltCli([
      '--data-dir',
      join(remoteDir, 'data'),
      '--at',
      String(NOW),
      '--json',
    ]);
    const run = runBuiltCli(sshArgs(user, '--remote-data-dir', join(remoteDir, 'data')));
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(hostsOf(run.stdout), hostsOf(expected.stdout));
  });
});
