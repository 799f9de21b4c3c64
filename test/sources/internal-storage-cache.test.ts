/**
 * Internal storage with the file cache, over a local folder dressed as SFTP (sizes and mtimes
 * with the listing, a folder's mtime on request) and a clock of the test's own: which folders are
 * listed again and which files read again, by the settling and daily rules.
 */
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { countSources } from '../../main/core/activity-source.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import { localStorageFs } from '../../main/sources/local-storage-fs.js';
import type { StorageFs } from '../../main/sources/storage-fs.js';
import type { AccountCache, FolderWriter } from '../../main/sources/account-cache.js';
import { openAccountCache } from '../../main/store/account-cache-db.js';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';

const NOW = 1_795_536_000;
const root = mkdtempSync(join(tmpdir(), 'pau-internal-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** The local disk, with what SFTP gives besides, and a count of what was asked. */
function sftpLike(): StorageFs & { lists: number } {
  const fs = {
    lists: 0,
    join: localStorageFs.join,
    readCapped: localStorageFs.readCapped,
    async list(path: string) {
      fs.lists++;
      const names = await localStorageFs.list(path);
      return (
        names?.map((e) => {
          const s = statSync(join(path, e.name));
          return { ...e, size: s.size, mtime: Math.floor(s.mtimeMs / 1000) };
        }) ?? null
      );
    },
    async folderMtime(path: string) {
      try {
        return Math.floor(statSync(path).mtimeMs / 1000);
      } catch {
        return null;
      }
    },
  };
  return fs;
}

function setAll(dir: string, time: number): void {
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    utimesSync(join(e.parentPath, e.name), time, time);
  }
}

test('settled folders are not listed again; a day later everything is read again', async () => {
  const data = join(root, 'data');
  writeProsodyInternal(
    data,
    Array.from({ length: 30 }, (_, i) => ({
      host: i % 2 ? 'a.test' : 'b.test',
      user: `u${i}`,
      event: 'login' as const,
      timestamp: NOW - i * 3600,
    })),
  );
  // Records that are skipped must be counted as skipped from the cache too.
  const lastlog2 = join(data, 'a%2etest', 'lastlog2');
  writeFileSync(join(lastlog2, 'broken.dat'), 'return { login = { timestamp = ');
  writeFileSync(
    join(lastlog2, 'odd.dat'),
    `return { login = { timestamp = ${NOW - 60} }; registered = { timestamp = ${NOW - 90} }; ` +
      'logout = { ip = "x" }; other = { timestamp = 1 } };',
  );
  const changed = NOW - 10; // every file and folder, by the server's clock
  setAll(data, changed);
  const store = openAccountCache(join(root, 'cache.sqlite'));
  let clock = changed + 5; // looked at 5 s after the last change: not settled yet
  const fs = sftpLike();
  const source = new InternalStorageSource(data, {
    fs,
    cache: { store, key: 'k', clock: () => clock },
  });
  const countNow = async () => {
    fs.lists = 0;
    const r = await countSources([source], NOW);
    assert.ok(r.ok);
    return { figures: r.value.total, ...source.lastCount, lists: fs.lists };
  };

  const first = await countNow();
  assert.deepEqual([first.read, first.fromCache], [32, 0]);
  assert.equal(first.figures.accounts, 31);
  assert.deepEqual(first.figures.skippedByReason, {
    'not-an-event': 1,
    malformed: 1,
    'no-timestamp': 1,
  });

  // The folders' mtimes still equal what was seen, but the look came within a minute of the
  // change: a write in that same second could have followed it, so the folders are listed again
  // and the files, seen within that minute too, read again.
  clock = changed + 120;
  const second = await countNow();
  assert.deepEqual([second.read, second.fromCache], [32, 0]);
  assert.equal(second.lists, 1 + 2, 'the data folder, and lastlog2 of both hosts');

  clock = changed + 240;
  const third = await countNow();
  assert.deepEqual([third.read, third.fromCache], [0, 32]);
  assert.equal(third.lists, 1, 'only the data folder');
  assert.deepEqual(third.figures, first.figures);

  clock = changed + 240 + 24 * 3600;
  const dayLater = await countNow();
  assert.deepEqual([dayLater.read, dayLater.fromCache], [32, 0]);
  store.close();
});

test('the cache notices an account disabled, one enabled and one deleted while its records stay', async () => {
  const data = join(root, 'data13');
  const users = ['u0', 'u1', 'u2', 'u3'];
  writeProsodyInternal(
    data,
    users.map((user) => ({ host: 'a.test', user, event: 'login' as const, timestamp: NOW - 60 })),
  );
  const accounts = join(data, 'a%2etest', 'accounts');
  const roles = join(data, 'a%2etest', 'account_roles');
  mkdirSync(accounts);
  mkdirSync(roles);
  const account = (user: string, disabled: boolean) =>
    writeFileSync(
      join(accounts, `${user}.dat`),
      `return { created = 1; salt = "s"; stored_key = "k"; ${disabled ? 'disabled = true; ' : ''}};`,
    );
  for (const user of users) account(user, user === 'u1');
  writeFileSync(join(roles, 'u0.dat'), 'return { _default = "prosody:member" };');
  let changed = NOW - 1000;
  setAll(data, changed);
  const store = openAccountCache(join(root, 'cache13.sqlite'));
  let clock = changed + 300;
  const source = new InternalStorageSource(data, {
    fs: sftpLike(),
    cache: { store, key: 'k13', clock: () => clock },
  });
  const count = async () => {
    const r = await countSources([source], NOW);
    assert.ok(r.ok);
    const a = r.value.hosts['a.test']!;
    return [a.dau, a.excludedDisabled, a.excludedNoAccount, source.lastCount.fromCache];
  };
  assert.deepEqual(await count(), [3, 1, 0, 0]);
  clock += 300;
  assert.deepEqual(await count(), [3, 1, 0, 8], 'unchanged: all from the cache');

  // Prosody renames a new file over the old one: the file's and the folder's mtimes move.
  changed = clock + 10;
  account('u1', false);
  account('u2', true);
  rmSync(join(accounts, 'u3.dat'));
  for (const p of [join(accounts, 'u1.dat'), join(accounts, 'u2.dat'), accounts]) {
    utimesSync(p, changed, changed);
  }
  clock = changed + 300;
  assert.deepEqual(await count(), [2, 1, 1, 5], 'u1 and u2 read again, u3 seen gone');
  store.close();
});

/** Two hosts of three users each, all changed long ago, and a cache of their own. */
function twoHosts(name: string) {
  const data = join(root, name);
  writeProsodyInternal(
    data,
    ['a.test', 'b.test'].flatMap((host) =>
      ['u0', 'u1', 'u2'].map((user) => ({
        host,
        user,
        event: 'login' as const,
        timestamp: NOW - 60,
      })),
    ),
  );
  const changed = NOW - 1000;
  setAll(data, changed);
  return { data, store: openAccountCache(join(root, `${name}.sqlite`)), clock: changed + 300 };
}

test('a count that fails at a later host keeps the rows of the hosts it counted', async () => {
  const { data, store, clock } = twoHosts('later-fails');
  const fs = sftpLike();
  const failing: StorageFs = {
    ...fs,
    async list(path) {
      // The second host's lastlog2 folder cannot be listed this time.
      if (path.includes('b%2etest')) throw new Error('the link went down');
      return fs.list(path);
    },
  };
  const cache = { store, key: 'k', clock: () => clock };
  await assert.rejects(
    countSources([new InternalStorageSource(data, { fs: failing, cache })], NOW),
    /the link went down/,
  );
  const source = new InternalStorageSource(data, { fs, cache });
  const r = await countSources([source], NOW);
  assert.ok(r.ok);
  assert.equal(r.value.total.accounts, 6);
  assert.deepEqual(source.lastCount, { read: 3, fromCache: 3 }, "a.test's from the cache");
  store.close();
});

test('a cache that cannot keep a row half-way through a host: the figures stand, a notice says so, and that host is read again next time', async () => {
  const { data, store, clock } = twoHosts('write-fails');
  let rows = 0;
  // A stand-in for a disk that fills up: the real cache, whose fifth row (b.test's second
  // file) cannot be written.
  const failing = new Proxy(store, {
    get(target, name) {
      if (name !== 'writeFolder') return Reflect.get(target, name, target) as unknown;
      return (...args: Parameters<AccountCache['writeFolder']>): FolderWriter => {
        const writer = target.writeFolder(...args);
        return {
          add(file, row) {
            if (++rows === 5) throw new Error('database or disk is full');
            writer.add(file, row);
          },
          commit: () => writer.commit(),
        };
      };
    },
  });
  const fs = sftpLike();
  const first = new InternalStorageSource(data, {
    fs,
    cache: { store: failing, key: 'k', clock: () => clock },
  });
  const r = await countSources([first], NOW);
  assert.ok(r.ok);
  assert.equal(r.value.total.accounts, 6);
  assert.deepEqual(
    r.value.notices.filter((n) => n.includes('cache')),
    [
      'the local cache could not be kept (database or disk is full); the next count reads every file again',
    ],
  );
  const source = new InternalStorageSource(data, {
    fs,
    cache: { store, key: 'k', clock: () => clock },
  });
  const again = await countSources([source], NOW);
  assert.ok(again.ok);
  assert.deepEqual(again.value.total, r.value.total);
  assert.deepEqual(source.lastCount, { read: 3, fromCache: 3 }, "a.test's from the cache");
  store.close();
});

test('a count that may open no file fails, and the count after it fails the same', async () => {
  const { data, store, clock } = twoHosts('no-file-opens');
  const fs: StorageFs = {
    ...sftpLike(),
    // What SFTP answers a reader outside the prosody group, here for a reader that is root.
    readCapped: async () => ({ unreadable: 'permission denied' }),
  };
  const cache = { store, key: 'k', clock: () => clock };
  for (const attempt of ['first', 'second']) {
    const r = await countSources([new InternalStorageSource(data, { fs, cache })], NOW);
    assert.equal(r.ok ? 'counted' : r.failure.kind, 'permission-denied', attempt);
  }
  store.close();
});

test('a file system that lists entry by entry is asked that way, and counts the same', async () => {
  const { data, store } = twoHosts('entry-by-entry');
  const fs = sftpLike();
  let each = 0;
  const byEntry: StorageFs = {
    ...fs,
    async listEach(path, visit) {
      each++;
      const entries = await fs.list(path);
      for (const e of entries ?? []) visit(e);
      return entries !== null;
    },
  };
  const counted = async (over: StorageFs) => {
    const r = await countSources([new InternalStorageSource(data, { fs: over })], NOW);
    assert.ok(r.ok);
    return r.value.hosts;
  };
  fs.lists = 0;
  const plain = await counted(fs);
  assert.equal(fs.lists, 3, 'the data folder and two lastlog2 folders');
  fs.lists = 0;
  assert.deepEqual(await counted(byEntry), plain);
  assert.deepEqual([each, fs.lists], [2, 3], 'the folders of files by listEach, which lists');
  store.close();
});
