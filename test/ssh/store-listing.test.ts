/**
 * A store folder's packed listing (main/ssh/store-listing.ts): what the server sent of a file
 * stands for it only at the size the reader lists, and only once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FileSummary } from '../../main/sources/file-table.js';
import { StoreListing } from '../../main/ssh/store-listing.js';

const MAX = 64 * 1024;

function listing(): StoreListing {
  const s = new StoreListing();
  s.add('u.dat', 'f', 120, 1_795_536_001);
  s.add('acct.dat', 'f', 272, 1_795_000_000);
  s.add('link.dat', 'l', 120, 7);
  s.add('fifo.dat', 'p', 0, 8);
  s.add('sub', 'd', 4096, 9);
  return s;
}

test('every listed entry comes back with its kind, size and mtime', () => {
  assert.deepEqual(listing().entries(), [
    { name: 'u.dat', isDir: false, type: 'file', size: 120, mtime: 1_795_536_001 },
    { name: 'acct.dat', isDir: false, type: 'file', size: 272, mtime: 1_795_000_000 },
    { name: 'link.dat', isDir: false, type: 'link', size: 120, mtime: 7 },
    { name: 'fifo.dat', isDir: false, type: 'special', size: 0, mtime: 8 },
    { name: 'sub', isDir: true, type: undefined, size: 4096, mtime: 9 },
  ]);
});

test('a name listed twice is found out before anything is read', () => {
  const s = listing();
  s.add('u.dat', 'f', 1, 1);
  assert.throws(() => s.seal(), /listed twice/);
  assert.throws(() => s.entries(), /listed twice/);
});

const EVENTS: Array<[text: string, summary: FileSummary]> = [
  ['', [null, null, 0, 0, 0]],
  [' login=1795536000', [1_795_536_000, null, 0, 0, 0]],
  [' login=1795535999.5 logout= registered=1.7e9', [1_795_535_999.5, 1.7e9, 0, 0, 1]],
  [' logout=1795536000 login=1795535000', [1_795_536_000, null, 0, 0, 0]],
  [' muc_x=-12 login=5', [5, null, 1, 0, 0]],
  [' login=1 login=2', [null, null, 0, 1, 0]],
  [' login=1e400', [null, null, 0, 1, 0]],
];

for (const [text, summary] of EVENTS) {
  test(`a lastlog2 file's events come back as what their records come to: ${JSON.stringify(text)}`, () => {
    const s = listing();
    s.sentEventsAt(0, text);
    assert.deepEqual(s.take('u.dat', MAX, 120), { summary });
  });
}

test("an accounts file's flag comes back", () => {
  for (const disabled of [true, false]) {
    const s = listing();
    s.sentAccountAt(1, disabled);
    assert.deepEqual(s.take('acct.dat', MAX, 272), { disabled });
  }
});

const NOT_TAKEN: Array<[what: string, take: (s: StoreListing) => unknown]> = [
  ['a file nothing was sent of', (s) => s.take('acct.dat', MAX, 272)],
  ['a name not listed', (s) => s.take('new.dat', MAX, 120)],
  ['a size the reader lists otherwise', (s) => s.take('u.dat', MAX, 119)],
  ['a file larger than the reader takes', (s) => s.take('u.dat', 119, 120)],
  [
    'a file taken already',
    (s) => {
      s.take('u.dat', MAX, 120);
      return s.take('u.dat', MAX, 120);
    },
  ],
];

for (const [what, take] of NOT_TAKEN) {
  test(`nothing is taken for ${what}`, () => {
    const s = listing();
    s.sentEventsAt(0, ' login=1');
    assert.equal(take(s), null);
  });
}

test('thousands of files keep each its own size, mtime and events', () => {
  const s = new StoreListing();
  for (let i = 0; i < 5000; i++) s.add(`u${i}.dat`, 'f', 100 + (i % 50), i);
  for (let i = 0; i < 5000; i += 7) s.sentEventsAt(i, ` login=${i}`);
  const entries = s.entries();
  assert.equal(entries.length, 5000);
  for (let i = 0; i < 5000; i++) {
    assert.deepEqual(
      [entries[i]?.name, entries[i]?.size, entries[i]?.mtime],
      [`u${i}.dat`, 100 + (i % 50), i],
    );
    const want = i % 7 === 0 ? { summary: [i, null, 0, 0, 0] } : null;
    assert.deepEqual(s.take(`u${i}.dat`, MAX, 100 + (i % 50)), want);
  }
});

test('a folder of .dat files only is handed to the reader as it is, sizes, mtimes and kinds kept', () => {
  const s = new StoreListing();
  s.add('u.dat', 'f', 120, 1_795_536_001);
  s.add('link.dat', 'l', 7, 2);
  s.add('fifo.dat', 'p', 0, 3);
  const files = s.listedFiles();
  assert.deepEqual(
    ['u.dat', 'link.dat', 'fifo.dat', 'none.dat'].map((n) => files?.get(n)),
    [
      { size: 120, mtime: 1_795_536_001, type: 'file' },
      { size: 7, mtime: 2, type: 'link' },
      { size: 0, mtime: 3, type: 'special' },
      undefined,
    ],
  );
  assert.deepEqual([...files!.users()], ['fifo', 'link', 'u']);
});

test('a folder holding anything but .dat files is not handed over as it is', () => {
  for (const [name, type] of [
    ['notes.txt', 'f'],
    ['sub.dat', 'd'],
    ['.dat', 'f'],
  ] as const) {
    const s = new StoreListing();
    s.add('u.dat', 'f', 1, 1);
    s.add(name, type, 1, 1);
    assert.equal(s.listedFiles(), undefined, name);
  }
});

test("an accounts folder's listing keeps flags and no events", () => {
  const s = new StoreListing(false);
  s.add('u.dat', 'f', 1, 1);
  assert.throws(() => s.sentEventsAt(0, ' login=1'), /accounts file/);
  s.sentAccountAt(0, true);
  assert.deepEqual(s.take('u.dat', MAX, 1), { disabled: true });
});
