/**
 * The order of ASCII names by sorting numbers (main/sources/ascii-name-order.ts) is the order
 * comparing the strings gives, equal names by index, whatever the names share.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { asciiNameOrder } from '../../main/sources/ascii-name-order.js';

/** The names as packed-names.ts packs them: joined by '/', each start, one past the end. */
function pack(names: readonly string[]): { text: string; starts: Uint32Array } {
  const starts = new Uint32Array(names.length + 1);
  let at = 0;
  names.forEach((name, i) => {
    starts[i] = at;
    at += name.length + 1;
  });
  starts[names.length] = at;
  return { text: names.join('/'), starts };
}

/** The order a compare function gives: by code units, the shorter first, then by index. */
function expected(names: readonly string[], dropEnd: number): number[] {
  const cut = names.map((n) => n.slice(0, Math.max(0, n.length - dropEnd)));
  return names
    .map((_, i) => i)
    .sort((a, b) => (cut[a]! < cut[b]! ? -1 : cut[a]! > cut[b]! ? 1 : a - b));
}

function order(names: readonly string[], dropEnd: number): number[] | null {
  const { text, starts } = pack(names);
  const o = asciiNameOrder(text, starts, dropEnd);
  return o === null ? null : [...o];
}

const CASES: Array<[what: string, names: string[], dropEnd: number]> = [
  ['no names', [], 4],
  ['one name', ['a.dat'], 4],
  ['names that are prefixes of each other', ['abcdefghij.dat', 'abc.dat', 'abcdefgh.dat'], 4],
  ['equal names once .dat is left out', ['a.dat', 'a.xyz', 'a.dat2', 'b.dat', 'a.abc'], 4],
  ['names shorter than what is left out', ['b', '.dat', 'ab.dat', 'x', ''], 4],
  ['names that agree for many characters', ['user0000000002.dat', 'user0000000001.dat'], 4],
  ['the lowest and highest ASCII characters', ['\x7e.dat', '\x01.dat', '\0.dat', '~~.dat'], 4],
  ['nothing left out', ['b', 'a', 'ab', 'a'], 0],
  ['escapes as Prosody writes them', ['zo%c3%ab.dat', 'zoe.dat', 'zo%2e.dat', 'Zoe.dat'], 4],
];

for (const [what, names, dropEnd] of CASES) {
  test(`ASCII names are ordered as comparing them orders them: ${what}`, () => {
    assert.deepEqual(order(names, dropEnd), expected(names, dropEnd));
  });
}

test('names with a character outside ASCII are left to the caller', () => {
  assert.equal(order(['a.dat', 'zoë.dat'], 4), null);
  assert.equal(order(['a.dat', '\x7f.dat'], 4), null);
});

test('a hundred thousand names that share long prefixes are ordered as comparing them orders them', () => {
  const names = Array.from(
    { length: 100_000 },
    (_, i) => `%c3%bcmit%2d${['ali', 'bernard', 'chen'][i % 3]}${(i * 7919) % 50_021}.dat`,
  );
  assert.deepEqual(order(names, 4), expected(names, 4));
});

test('any ASCII names, few letters or many, are ordered as comparing them orders them', () => {
  const name = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'b', '.', 'd', 't'), maxLength: 14 }),
    fc.string({ unit: 'binary-ascii', maxLength: 10 }).map((s) => s.replace(/[/\x7f]/g, 'x')),
  );
  fc.assert(
    fc.property(
      fc.array(name, { maxLength: 60 }),
      fc.integer({ min: 0, max: 5 }),
      (names, drop) => {
        assert.deepEqual(order(names, drop), expected(names, drop));
      },
    ),
    { numRuns: 2000 },
  );
});
