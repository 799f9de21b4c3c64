/**
 * The reader's path join over SSH (main/ssh/posix-join.ts) skips normalizing where nothing needs
 * it: whatever the parts, it gives what posix.join gives.
 */
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { posixJoin } from '../../main/ssh/posix-join.js';

const CASES: string[][] = [
  [],
  [''],
  ['', ''],
  ['/'],
  ['/', 'a'],
  ['/data', 'example%2eorg', 'lastlog2'],
  ['/data/example%2eorg/lastlog2', 'alice.dat'],
  ['data', 'a'],
  ['/data/', 'a'],
  ['/data', '/a'],
  ['/data', 'a/'],
  ['/data', ''],
  ['', 'a'],
  ['a', '', 'b'],
  ['.'],
  ['..'],
  ['/data', '.'],
  ['/data', '..'],
  ['/data', '../x'],
  ['/data', 'x/..'],
  ['/data', './x'],
  ['/data/.', 'x'],
  ['/data', '.x'],
  ['/data', '..x'],
  ['/data', 'x.'],
  ['/data', '...'],
  ['/data', '.dat'],
  ['//data', 'x'],
  ['/data//x', 'y'],
  ['a/./b'],
  ['zoë', '日本語.dat'],
];

for (const parts of CASES) {
  test(`joining ${JSON.stringify(parts)} gives what posix.join gives`, () => {
    assert.equal(posixJoin(...parts), posix.join(...parts));
  });
}

test('joining any parts of slashes, dots and letters gives what posix.join gives', () => {
  const part = fc.string({ unit: fc.constantFrom('/', '.', 'a', '%'), maxLength: 6 });
  fc.assert(
    fc.property(fc.array(part, { maxLength: 4 }), (parts) => {
      assert.equal(posixJoin(...parts), posix.join(...parts));
    }),
    { numRuns: 5000 },
  );
});
