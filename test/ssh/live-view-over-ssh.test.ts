/**
 * The live view against a real Prosody 0.12 reached only through a real sshd: its admin socket is
 * opened through the SSH connection (streamlocal forwarding), real XMPP sessions stay open meanwhile.
 * The module's own gauges (GET /metrics, read by the test on loopback) are the reference.
 */
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import { type LiveBench, startLiveBench } from '../helpers/live-server.js';
import type { ProsodyInstance } from '../helpers/prosody-server.js';
import type { SshdInstance, TestUser } from '../support/sshd.js';

let bench: LiveBench;
let prosody: ProsodyInstance;
let sshd: SshdInstance;
let admin: TestUser;
let plain: TestUser;

function cli(who: TestUser, ...rest: string[]) {
  const socket = rest.includes('--no-live') ? [] : ['--admin-socket', prosody.adminSocketPath];
  return runBuiltCliAsync([...cliBase(who), ...socket, ...rest]);
}

function cliBase(who: TestUser): string[] {
  return bench.cliBase(who);
}

before(async () => {
  bench = await startLiveBench('0.12');
  ({ prosody, sshd, admin, plain } = bench);
});

after(async () => {
  await bench?.close();
});

describe('the live view over SSH, against real Prosody 0.12', () => {
  test('users online with 40-day-old records count in DAU, WAU and MAU, equal to the module', async () => {
    const gauges = (await prosody.metrics()).get('a.test');
    assert.deepEqual(gauges, { d1: 2, d7: 3, d30: 3 });
    const run = await cli(admin, '--json');
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    const a = out.hosts['a.test'];
    assert.deepEqual([a.dau, a.wau, a.mau], [gauges!.d1, gauges!.d7, gauges!.d30]);
    assert.equal(a.liveKnown, true);
    assert.equal(out.live.hosts['a.test'].comparison, 'equal');
  });

  test('online counts connected accounts, several resources of one account once', async () => {
    const run = await cli(admin, '--json');
    const out = JSON.parse(run.stdout);
    assert.equal(out.hosts['a.test'].online, 3);
    assert.equal(out.hosts['b.test'].online, 1);
    assert.equal(out.total.online, 4);
  });

  test('a host with mod_lastlog2 disabled is reported, with the figures will stop moving', async () => {
    const run = await cli(admin, '--json');
    const out = JSON.parse(run.stdout);
    const b = out.live.hosts['b.test'];
    assert.equal(b.modules.lastlog2, false);
    assert.equal(b.activityModuleMissing, true);
    assert.match(b.warnings.join(' '), /mod_lastlog2 is not loaded on b\.test.*stop moving/);
    assert.equal(out.live.hosts['a.test'].activityModuleMissing, false);
  });

  test('with the admin socket refused, the stored records still count, with a note', async () => {
    const run = await cli(plain, '--json');
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    const a = out.hosts['a.test'];
    assert.deepEqual([a.dau, a.wau, a.mau, a.online, a.liveKnown], [0, 1, 1, null, false]);
    assert.equal(out.live.known, false);
    assert.match(out.live.reason, /admin socket could not be opened/);
    const table = await cli(plain);
    assert.match(table.stdout, /Live view: not available/);
    assert.match(table.stdout, /--print-live-recipe/);
  });

  test('the table shows who is online and the module next to ours', async () => {
    const run = await cli(admin);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /ONLINE/);
    assert.match(
      run.stdout,
      /a\.test: mod_lastlog2 loaded, mod_measure_active_users loaded; its last count 2\/3\/3, ours 2\/3\/3: equal\./,
    );
    assert.match(run.stdout, /Warning: mod_lastlog2 is not loaded on b\.test/);
  });

  test('with no flag, the admin socket is found from the server\u2019s config and asked', async () => {
    const run = await runBuiltCliAsync([
      ...cliBase(admin).filter((a) => a !== '--remote-data-dir' && a !== prosody.dataPath),
      '--remote-config',
      prosody.configPath,
      '--json',
    ]);
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.equal(out.live.via, `admin socket ${prosody.adminSocketPath}`);
    assert.equal(out.hosts['a.test'].online, 3);
  });

  test('a restricted SFTP-only key with port-forwarding gets the live view, as the recipe says', async () => {
    const { key } = bench;
    const who = await sshd.addUser('rlive', {
      authorizedKeys: [
        `restrict,port-forwarding,command="/usr/lib/openssh/sftp-server -R" ${key.authorizedKey}`,
      ],
      groups: [bench.group],
    });
    const out = JSON.parse((await cli(who, '--json')).stdout);
    assert.equal(out.live.known, true);
    assert.equal(out.hosts['a.test'].online, 3);
  });

  test('a key with plain restrict is refused the live view, says why, and still counts', async () => {
    const { key } = bench;
    const who = await sshd.addUser('rnolive', {
      authorizedKeys: [`restrict,command="/usr/lib/openssh/sftp-server -R" ${key.authorizedKey}`],
      groups: [bench.group],
    });
    const run = await cli(who, '--json');
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.equal(out.live.known, false);
    assert.equal(out.live.accessRefused, true);
    assert.match(out.live.reason, /restrict or no-port-forwarding/);
    assert.deepEqual([out.hosts['a.test'].wau, out.hosts['a.test'].online], [1, null]);
  });

  test('--openmetrics carries online per host', async () => {
    const run = await cli(admin, '--openmetrics');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^prosody_active_users_online\{host="a\.test"\} 3$/m);
    assert.match(run.stdout, /^prosody_active_users_online\{host="b\.test"\} 1$/m);
  });

  test('--no-live gives the stored records\u2019 figures without asking the live server', async () => {
    const run = await cli(admin, '--json', '--no-live');
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.deepEqual([out.hosts['a.test'].dau, out.hosts['a.test'].online], [0, null]);
    assert.equal(out.live, undefined);
  });
});

