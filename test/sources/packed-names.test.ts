/**
 * File names packed in one string with a hash of their indexes (main/sources/packed-names.ts):
 * every name is found at its index, nothing else is found, and the order for users is the order
 * sorting the strings gives, whatever the names hold.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NameJoiner, PackedNames } from '../../main/sources/packed-names.js';

/** Names a folder may hold: escapes, other scripts, prefixes of each other, one character. */
const ODD_NAMES = [
  'alice.dat',
  'alice%2etest.dat',
  'al.dat',
  'a.dat',
  'b',
  'alice.dat.dat',
  'zoë.dat',
  'Zoe.dat',
  '日本語.dat',
  '😀.dat',
  '\uffff.dat',
  'x%00y.dat',
  ' .dat',
  'x'.repeat(300) + '.dat',
];

const packed = (names: readonly string[]) => {
  const p = PackedNames.fromJoined(names.join('/'));
  assert.ok(p, 'a table');
  return p;
};

for (const [i, name] of ODD_NAMES.entries()) {
  test(`a name is found at its own index and comes back whole: ${JSON.stringify(name)}`, () => {
    const p = packed(ODD_NAMES);
    assert.equal(p.indexOf(name), i);
    assert.equal(p.nameAt(i), name);
  });
}

const NOT_THERE: Array<[what: string, name: string]> = [
  ['the empty name', ''],
  ['a prefix of a name', 'alice.da'],
  ['a name with more after it', 'a.datx'],
  ['two names with the separator between', 'a.dat/b'],
  ['another case', 'ALICE.dat'],
  ['the same letters in another form', 'zoe\u0308.dat'],
  ['half of a surrogate pair', '\ud83d.dat'],
  ['a separator alone', '/'],
];

for (const [what, name] of NOT_THERE) {
  test(`a name not in the table is not found: ${what}`, () => {
    assert.equal(packed(ODD_NAMES).indexOf(name), -1);
  });
}

test('a name asked again, right away or after others, is found at the same index', () => {
  const p = packed(ODD_NAMES);
  const asks = ['zoë.dat', 'zoë.dat', 'nope.dat', 'nope.dat', 'al.dat', 'zoë.dat', 'al.dat', ''];
  assert.deepEqual(
    asks.map((n) => p.indexOf(n)),
    asks.map((n) => ODD_NAMES.indexOf(n)),
  );
});

test('a name expected at an index is found at its own, whether the guess was right or not', () => {
  const p = packed(ODD_NAMES);
  const guesses: Array<[guess: number, name: string]> = [
    [ODD_NAMES.indexOf('al.dat'), 'al.dat'],
    [0, 'zoë.dat'],
    [ODD_NAMES.length, 'b'],
    [-1, 'a.dat'],
    [2, 'nope.dat'],
    [3, 'al.dat'],
  ];
  for (const [guess, name] of guesses) {
    p.expect(guess);
    assert.equal(p.indexOf(name), ODD_NAMES.indexOf(name), `${guess} ${name}`);
  }
});

const NOT_A_TABLE: Array<[what: string, text: string]> = [
  ['a name twice', 'a.dat/b.dat/a.dat'],
  ['a name twice, next to each other', 'a.dat/a.dat'],
  ['an empty name in the middle', 'a.dat//b.dat'],
  ['an empty name first', '/a.dat'],
  ['an empty name last', 'a.dat/'],
  ['only a separator', '/'],
];

for (const [what, text] of NOT_A_TABLE) {
  test(`names no folder holds are no table: ${what}`, () => {
    assert.equal(PackedNames.fromJoined(text), null);
  });
}

test('no names is an empty table, in which nothing is found', () => {
  const p = PackedNames.fromJoined('');
  assert.equal(p?.size, 0);
  assert.equal(p?.indexOf(''), -1);
  assert.equal(p?.indexOf('a.dat'), -1);
});

test('users come in the order sorting their names without .dat gives', () => {
  const names = ODD_NAMES.filter((n) => n.endsWith('.dat'));
  const p = packed(names);
  assert.deepEqual(
    [...p.sortedBy(4)].map((i) => p.nameAt(i, 4)),
    names.map((n) => n.slice(0, -4)).sort(),
  );
});

test('a name shorter than what is left out sorts as empty, and stays whole in the table', () => {
  const p = packed(['b', 'ab.dat', '.dat']);
  assert.deepEqual([...p.sortedBy(4)], [0, 2, 1]);
  assert.equal(p.nameAt(0, 4), '');
  assert.equal(p.indexOf('b'), 0);
});

test('a hundred thousand names are each found, and as many others are not', () => {
  const names = Array.from({ length: 100_000 }, (_, i) => `u${(i * 7919) % 100_003}x${i}.dat`);
  const p = packed(names);
  assert.equal(p.size, names.length);
  assert.ok(names.every((n, i) => p.indexOf(n) === i));
  assert.ok(names.every((n) => p.indexOf(`${n}.`) === -1 && p.indexOf(n.slice(1)) === -1));
  assert.deepEqual(
    [...p.sortedBy(4)].map((i) => p.nameAt(i, 4)),
    names.map((n) => n.slice(0, -4)).sort(),
  );
});

test('names joined a thousand at a time come out as one string, in order', () => {
  const j = new NameJoiner();
  assert.equal(j.empty, true);
  const names = Array.from({ length: 2500 }, (_, i) => `n${i}`);
  for (const n of names) j.push(n);
  assert.equal(j.empty, false);
  assert.equal(j.text(), names.join('/'));
});
