import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTime, parseTime } from '../../main/core/parse-time.js';

const cases: Array<[string, number | null]> = [
  ['1795536000', 1795536000],
  ['1795536000.5', 1795536000.5],
  ['2026-11-24T12:00:00Z', 1795521600],
  ['2026-11-24T12:00:00', 1795521600],
  ['2026-11-24 12:00', 1795521600],
  ['2026-11-24', 1795478400],
  ['2026-11-24T14:00:00+02:00', 1795521600],
  ['2026-11-24T14:00:00+0200', 1795521600],
  ['2026-11-24T12:00:00.250Z', 1795521600.25],
  ['2026-02-30', null],
  ['2026-11-24T25:00:00Z', null],
  ['yesterday', null],
  ['', null],
  ['12abc', null],
];

for (const [input, expected] of cases) {
  test(`--at ${JSON.stringify(input)} is ${expected === null ? 'rejected' : expected}`, () => {
    assert.equal(parseTime(input), expected);
  });
}

test('times are shown in one fixed UTC form', () => {
  assert.equal(formatTime(1795521600), '2026-11-24 12:00:00 UTC');
});
