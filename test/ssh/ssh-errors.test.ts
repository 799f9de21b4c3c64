/**
 * Every way a read over SSH can fail, through the real CLI against a real OpenSSH sshd: each
 * prints no figures and one sentence naming its own failure, with the facts the user needs (the
 * server key's SHA256 fingerprint, the user, the path) and exits 1 (2 for a usage error). Host key
 * refusals are also checked in sshd's log: no credential reached the server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PASSPHRASE_ENV, PASSWORD_ENV } from '../../main/cli/cli-options.js';
import { DAY } from '../../main/core/windows.js';
import { sha256Fingerprint } from '../../main/ssh/host-key-fingerprint.js';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { type CliRun, runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import { type ActivitySeed, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

const NOW = 1_795_536_000;
const SEEDS: ActivitySeed[] = Array.from({ length: 12 }, (_, i) => ({
  host: i % 2 === 0 ? 'a.test' : 'b.test',
  user: `user${i}`,
  event: 'login' as const,
  timestamp: NOW - i * 3 * DAY - 60,
}));
const PASSWORD = 'correct horse battery staple';
const PASSPHRASE = 'open sesame';

let sshd: SshdInstance;
let key: GeneratedKey;
let reader: TestUser;
let passwordUser: TestUser;
/** Local scratch: known_hosts files, converted keys, and an empty home for the CLI. */
let local: string;
let home: string;
let knownHosts: string;
let serverDir: string;
let db: string;
let edFingerprint: string;

before(async () => {
  local = mkdtempSync(join(tmpdir(), 'pau-ssh-errors-'));
  home = join(local, 'home');
  mkdirSync(home);
  [sshd, key] = await Promise.all([startSshd({ passwordAuth: true }), generateKey('ed25519')]);
  [reader, passwordUser] = await Promise.all([
    sshd.addUser('reader', { authorizedKeys: [key.authorizedKey] }),
    sshd.addUser('pwuser', { password: PASSWORD }),
  ]);
  knownHosts = join(local, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine());
  serverDir = join(sshd.dir, 'prosody');
  mkdirSync(serverDir, { mode: 0o755 });
  db = join(serverDir, 'prosody.sqlite');
  writeProsodySqlite(db, SEEDS.map(activityRow));
  chmodSync(db, 0o644);
  const ed25519 = sshd.hostKeys.find((k) => k.type === 'ssh-ed25519');
  assert.ok(ed25519, 'the sshd helper makes an ed25519 host key');
  edFingerprint = sha256Fingerprint(ed25519.blob);
});

