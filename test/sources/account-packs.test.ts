/** The packs' own rules: slots kept as put, growth without loss, blobs that disagree refused. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EMPTY_FLAG,
  PackBuilder,
  ROLE_FLAG,
  accountCodeOf,
  decodePack,
  newestInPacks,
  packFlags,
} from '../../main/sources/account-packs.js';
import type { ActivityQueryTuple } from '../../main/sources/activity-query.js';

const tuple = (i: number): ActivityQueryTuple => [
  'h',
  `u${i}`,
  i % 3 === 0 ? null : i + 0.5,
  i % 5 === 0 ? i : null,
  0,
  0,
  0,
  ([0, 1, 2, null] as const)[i % 4]!,
  (i % 2) as 0 | 1,
];

test('a pack of many more accounts than it starts with keeps every slot as put', () => {
  const b = new PackBuilder();
  const n = 5000;
  for (let i = 0; i < n; i++) assert.equal(b.put(tuple(i)), i);
  b.put(tuple(7000), 42);
  b.empty(43);
  const pack = decodePack('h', b.blobs());
  assert.ok(pack !== null);
  assert.equal(pack.flags.length, n);
  for (let i = 0; i < n; i++) {
    const t = i === 42 ? tuple(7000) : tuple(i);
    if (i === 43) {
      assert.equal(pack.flags[i], EMPTY_FLAG);
      assert.ok(Number.isNaN(pack.lastActive[i]));
      continue;
    }
    assert.ok(Object.is(pack.lastActive[i], t[2] ?? NaN), `slot ${i}`);
    assert.ok(Object.is(pack.registered[i], t[3] ?? NaN), `slot ${i}`);
    assert.equal(accountCodeOf(pack.flags[i]!), t[7]);
    assert.equal((pack.flags[i]! & ROLE_FLAG) !== 0, t[8] === 1);
  }
  // Going on from a decoded pack: the slots stay, new ones follow.
  const again = new PackBuilder(pack);
  assert.equal(again.put(tuple(1)), n);
  assert.equal(again.slots, n + 1);
});

test('a slot outside the pack is refused, never written past the end', () => {
  const b = new PackBuilder();
  b.put(tuple(1));
  for (const slot of [1, -1, 0.5, NaN, 2 ** 53]) {
    assert.throws(() => b.put(tuple(2), slot), RangeError);
    assert.throws(() => b.empty(slot), RangeError);
  }
});

test('blobs that disagree on how many slots there are make no pack', () => {
  const b = new PackBuilder();
  b.put(tuple(1));
  b.put(tuple(2));
  const blobs = b.blobs();
  assert.ok(decodePack('h', blobs) !== null);
  assert.equal(decodePack('h', { ...blobs, flags: blobs.flags.subarray(0, 1) }), null);
  assert.equal(decodePack('h', { ...blobs, lastActive: blobs.lastActive.subarray(0, 15) }), null);
  assert.equal(decodePack('h', { ...blobs, registered: new Uint8Array(0) }), null);
});

test('a blob whose bytes are not aligned is read as well', () => {
  const b = new PackBuilder();
  b.put(tuple(1));
  const { lastActive, registered, flags } = b.blobs();
  const shifted = new Uint8Array(lastActive.length + 1).fill(9);
  shifted.set(lastActive, 1);
  const pack = decodePack('h', { lastActive: shifted.subarray(1), registered, flags });
  assert.equal(pack?.lastActive[0], 1.5);
});

test('the newest time is the greatest last_active or registered held, never an empty slot', () => {
  const b = new PackBuilder();
  b.put(['h', 'a', 10, 30, 0, 0, 0, 1, 0]);
  b.put(['h', 'b', null, null, 0, 0, 0, 1, 0]);
  b.put(['h', 'c', 99, null, 0, 0, 0, 1, 0]);
  b.empty(2);
  const pack = decodePack('h', b.blobs())!;
  assert.equal(newestInPacks([pack]), 30);
  assert.equal(newestInPacks([]), null);
  const none = new PackBuilder();
  none.put(['h', 'b', null, null, 0, 0, 0, 1, 0]);
  assert.equal(newestInPacks([decodePack('h', none.blobs())!]), null);
});

test('an account code the packs do not know is kept as not read', () => {
  const odd = ['h', 'u', 1, null, 0, 0, 0, 7, 1] as unknown as ActivityQueryTuple;
  assert.equal(accountCodeOf(packFlags(odd)), null);
  assert.equal(packFlags(odd) & ROLE_FLAG, ROLE_FLAG);
});
