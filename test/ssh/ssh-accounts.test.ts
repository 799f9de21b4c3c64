/**
 * The accounts the README describes, through the real CLI against real OpenSSH sshd instances:
 * an ~/.ssh/config alias, one ProxyJump host (whose key is checked too), and the least-privilege
 * monitoring account whose key may run the printed forced command and nothing else, as OpenSSH's
 * own clients (ssh, sftp) find.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PASSPHRASE_ENV, PASSWORD_ENV } from '../../main/cli/cli-options.js';
import { DAY } from '../../main/core/windows.js';
import { sha256Fingerprint } from '../../main/ssh/host-key-fingerprint.js';
import { parseRemoteQueryOutput } from '../../main/ssh/remote-query-reader.js';
import { type ActivitySeed, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { cliArgv } from '../fixtures/run-built-cli.js';
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

let sshd: SshdInstance;
let jumpSshd: SshdInstance;
let key: GeneratedKey;
let reader: TestUser;
let jumper: TestUser;
let monitor: TestUser;
let local: string;
let home: string;
let knownHosts: string;
/** The database, 0640 root:prosody-group, as Debian's Prosody leaves it. */
let db: string;
let expectedHosts: unknown;

before(async () => {
  local = mkdtempSync(join(tmpdir(), 'pau-ssh-accounts-'));
  home = join(local, 'home');
  mkdirSync(home);
  [sshd, jumpSshd, key] = await Promise.all([
    startSshd({ passwordAuth: false }),
    startSshd({ passwordAuth: false, hostKeyTypes: ['ed25519'] }),
    generateKey('ed25519'),
  ]);
  knownHosts = join(local, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine() + jumpSshd.knownHostsLine());

  // The prosody group, and a database only that group can read.
  const group = await sshd.addGroup('prosody');
  const gid = Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
  const dir = join(sshd.dir, 'var-lib-prosody');
  mkdirSync(dir, { mode: 0o755 });
  db = join(dir, 'prosody.sqlite');
  writeProsodySqlite(db, SEEDS.map(activityRow));
  chownSync(db, 0, gid);
  chmodSync(db, 0o640);

  const printed = await runCli(['--print-forced-command', '--remote-db', db]);
  assert.equal(printed.status, 0, printed.stderr);
  assert.match(printed.stdout, /^restrict,command="sh -c '.*" PUBLIC-KEY\n$/);
  const forcedLine = printed.stdout.trim().replace('PUBLIC-KEY', key.publicLine);

  [reader, jumper, monitor] = await Promise.all([
    sshd.addUser('reader', { authorizedKeys: [key.authorizedKey], groups: [group] }),
    jumpSshd.addUser('jumper', { authorizedKeys: [key.authorizedKey] }),
    sshd.addUser('monitor', { authorizedKeys: [forcedLine], groups: [group] }),
  ]);

  const expected = await runCli(['--db', db, '--at', String(NOW), '--json']);
  assert.equal(expected.status, 0, expected.stderr);
  expectedHosts = hostsOf(expected.stdout);
});

