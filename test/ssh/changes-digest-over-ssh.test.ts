/**
 * The remote query's changes-only refresh checked by the digest of every row (row-digest.ts),
 * against a real OpenSSH sshd on loopback, on a Prosody 13-shaped database (accounts with their
 * `created`/`updated`/password rows, roles, some disabled, some without any lastlog2 row): a few
 * new logins are read as changes, and every hostile change still ends in the figures of a full
 * count with no cache, by a full read when the cache cannot be trusted.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { DAY } from '../../main/core/windows.js';
import { type ProsodyRow, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import { CHUNK_FROM_BYTES, CHUNKS } from '../../main/ssh/remote-query-command.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  generateKey,
  startSshd,
} from '../support/sshd.js';

const NOW = 1_795_536_000;
const ACCOUNTS = 3000;
const HOSTS = ['a.test', 'b.test', 'c.test'];
const CHANGES = 'remote query, changes only';
const FULL = 'remote query';

/** Account i: on HOSTS[i % 3]; every 10th disabled; every 15th has never logged in. */
function accountRows(i: number, updated = NOW - 90 * DAY - i): ProsodyRow[] {
  const host = HOSTS[i % 3]!;
  const user = `user${i}`;
  const row = (store: string, key: string, type: string, value: string): ProsodyRow => ({
    host,
    user,
    store,
    key,
    type,
    value,
  });
  const rows = [
    row('accounts', 'created', 'number', String(NOW - 100 * DAY - i)),
    row('accounts', 'updated', 'number', String(updated)),
    row('accounts', 'stored_key', 'string', `k${i}`.padEnd(40, 'f')),
    row('accounts', 'salt', 'string', `salt-${i}`),
    row('accounts', 'server_key', 'string', `s${i}`.padEnd(40, 'e')),
    row('accounts', 'iteration_count', 'number', '10000'),
    row('account_roles', '_default', 'string', 'prosody:member'),
  ];
  if (i % 10 === 0) rows.push(row('accounts', 'disabled', 'boolean', 'true'));
  return rows;
}

function loginRows(i: number): ProsodyRow[] {
  if (i % 15 === 7) return [];
  const host = HOSTS[i % 3]!;
  const user = `user${i}`;
  const rows = [
    activityRow({ host, user, event: 'login', timestamp: NOW - ((i * 7919) % (40 * DAY)) - 3600 }),
  ];
  if (i % 4 === 0) {
    rows.push(activityRow({ host, user, event: 'logout', timestamp: NOW - i * 300 - 4000 }));
  }
  return rows;
}

let sshd: SshdInstance;
let key: GeneratedKey;
let reader: TestUser;
let work: string;
let knownHosts: string;
let remoteDb: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pau-digest-ssh-'));
  sshd = await startSshd({ passwordAuth: false });
  key = await generateKey('ed25519');
  reader = await sshd.addUser('digestreader', { authorizedKeys: [key.authorizedKey] });
  knownHosts = join(work, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine());
  const remoteDir = mkdtempSync(join(sshd.dir, 'prosody-'));
  chmodSync(remoteDir, 0o755);
  remoteDb = join(remoteDir, 'prosody.sqlite');
});

/** Each test starts from the same database. */
beforeEach(() => {
  rmSync(remoteDb, { force: true });
  const rows: ProsodyRow[] = [];
  for (let i = 0; i < ACCOUNTS; i++) rows.push(...accountRows(i), ...loginRows(i));
  writeProsodySqlite(remoteDb, rows);
  chownSync(remoteDb, reader.uid, reader.gid);
  chmodSync(remoteDb, 0o644);
});

