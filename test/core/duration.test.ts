import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../main/core/duration.js';

const parsed: Array<[text: string, seconds: number | null]> = [
  ['1h', 3600],
  ['30m', 1800],
  ['10s', 10],
  ['2d', 172_800],
  ['1h30m', 5400],
  ['1h 30m', 5400],
  ['1d 2h 3m 4s', 93_784],
  ['90', 90],
  ['1', 1],
  ['90m', 5400],
  ['  15m  ', 900],
  ['1.5h', 5400],
  ['0.1h', 360],
  ['2.5m', 150],
  ['1h0.5m', 3630],
  ['90.0', 90],
  ['01h', 3600],
  ['0.5s', null],
  ['1.5', null],
  ['0.01m', null],
  ['0', null],
  ['0s', null],
  ['0h0m', null],
  ['-1h', null],
  ['+1h', null],
  ['-90', null],
  ['1e3', null],
  ['', null],
  ['   ', null],
  ['h', null],
  ['1 h', null],
  ['1x', null],
  ['1H', null],
  ['1h1h', null],
  ['30m1h', null],
  ['1h30', null],
  ['.5h', null],
  ['1.h', null],
  ['1,5h', null],
  ['one hour', null],
  ['Infinity', null],
  ['NaN', null],
  ['9007199254740991s', Number.MAX_SAFE_INTEGER],
  ['9007199254740992s', null],
  ['999999999999999999d', null],
];

for (const [text, seconds] of parsed) {
  const outcome = seconds === null ? 'refused' : `${seconds} s`;
  test(`the duration ${JSON.stringify(text)} is ${outcome}`, () => {
    assert.equal(parseDuration(text), seconds);
  });
}

const formatted: Array<[seconds: number, text: string]> = [
  [3600, '1h'],
  [1800, '30m'],
  [5400, '1h 30m'],
  [45, '45s'],
  [90, '1m 30s'],
  [86_400, '1d'],
  [93_784, '1d 2h 3m 4s'],
  [3601, '1h 1s'],
  [0, '0s'],
  [0.4, '0s'],
  [59.6, '1m'],
];

for (const [seconds, text] of formatted) {
  test(`${seconds} s is shown as ${JSON.stringify(text)}`, () => {
    assert.equal(formatDuration(seconds), text);
  });
}

for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
  test(`formatting ${bad} s is refused`, () => {
    assert.throws(() => formatDuration(bad), RangeError);
  });
}

test('every shown duration reads back as the same number of seconds', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (seconds) => {
      assert.equal(parseDuration(formatDuration(seconds)), seconds);
    }),
  );
});

test('a parsed duration is a positive whole number of seconds or nothing', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'0123456789.dhms -') }), (text) => {
      const seconds = parseDuration(text);
      if (seconds !== null) assert.ok(Number.isSafeInteger(seconds) && seconds > 0, text);
    }),
  );
});