after(async () => {
  await sshd?.stop();
  rmSync(local, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

/**
 * Runs the CLI as runBuiltCli does, but with a clean environment: no ssh-agent, no passphrase or
 * password unless given, an empty home (no ~/.ssh), stdin not a terminal (nobody to ask). It runs
 * asynchronously so that sshd's log keeps flowing meanwhile.
 */
function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base = { ...process.env };
  for (const name of ['SSH_AUTH_SOCK', PASSPHRASE_ENV, PASSWORD_ENV]) delete base[name];
  return runBuiltCliAsync(args, { ...base, HOME: home, ...env });
}

/**
 * `--ssh USER@127.0.0.1:PORT` as of NOW, with this file's known_hosts and database unless `rest`
 * names others (a later option wins).
 */
function sshArgs(user: TestUser, ...rest: string[]): string[] {
  const where = rest.some((a) => a === '--remote-db' || a === '--remote-data-dir')
    ? []
    : ['--remote-db', db];
  return [
    '--ssh',
    `${user.name}@${sshd.host}:${sshd.port}`,
    '--known-hosts',
    knownHosts,
    ...where,
    '--at',
    String(NOW),
    '--json',
    ...rest,
  ];
}

/** A refusal: the exit status, no figures, and exactly one line starting with `sentence`. */
function assertRefused(run: CliRun, status: number, sentence: string): void {
  assert.equal(run.stdout, '', 'no figures are printed');
  assert.equal(run.status, status, run.stderr);
  const lines = run.stderr.split('\n');
  assert.equal(lines.length, 2, `one line on stderr:\n${run.stderr}`);
  const prefix = `prosody-active-users: ${sentence}`;
  assert.ok(lines[0]!.startsWith(prefix), `stderr:\n${lines[0]}\nshould start with:\n${prefix}`);
}

let expectedHosts: unknown;

/** The same figures as from the database read locally. */
async function assertFigures(run: CliRun): Promise<void> {
  assert.equal(run.status, 0, run.stderr);
  if (expectedHosts === undefined) {
    const local = await runCli(['--db', db, '--at', String(NOW), '--json']);
    assert.equal(local.status, 0, local.stderr);
    expectedHosts = (JSON.parse(local.stdout) as { hosts: unknown }).hosts;
  }
  assert.deepEqual((JSON.parse(run.stdout) as { hosts: unknown }).hosts, expectedHosts);
}

const CONNECTION_OPENED = /^Connection from /m;
const CONNECTION_ENDED =
  /^(?:Disconnected from|Connection closed by|Connection reset by|Closing connection to) /m;

/**
 * What sshd logged from `mark` on, once every connection in it has ended: sshd writes its log
 * lines asynchronously, some after the client has gone.
 */
async function logSince(mark: number, server = sshd): Promise<string> {
  const deadline = Date.now() + 5000;
  let previous: string | undefined;
  for (;;) {
    const text = server.log().slice(mark);
    const lines = text.split('\n');
    const opened = lines.filter((l) => CONNECTION_OPENED.test(l)).length;
    const ended = lines.filter((l) => CONNECTION_ENDED.test(l)).length;
    if ((text === previous && ended >= opened) || Date.now() > deadline) return text;
    previous = text;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Log lines that show a login attempt: any line naming the user or an authentication method. */
function authenticationLines(log: string, user: TestUser): string[] {
  return log
    .split('\n')
    .filter(
      (line) =>
        line.includes(user.name) ||
        /publickey|password|keyboard-interactive|Accepted|Failed|Postponed/.test(line),
    );
}

function tool(command: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { encoding: 'utf8' }, (error, stdout) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** A known_hosts file of its own for one test. */
function knownHostsFile(name: string, text: string): string {
  const path = join(local, name);
  writeFileSync(path, text);
  return path;
}

// ---------------------------------------------------------------------------------------------

describe('host keys', () => {
  test('a changed host key is refused with the server key’s fingerprint, before any credential is sent', async () => {
    // The control: with the right key, sshd logs the login this test must not see.
    let mark = sshd.log().length;
    await assertFigures(await runCli(sshArgs(reader, '--identity', key.privatePath)));
    assert.match(await logSince(mark), new RegExp(`Accepted publickey for ${reader.name} `));

    const impostor = await generateKey('ed25519');
    const changed = knownHostsFile(
      'known_hosts-changed',
      `[${sshd.host}]:${sshd.port} ${impostor.authorizedKey}\n`,
    );
    mark = sshd.log().length;
    const run = await runCli(
      sshArgs(reader, '--identity', key.privatePath, '--known-hosts', changed),
    );
    assertRefused(
      run,
      1,
      `WARNING: the host key of 127.0.0.1 has changed (it now offers ssh-ed25519 ${edFingerprint}; ${changed} line 1 holds another): someone may be intercepting the connection. Nothing was sent.`,
    );
    const log = await logSince(mark);
    assert.match(log, CONNECTION_OPENED, 'the key exchange did take place');
    assert.deepEqual(authenticationLines(log, reader), []);
  });

  test('an unknown host is refused with its fingerprint; --accept-new-host-key adds a line ssh-keygen finds', async () => {
    const file = knownHostsFile('known_hosts-new', '');
    const args = sshArgs(reader, '--identity', key.privatePath, '--known-hosts', file);
    const mark = sshd.log().length;
    assertRefused(
      await runCli(args),
      1,
      `127.0.0.1 is not in known_hosts; its ssh-ed25519 key is ${edFingerprint}. If that is the server's key, connect again with --accept-new-host-key.`,
    );
    assert.deepEqual(authenticationLines(await logSince(mark), reader), []);
    assert.equal(readFileSync(file, 'utf8'), '', 'nothing is added without the flag');

    await assertFigures(await runCli([...args, '--accept-new-host-key']));
    const found = await tool('ssh-keygen', ['-F', `[${sshd.host}]:${sshd.port}`, '-f', file]);
    assert.equal(found.code, 0, 'ssh-keygen -F finds the host');
    assert.match(found.stdout, /found: line 1/);
    const listed = await tool('ssh-keygen', [
      '-l',
      '-F',
      `[${sshd.host}]:${sshd.port}`,
      '-f',
      file,
    ]);
    assert.ok(listed.stdout.includes(edFingerprint), listed.stdout);

    await assertFigures(await runCli(args));
  });

  test('a host key marked @revoked is refused even beside a plain line for it', async () => {
    const ed25519 = sshd.hostKeys.find((k) => k.type === 'ssh-ed25519')!;
    const revoked = knownHostsFile(
      'known_hosts-revoked',
      `@revoked [${sshd.host}]:${sshd.port} ${ed25519.type} ${ed25519.blob.toString('base64')}\n${sshd.knownHostsLine()}`,
    );
    const mark = sshd.log().length;
    assertRefused(
      await runCli(sshArgs(reader, '--identity', key.privatePath, '--known-hosts', revoked)),
      1,
      `The host key of 127.0.0.1 (${edFingerprint}) is marked @revoked in known_hosts: refusing to connect.`,
    );
    assert.deepEqual(authenticationLines(await logSince(mark), reader), []);
  });

  test('a known_hosts hashed by ssh-keygen -H is read', async () => {
    const hashed = knownHostsFile('known_hosts-hashed', sshd.knownHostsLine());
    assert.equal((await tool('ssh-keygen', ['-H', '-f', hashed])).code, 0);
    rmSync(`${hashed}.old`, { force: true });
    const text = readFileSync(hashed, 'utf8');
    assert.ok(!text.includes(sshd.host) && text.startsWith('|1|'), text);
    await assertFigures(
      await runCli(sshArgs(reader, '--identity', key.privatePath, '--known-hosts', hashed)),
    );
  });
});

describe('credentials', () => {
  test('a key the server does not know is refused, naming the user', async () => {
    const stranger = await generateKey('ed25519');
    const mark = sshd.log().length;
    assertRefused(
      await runCli(sshArgs(reader, '--identity', stranger.privatePath)),
      1,
      `127.0.0.1 refused authentication as ${reader.name} (tried key ${stranger.privatePath}): check the user name`,
    );
    assert.match(await logSince(mark), new RegExp(`Failed publickey for ${reader.name} `));
  });

  test('the password from PROSODY_ACTIVE_USERS_PASSWORD logs in', async () => {
    await assertFigures(await runCli(sshArgs(passwordUser), { [PASSWORD_ENV]: PASSWORD }));
  });

  test('a wrong password is refused, naming the user', async () => {
    const mark = sshd.log().length;
    assertRefused(
      await runCli(sshArgs(passwordUser), { [PASSWORD_ENV]: 'wrong horse' }),
      1,
      `127.0.0.1 refused authentication as ${passwordUser.name} (tried password): check the user name`,
    );
    assert.match(await logSince(mark), new RegExp(`Failed password for ${passwordUser.name} `));
  });

  for (const format of ['openssh', 'pem'] as const) {
    const label = format === 'openssh' ? 'an OpenSSH-format' : 'a PEM';
    describe(`${label} key protected by a passphrase`, () => {
      let encrypted: GeneratedKey;
      before(async () => {
        encrypted = await generateKey(format === 'openssh' ? 'ed25519' : 'ecdsa', {
          passphrase: PASSPHRASE,
          format,
        });
        const text = encrypted.privateKey.toString('utf8');
        assert.ok(
          format === 'openssh'
            ? text.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----')
            : /^-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED/.test(text),
          text.split('\n', 2).join('\n'),
        );
        reader.setAuthorizedKeys([key.authorizedKey, encrypted.authorizedKey]);
      });
      after(() => reader.setAuthorizedKeys([key.authorizedKey]));

      test('logs in with the passphrase from PROSODY_ACTIVE_USERS_PASSPHRASE', async () => {
        await assertFigures(
          await runCli(sshArgs(reader, '--identity', encrypted.privatePath), {
            [PASSPHRASE_ENV]: PASSPHRASE,
          }),
        );
      });

      test('a wrong passphrase is refused as wrong, and the key is not offered', async () => {
        const mark = sshd.log().length;
        assertRefused(
          await runCli(sshArgs(reader, '--identity', encrypted.privatePath), {
            [PASSPHRASE_ENV]: 'not the passphrase',
          }),
          1,
          `The passphrase for ${encrypted.privatePath} is wrong: check ${PASSPHRASE_ENV}, or load the key into ssh-agent.`,
        );
        assert.deepEqual(authenticationLines(await logSince(mark), reader), []);
      });

      test('without a passphrase and without a terminal, it says how to give one', async () => {
        assertRefused(
          await runCli(sshArgs(reader, '--identity', encrypted.privatePath)),
          1,
          `The key ${encrypted.privatePath} is protected by a passphrase: set ${PASSPHRASE_ENV}, run in a terminal to be asked, or load the key into ssh-agent.`,
        );
      });
    });
  }

  test('a PKCS#8 key is refused, naming the format', async () => {
    const source = await generateKey('ecdsa');
    const pkcs8 = join(local, 'id_ecdsa_pkcs8');
    copyFileSync(source.privatePath, pkcs8);
    chmodSync(pkcs8, 0o600);
    const converted = await tool('ssh-keygen', [
      '-p',
      '-m',
      'PKCS8',
      '-P',
      '',
      '-N',
      '',
      '-f',
      pkcs8,
    ]);
    assert.equal(converted.code, 0);
    assert.match(readFileSync(pkcs8, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assertRefused(
      await runCli(sshArgs(reader, '--identity', pkcs8)),
      1,
      `The key ${pkcs8} is in PKCS#8 format, which cannot be used: convert it to an OpenSSH key`,
    );
  });

  // putty-tools comes from test/setup-system.sh: a missing puttygen fails this test.
  const puttygen = '/usr/bin/puttygen';
  test('a PuTTY PPK v3 key is refused, naming the format', async () => {
    const ppk = join(local, 'id_ed25519.ppk');
    const converted = await tool(puttygen, [key.privatePath, '-O', 'private', '-o', ppk]);
    assert.equal(converted.code, 0);
    assert.match(readFileSync(ppk, 'utf8'), /^PuTTY-User-Key-File-3: ssh-ed25519/);
    assertRefused(
      await runCli(sshArgs(reader, '--identity', ppk)),
      1,
      `The key ${ppk} is in PuTTY PPK v3 format, which cannot be used: convert it to an OpenSSH key`,
    );
  });
});

describe('the data on the server', () => {
  test('a database that does not exist is named with host and path', async () => {
    const missing = join(serverDir, 'no-such.sqlite');
    assertRefused(
      await runCli(sshArgs(reader, '--identity', key.privatePath, '--remote-db', missing)),
      1,
      `No Prosody SQLite database at 127.0.0.1:${missing}: check the path`,
    );
  });

  test('a database the user cannot read is refused as permission denied', async () => {
    const secret = join(serverDir, 'root-only.sqlite');
    copyFileSync(db, secret);
    chmodSync(secret, 0o600); // owned by root: the test user cannot read it
    assertRefused(
      await runCli(sshArgs(reader, '--identity', key.privatePath, '--remote-db', secret)),
      1,
      `Permission denied reading the Prosody SQLite database at 127.0.0.1:${secret}: run as a user in the prosody group`,
    );
  });

  for (const [what, name] of [
    ['a space', 'with space.sqlite'],
    ['a quote', "it's.sqlite"],
  ] as const) {
    test(`a database path with ${what} is a usage error, and nothing reaches the server`, async () => {
      const path = join(serverDir, name);
      const mark = sshd.log().length;
      assertRefused(
        await runCli(sshArgs(reader, '--identity', key.privatePath, '--remote-db', path)),
        2,
        `the remote database path ${JSON.stringify(path)} must be absolute and use only letters, digits and ._/+@,=-. Run with --help to see the options.`,
      );
      // Refused before connecting: no session, no login, not even a connection.
      const log = await logSince(mark);
      assert.doesNotMatch(log, /Starting session/);
      assert.deepEqual(authenticationLines(log, reader), []);
      assert.doesNotMatch(log, CONNECTION_OPENED);
    });
  }

  test('a data folder the user cannot read is refused as permission denied', async () => {
    const data = join(serverDir, 'root-only-data');
    writeProsodyInternal(data, SEEDS);
    chmodSync(data, 0o700); // owned by root
    assertRefused(
      await runCli(sshArgs(reader, '--identity', key.privatePath, '--remote-data-dir', data)),
      1,
      `Permission denied reading the Prosody data folder at 127.0.0.1:${data}: run as a user in the prosody group`,
    );
  });
});

describe('unreachable servers', () => {
  test('a closed port is reported as connection refused', async () => {
    const port = await freePort();
    assertRefused(
      await runCli(['--ssh', `${reader.name}@127.0.0.1:${port}`, '--remote-db', db]),
      1,
      `Cannot reach 127.0.0.1 port ${port} (connection refused): check the host name, the port and that sshd is running.`,
    );
  });

  test('a port that accepts but never speaks times out in one sentence, and nothing crashes', async () => {
    // Like an sshd too busy to answer: the connection opens, no banner ever comes.
    const silent = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const cli = await runCli([
        '--ssh',
        `${reader.name}@127.0.0.1:${port}`,
        '--remote-db',
        db,
        '--timeout',
        '1',
      ]);
      assert.equal(cli.status, 1, cli.stderr);
      assert.equal(
        cli.stderr,
        'prosody-active-users: 127.0.0.1 did not answer within 1 s while logging in: check the network, or try again later.\n',
      );
    } finally {
      silent.close();
    }
  });

  test('a host name that does not resolve is reported as unknown', async () => {
    assertRefused(
      await runCli(['--ssh', 'someone@no-such-host.invalid', '--remote-db', db, '--timeout', '10']),
      1,
      'Cannot reach no-such-host.invalid port 22 (unknown host name): check the host name',
    );
  });
});