after(async () => {
  await Promise.all([sshd?.stop(), jumpSshd?.stop()]);
  rmSync(local, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

const projectDir = join(__dirname, '..', '..');

/** The environment every child gets: no ssh-agent, no secrets, an empty home. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const name of ['SSH_AUTH_SOCK', PASSPHRASE_ENV, PASSWORD_ENV]) delete env[name];
  return env;
}

/** Runs a program to its end, asynchronously (sshd's log keeps flowing meanwhile). */
function run(command: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: projectDir,
      env: cleanEnv(),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin?.end(input);
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The CLI as runBuiltCli runs it, in the clean environment. */
function runCli(args: string[]): Promise<Run> {
  return run(process.execPath, cliArgv(args));
}

/**
 * Options for OpenSSH's ssh and sftp: only this key, this known_hosts, no config, never asking.
 * The port comes separately (ssh says -p, sftp -P).
 */
function openSshOptions(): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    key.privatePath,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
  ];
}

/** `ssh … monitor@127.0.0.1`, with these options before the destination and the command after. */
function sshAsMonitor(options: string[], ...command: string[]): Promise<Run> {
  return run('ssh', [
    ...openSshOptions(),
    '-p',
    String(sshd.port),
    ...options,
    `${monitor.name}@${sshd.host}`,
    ...command,
  ]);
}

function hostsOf(stdout: string): unknown {
  return (JSON.parse(stdout) as { hosts: unknown }).hosts;
}

function writeSshConfig(name: string, text: string): string {
  const path = join(local, name);
  writeFileSync(path, text);
  return path;
}

const CONNECTION_OPENED = /^Connection from /m;
const CONNECTION_ENDED =
  /^(?:Disconnected from|Connection closed by|Connection reset by|Closing connection to) /m;

/** What sshd logged from `mark` on, once every connection in it has ended. */
async function logSince(server: SshdInstance, mark: number): Promise<string> {
  const deadline = Date.now() + 5000;
  let previous: string | undefined;
  for (;;) {
    const text = server.log().slice(mark);
    const lines = text.split('\n');
    const opened = lines.filter((l) => CONNECTION_OPENED.test(l)).length;
    const ended = lines.filter((l) => CONNECTION_ENDED.test(l)).length;
    if ((text === previous && ended >= opened) || Date.now() > deadline) return text;
    previous = text;
    await delay(100);
  }
}

/** Waits until sshd's log from `mark` on matches, and returns it. */
async function logMatching(server: SshdInstance, mark: number, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 5000;
  while (!pattern.test(server.log().slice(mark)) && Date.now() < deadline) await delay(50);
  return server.log().slice(mark);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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

/** Connects to a local port and reads until it closes: null while nothing listens there. */
function readPort(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.setEncoding('utf8').on('data', (d: string) => (data += d));
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    socket.once('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(data);
    });
  });
}

// ---------------------------------------------------------------------------------------------

describe('ssh_config', () => {
  test('a Host alias gives the host name, port, user and key', async () => {
    const config = writeSshConfig(
      'config-alias',
      [
        'Host myserver',
        `  HostName ${sshd.host}`,
        `  Port ${sshd.port}`,
        `  User ${reader.name}`,
        `  IdentityFile ${key.privatePath}`,
        '',
      ].join('\n'),
    );
    const mark = sshd.log().length;
    const cli = await runCli([
      '--ssh',
      'myserver',
      '--ssh-config',
      config,
      '--known-hosts',
      knownHosts,
      '--remote-db',
      db,
      '--at',
      String(NOW),
      '--json',
    ]);
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(hostsOf(cli.stdout), expectedHosts);
    assert.match(await logSince(sshd, mark), new RegExp(`Accepted publickey for ${reader.name} `));
  });
});

