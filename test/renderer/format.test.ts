import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  describeDelta,
  formatBytes,
  formatRelative,
  formatSeconds,
  stickiness,
} from '../../renderer/format.js';

const NBSP = '\u00a0';
const MINUS = '\u2212';

describe('describeDelta', () => {
  const cases: Array<[string, number, number | null, Partial<ReturnType<typeof describeDelta>>]> = [
    [
      'a rise is up, signed, with an arrow',
      12,
      2,
      { direction: 'up', text: `+20${NBSP}%`, arrow: '▲' },
    ],
    [
      'a fall is down, with a true minus sign',
      12,
      -3,
      { direction: 'down', text: `${MINUS}20${NBSP}%`, arrow: '▼' },
    ],
    ['no change is flat', 30, 0, { direction: 'flat', text: `0${NBSP}%`, arrow: '→' }],
    [
      'nothing recorded then is no change at all',
      30,
      null,
      { direction: 'none', text: '—', arrow: '' },
    ],
    [
      'from zero there is no percentage, only the count',
      4,
      4,
      { direction: 'up', text: '+4 (from 0)' },
    ],
    ['below 10 % one decimal is kept', 1035, 35, { text: `+3.5${NBSP}%` }],
    ['whole percentages have no decimal', 110, 10, { text: `+10${NBSP}%` }],
  ];
  for (const [name, value, change, expected] of cases) {
    test(name, () => {
      const d = describeDelta(value, change, '24 hours earlier');
      for (const [key, v] of Object.entries(expected)) {
        assert.equal(d[key as keyof typeof d], v, key);
      }
    });
  }

  test('says it in words for screen readers, with the earlier figure', () => {
    assert.equal(
      describeDelta(12, -3, '7 days earlier').spoken,
      `down 20${NBSP}% against 7 days earlier (from 15)`,
    );
    assert.equal(
      describeDelta(30, 0, '24 hours earlier').spoken,
      'unchanged against 24 hours earlier (30)',
    );
    assert.equal(
      describeDelta(5, null, '24 hours earlier').spoken,
      'no figure recorded 24 hours earlier',
    );
  });
});

describe('figures and sizes', () => {
  test('stickiness is DAU over MAU, and nothing without MAU', () => {
    assert.equal(stickiness(12, 50), `24${NBSP}%`);
    assert.equal(stickiness(0, 0), null);
  });

  test('bytes and seconds read at a glance', () => {
    assert.equal(formatBytes(999), `999${NBSP}bytes`);
    assert.equal(formatBytes(12_345), `12.3${NBSP}kB`);
    assert.equal(formatBytes(4_200_000), `4.2${NBSP}MB`);
    assert.equal(formatSeconds(0.004), `<${NBSP}0.01${NBSP}s`);
    assert.equal(formatSeconds(0.42), `0.42${NBSP}s`);
    assert.equal(formatSeconds(42.4), `42${NBSP}s`);
  });

  test('relative times, past and future', () => {
    const now = 1_000_000_000_000;
    const at = (s: number) => now / 1000 + s;
    assert.equal(formatRelative(at(-10), now), 'just now');
    assert.equal(formatRelative(at(-300), now), `5${NBSP}min ago`);
    assert.equal(formatRelative(at(3600), now), `in 60${NBSP}min`);
    assert.equal(formatRelative(at(-6 * 3600), now), `6${NBSP}h ago`);
    assert.equal(formatRelative(at(-3 * 86400), now), `3${NBSP}days ago`);
    assert.equal(formatRelative(at(86400 * 1.6), now), `in 2${NBSP}days`);
  });
});
