/**
 * A host whose files are all at hand (the command stream sent them) is counted without holding
 * the event loop: the stream that brings the next host in, and timers, get their turns. A file
 * system in memory stands in for the stream here: only the order of turns is under test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countSources } from '../../main/core/activity-source.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import type { StorageEntry, StorageFs } from '../../main/sources/storage-fs.js';

const NOW = 1_795_536_000;
const ACCOUNTS = 20_000;

function atHand(): StorageFs & { digests: number } {
  const users: StorageEntry[] = Array.from({ length: ACCOUNTS }, (_, i) => ({
    name: `u${i}.dat`,
    isDir: false,
    type: 'file',
    size: 100,
    mtime: NOW - 100,
  }));
  const fs = {
    digests: 0,
    join: (...parts: string[]) => parts.join('/'),
    list(path: string): Promise<StorageEntry[] | null> {
      if (path === '/data') return Promise.resolve([{ name: 'a%2etest', isDir: true }]);
      return Promise.resolve(path === '/data/a%2etest/lastlog2' ? users : null);
    },
    readCapped: () => Promise.reject(new Error('every file was at hand')),
    readDigestIn: () => {
      fs.digests++;
      return { summary: [NOW - 60, null, 0, 0, 0] as [number, null, number, number, number] };
    },
  };
  return fs;
}

test('a host of files at hand gives the event loop a turn every few thousand accounts', async () => {
  const fs = atHand();
  let readAtFirstTurn: number | null = null;
  const source = new InternalStorageSource('/data', { fs });
  const counting = countSources([source], NOW);
  // Queued before the first file is read: it runs at the count's first turn of the loop.
  setImmediate(() => (readAtFirstTurn = fs.digests));
  const r = await counting;
  assert.ok(r.ok);
  assert.equal(r.value.total.mau, ACCOUNTS);
  assert.notEqual(readAtFirstTurn, null);
  // Before: one reader of 64 waited for its turn while the others went on, so the first turn
  // came after every account here (131 072 at most).
  assert.ok(readAtFirstTurn! <= 4096, `first turn after ${readAtFirstTurn} files`);
});
