/**
 * ssh-agent, the first and recommended credential, against a real OpenSSH ssh-agent (its own
 * socket, keys added with ssh-add) and a real sshd: the CLI (the built bin) and the app (its
 * AppService over realAppSourceDeps, the code main.ts wires, run under Node) log in with the one
 * key of several that the server accepts, and fall back to a key file when the agent's key is
 * refused. sshd's log (LogLevel VERBOSE) shows which key was refused and which was accepted.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { realAppSourceDeps } from '../../main/app/app-sources.js';
import type { Settings } from '../../main/core/profile-validation.js';
import { sha256Fingerprint } from '../../main/ssh/host-key-fingerprint.js';
import { PASSPHRASE_ENV, PASSWORD_ENV } from '../../main/ssh/ssh-options.js';
import { type AppFixture, makeApp } from '../app/app-fixture.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { type CliRun, runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import { type SshAgent, startSshAgent } from '../support/ssh-agent.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

const NOW = Math.floor(Date.now() / 1000);
let sshd: SshdInstance;
let user: TestUser;
/** The one key the server accepts (RSA: the agent signs it with rsa-sha2-*). */
let accepted: GeneratedKey;
/** Keys the server does not know. */
let refused: GeneratedKey[];
/** Holds three refused keys and the accepted one, third of four. */
let agentWithMany: SshAgent;
/** Holds only a key the server refuses. */
let agentRefused: SshAgent;
let home: string;
let knownHosts: string;
let remoteDb: string;

before(async () => {
  sshd = await startSshd({ passwordAuth: false, hostKeyTypes: ['ed25519'] });
  accepted = await generateKey('rsa');
  refused = [
    await generateKey('ed25519'),
    await generateKey('ecdsa'),
    await generateKey('ed25519'),
  ];
  user = await sshd.addUser('agentuser', { authorizedKeys: [accepted.authorizedKey] });
  const remoteDir = mkdtempSync(join(sshd.dir, 'prosody-'));
  chmodSync(remoteDir, 0o755);
  remoteDb = join(remoteDir, 'prosody.sqlite');
  writeProsodySqlite(remoteDb, [
    activityRow({ host: 'a.test', user: 'ann', event: 'login', timestamp: NOW - 3600 }),
    activityRow({ host: 'a.test', user: 'bob', event: 'login', timestamp: NOW - 3 * 86400 }),
    activityRow({ host: 'a.test', user: 'cy', event: 'login', timestamp: NOW - 20 * 86400 }),
  ]);
  chownSync(remoteDb, user.uid, user.gid);
  // An empty home: no ~/.ssh keys or config to fall back on, so only what the test gives is used.
  home = mkdtempSync(join(tmpdir(), 'pau-agent-home-'));
  knownHosts = join(home, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine());

  agentWithMany = await startSshAgent();
  await agentWithMany.add(refused[0]!.privatePath, refused[1]!.privatePath);
  await agentWithMany.add(accepted.privatePath, refused[2]!.privatePath);
  agentRefused = await startSshAgent();
  await agentRefused.add(refused[0]!.privatePath);
});

after(async () => {
  await agentWithMany?.stop();
  await agentRefused?.stop();
  await sshd?.stop();
  rmSync(home, { recursive: true, force: true });
});

const fp = (key: GeneratedKey) => sha256Fingerprint(key.blob);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** sshd's log from `mark` on, once the connection it logged has ended. */
async function logSince(mark: number): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const text = sshd.log().slice(mark);
    if (/Disconnected from|Connection closed by|Received disconnect/.test(text)) return text;
    if (Date.now() > deadline) return text;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function cli(agent: SshAgent, ...extra: string[]): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, SSH_AUTH_SOCK: agent.socket };
  delete env[PASSWORD_ENV];
  delete env[PASSPHRASE_ENV];
  return runBuiltCliAsync(
    [
      '--ssh',
      `${user.name}@127.0.0.1:${sshd.port}`,
      '--ssh-config',
      '/dev/null',
      '--known-hosts',
      knownHosts,
      '--remote-db',
      remoteDb,
      '--at',
      String(NOW),
      '--json',
      ...extra,
    ],
    env,
  );
}

function totals(run: CliRun): { dau: number; wau: number; mau: number } {
  assert.equal(run.status, 0, run.stderr);
  const { dau, wau, mau } = (JSON.parse(run.stdout) as { total: Record<string, number> }).total;
  return { dau: dau!, wau: wau!, mau: mau! };
}

describe('the CLI with ssh-agent', () => {
  test('the agent holds the test keys it was given', async () => {
    assert.deepEqual(await agentWithMany.list(), [
      fp(refused[0]!),
      fp(refused[1]!),
      fp(accepted),
      fp(refused[2]!),
    ]);
  });

  test('of several keys in the agent, the one the server accepts logs in', async () => {
    const mark = sshd.log().length;
    assert.deepEqual(totals(await cli(agentWithMany)), { dau: 1, wau: 2, mau: 3 });
    const log = await logSince(mark);
    assert.match(
      log,
      new RegExp(`Accepted publickey for ${user.name} .* RSA ${escape(fp(accepted))}`),
    );
    assert.match(
      log,
      new RegExp(`Failed publickey for ${user.name} .* ${escape(fp(refused[0]!))}`),
    );
  });

  test('an agent whose key the server refuses: the key file is tried next, and logs in', async () => {
    const mark = sshd.log().length;
    assert.deepEqual(totals(await cli(agentRefused, '--identity', accepted.privatePath)), {
      dau: 1,
      wau: 2,
      mau: 3,
    });
    const log = await logSince(mark);
    const failedAt = log.search(new RegExp(`Failed publickey .* ${escape(fp(refused[0]!))}`));
    const acceptedAt = log.search(new RegExp(`Accepted publickey .* ${escape(fp(accepted))}`));
    assert.ok(failedAt >= 0 && acceptedAt > failedAt, log);
  });

  test('an agent whose only key is refused, and nothing else: one sentence naming what was tried', async () => {
    const run = await cli(agentRefused);
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.equal(
      lines[0],
      `prosody-active-users: 127.0.0.1 refused authentication as ${user.name} (tried ssh-agent): check the user name, load the key into ssh-agent or pass --identity FILE.`,
    );
  });
});

