/**
 * When the command stream is held back (main/ssh/stream-hold.ts): two walked hosts ahead of the
 * count at most, and never while the count waits for the stream, so that it can never wait for
 * good.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamHold } from '../../main/ssh/stream-hold.js';

/** Whether `p` has settled by the time the queued callbacks ran. */
async function settled(p: Promise<void> | null): Promise<boolean> {
  if (p === null) return true;
  let done = false;
  void p.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

test('the stream goes on while fewer than two walked hosts wait to be counted', () => {
  const walked = new Set<string>(['a']);
  assert.equal(new StreamHold(walked).afterChunk(), null);
});

test('the stream is held while two walked hosts wait to be counted, until one is counted', async () => {
  const walked = new Set(['a', 'b']);
  const hold = new StreamHold(walked);
  const held = hold.afterChunk();
  assert.notEqual(held, null);
  assert.equal(await settled(held), false);
  hold.hostCounted('a');
  assert.equal(await settled(held), true);
  assert.equal(hold.afterChunk(), null, 'one host ahead of the count');
});

test('a host the stream did not walk, counted, does not let it go on', async () => {
  const hold = new StreamHold(new Set(['a', 'b']));
  const held = hold.afterChunk();
  hold.hostCounted('unchanged');
  assert.equal(await settled(held), false);
});

test('the count waiting for a host not yet here lets the stream go on, and it is not held meanwhile', async () => {
  // Hosts the count skips (names Prosody could not have written) are walked and never counted.
  const hold = new StreamHold(new Set(['a', 'skipped-1', 'skipped-2']));
  hold.hostCounted('a');
  const held = hold.afterChunk();
  assert.equal(await settled(held), false);
  hold.waitStarts(false);
  assert.equal(await settled(held), true);
  assert.equal(hold.afterChunk(), null);
  hold.waitEnds();
  assert.notEqual(hold.afterChunk(), null);
});

test('once drained, the stream is let go and never held again', async () => {
  const hold = new StreamHold(new Set(['a', 'b', 'c']));
  const held = hold.afterChunk();
  hold.drain();
  assert.equal(await settled(held), true);
  assert.equal(hold.afterChunk(), null);
});
