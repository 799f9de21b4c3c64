import assert from 'node:assert/strict';
import { sep } from 'node:path';
import { test } from 'node:test';
import { asarUnpacked } from '../../main/electron/app-paths.js';
import {
  formatLocalTime,
  localMinuteOfDay,
  nextLocalMidnight,
} from '../../main/electron/local-time.js';

// Local time here is Berlin's, whatever the machine says (Node applies a TZ change at once).
process.env.TZ = 'Europe/Berlin';

/** Unix seconds of a UTC time written as ISO. */
const at = (iso: string) => Date.parse(iso) / 1000;

const midnights: Array<[name: string, now: string, midnight: string]> = [
  ['an afternoon: the coming midnight', '2026-11-24T15:00:00Z', '2026-11-24T23:00:00Z'],
  [
    'just after midnight: the next one, a day later',
    '2026-11-24T23:00:01Z',
    '2026-11-25T23:00:00Z',
  ],
  ['the day clocks go forward: 23 hours long', '2026-03-28T23:30:00Z', '2026-03-29T22:00:00Z'],
  ['the day clocks go back: 25 hours long', '2026-10-24T22:30:00Z', '2026-10-25T23:00:00Z'],
];

for (const [name, now, midnight] of midnights) {
  test(`next local midnight: ${name}`, () => {
    assert.equal(nextLocalMidnight(at(now)), at(midnight));
  });
}

test('minute of the local day', () => {
  assert.equal(localMinuteOfDay(Date.parse('2026-11-24T21:30:00Z')), 22 * 60 + 30);
});

const times: Array<[name: string, when: string, text: string]> = [
  ['earlier today: the time', '2026-11-24T13:05:00Z', '14:05'],
  ['yesterday: the weekday and time', '2026-11-23T13:05:00Z', 'Mon 14:05'],
  ['weeks ago: the date and time', '2026-10-01T13:05:00Z', '1 Oct, 15:05'],
];

for (const [name, when, text] of times) {
  test(`local time in the tray: ${name}`, () => {
    assert.equal(formatLocalTime(at(when), at('2026-11-24T15:00:00Z'), 'en-GB'), text);
  });
}

test('a path inside app.asar points into app.asar.unpacked; others are left alone', () => {
  const inside = ['', 'opt', 'P', 'resources', 'app.asar', 'dist', 'x.node'].join(sep);
  assert.equal(asarUnpacked(inside), inside.replace('app.asar', 'app.asar.unpacked'));
  const outside = ['', 'src', 'dist', 'x.node'].join(sep);
  assert.equal(asarUnpacked(outside), outside);
});