/** A Unix socket in the sshd's folder that answers as `answer` says, open to every account. */
async function fakeSocket(name: string, answer: (sock: net.Socket) => void): Promise<net.Server> {
  const path = join(sshd.dir, name);
  const server = net.createServer(answer);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  chmodSync(path, 0o666);
  return server;
}

describe('a live server that misbehaves costs only the live view', () => {
  test('a socket that never answers times out, and the stored figures still come', async () => {
    const silent = await fakeSocket('silent.sock', () => undefined);
    try {
      const run = await cli(admin, '--json', '--no-live');
      const socketRun = await runBuiltCliAsync([
        ...cliBase(admin),
        '--admin-socket',
        join(sshd.dir, 'silent.sock'),
        '--json',
      ]);
      assert.equal(socketRun.status, 0, socketRun.stderr);
      const out = JSON.parse(socketRun.stdout);
      assert.equal(out.live.known, false);
      assert.match(out.live.reason, /no answer within 10 s/);
      assert.deepEqual(out.hosts, JSON.parse(run.stdout).hosts);
    } finally {
      silent.close();
    }
  });

  test('endless output with escape codes is cut off and never shown', async () => {
    const noisy = await fakeSocket('noisy.sock', (sock) => {
      const junk = Buffer.from('\u001b[2J\u001b]0;pwned\u0007'.repeat(4096));
      const pump = () => {
        while (sock.writable && sock.write(junk));
      };
      sock.on('drain', pump);
      sock.on('error', () => undefined);
      pump();
    });
    try {
      const run = await runBuiltCliAsync([
        ...cliBase(admin),
        '--admin-socket',
        join(sshd.dir, 'noisy.sock'),
      ]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /Live view: not available/);
      assert.ok(
        !(run.stdout + run.stderr).includes('\u001b'),
        'no escape code reaches the terminal',
      );
    } finally {
      noisy.close();
    }
  });
});

test('--print-live-recipe names the account and says the risk in one sentence', async () => {
  const run = await runBuiltCliAsync(['--print-live-recipe', '--ssh', 'monitor@example.org']);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /adduser monitor prosody/);
  assert.match(
    run.stdout,
    /Risk: whoever can open Prosody's admin socket is a full Prosody administrator/,
  );
});