describe('ProxyJump', () => {
  /** `behind` is reached through the jump sshd, which finds its own key through `Host 127.0.0.1`. */
  function jumpConfig(): string {
    return writeSshConfig(
      'config-jump',
      [
        'Host behind',
        `  HostName ${sshd.host}`,
        `  Port ${sshd.port}`,
        `  User ${reader.name}`,
        `  IdentityFile ${key.privatePath}`,
        `  ProxyJump ${jumper.name}@${jumpSshd.host}:${jumpSshd.port}`,
        '',
        `Host ${jumpSshd.host}`,
        `  IdentityFile ${key.privatePath}`,
        '',
      ].join('\n'),
    );
  }

  function jumpArgs(knownHostsFile: string): string[] {
    return [
      '--ssh',
      'behind',
      '--ssh-config',
      jumpConfig(),
      '--known-hosts',
      knownHostsFile,
      '--remote-db',
      db,
      '--at',
      String(NOW),
      '--json',
    ];
  }

  test('the server behind one jump host gives the same figures', async () => {
    const jumpMark = jumpSshd.log().length;
    const mark = sshd.log().length;
    const cli = await runCli(jumpArgs(knownHosts));
    assert.equal(cli.stderr, '');
    assert.equal(cli.status, 0);
    assert.deepEqual(hostsOf(cli.stdout), expectedHosts);
    assert.match(
      await logSince(jumpSshd, jumpMark),
      new RegExp(`Accepted publickey for ${jumper.name} `),
    );
    assert.match(await logSince(sshd, mark), new RegExp(`Accepted publickey for ${reader.name} `));
  });

  test('a changed key on the jump host refuses before anything reaches the server behind it', async () => {
    const impostor = await generateKey('ed25519');
    const file = join(local, 'known_hosts-jump-changed');
    // The server's own lines are right; the jump host's line (the last) holds another key.
    const lines =
      sshd.knownHostsLine() + `[${jumpSshd.host}]:${jumpSshd.port} ${impostor.authorizedKey}\n`;
    writeFileSync(file, lines);
    const jumpLine = lines.trimEnd().split('\n').length;
    const jumpFingerprint = sha256Fingerprint(jumpSshd.hostKeys[0]!.blob);
    const jumpMark = jumpSshd.log().length;
    const mark = sshd.log().length;

    const cli = await runCli(jumpArgs(file));
    assert.equal(cli.stdout, '');
    assert.equal(cli.status, 1, cli.stderr);
    assert.equal(
      cli.stderr,
      `prosody-active-users: WARNING: the host key of 127.0.0.1 has changed (it now offers ssh-ed25519 ${jumpFingerprint}; ${file} line ${jumpLine} holds another): someone may be intercepting the connection. Nothing was sent. If the server was reinstalled, check the new key with its operator, then remove the old line.\n`,
    );
    const jumpLog = await logSince(jumpSshd, jumpMark);
    assert.match(jumpLog, CONNECTION_OPENED);
    assert.doesNotMatch(jumpLog, new RegExp(`${jumper.name}|publickey|Accepted|Failed|Postponed`));
    assert.equal(await logSince(sshd, mark), '', 'nothing reached the server behind');
  });
});

