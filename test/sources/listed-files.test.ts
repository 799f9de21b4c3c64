/**
 * A store folder's listing, packed as it is taken (main/sources/listed-files.ts): only `.dat`
 * files stay, each as listed, the last of a name listed twice, and users come in sorted order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ListedFiles } from '../../main/sources/listed-files.js';
import type { StorageEntry } from '../../main/sources/storage-fs.js';

const file = (name: string, size?: number, mtime?: number, type?: StorageEntry['type']) => ({
  name,
  isDir: false,
  ...(size !== undefined ? { size } : {}),
  ...(mtime !== undefined ? { mtime } : {}),
  ...(type !== undefined ? { type } : {}),
});

const LISTING: StorageEntry[] = [
  file('bob.dat', 10, 100, 'file'),
  file('alice%2ex.dat', 11, 101, 'link'),
  file('fifo.dat', 0, 102, 'special'),
  file('zoë.dat'),
  file('notes.txt', 5, 5, 'file'),
  { name: 'sub.dat', isDir: true, size: 4096, mtime: 7 },
  file('a/b.dat', 1, 1, 'file'),
  file('.dat', 3, 3, 'file'),
];

const KEPT: Array<[name: string, listed: ReturnType<ListedFiles['get']>]> = [
  ['bob.dat', { size: 10, mtime: 100, type: 'file' }],
  ['alice%2ex.dat', { size: 11, mtime: 101, type: 'link' }],
  ['fifo.dat', { size: 0, mtime: 102, type: 'special' }],
  ['zoë.dat', { size: undefined, mtime: undefined }],
  ['.dat', { size: 3, mtime: 3, type: 'file' }],
];

for (const [name, listed] of KEPT) {
  test(`a .dat file is kept as listed: ${name}`, () => {
    const files = ListedFiles.gather(LISTING);
    assert.equal(files.has(name), true);
    assert.deepEqual(files.get(name), listed);
  });
}

const LEFT_OUT: Array<[what: string, name: string]> = [
  ['a file of another kind', 'notes.txt'],
  ['a folder named like a file', 'sub.dat'],
  ['a name with a slash (only a hostile server lists one)', 'a/b.dat'],
  ['a name not listed', 'carol.dat'],
];

for (const [what, name] of LEFT_OUT) {
  test(`an entry that is no account file is left out: ${what}`, () => {
    const files = ListedFiles.gather(LISTING);
    assert.equal(files.has(name), false);
    assert.equal(files.get(name), undefined);
  });
}

test('the users are the .dat files less .dat, sorted as strings are', () => {
  const files = ListedFiles.gather(LISTING);
  assert.equal(files.size, KEPT.length);
  assert.deepEqual([...files.users()], ['', 'alice%2ex', 'bob', 'fifo', 'zoë']);
});

test('of a name listed twice the last entry stands, once', () => {
  const files = ListedFiles.gather([
    file('a.dat', 1, 1, 'file'),
    file('b.dat', 2, 2, 'file'),
    file('a.dat', 3, 3, 'link'),
  ]);
  assert.equal(files.size, 2);
  assert.deepEqual(files.get('a.dat'), { size: 3, mtime: 3, type: 'link' });
  assert.deepEqual([...files.users()], ['a', 'b']);
});

test('an empty listing has no files and no users', () => {
  const files = ListedFiles.gather([]);
  assert.equal(files.size, 0);
  assert.deepEqual([...files.users()], []);
});
