/**
 * The account cache against a real OpenSSH sshd on loopback: with --state-dir, a second refresh
 * fetches only what changed (remote query) or nothing at all (SFTP copy of an unchanged file), and
 * every figure still equals a full count of the server's data as it is then: after new logins and
 * registrations, after an account is deleted, after a day, and with a damaged cache file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { DAY } from '../../main/core/windows.js';
import { type ActivitySeed, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { datFileContent } from '../helpers/lua-data.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

const NOW = 1_795_536_000;
const ACCOUNTS = 3000;

function seedsFor(count: number): ActivitySeed[] {
  const seeds: ActivitySeed[] = [];
  for (let i = 0; i < count; i++) {
    const host = ['a.test', 'b.test', 'c.test'][i % 3]!;
    const user = `user${i}`;
    seeds.push({ host, user, event: 'login', timestamp: NOW - ((i * 7919) % (60 * DAY)) - 60 });
    if (i % 4 === 0) seeds.push({ host, user, event: 'logout', timestamp: NOW - i * 500 - 30 });
    if (i % 5 === 0) seeds.push({ host, user, event: 'registered', timestamp: NOW - i * 900 });
  }
  return seeds;
}

let sshd: SshdInstance;
let key: GeneratedKey;
let reader: TestUser;
/** May run only sftp-server: internal storage then goes by SFTP, whose cache these tests check. */
let sftpReader: TestUser;
let work: string;
let knownHosts: string;
let remoteDb: string;
let dataDir: string;

/** Every file and folder under `dir` last changed an hour ago, as on a quiet server. */
function ageTree(dir: string): void {
  const then = Date.now() / 1000 - 3600;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    utimesSync(join(entry.parentPath, entry.name), then, then);
  }
  utimesSync(dir, then, then);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pau-cache-ssh-'));
  sshd = await startSshd({ passwordAuth: false });
  key = await generateKey('ed25519');
  reader = await sshd.addUser('cachereader', { authorizedKeys: [key.authorizedKey] });
  sftpReader = await sshd.addUser('cachesftp', {
    authorizedKeys: [`restrict,command="/usr/lib/openssh/sftp-server" ${key.authorizedKey}`],
  });
  knownHosts = join(work, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine());
  const remoteDir = mkdtempSync(join(sshd.dir, 'prosody-'));
  chmodSync(remoteDir, 0o755);
  remoteDb = join(remoteDir, 'prosody.sqlite');
  dataDir = join(remoteDir, 'data');
  writeProsodyInternal(dataDir, seedsFor(600));
  ageTree(dataDir);
  writeProsodySqlite(remoteDb, seedsFor(ACCOUNTS).map(activityRow));
  chownSync(remoteDb, reader.uid, reader.gid);
  chmodSync(remoteDb, 0o644);
});

