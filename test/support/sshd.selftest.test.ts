import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { after, before, test } from 'node:test';
import { Client, type ConnectConfig } from 'ssh2';
import { checkHostKey, type HostKeyCheck } from '../../main/ssh/known-hosts.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from './sshd.js';

let sshd: SshdInstance;
let key: GeneratedKey;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;

before(async () => {
  [sshd, key] = await Promise.all([startSshd(), generateKey('ed25519')]);
  [alice, bob, carol] = await Promise.all([
    sshd.addUser('alice', { authorizedKeys: [key.authorizedKey] }),
    sshd.addUser('bob', { password: 'correct horse battery' }),
    sshd.addUser('carol', { authorizedKeys: [key.authorizedKey], pathWithoutSqlite: true }),
  ]);
});

after(() => sshd?.stop());

/** Connects with ssh2, checking the host key against the helper's known_hosts line. */
function connect(config: ConnectConfig, knownHosts = sshd.knownHostsLine()) {
  const verdicts: HostKeyCheck[] = [];
  const client = new Client();
  const ready = new Promise<Client>((resolve, reject) => {
    client.once('ready', () => resolve(client)).once('error', reject);
    client.connect({
      host: sshd.host,
      port: sshd.port,
      readyTimeout: 5000,
      hostVerifier: (blob: Buffer) => {
        const verdict = checkHostKey(knownHosts, sshd.host, sshd.port, { blob });
        verdicts.push(verdict);
        return verdict.status === 'match';
      },
      ...config,
    });
  });
  return { ready, verdicts, client };
}

function exec(client: Client, command: string): Promise<{ stdout: string; code: number }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      let code = -1;
      stream.on('data', (d: Buffer) => (stdout += d.toString()));
      stream.stderr.resume();
      stream.on('exit', (c: number | null) => (code = c ?? -1));
      stream.on('close', () => resolve({ stdout, code }));
    });
  });
}

test('a key login runs a command and reads its output back', async () => {
  const { ready, verdicts, client } = connect({ username: alice.name, privateKey: key.privateKey });
  await ready;
  try {
    assert.deepEqual(await exec(client, 'echo hello'), { stdout: 'hello\n', code: 0 });
    assert.equal(verdicts.length, 1);
    assert.equal(verdicts[0]?.status, 'match');
  } finally {
    client.end();
  }
});

test('SFTP stats a file in the user’s home', async () => {
  const path = alice.writeFile('data/prosody.sqlite', 'not really sqlite', 0o640);
  const { ready, client } = connect({ username: alice.name, privateKey: key.privateKey });
  await ready;
  try {
    const sftp = await new Promise<import('ssh2').SFTPWrapper>((resolve, reject) =>
      client.sftp((err, s) => (err ? reject(err) : resolve(s))),
    );
    const stats = await new Promise<import('ssh2').Stats>((resolve, reject) =>
      sftp.stat(path, (err, s) => (err ? reject(err) : resolve(s))),
    );
    assert.equal(stats.size, 'not really sqlite'.length);
    assert.equal(stats.mode & 0o777, 0o640);
    assert.equal(stats.uid, alice.uid);
  } finally {
    client.end();
  }
});

test('a password login works for a user with a password', async () => {
  const { ready, client } = connect({ username: bob.name, password: bob.password! });
  await ready;
  try {
    assert.equal((await exec(client, 'id -un')).stdout, `${bob.name}\n`);
  } finally {
    client.end();
  }
});

test('a wrong password is refused', async () => {
  const { ready } = connect({ username: bob.name, password: 'wrong' });
  await assert.rejects(ready, /authentication methods failed/);
});

test('sqlite3 is on the default PATH and missing from a pathWithoutSqlite user’s', async () => {
  const withIt = connect({ username: alice.name, privateKey: key.privateKey });
  const without = connect({ username: carol.name, privateKey: key.privateKey });
  const [a, c] = await Promise.all([withIt.ready, without.ready]);
  try {
    assert.deepEqual(await exec(a, 'command -v sqlite3'), {
      stdout: '/usr/bin/sqlite3\n',
      code: 0,
    });
    assert.equal((await exec(c, 'command -v sqlite3')).code, 1);
    assert.equal((await exec(c, 'sqlite3 -version')).code, 127);
    assert.deepEqual(await exec(c, 'cat /etc/hostname >/dev/null && echo ok'), {
      stdout: 'ok\n',
      code: 0,
    });
  } finally {
    a.end();
    c.end();
  }
});

test('a known_hosts line holding another key makes the verifier refuse the server', async () => {
  const other = await generateKey('ed25519');
  const knownHosts = `[127.0.0.1]:${sshd.port} ${other.authorizedKey}\n`;
  const { ready, verdicts } = connect(
    {
      username: alice.name,
      privateKey: key.privateKey,
      algorithms: { serverHostKey: ['ssh-ed25519'] },
    },
    knownHosts,
  );
  await assert.rejects(ready, /verification failed/);
  assert.deepEqual(verdicts, [{ status: 'changed', knownTypes: ['ssh-ed25519'], line: 1 }]);
});

test('stop() ends sshd and removes its users and files', async () => {
  const extra = await startSshd({ hostKeyTypes: ['ed25519'] });
  const user = await extra.addUser('dave', { authorizedKeys: [key.authorizedKey] });
  const session = new Client();
  await new Promise<void>((resolve, reject) => {
    session.once('ready', () => resolve()).once('error', reject);
    session.connect({
      host: extra.host,
      port: extra.port,
      username: user.name,
      privateKey: key.privateKey,
    });
  });
  session.on('error', () => {}); // the server goes away under it
  assert.match(extra.log(), new RegExp(`Accepted publickey for ${user.name}`));
  await extra.stop();
  session.end();
  assert.doesNotMatch(readFileSync('/etc/passwd', 'utf8'), new RegExp(`^${user.name}:`, 'm'));
  await assert.rejects(
    new Promise((resolve, reject) =>
      netConnect(extra.port, '127.0.0.1').once('connect', resolve).once('error', reject),
    ),
    /ECONNREFUSED/,
  );
});
