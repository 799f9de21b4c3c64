/** A pack part's own rules: slots kept as put, slots out of range refused, blobs that disagree refused. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EMPTY_FLAG,
  PACK_SLOTS,
  PartBuilder,
  ROLE_FLAG,
  accountCodeOf,
  applySlotEdits,
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

test('a full part keeps every slot as put, and a decoded part goes on where it was', () => {
  const b = new PartBuilder();
  for (let i = 0; i < PACK_SLOTS; i++) b.put(tuple(i), i);
  b.put(tuple(7000), 42);
  const pack = decodePack('h', 2, b.blobs());
  assert.ok(pack !== null);
  const gone = { host: 'h', slot: 2 * PACK_SLOTS + 43, lastActive: NaN, registered: NaN };
  assert.equal(applySlotEdits([pack], [{ ...gone, flags: EMPTY_FLAG }]), true);
  assert.equal(pack.first, 2 * PACK_SLOTS);
  assert.equal(pack.flags.length, PACK_SLOTS);
  for (let i = 0; i < PACK_SLOTS; i++) {
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
  assert.throws(() => b.put(tuple(1), PACK_SLOTS), RangeError, 'a full part takes no more');
  const again = new PartBuilder(decodePack('h', 0, { ...b.blobs() })!);
  assert.equal(again.slots, PACK_SLOTS);
  again.reset();
  assert.equal(again.slots, 0);
});

test('a slot beyond the next, or not a slot, is refused, never written', () => {
  const b = new PartBuilder();
  b.put(tuple(1), 0);
  for (const offset of [2, -1, 0.5, NaN, 2 ** 53]) {
    assert.throws(() => b.put(tuple(2), offset), RangeError);
  }
  assert.equal(b.slots, 1);
  const pack = decodePack('h', 0, b.blobs())!;
  for (const slot of [1, -1, 0.5, NaN]) {
    const edit = { host: 'h', slot, lastActive: 5, registered: NaN, flags: 1 };
    assert.equal(applySlotEdits([pack], [edit]), false, `slot ${slot}`);
  }
  assert.equal(
    applySlotEdits([pack], [{ host: 'x', slot: 0, lastActive: 5, registered: NaN, flags: 1 }]),
    false,
  );
  assert.equal(pack.lastActive[0], tuple(1)[2], 'nothing written');
});

test('blobs that disagree on how many slots there are, or hold none or too many, make no part', () => {
  const b = new PartBuilder();
  b.put(tuple(1), 0);
  b.put(tuple(2), 1);
  const blobs = b.blobs();
  assert.ok(decodePack('h', 0, blobs) !== null);
  assert.equal(decodePack('h', 0, { ...blobs, flags: blobs.flags.subarray(0, 1) }), null);
  assert.equal(
    decodePack('h', 0, { ...blobs, lastActive: blobs.lastActive.subarray(0, 15) }),
    null,
  );
  assert.equal(decodePack('h', 0, { ...blobs, registered: new Uint8Array(0) }), null);
  const empty = new Uint8Array(0);
  assert.equal(decodePack('h', 0, { lastActive: empty, registered: empty, flags: empty }), null);
  const n = PACK_SLOTS + 1;
  const big = { lastActive: new Uint8Array(n * 8), registered: new Uint8Array(n * 8) };
  assert.equal(decodePack('h', 0, { ...big, flags: new Uint8Array(n) }), null);
});

test('a blob whose bytes are not aligned is read as well', () => {
  const b = new PartBuilder();
  b.put(tuple(1), 0);
  const { lastActive, registered, flags } = b.blobs();
  const shifted = new Uint8Array(lastActive.length + 1).fill(9);
  shifted.set(lastActive, 1);
  const pack = decodePack('h', 0, { lastActive: shifted.subarray(1), registered, flags });
  assert.equal(pack?.lastActive[0], 1.5);
});

test('the newest time is the greatest last_active or registered held, never an empty slot', () => {
  const b = new PartBuilder();
  b.put(['h', 'a', 10, 30, 0, 0, 0, 1, 0], 0);
  b.put(['h', 'b', null, null, 0, 0, 0, 1, 0], 1);
  b.put(['h', 'c', 99, null, 0, 0, 0, 1, 0], 2);
  const pack = decodePack('h', 0, b.blobs())!;
  applySlotEdits(
    [pack],
    [{ host: 'h', slot: 2, lastActive: NaN, registered: NaN, flags: EMPTY_FLAG }],
  );
  assert.equal(newestInPacks([pack]), 30);
  assert.equal(newestInPacks([]), null);
  const none = new PartBuilder();
  none.put(['h', 'b', null, null, 0, 0, 0, 1, 0], 0);
  assert.equal(newestInPacks([decodePack('h', 0, none.blobs())!]), null);
});

test('an account code the packs do not know is kept as not read', () => {
  const odd = ['h', 'u', 1, null, 0, 0, 0, 7, 1] as unknown as ActivityQueryTuple;
  assert.equal(accountCodeOf(packFlags(odd)), null);
  assert.equal(packFlags(odd) & ROLE_FLAG, ROLE_FLAG);
});
