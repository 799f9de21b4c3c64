// A real Prosody with XMPP sessions held open, reached only through a real sshd: the live view's
// test bench. Shared by the 0.12 and 13 tests.
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DAY } from '../../main/core/windows.js';
import { datFileContent } from './lua-data.js';
import { type ProsodyInstance, type ProsodyVersion, createProsody } from './prosody-server.js';
import { type OpenSession, openSession } from './xmpp-login.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

export interface LiveBench {
  prosody: ProsodyInstance;
  sshd: SshdInstance;
  key: GeneratedKey;
  /** In the group the admin socket is opened to (what the recipe grants). */
  admin: TestUser;
  /** Not in it: live access refused. */
  plain: TestUser;
  /** The group the admin socket is opened to. */
  group: string;
  knownHosts: string;
  /** The CLI's SSH options for `who`, reading the records from the data folder. */
  cliBase(who: TestUser): string[];
  close(): Promise<void>;
}

const PASSWORD = 'pw';

/** Every folder and file below `dir` readable by all: the SSH accounts read the records. */
function readableByAll(dir: string): void {
  chmodSync(dir, 0o755);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) readableByAll(p);
    else if (e.isFile()) chmodSync(p, 0o644);
  }
}

function groupId(name: string): number {
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `group ${name} exists`);
  return Number(line.split(':')[2]);
}

/**
 * a.test: alice online twice (two resources), bob online, both with records made 40 days old
 * after their login; carol offline with records 3 days old, erin offline 40 days; frank online
 * with no records at all (removed after login). b.test has mod_lastlog2 disabled (on 13 with
 * mod_measure_active_users, which depends on it), dave online.
 * The module is made to count again afterwards, through the admin shell.
 */
export async function startLiveBench(
  version: ProsodyVersion,
  storage: 'internal' | 'sql' = 'internal',
): Promise<LiveBench> {
  const sessions: OpenSession[] = [];
  const prosody = await createProsody({
    version,
    storage,
    hosts: ['a.test', 'b.test'],
    plainLogins: true,
    adminSocket: true,
    // The recipe's step 2: the socket is made group-writable by Prosody itself.
    extraGlobalConfig: 'umask = "007"',
    // 13's mod_measure_active_users depends on mod_lastlog2: without it, neither loads there.
    hostConfig: {
      'b.test':
        version === '13'
          ? '\tmodules_disabled = { "lastlog2"; "measure_active_users"; }'
          : '\tmodules_disabled = { "lastlog2"; }',
    },
  });
  for (const user of ['alice', 'bob', 'carol', 'erin', 'frank'])
    await prosody.register(user, 'a.test', PASSWORD);
  await prosody.register('dave', 'b.test', PASSWORD);
  // The recipe's other half: the service starts with UMask=0007 (systemd), so that the socket is
  // group-writable whether mod_admin_socket or mod_posix (with umask = "007") loads first. A spawned
  // child takes the parent's umask, as a service takes its unit's.
  const umask = process.umask(0o007);
  try {
    await prosody.start();
  } finally {
    process.umask(umask);
  }
  const open = (host: string, user: string, resource: string) =>
    openSession({ port: prosody.c2sPort, host, user, password: PASSWORD, resource });
  sessions.push(await open('a.test', 'alice', 'phone'));
  sessions.push(await open('a.test', 'alice', 'desktop'));
  sessions.push(await open('a.test', 'bob', 'desktop'));
  sessions.push(await open('a.test', 'frank', 'desktop'));
  sessions.push(await open('b.test', 'dave', 'desktop'));
  const now = Math.floor(Date.now() / 1000);
  const sql = prosody.sqlitePath === null ? null : new Database(prosody.sqlitePath);
  sql?.pragma('busy_timeout = 5000');
  const dropLastlog = (user: string) => {
    if (sql) {
      sql
        .prepare("DELETE FROM prosody WHERE host = 'a.test' AND user = ? AND store = 'lastlog2'")
        .run(user);
    } else rmSync(prosody.internalPath('a.test', 'lastlog2', user), { force: true });
  };
  const writeLastlog = (user: string, timestamp: number) => {
    if (sql) {
      dropLastlog(user);
      const insert = sql.prepare(
        "INSERT INTO prosody (host, user, store, key, type, value) VALUES ('a.test', ?, 'lastlog2', ?, 'json', ?)",
      );
      for (const key of ['login', 'logout']) insert.run(user, key, JSON.stringify({ timestamp }));
    } else {
      writeFileSync(
        prosody.internalPath('a.test', 'lastlog2', user),
        datFileContent({ login: { timestamp }, logout: { timestamp } }),
      );
    }
  };
  writeLastlog('alice', now - 40 * DAY);
  writeLastlog('bob', now - 40 * DAY);
  writeLastlog('carol', now - 3 * DAY);
  writeLastlog('erin', now - 40 * DAY);
  dropLastlog('frank');
  sql?.close();
  for (const host of version === '13' ? ['a.test'] : ['a.test', 'b.test']) {
    const r = await prosody.shell(
      `>prosody.hosts[${JSON.stringify(host)}].modules.measure_active_users.update_calculations()`,
    );
    assert.equal(r.code, 0, `recount on ${host}: ${r.stdout}${r.stderr}`);
  }

  const sshd = await startSshd({ passwordAuth: false });
  const key = await generateKey('ed25519');
  const group = await sshd.addGroup('pauadm');
  const admin = await sshd.addUser('live', {
    authorizedKeys: [key.authorizedKey],
    groups: [group],
  });
  const plain = await sshd.addUser('nolive', { authorizedKeys: [key.authorizedKey] });
  const knownHosts = join(sshd.dir, 'known_hosts_client');
  writeFileSync(knownHosts, sshd.knownHostsLine());
  readableByAll(prosody.dir);
  // What the recipe grants: the socket writable by a group the monitoring account is in. Prosody
  // runs as root here, so the group is root's: the test hands the socket to the account's group.
  const mode = statSync(prosody.adminSocketPath).mode & 0o777;
  assert.equal(mode, 0o770, `the socket is group-writable (mode ${mode.toString(8)})`);
  chownSync(prosody.adminSocketPath, 0, groupId(group));
  return {
    prosody,
    sshd,
    key,
    admin,
    plain,
    group,
    knownHosts,
    cliBase: (who) => [
      ...(prosody.sqlitePath === null
        ? ['--remote-data-dir', prosody.dataPath]
        : ['--remote-db', prosody.sqlitePath]),
      '--ssh',
      `${who.name}@127.0.0.1:${sshd.port}`,
      '--identity',
      key.privatePath,
      '--known-hosts',
      knownHosts,
      '--ssh-config',
      '/dev/null',
    ],
    close: async () => {
      for (const s of sessions) await s.close().catch(() => undefined);
      await sshd.stop();
      await prosody.dispose();
    },
  };
}