after(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Counted {
  hosts: Record<string, unknown>;
  method: string;
}

function cliRun(stateDir: string | null, as: TestUser = reader) {
  return runBuiltCliAsync([
    '--ssh',
    `${as.name}@127.0.0.1:${sshd.port}`,
    '--identity',
    key.privatePath,
    '--known-hosts',
    knownHosts,
    '--ssh-config',
    '/dev/null',
    '--remote-db',
    remoteDb,
    '--at',
    String(NOW),
    '--json',
    ...(stateDir === null ? [] : ['--state-dir', stateDir]),
  ]);
}

async function count(stateDir: string | null, as: TestUser = reader): Promise<Counted> {
  const cli = await cliRun(stateDir, as);
  assert.equal(cli.status, 0, cli.stderr);
  const out = JSON.parse(cli.stdout) as {
    hosts: Record<string, unknown>;
    fetch: { method: string }[];
  };
  return { hosts: out.hosts, method: out.fetch[0]!.method };
}

function change(sql: (db: Database.Database) => void): void {
  const db = new Database(remoteDb);
  try {
    db.transaction(() => sql(db))();
  } finally {
    db.close();
  }
}

/** As Prosody writes a map store's key: the old row deleted, a new one inserted. */
function put(db: Database.Database, r: ProsodyRow): void {
  db.prepare('DELETE FROM prosody WHERE host = ? AND user = ? AND store = ? AND key = ?').run(
    r.host,
    r.user,
    r.store,
    r.key,
  );
  db.prepare('INSERT INTO prosody VALUES (?, ?, ?, ?, ?, ?)').run(
    r.host,
    r.user,
    r.store,
    r.key,
    r.type,
    r.value,
  );
}

/**
 * `r` written under the rowid of a row no count reads (user `from`'s salt), deleted first: a row
 * whose rowid is not above the last read's highest, so that only the digest can tell it.
 */
function putAtFreedRowid(db: Database.Database, r: ProsodyRow, from: number): void {
  const { rowid } = db
    .prepare("SELECT rowid FROM prosody WHERE user = ? AND store = 'accounts' AND key = 'salt'")
    .get(`user${from}`) as { rowid: number };
  db.prepare('DELETE FROM prosody WHERE rowid = ?').run(rowid);
  db.prepare(
    'INSERT INTO prosody (rowid, host, user, store, key, type, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(rowid, r.host, r.user, r.store, r.key, r.type, r.value);
}

const login = (i: number, timestamp: number) =>
  activityRow({ host: HOSTS[i % 3]!, user: `user${i}`, event: 'login', timestamp });

/** A full read into a fresh cache, `sql`, then a refresh: by `method`, with exact figures. */
async function afterChange(sql: (db: Database.Database) => void, method: string): Promise<void> {
  const dir = mkdtempSync(join(work, 'state-'));
  assert.equal((await count(dir)).method, FULL);
  change(sql);
  const refreshed = await count(dir);
  assert.deepEqual(refreshed.hosts, (await count(null)).hosts);
  assert.equal(refreshed.method, method);
  // And the cache it keeps still stands for the next change.
  change((db) => put(db, login(2, NOW - 5)));
  const next = await count(dir);
  assert.deepEqual(next.hosts, (await count(null)).hosts);
  assert.equal(next.method, CHANGES);
}

describe('changes-only refreshes checked by the digest of every row', () => {
  test('a hundred new logins and logouts are read as changes', () =>
    afterChange((db) => {
      for (let i = 0; i < 100; i++) {
        put(db, login(i * 29, NOW - 60 - i));
        if (i % 3 === 0) {
          put(
            db,
            activityRow({
              host: HOSTS[(i * 29) % 3]!,
              user: `user${i * 29}`,
              event: 'logout',
              timestamp: NOW - 30,
            }),
          );
        }
      }
    }, CHANGES));

  test('a new account registered and logged in is read as a change', () =>
    afterChange((db) => {
      for (const r of accountRows(ACCOUNTS, NOW - 50)) put(db, r);
      put(
        db,
        activityRow({
          host: 'a.test',
          user: `user${ACCOUNTS}`,
          event: 'registered',
          timestamp: NOW - 50,
        }),
      );
      put(db, login(ACCOUNTS, NOW - 40));
    }, CHANGES));

  test('an account created without a login, as prosodyctl does, is read as a change', () =>
    afterChange((db) => {
      for (const r of accountRows(ACCOUNTS, NOW - 50)) put(db, r);
    }, CHANGES));

  test('the first login of an old account that never logged in is read as a change', () =>
    afterChange((db) => put(db, login(7, NOW - 20)), CHANGES));

  test('an account disabled by Prosody 13, which moves `updated`, is read as a change', () =>
    afterChange((db) => {
      put(db, {
        host: 'b.test',
        user: 'user1',
        store: 'accounts',
        key: 'disabled',
        type: 'boolean',
        value: 'true',
      });
      put(db, {
        host: 'b.test',
        user: 'user1',
        store: 'accounts',
        key: 'updated',
        type: 'number',
        value: String(NOW - 10),
      });
    }, CHANGES));

  const disabled: ProsodyRow = {
    host: 'b.test',
    user: 'user1',
    store: 'accounts',
    key: 'disabled',
    type: 'boolean',
    value: 'true',
  };

  test('an account disabled without `updated` moving, its row written after the last read, is read as a change', () =>
    afterChange((db) => put(db, disabled), CHANGES));

  test('an account disabled without `updated` moving, under a rowid freed before the last read, is caught', () =>
    afterChange((db) => putAtFreedRowid(db, disabled, 1), FULL));

  test('an account enabled again without `updated` moving is caught', () =>
    afterChange((db) => {
      db.prepare("DELETE FROM prosody WHERE user = 'user10' AND key = 'disabled'").run();
    }, FULL));

  test('an account deleted while its lastlog2 rows stay is caught', () =>
    afterChange((db) => {
      db.prepare("DELETE FROM prosody WHERE user = 'user4' AND store <> 'lastlog2'").run();
    }, FULL));

  test('an account swapped for another with an old login is caught', () =>
    afterChange((db) => {
      db.prepare("DELETE FROM prosody WHERE user = 'user5'").run();
      for (const r of accountRows(ACCOUNTS + 5)) put(db, r);
      put(db, login(ACCOUNTS + 5, NOW - 6 * DAY));
    }, FULL));

  test('a login rewritten in place to an older time is caught', () =>
    afterChange((db) => {
      db.prepare(
        "UPDATE prosody SET value = ? WHERE user = 'user8' AND store = 'lastlog2' AND key = 'login'",
      ).run(JSON.stringify({ timestamp: NOW - 20 * DAY }));
    }, FULL));

  test('an old login given to an account that never logged in, written after the last read, is read as a change', () =>
    afterChange((db) => put(db, login(22, NOW - 9 * DAY)), CHANGES));

  test('an old login given to an account that never logged in, under a rowid freed before the last read, is caught', () =>
    afterChange((db) => putAtFreedRowid(db, login(22, NOW - 9 * DAY), 22), FULL));

  test('a login written after the last read is read as a change, whatever time it carries', () =>
    afterChange((db) => put(db, login(3, NOW - 5 * DAY)), CHANGES));

  test("a login rewritten in place at the server's clock, as Prosody 13 writes it, is read as a change", () =>
    afterChange((db) => {
      db.prepare(
        "UPDATE prosody SET value = ? WHERE user = 'user8' AND store = 'lastlog2' AND key = 'login'",
      ).run(JSON.stringify({ timestamp: Math.floor(Date.now() / 1000) }));
    }, CHANGES));

  test('a role removed is caught', () =>
    afterChange((db) => {
      db.prepare("DELETE FROM prosody WHERE user = 'user11' AND store = 'account_roles'").run();
    }, FULL));

  const otherHost = activityRow({
    host: 'e.test',
    user: 'user1',
    event: 'login',
    timestamp: NOW - 3 * DAY,
  });

  test('a host added with old logins, written after the last read, is read as a change', () =>
    afterChange((db) => put(db, otherHost), CHANGES));

  test('a host added with old logins, under a rowid freed before the last read, is caught', () =>
    afterChange((db) => putAtFreedRowid(db, otherHost, 1), FULL));

  test('a host removed is caught', () =>
    afterChange((db) => {
      db.prepare("DELETE FROM prosody WHERE host = 'c.test'").run();
    }, FULL));

  test('a table gone since the last read says so as on a first read', async () => {
    const dir = mkdtempSync(join(work, 'state-'));
    assert.equal((await count(dir)).method, FULL);
    change((db) => db.prepare('DROP TABLE prosody').run());
    const [cached, fresh] = [await cliRun(dir), await cliRun(null)];
    assert.notEqual(fresh.status, 0);
    assert.deepEqual([cached.status, cached.stderr], [fresh.status, fresh.stderr]);
  });

  test('a login row made malformed is caught', () =>
    afterChange((db) => {
      db.prepare(
        "UPDATE prosody SET value = 'not json' WHERE user = 'user13' AND store = 'lastlog2' AND key = 'login'",
      ).run();
    }, FULL));
});

describe('the server side of a changes-only refresh', () => {
  test('scans a small rollback-journal file by one statement, one of 64 MiB or more in parts, each its own sqlite3 process, with the figures of one', async () => {
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
    const counted = await sshd.addUser('digesthalves', {
      authorizedKeys: [key.authorizedKey],
      path: `${bin}:/usr/local/bin:/usr/bin:/bin`,
    });
    chownSync(remoteDb, counted.uid, counted.gid);
    const dir = mkdtempSync(join(work, 'state-'));
    assert.equal((await count(dir, counted)).method, FULL);
    change((db) => put(db, login(3, NOW - 30)));
    writeFileSync(log, '');
    const small = await count(dir, counted);
    assert.equal(small.method, CHANGES);
    assert.equal(readFileSync(log, 'utf8'), 'run\n', 'a small file: one statement');
    assert.deepEqual(small.hosts, (await count(null, counted)).hosts);
    change((db) => {
      // Rosters, whose rows the scan passes over, enough to bring the file to the threshold.
      const roster = db.prepare("INSERT INTO prosody VALUES ('a.test', ?, 'roster', ?, 'json', ?)");
      const value = JSON.stringify({ name: 'x'.repeat(4000), subscription: 'both' });
      for (let i = 0; i * 4000 < CHUNK_FROM_BYTES + 1e6; i++) {
        roster.run(`user${i % 50}`, `contact${i}@b.test`, value);
      }
      for (let i = 0; i < 100; i++) put(db, login(i * 7, NOW - 60 - i));
      // A name that quoting must carry whole from a part's answer into the last statement.
      put(
        db,
        activityRow({
          host: 'a.test',
          user: `o'neil "q" \\ '';`,
          event: 'login',
          timestamp: NOW - 9,
        }),
      );
    });
    assert.ok(statSync(remoteDb).size >= CHUNK_FROM_BYTES);
    writeFileSync(log, '');
    const refreshed = await count(dir, counted);
    assert.equal(refreshed.method, CHANGES);
    // The parts, then the accounts they found read again.
    assert.equal(readFileSync(log, 'utf8'), 'run\n'.repeat(CHUNKS + 1));
    assert.deepEqual(refreshed.hosts, (await count(null, counted)).hosts);
  });

  test('holds in memory only the changed accounts, never a sort of the whole table', async () => {
    // 60 000 accounts; once the flag file is there, this user's sqlite3 may use 2 MB of heap
    // (page cache 5 pages, temporary tables in memory): grouping every account's rows needs many
    // times that, one scan and a hundred accounts' rows fit.
    const big: ProsodyRow[] = [];
    for (let i = 0; i < 60_000; i++) {
      big.push(login(i, NOW - 3600 - i), {
        ...accountRows(i)[2]!,
      });
    }
    rmSync(remoteDb);
    writeProsodySqlite(remoteDb, big);
    chmodSync(remoteDb, 0o644);
    const bin = mkdtempSync(join(sshd.dir, 'bin-'));
    const flag = join(bin, 'small');
    writeFileSync(
      join(bin, 'sqlite3'),
      `#!/bin/sh\n[ -e '${flag}' ] || exec /usr/bin/sqlite3 "$@"\n` +
        `exec /usr/bin/sqlite3 -cmd '.output /dev/null' -cmd 'PRAGMA hard_heap_limit = 2000000' -cmd '.output stdout' -cmd 'PRAGMA temp_store = MEMORY' -cmd 'PRAGMA cache_size = 5' "$@"\n`,
    );
    chmodSync(bin, 0o755);
    chmodSync(join(bin, 'sqlite3'), 0o755);
    const small = await sshd.addUser('digestsmall', {
      authorizedKeys: [key.authorizedKey],
      path: `${bin}:/usr/local/bin:/usr/bin:/bin`,
    });
    chownSync(remoteDb, small.uid, small.gid);
    const dir = mkdtempSync(join(work, 'state-'));
    assert.equal((await count(dir, small)).method, FULL);
    change((db) => {
      for (let i = 0; i < 100; i++) put(db, login(i * 7, NOW - 60 - i));
    });
    writeFileSync(flag, '');
    const refreshed = await count(dir, small);
    rmSync(flag);
    assert.equal(refreshed.method, CHANGES);
    assert.deepEqual(refreshed.hosts, (await count(null, small)).hosts);
  });
});
