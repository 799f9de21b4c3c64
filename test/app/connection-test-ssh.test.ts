/**
 * Test connection and "trust this key" against a real OpenSSH sshd on loopback: an unknown host key
 * is shown with its fingerprint, trusted, and then every step passes; a changed key is refused and
 * never replaced.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ConnectionTestResult } from '../../main/core/ipc-contract.js';
import type { Settings } from '../../main/core/profile-validation.js';
import { sha256Fingerprint } from '../../main/ssh/host-key-fingerprint.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';
import { type AppFixture, makeApp } from './app-fixture.js';

let sshd: SshdInstance;
let key: GeneratedKey;
let user: TestUser;
let remoteDb: string;
let app: AppFixture;

before(async () => {
  sshd = await startSshd({ passwordAuth: false, hostKeyTypes: ['ed25519'] });
  key = await generateKey('ed25519');
  user = await sshd.addUser('apptest', { authorizedKeys: [key.authorizedKey] });
  const remoteDir = mkdtempSync(join(sshd.dir, 'prosody-'));
  chmodSync(remoteDir, 0o755);
  remoteDb = join(remoteDir, 'prosody.sqlite');
  const now = Math.floor(Date.now() / 1000);
  writeProsodySqlite(remoteDb, [
    activityRow({ host: 'a.test', user: 'ann', event: 'login', timestamp: now - 3600 }),
    activityRow({ host: 'a.test', user: 'bob', event: 'login', timestamp: now - 3 * 86400 }),
  ]);
  chownSync(remoteDb, user.uid, user.gid);
  app = await makeApp();
  await app.service.start();
});

after(async () => {
  await app?.close();
  await sshd?.stop();
});

function draft(knownHosts: string): Settings {
  return {
    version: 1,
    profiles: [
      {
        name: 'server',
        ssh: {
          target: `${user.name}@127.0.0.1:${sshd.port}`,
          identity: key.privatePath,
          knownHosts,
          sshConfig: '/dev/null',
          remoteDb,
        },
      },
    ],
  };
}

function states(result: ConnectionTestResult): string[] {
  return result.steps.map((s) => `${s.step} ${s.state}`);
}

describe('Test connection over SSH', () => {
  test('an unknown host key is shown with its fingerprint, trusted, and then every step passes', async () => {
    const knownHosts = join(app.dir, 'unknown', 'known_hosts');
    const serverKey = sha256Fingerprint(sshd.hostKeys[0]!.blob);

    const first = await app.service.testConnection('server', draft(knownHosts));
    assert.deepEqual(states(first), [
      'connect ok',
      'host-key failed',
      'authenticate skipped',
      'find-data skipped',
      'read skipped',
    ]);
    assert.deepEqual(first.unknownHostKey, {
      host: '127.0.0.1',
      port: sshd.port,
      keyType: 'ssh-ed25519',
      fingerprint: serverKey,
    });
    assert.equal(first.changedHostKey, null);
    assert.match(first.steps[1]!.detail, new RegExp(serverKey.replace(/[+/]/g, '\\$&')));
    assert.equal(existsSync(knownHosts), false, 'nothing is written before the user decides');

    // A fingerprint other than the server's is never written, whatever the window sends.
    const wrong = await app.service.trustHostKey(
      '127.0.0.1',
      sshd.port,
      sha256Fingerprint(key.blob),
      knownHosts,
    );
    assert.equal(wrong.ok, false);
    assert.match(wrong.message ?? '', /nothing was trusted/);
    assert.equal(existsSync(knownHosts), false);

    const trusted = await app.service.trustHostKey('127.0.0.1', sshd.port, serverKey, knownHosts);
    assert.deepEqual(trusted, {
      ok: true,
      message: `Added 127.0.0.1's ssh-ed25519 key ${serverKey} to ${knownHosts}.`,
    });
    assert.equal(
      readFileSync(knownHosts, 'utf8'),
      `[127.0.0.1]:${sshd.port} ssh-ed25519 ${sshd.hostKeys[0]!.blob.toString('base64')}\n`,
    );

    const second = await app.service.testConnection('server', draft(knownHosts));
    assert.deepEqual(states(second), [
      'connect ok',
      'host-key ok',
      'authenticate ok',
      'find-data ok',
      'read ok',
    ]);
    assert.equal(second.unknownHostKey, null);
    assert.match(second.steps[0]!.detail, new RegExp(`127\\.0\\.0\\.1 port ${sshd.port}`));
    assert.match(second.steps[2]!.detail, /Logged in to 127\.0\.0\.1/);
    assert.match(second.steps[3]!.detail, new RegExp(remoteDb));
    assert.match(second.steps[4]!.detail, /DAU 1 · WAU 2 · MAU 2/);
    assert.equal(second.outcome?.ok, true);
    assert.deepEqual(app.history.refreshes(), [], 'a test is not recorded');
    assert.equal(existsSync(app.store.path), false, 'a test saves nothing');
  });

  test('a changed host key is refused with a warning, and trusting it is refused too', async () => {
    // The default known_hosts file (the app's ~/.ssh/known_hosts) holds another key for the server.
    const knownHosts = app.knownHostsPath;
    const impostor = await generateKey('ed25519');
    const line = `[127.0.0.1]:${sshd.port} ssh-ed25519 ${impostor.blob.toString('base64')}\n`;
    writeFileSync(knownHosts, line);
    const serverKey = sha256Fingerprint(sshd.hostKeys[0]!.blob);

    const result = await app.service.testConnection('server', draft(knownHosts));
    assert.deepEqual(states(result), [
      'connect ok',
      'host-key failed',
      'authenticate skipped',
      'find-data skipped',
      'read skipped',
    ]);
    assert.equal(result.unknownHostKey, null);
    assert.equal(result.changedHostKey?.host, '127.0.0.1');
    assert.equal(result.changedHostKey?.fingerprint, serverKey);
    assert.match(
      result.changedHostKey?.message ?? '',
      /^WARNING: the host key of 127\.0\.0\.1 has changed/,
    );
    assert.match(result.changedHostKey?.message ?? '', /Nothing was sent/);

    const trusted = await app.service.trustHostKey('127.0.0.1', sshd.port, serverKey, knownHosts);
    assert.equal(trusted.ok, false);
    assert.match(trusted.message ?? '', /never replaced/);
    assert.equal(readFileSync(knownHosts, 'utf8'), line);
  });

  test('a key is trusted only into the default known_hosts file or the one the tested server names', async () => {
    const serverKey = sha256Fingerprint(sshd.hostKeys[0]!.blob);
    const tested = join(mkdtempSync(join(app.dir, 'tested-')), 'known_hosts');
    const elsewhere = join(mkdtempSync(join(app.dir, 'elsewhere-')), 'authorized_keys');
    const offered = await app.service.testConnection('server', draft(tested));
    assert.equal(offered.unknownHostKey?.fingerprint, serverKey);

    const refused = await app.service.trustHostKey('127.0.0.1', sshd.port, serverKey, elsewhere);
    assert.equal(refused.ok, false);
    assert.match(refused.message ?? '', /^Not trusted: .*authorized_keys is neither the default/);
    assert.equal(existsSync(elsewhere), false, 'nothing written to a file the window named');

    const trusted = await app.service.trustHostKey('127.0.0.1', sshd.port, serverKey, tested);
    assert.equal(trusted.ok, true, trusted.message ?? '');
    assert.match(readFileSync(tested, 'utf8'), /^\[127\.0\.0\.1\]:\d+ ssh-ed25519 /);
  });
});