describe('an agent with more keys than sshd allows attempts (MaxAuthTries 6)', () => {
  let crowded: SshAgent;
  let crowdedWithAccepted: SshAgent;
  before(async () => {
    const strangers: string[] = [];
    for (let i = 0; i < 7; i++) strangers.push((await generateKey('ed25519')).privatePath);
    crowded = await startSshAgent();
    await crowded.add(...strangers);
    crowdedWithAccepted = await startSshAgent();
    await crowdedWithAccepted.add(...strangers, accepted.privatePath);
  });
  after(async () => {
    await crowded?.stop();
    await crowdedWithAccepted?.stop();
  });

  test('the key named with --identity is offered first when the agent holds it, as ssh does', async () => {
    assert.equal((await crowdedWithAccepted.list()).at(-1), fp(accepted));
    const mark = sshd.log().length;
    assert.deepEqual(totals(await cli(crowdedWithAccepted, '--identity', accepted.privatePath)), {
      dau: 1,
      wau: 2,
      mau: 3,
    });
    const log = await logSince(mark);
    assert.match(log, new RegExp(`Accepted publickey for ${user.name} .* ${escape(fp(accepted))}`));
    assert.doesNotMatch(log, /Failed publickey/, 'no other key was offered before it');
  });

  test("IdentitiesOnly yes in ssh_config keeps the agent's other keys back, and the key file logs in", async () => {
    const config = join(home, 'ssh_config-identities-only');
    writeFileSync(
      config,
      `Host 127.0.0.1\n  IdentitiesOnly yes\n  IdentityFile ${accepted.privatePath}\n`,
    );
    const mark = sshd.log().length;
    assert.deepEqual(totals(await cli(crowded, '--ssh-config', config)), {
      dau: 1,
      wau: 2,
      mau: 3,
    });
    assert.doesNotMatch(await logSince(mark), /Failed publickey/);
  });

  test('without either, the server hangs up after too many keys: the sentence says what to do', async () => {
    const run = await cli(crowded, '--identity', accepted.privatePath);
    assert.equal(run.status, 1);
    assert.equal(
      run.stderr.trim(),
      `prosody-active-users: 127.0.0.1 hung up after too many refused keys as ${user.name} (tried ssh-agent; its MaxAuthTries): name the right key with --identity and load it into ssh-agent, or set "IdentitiesOnly yes" for this host in ~/.ssh/config.`,
    );
  });
});

describe('the app with ssh-agent', () => {
  let app: AppFixture | undefined;
  after(async () => {
    await app?.close();
  });

  function profile(identity?: string): Settings {
    return {
      version: 1,
      profiles: [
        {
          name: 'server',
          ssh: {
            target: `${user.name}@127.0.0.1:${sshd.port}`,
            knownHosts,
            sshConfig: '/dev/null',
            remoteDb,
            ...(identity === undefined ? {} : { identity }),
          },
        },
      ],
    };
  }

  /** An AppService whose SSH goes through the app's real adapters with this agent. */
  async function appWith(agent: SshAgent, settings?: Settings): Promise<AppFixture> {
    await app?.close();
    app = await makeApp({
      ...(settings === undefined ? {} : { settings }),
      sources: () =>
        realAppSourceDeps({
          home,
          localUser: 'nobody',
          env: { SSH_AUTH_SOCK: agent.socket },
          platform: process.platform,
        }),
    });
    return app;
  }

  test('Test connection logs in with the one accepted key of several in the agent', async () => {
    const a = await appWith(agentWithMany);
    const result = await a.service.testConnection('server', profile());
    assert.deepEqual(
      result.steps.map((s) => `${s.step} ${s.state}`),
      ['connect ok', 'host-key ok', 'authenticate ok', 'find-data ok', 'read ok'],
      JSON.stringify(result.steps),
    );
    assert.match(result.steps[4]!.detail, /DAU 1 · WAU 2 · MAU 3/);
  });

  test("a saved server refreshes through the agent, and through the key file when the agent's key is refused", async () => {
    const viaAgent = await appWith(agentWithMany, profile());
    await viaAgent.service.start();
    await viaAgent.service.refreshNow(null);
    const first = (await viaAgent.service.getSnapshot()).profiles[0];
    assert.equal(first?.status, 'ok', JSON.stringify(first?.error));
    assert.equal(first?.total?.mau.value, 3);

    const viaFile = await appWith(agentRefused, profile(accepted.privatePath));
    await viaFile.service.start();
    await viaFile.service.refreshNow(null);
    const second = (await viaFile.service.getSnapshot()).profiles[0];
    assert.equal(second?.status, 'ok', JSON.stringify(second?.error));
    assert.equal(second?.total?.dau.value, 1);
  });
});