after(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Fetch {
  method: string;
  bytesReceived: number;
}

interface Counted {
  hosts: Record<string, unknown>;
  fetch: Fetch;
  notices: string[];
}

function count(stateDir: string | null, ...rest: string[]): Promise<Counted> {
  return countAs(rest.includes('--remote-data-dir') ? sftpReader : reader, stateDir, ...rest);
}

async function countAs(
  user: TestUser,
  stateDir: string | null,
  ...rest: string[]
): Promise<Counted> {
  const source = rest.includes('--remote-data-dir') ? [] : ['--remote-db', remoteDb];
  const cli = await runBuiltCliAsync([
    '--ssh',
    `${user.name}@127.0.0.1:${sshd.port}`,
    '--identity',
    key.privatePath,
    '--known-hosts',
    knownHosts,
    '--ssh-config',
    '/dev/null',
    ...source,
    '--at',
    String(NOW),
    '--json',
    ...(stateDir === null ? [] : ['--state-dir', stateDir]),
    ...rest,
  ]);
  assert.equal(cli.status, 0, cli.stderr);
  const out = JSON.parse(cli.stdout) as {
    hosts: Record<string, unknown>;
    fetch: Fetch[];
    notices?: string[];
  };
  assert.equal(out.fetch.length, 1);
  return { hosts: out.hosts, fetch: out.fetch[0]!, notices: out.notices ?? [] };
}

/** `later` received less than a `factor`-th of what `first` did. */
function assertFewerBytes(later: Counted, first: Counted, factor: number): void {
  const [a, b] = [later.fetch.bytesReceived, first.fetch.bytesReceived];
  assert.ok(a * factor < b, `${a} bytes the second time, ${b} the first`);
}

/** A full count with no cache at all: what every cached count must equal. */
async function truth(...rest: string[]): Promise<Record<string, unknown>> {
  return (await count(null, ...rest)).hosts;
}

function change(sql: (db: Database.Database) => void): void {
  const db = new Database(remoteDb);
  try {
    sql(db);
  } finally {
    db.close();
  }
}

function insert(db: Database.Database, seeds: ActivitySeed[]): void {
  const put = db.prepare(
    'INSERT OR REPLACE INTO prosody (host, user, store, key, type, value) VALUES (?, ?, ?, ?, ?, ?)',
  );
  for (const s of seeds) {
    const r = activityRow(s);
    put.run(r.host, r.user, r.store, r.key, r.type, r.value);
  }
}

const UNCHANGED = 'remote query, unchanged: counted from the cache';

describe('the remote query with a cache', () => {
  const state = () => mkdtempSync(join(work, 'state-'));

  test('the server answers "unchanged" the second time, and the figures stay the same', async () => {
    const dir = state();
    const first = await count(dir);
    assert.equal(first.fetch.method, 'remote query');
    assert.deepEqual(first.hosts, await truth());
    const second = await count(dir);
    assert.equal(second.fetch.method, 'remote query, unchanged: counted from the cache');
    assert.deepEqual(second.hosts, first.hosts);
    assertFewerBytes(second, first, 10);
    assert.ok(existsSync(join(dir, 'cache.sqlite')));
  });

  test('new logins, logouts and registrations arrive in the changes', async () => {
    const dir = state();
    await count(dir);
    change((db) =>
      insert(db, [
        { host: 'a.test', user: 'user3', event: 'login', timestamp: NOW - 10 },
        { host: 'b.test', user: 'user4', event: 'logout', timestamp: NOW - 5 },
        { host: 'c.test', user: 'newcomer', event: 'registered', timestamp: NOW - 2 },
        { host: 'c.test', user: 'newcomer', event: 'login', timestamp: NOW - 1 },
        { host: 'd.test', user: 'first', event: 'login', timestamp: NOW - 100 },
      ]),
    );
    const changed = await count(dir);
    assert.equal(changed.fetch.method, 'remote query, changes only');
    assert.deepEqual(changed.hosts, await truth());
  });

  test('a deleted account makes it fetch everything at once, and drop out', async () => {
    const dir = state();
    const before = await count(dir);
    change((db) =>
      db.prepare("DELETE FROM prosody WHERE host = 'a.test' AND user = 'user0'").run(),
    );
    const after = await count(dir);
    assert.equal(after.fetch.method, 'remote query');
    const expected = await truth();
    assert.deepEqual(after.hosts, expected);
    assert.notDeepEqual(after.hosts, before.hosts);
    // And the cache it then keeps is the new one.
    assert.equal(
      (await count(dir)).fetch.method,
      'remote query, unchanged: counted from the cache',
    );
  });

  test('an account deleted while another with an old login appears is caught, though the counts match', async () => {
    const dir = state();
    const before = await count(dir);
    // user6 was active today (user0, whom this test deleted once, is gone since the test
    // before); the newcomer's only login is 5 days old, older than what the changes-only query
    // asks for (issue 15, item 3).
    change((db) => {
      db.prepare("DELETE FROM prosody WHERE host = 'a.test' AND user = 'user6'").run();
      insert(db, [{ host: 'a.test', user: 'fivedays', event: 'login', timestamp: NOW - 5 * DAY }]);
    });
    const after = await count(dir);
    const expected = await truth();
    assert.notDeepEqual(expected, before.hosts);
    assert.deepEqual(after.hosts, expected);
    assert.equal(after.fetch.method, 'remote query');
  });

  test('a login rewritten to an older time is caught, though the counts match', async () => {
    const dir = state();
    await count(dir);
    change((db) =>
      db
        .prepare(
          "UPDATE prosody SET value = ? WHERE host = 'b.test' AND user = 'user1' AND key = 'login'",
        )
        .run(JSON.stringify({ timestamp: NOW - 9 * DAY })),
    );
    const after = await count(dir);
    assert.deepEqual(after.hosts, await truth());
    assert.equal(after.fetch.method, 'remote query');
  });

  test('a row that becomes malformed is caught by the totals', async () => {
    const dir = state();
    await count(dir);
    change((db) =>
      db
        .prepare(
          "UPDATE prosody SET value = 'not json' WHERE host = 'b.test' AND user = 'user1' AND key = 'login'",
        )
        .run(),
    );
    const after = await count(dir);
    assert.equal(after.fetch.method, 'remote query');
    assert.deepEqual(after.hosts, await truth());
  });

  test('after a day it fetches everything again', async () => {
    const dir = state();
    await count(dir);
    const cache = new Database(join(dir, 'cache.sqlite'));
    cache.prepare('UPDATE snapshot SET full_at = full_at - 86400').run();
    cache.close();
    assert.equal((await count(dir)).fetch.method, 'remote query');
    assert.equal(
      (await count(dir)).fetch.method,
      'remote query, unchanged: counted from the cache',
    );
  });

  test('a damaged cache file is set aside and the count goes on', async () => {
    const dir = state();
    writeFileSync(join(dir, 'cache.sqlite'), 'this is not a database, and it stays');
    const counted = await count(dir);
    assert.equal(counted.fetch.method, 'remote query');
    assert.deepEqual(counted.hosts, await truth());
    assert.ok(readdirSync(dir).some((f) => f.startsWith('cache.sqlite.unusable-')));
    assert.equal(
      (await count(dir)).fetch.method,
      'remote query, unchanged: counted from the cache',
    );
  });

  /** Counts once with a fresh cache, applies `sql`, counts again: not "unchanged", and right. */
  async function notUnchangedAfter(sql: (db: Database.Database) => void): Promise<void> {
    const dir = state();
    assert.equal((await count(dir)).fetch.method, 'remote query');
    assert.equal((await count(dir)).fetch.method, UNCHANGED);
    change(sql);
    const after = await count(dir);
    assert.notEqual(after.fetch.method, UNCHANGED);
    assert.deepEqual(after.hosts, await truth());
    // Once brought up to date, the next refresh is "unchanged" again, with the same figures.
    const again = await count(dir);
    assert.equal(again.fetch.method, UNCHANGED);
    assert.deepEqual(again.hosts, after.hosts);
  }

  test('a changed login time is not "unchanged"', () =>
    notUnchangedAfter((db) =>
      insert(db, [{ host: 'b.test', user: 'user4', event: 'login', timestamp: NOW - 7 }]),
    ));

  test('a login rewritten to another time of the same length is not "unchanged"', () =>
    notUnchangedAfter((db) =>
      db
        .prepare(
          "UPDATE prosody SET value = replace(value, '7', '3') WHERE host = 'c.test' AND user = 'user5' AND key = 'login'",
        )
        .run(),
    ));

  test('an account deleted and another added with equal counts is not "unchanged"', () =>
    notUnchangedAfter((db) => {
      db.prepare("DELETE FROM prosody WHERE host = 'a.test' AND user = 'user9'").run();
      insert(db, [{ host: 'a.test', user: 'user8x', event: 'login', timestamp: NOW - 6 * DAY }]);
    }));

  test('an account disabled is not "unchanged"', () =>
    notUnchangedAfter((db) =>
      db
        .prepare(
          "INSERT INTO prosody VALUES ('b.test', 'user7', 'accounts', 'disabled', 'boolean', 'true')",
        )
        .run(),
    ));

  test('a host added is not "unchanged"', () =>
    notUnchangedAfter((db) =>
      insert(db, [{ host: 'e.test', user: 'user1', event: 'login', timestamp: NOW - 3 * DAY }]),
    ));

  test('a host removed is not "unchanged"', () =>
    notUnchangedAfter((db) => db.prepare("DELETE FROM prosody WHERE host = 'e.test'").run()));

  test('"unchanged" is answered without running sqlite3 on the server', async () => {
    // This user's sqlite3 notes each run in a log, then runs the real one.
    const bin = mkdtempSync(join(sshd.dir, 'bin-'));
    const log = join(bin, 'runs.log');
    writeFileSync(log, '');
    chmodSync(log, 0o666);
    writeFileSync(
      join(bin, 'sqlite3'),
      `#!/bin/sh\necho run >> '${log}'\nexec /usr/bin/sqlite3 "$@"\n`,
    );
    chmodSync(bin, 0o755);
    chmodSync(join(bin, 'sqlite3'), 0o755);
    const logged = await sshd.addUser('cachelogged', {
      authorizedKeys: [key.authorizedKey],
      path: `${bin}:/usr/local/bin:/usr/bin:/bin`,
    });
    const dir = state();
    assert.equal((await countAs(logged, dir)).fetch.method, 'remote query');
    const runs = readFileSync(log, 'utf8');
    assert.notEqual(runs, '');
    const second = await countAs(logged, dir);
    assert.equal(second.fetch.method, UNCHANGED);
    assert.equal(readFileSync(log, 'utf8'), runs);
  });

  test('a file in WAL mode is never "unchanged" (a WAL commit leaves the main file alone)', async () => {
    const dir = state();
    const folder = dirname(remoteDb);
    // The reader makes the -shm file beside it, as Prosody's own user would.
    chownSync(folder, reader.uid, reader.gid);
    try {
      change((db) => db.pragma('journal_mode = WAL'));
      assert.equal((await count(dir)).fetch.method, 'remote query');
      const second = await count(dir);
      assert.equal(second.fetch.method, 'remote query, changes only');
      assert.deepEqual(second.hosts, await truth());
    } finally {
      change((db) => db.pragma('journal_mode = DELETE'));
      chownSync(folder, 0, 0);
    }
    await count(dir);
    assert.equal((await count(dir)).fetch.method, UNCHANGED);
  });

  test('a live journal beside the file is not "unchanged"', async () => {
    const dir = state();
    await count(dir);
    assert.equal((await count(dir)).fetch.method, UNCHANGED);
    writeFileSync(`${remoteDb}-journal`, '');
    try {
      const counted = await count(dir);
      assert.equal(counted.fetch.method, 'remote query, changes only');
      assert.deepEqual(counted.hosts, await truth());
    } finally {
      unlinkSync(`${remoteDb}-journal`);
    }
    assert.equal((await count(dir)).fetch.method, UNCHANGED);
  });

  test('the file rewritten in place from a copy, its mtime set back, is not "unchanged"', async () => {
    const dir = state();
    await count(dir);
    assert.equal((await count(dir)).fetch.method, UNCHANGED);
    // cp -p and touch -r keep the nanoseconds: only the ctime tells the rewrite.
    const copy = `${remoteDb}.copy`;
    const { ino, mtimeNs } = statSync(remoteDb, { bigint: true });
    execFileSync('cp', ['-p', remoteDb, copy]);
    execFileSync('cp', [copy, remoteDb]);
    execFileSync('touch', ['-r', copy, remoteDb]);
    unlinkSync(copy);
    const now = statSync(remoteDb, { bigint: true });
    assert.deepEqual([now.ino, now.mtimeNs], [ino, mtimeNs]);
    const counted = await count(dir);
    assert.equal(counted.fetch.method, 'remote query, changes only');
    assert.deepEqual(counted.hosts, await truth());
    assert.equal((await count(dir)).fetch.method, UNCHANGED);
  });

  test('the file replaced by a copy with the same header and mtime is not "unchanged"', async () => {
    const dir = state();
    await count(dir);
    assert.equal((await count(dir)).fetch.method, UNCHANGED);
    const copy = `${remoteDb}.copy`;
    copyFileSync(remoteDb, copy);
    const { atime, mtime } = statSync(remoteDb);
    utimesSync(copy, atime, mtime);
    chownSync(copy, reader.uid, reader.gid);
    chmodSync(copy, 0o644);
    renameSync(copy, remoteDb);
    const counted = await count(dir);
    assert.equal(counted.fetch.method, 'remote query, changes only');
    assert.deepEqual(counted.hosts, await truth());
    assert.equal((await count(dir)).fetch.method, UNCHANGED);
  });

  test('a cache of the previous version costs one full fetch, then answers "unchanged"', async () => {
    const dir = state();
    await count(dir);
    const cache = new Database(join(dir, 'cache.sqlite'));
    cache.pragma('user_version = 4');
    cache.close();
    const counted = await count(dir);
    assert.equal(counted.fetch.method, 'remote query');
    assert.deepEqual(counted.hosts, await truth());
    assert.equal((await count(dir)).fetch.method, UNCHANGED);
  });
});

describe('the SFTP copy with a cache', () => {
  test('copies nothing while the file stands still, and copies again once it changed', async () => {
    const dir = mkdtempSync(join(work, 'state-'));
    const old = NOW - 3600;
    utimesSync(remoteDb, old, old);
    const first = await count(dir, '--method', 'copy');
    assert.equal(first.fetch.method, 'SFTP copy');
    const second = await count(dir, '--method', 'copy');
    assert.equal(second.fetch.method, 'SFTP copy, unchanged: counted from the cache');
    assert.deepEqual(second.hosts, first.hosts);
    assert.ok(second.fetch.bytesReceived < 4096, `${second.fetch.bytesReceived} bytes`);
    // The notice about rollback-journal mode still comes with figures from the cache.
    assert.deepEqual(second.notices, first.notices);

    change((db) =>
      insert(db, [{ host: 'a.test', user: 'late', event: 'login', timestamp: NOW - 1 }]),
    );
    const third = await count(dir, '--method', 'copy');
    assert.equal(third.fetch.method, 'SFTP copy');
    assert.deepEqual(third.hosts, await truth('--method', 'copy'));
    // Changed within the last minute: mtime's whole seconds could hide the next write, so the
    // copy is not trusted to stand for the file yet.
    assert.equal((await count(dir, '--method', 'copy')).fetch.method, 'SFTP copy');
  });
});

describe('internal storage over SFTP with a cache', () => {
  const files = (stateDir: string | null) => count(stateDir, '--remote-data-dir', dataDir);

  test('reads no file that has not changed, and exactly the ones that have', async () => {
    const dir = mkdtempSync(join(work, 'state-'));
    const first = await files(dir);
    assert.match(first.fetch.method, /^SFTP files: 600 read, 0 unchanged from the cache$/);
    assert.deepEqual(first.hosts, await truth('--remote-data-dir', dataDir));
    const second = await files(dir);
    assert.equal(second.fetch.method, 'SFTP files: 0 read, 600 unchanged from the cache');
    assert.deepEqual(second.hosts, first.hosts);
    assertFewerBytes(second, first, 20);

    // Prosody writes a new file next to the old one and renames it over it.
    const path = join(dataDir, 'a%2etest', 'lastlog2', 'user3.dat');
    writeFileSync(`${path}~`, datFileContent({ login: { timestamp: NOW - 5 } }));
    renameSync(`${path}~`, path);
    const third = await files(dir);
    assert.equal(third.fetch.method, 'SFTP files: 1 read, 599 unchanged from the cache');
    assert.deepEqual(third.hosts, await truth('--remote-data-dir', dataDir));
    assert.notDeepEqual(third.hosts, first.hosts);

    // An account deleted: its file is gone from the folder, and from the figures.
    unlinkSync(join(dataDir, 'b%2etest', 'lastlog2', 'user1.dat'));
    const fourth = await files(dir);
    assert.match(fourth.fetch.method, /^SFTP files: [01] read, 59[89] unchanged from the cache$/);
    assert.deepEqual(fourth.hosts, await truth('--remote-data-dir', dataDir));
  });

  test('without --state-dir every file is read, every time', async () => {
    assert.equal((await files(null)).fetch.method, 'SFTP files');
  });
});
