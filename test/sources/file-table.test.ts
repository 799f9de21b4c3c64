/**
 * The packed per-file cache of internal storage (main/sources/file-table.ts): every row comes back
 * exactly as set, through its encoding too, and an encoding it did not write is no table.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type EncodedTable, type FileRow, FileTable } from '../../main/sources/file-table.js';

const ROWS: Array<[name: string, row: FileRow]> = [
  ['plain.dat', { size: 187, mtime: 1_795_534_215, readAt: 1_795_540_000, summary: 1 }],
  ['off.dat', { size: 272, mtime: 1_700_000_000, readAt: 1_795_540_000, summary: 2 }],
  ['bad%2eacct.dat', { size: 9, mtime: 1, readAt: 2, summary: 0 }],
  ['frac.dat', { size: 159, mtime: 3, readAt: 4, summary: [1_795_535_999.5, null, 0, 0, 0] }],
  ['reg.dat', { size: 100, mtime: 5, readAt: 6, summary: [null, 1_795_000_000, 2, 1, 3] }],
  ['old.dat', { size: 2 ** 40, mtime: -86_400, readAt: 0, summary: [-1e9, -2e9, 0, 999, 0] }],
  ['none.dat', { size: 0, mtime: 0, readAt: 0, summary: null }],
];

/** A table from one encode(), as one part; null when it is anything else. */
function decodeOne(value: unknown): FileTable | null {
  const kinds = (value as { kinds?: unknown } | null)?.kinds;
  return kinds instanceof Uint8Array ? FileTable.decodeParts([value], kinds.length) : null;
}

/** The encoding as a database gives it back: its own bytes, at an offset no Float64Array takes. */
function copied(e: EncodedTable): EncodedTable {
  const odd = (b: Uint8Array) => {
    const c = new Uint8Array(b.length + 1).subarray(1);
    c.set(b);
    return c;
  };
  return { names: e.names, nums: odd(e.nums), skips: odd(e.skips), kinds: odd(e.kinds) };
}

for (const [name, row] of ROWS) {
  test(`a row comes back as set, and through the encoding: ${name}`, () => {
    const table = FileTable.of([[name, row]]);
    assert.deepEqual(table.get(name), row);
    const decoded = decodeOne(copied(table.encode()));
    assert.deepEqual(decoded?.entries(), [[name, row]]);
  });
}

test('many rows keep their names in order past the first capacity', () => {
  const rows = Array.from({ length: 1000 }, (_, i): [string, FileRow] => [
    `u${i}.dat`,
    { size: i, mtime: i * 2, readAt: i * 3, summary: i % 2 ? 1 : [i, null, 0, 0, i % 5] },
  ]);
  const table = FileTable.empty(3);
  for (const [name, row] of rows) table.set(name, row);
  assert.equal(table.size, 1000);
  assert.deepEqual(
    [...table.keys()],
    rows.map(([n]) => n),
  );
  assert.deepEqual(decodeOne(table.encode())?.entries(), rows);
});

test('setting a name again replaces its row', () => {
  const table = FileTable.of(ROWS);
  table.set('plain.dat', { size: 1, mtime: 2, readAt: 3, summary: [4, 5, 0, 0, 0] });
  assert.equal(table.size, ROWS.length);
  assert.deepEqual(table.get('plain.dat'), {
    size: 1,
    mtime: 2,
    readAt: 3,
    summary: [4, 5, 0, 0, 0],
  });
});

const OUT_OF_RANGE: Array<[what: string, summary: unknown]> = [
  ['a thousand skips', [null, null, 1000, 0, 0]],
  ['an endless time', [Infinity, null, 0, 0, 0]],
  ['a fractional count', [null, null, 0.5, 0, 0]],
  ['a flag of 3', 3],
  ['four fields', [null, null, 0, 0]],
];

for (const [what, summary] of OUT_OF_RANGE) {
  test(`a summary out of range is kept as none, so the file is read again: ${what}`, () => {
    const table = FileTable.empty();
    table.set('x.dat', { size: 1, mtime: 2, readAt: 3, summary } as FileRow);
    assert.equal(table.get('x.dat')?.summary, null);
    assert.equal(table.listed('x.dat')?.size, 1);
  });
}

/** The encoding of ROWS with one part changed. */
function tampered(change: (e: EncodedTable) => void): unknown {
  const e = copied(FileTable.of(ROWS).encode());
  change(e);
  return e;
}

function withBytes(b: Uint8Array, at: number, bytes: number[]): Uint8Array {
  const c = Uint8Array.from(b);
  c.set(bytes, at);
  return c;
}

