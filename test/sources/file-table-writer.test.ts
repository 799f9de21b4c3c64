/**
 * A folder's next table handed on in parts as its files are read (main/sources/file-table-writer.ts):
 * never more than a part held, and the parts together are the table.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type EncodedTable, type FileRow, FileTable } from '../../main/sources/file-table.js';
import { FileTableWriter } from '../../main/sources/file-table-writer.js';

const rows = (n: number) =>
  Array.from({ length: n }, (_, i): [string, FileRow] => [
    `u${i}.dat`,
    { size: i, mtime: i + 1, readAt: i + 2, summary: i % 2 ? 1 : [i, null, 0, 0, 0] },
  ]);

/** What `put` was handed, copied at once (the encoding is only valid during the call). */
function collect(): { parts: EncodedTable[]; put: (p: EncodedTable, i: number) => void } {
  const parts: EncodedTable[] = [];
  return {
    parts,
    put: (p, i) => {
      assert.equal(i, parts.length);
      parts.push({
        names: p.names,
        nums: p.nums.slice(),
        skips: p.skips.slice(),
        kinds: p.kinds.slice(),
      });
    },
  };
}

test('a part is handed on as soon as it is full, the last one at the end', () => {
  const { parts, put } = collect();
  const writer = new FileTableWriter(put, 4);
  const all = rows(10);
  for (const [name, row] of all.slice(0, 4)) writer.add(name, row);
  assert.equal(parts.length, 1);
  for (const [name, row] of all.slice(4)) writer.add(name, row);
  assert.equal(parts.length, 2);
  assert.equal(writer.end(), 10);
  assert.deepEqual(
    parts.map((p) => p.kinds.length),
    [4, 4, 2],
  );
  assert.deepEqual(FileTable.decodeParts(parts, 10)?.entries(), all);
});

test('no rows are no part', () => {
  const { parts, put } = collect();
  assert.equal(new FileTableWriter(put, 4).end(), 0);
  assert.deepEqual(parts, []);
  assert.deepEqual(FileTable.decodeParts(parts, 0)?.entries(), []);
});

test('rows filling the last part exactly leave no empty part behind', () => {
  const { parts, put } = collect();
  const writer = new FileTableWriter(put, 4);
  for (const [name, row] of rows(8)) writer.add(name, row);
  assert.equal(writer.end(), 8);
  assert.equal(parts.length, 2);
});