describe('the least-privilege monitoring account (README)', () => {
  function monitorArgs(...rest: string[]): string[] {
    return [
      '--ssh',
      `${monitor.name}@${sshd.host}:${sshd.port}`,
      '--identity',
      key.privatePath,
      '--known-hosts',
      knownHosts,
      '--at',
      String(NOW),
      '--json',
      ...rest,
    ];
  }

  /** What the forced command prints: the query's rows between the header markers. */
  function assertQueryOutput(stdout: string): void {
    const parsed = parseRemoteQueryOutput(stdout);
    assert.equal(parsed.kind, 'rows', stdout);
    assert.equal(parsed.kind === 'rows' && parsed.accounts.length, SEEDS.length);
  }

  test('the CLI with --remote-db gives the same figures as the local file', async () => {
    const mark = sshd.log().length;
    const cli = await runCli(monitorArgs('--remote-db', db));
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(hostsOf(cli.stdout), expectedHosts);
    assert.match(
      await logSince(sshd, mark),
      new RegExp(
        `Starting session: forced-command \\(key-option\\) 'sh -c .* for ${monitor.name} `,
      ),
    );
  });

  test('the forced command takes the time to start from out of the command asked for', async () => {
    const since = async (command: string) => {
      const ssh = await sshAsMonitor([], command);
      assert.equal(ssh.status, 0, ssh.stderr);
      const parsed = parseRemoteQueryOutput(ssh.stdout);
      assert.equal(parsed.kind, 'rows', ssh.stdout);
      return parsed.kind === 'rows' ? parsed : null;
    };
    const future = await since('anything at all 99999999999');
    assert.equal(future?.accounts.length, 0);
    assert.equal(typeof future?.digest, 'number', 'the digest still covers every row');
    assert.equal((await since('anything at all 0'))?.accounts.length, SEEDS.length);
    assert.equal((await since("0; echo '1'"))?.accounts.length, SEEDS.length, 'not digits: all');
  });

  test('with a cache, the second count through the forced command is answered "unchanged"', async () => {
    const state = mkdtempSync(join(local, 'state-'));
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const cli = await runCli(monitorArgs('--remote-db', db, '--state-dir', state));
      assert.equal(cli.status, 0, cli.stderr);
      assert.deepEqual(hostsOf(cli.stdout), expectedHosts);
      runs.push((JSON.parse(cli.stdout) as { fetch: Array<{ method: string }> }).fetch[0]?.method);
    }
    assert.deepEqual(runs, ['remote query', 'remote query, unchanged: counted from the cache']);
  });

  test('without --remote-db the CLI says to pass it (no SFTP to look around with)', async () => {
    const cli = await runCli(monitorArgs());
    assert.equal(cli.stdout, '');
    assert.equal(cli.status, 1, cli.stderr);
    assert.equal(
      cli.stderr,
      "prosody-active-users: 127.0.0.1 answered with something other than activity data (SFTP is not available to find the data; pass --remote-db PATH (a forced-command account needs it)): check that the account's forced command (if any) is the one from the README.\n",
    );
  });

  test('the key cannot run a shell command: ssh gets the query’s output instead', async () => {
    const ssh = await sshAsMonitor([], 'id; echo SHELL-OK');
    assert.equal(ssh.status, 0, ssh.stderr);
    assert.doesNotMatch(ssh.stdout, /SHELL-OK|uid=/);
    assertQueryOutput(ssh.stdout);
  });

  test('the key gets no terminal: ssh -tt is refused a pty and runs no shell', async () => {
    const ssh = await sshAsMonitor(['-tt'], 'id; echo SHELL-OK');
    assert.match(ssh.stderr, /PTY allocation request failed/);
    assert.doesNotMatch(ssh.stdout, /SHELL-OK|uid=/);
    if (ssh.stdout.trim() !== '') assertQueryOutput(ssh.stdout);
  });

  test('the key gets no SFTP: the subsystem request runs the query, sftp lists nothing', async () => {
    const subsystem = await sshAsMonitor(['-s'], 'sftp');
    assertQueryOutput(subsystem.stdout);

    const sftp = await run(
      'sftp',
      [...openSshOptions(), '-P', String(sshd.port), '-b', '-', `${monitor.name}@${sshd.host}`],
      'ls /\n',
    );
    assert.notEqual(sftp.status, 0);
    // The forced command's first bytes, "PAU:", read as an SFTP packet length.
    assert.match(sftp.stderr, /Received message too long 1346458938/);
    assert.doesNotMatch(sftp.stdout, /\b(?:tmp|etc|usr)\b/);
  });

  test('the key cannot forward ports: ssh -N -L gets its channel refused', async () => {
    const port = await freePort();
    const mark = sshd.log().length;
    const child = spawn(
      'ssh',
      [
        ...openSshOptions(),
        '-p',
        String(sshd.port),
        '-N',
        '-L',
        `127.0.0.1:${port}:127.0.0.1:${sshd.port}`,
        `${monitor.name}@${sshd.host}`,
      ],
      { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    try {
      let received: string | null = null;
      for (let i = 0; i < 100 && received === null; i++) {
        received = await readPort(port);
        if (received === null) await delay(50);
      }
      assert.notEqual(received, null, `ssh never listened on ${port}: ${stderr}`);
      // Through a working forward, sshd itself would have greeted us.
      assert.doesNotMatch(received!, /SSH-2\.0/);
      assert.match(
        await logMatching(sshd, mark, /refused local port forward/),
        new RegExp(
          `refused local port forward: originator 127\\.0\\.0\\.1 port \\d+, target 127\\.0\\.0\\.1 port ${sshd.port}`,
        ),
      );
      const deadline = Date.now() + 5000;
      while (!/administratively prohibited/.test(stderr) && Date.now() < deadline) await delay(50);
      assert.match(stderr, /open failed: administratively prohibited/);
    } finally {
      child.kill();
    }
  });
});