const NOT_A_TABLE: Array<[what: string, value: unknown]> = [
  ['null', null],
  ['an older object a file', { 'x.dat': [1, 2, 3, 1] }],
  ['numbers missing', tampered((e) => delete (e as Partial<typeof e>).nums)],
  [
    'numbers as base64 text',
    tampered((e) => Object.assign(e, { nums: Buffer.from(e.nums).toString('base64') })),
  ],
  ['names as bytes', tampered((e) => Object.assign(e, { names: Buffer.from(e.names) }))],
  ['numbers one byte short', tampered((e) => (e.nums = e.nums.subarray(1)))],
  ['skips one byte long', tampered((e) => (e.skips = Uint8Array.from([...e.skips, 0])))],
  ['kinds empty', tampered((e) => (e.kinds = new Uint8Array(0)))],
  ['a name more than numbers', tampered((e) => (e.names += '/extra.dat'))],
  ['a name twice', tampered((e) => (e.names = e.names.replace('off.dat', 'plain.dat')))],
  ['an empty name', tampered((e) => (e.names = e.names.replace('off.dat', '')))],
  ['a kind no table writes', tampered((e) => (e.kinds = withBytes(e.kinds, 0, [7])))],
  [
    'a flag out of range',
    tampered((e) => (e.nums = withBytes(e.nums, 3 * 8, [0, 0, 0, 0, 0, 0, 8, 64]))),
  ],
  [
    'a skip count out of range',
    tampered((e) => (e.skips = withBytes(e.skips, 3 * 3 * 2, [0xe8, 3]))),
  ],
  [
    'an endless time',
    tampered((e) => (e.nums = withBytes(e.nums, (3 * 5 + 3) * 8, [0, 0, 0, 0, 0, 0, 0xf0, 0x7f]))),
  ],
];

for (const [what, value] of NOT_A_TABLE) {
  test(`an encoding it did not write is no table: ${what}`, () => {
    assert.equal(decodeOne(value), null);
  });
}

test('the untampered encoding used by those cases is a table', () => {
  assert.deepEqual(decodeOne(tampered(() => undefined))?.entries(), ROWS);
});

test('an empty table comes back empty through the encoding', () => {
  assert.deepEqual(decodeOne(copied(FileTable.empty().encode()))?.entries(), []);
});

test('rows added without an index come back in order, and a name added twice is no table', () => {
  const table = FileTable.empty(2);
  for (const [name, row] of ROWS) table.add(name, row);
  assert.deepEqual(decodeOne(table.encode())?.entries(), ROWS);
  table.add(ROWS[0]![0], ROWS[0]![1]);
  assert.equal(decodeOne(table.encode()), null);
});

test('thousands of rows added come back in order, through the encoding too', () => {
  const rows = Array.from({ length: 2500 }, (_, i): [string, FileRow] => [
    `u${i}.dat`,
    { size: i, mtime: i + 1, readAt: i + 2, summary: i % 3 ? 2 : [null, i, 0, 1, 0] },
  ]);
  const table = FileTable.empty(10);
  for (const [name, row] of rows) table.add(name, row);
  assert.deepEqual(decodeOne(table.encode())?.entries(), rows);
  assert.deepEqual(table.entries(), rows);
  assert.deepEqual(table.get('u2499.dat'), rows[2499]![1]);
});

test('parts come back as one table, in their order', () => {
  const parts = [ROWS.slice(0, 3), ROWS.slice(3, 4), ROWS.slice(4)].map((rows) =>
    copied(FileTable.of(rows).encode()),
  );
  assert.deepEqual(FileTable.decodeParts(parts, ROWS.length)?.entries(), ROWS);
});

test('parts are no table when they hold more or fewer rows than said', () => {
  const parts = [ROWS.slice(0, 3), ROWS.slice(3)].map((rows) => FileTable.of(rows).encode());
  assert.equal(FileTable.decodeParts(parts, ROWS.length - 1), null);
  assert.equal(FileTable.decodeParts(parts, ROWS.length + 1), null);
});

test('a part whose names and rows disagree is no table, even when the totals agree', () => {
  const [a, b] = [ROWS.slice(0, 3), ROWS.slice(3)].map((rows) => FileTable.of(rows).encode());
  // One name moved from the second part to the first: as many names in all, misplaced.
  const moved = b!.names.indexOf('/');
  const first = { ...a!, names: `${a!.names}/${b!.names.slice(0, moved)}` };
  const second = { ...b!, names: b!.names.slice(moved + 1) };
  assert.equal(FileTable.decodeParts([first, second], ROWS.length), null);
});

test('the same name in two parts is no table', () => {
  const parts = [ROWS.slice(0, 3), ROWS.slice(2)].map((rows) => FileTable.of(rows).encode());
  assert.equal(FileTable.decodeParts(parts, ROWS.length + 1), null);
});
