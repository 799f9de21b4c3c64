/**
 * Times no date can hold (beyond MAX_EVENT_SECONDS, ±Infinity, NaN) never crash an output or make
 * one lie: every source classifies such a row as malformed, and the core does the same with any
 * that reaches it; formatTime shows the number instead of throwing; OpenMetrics writes its own
 * spelling of infinities; `--at` is bounded to the same range.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_EVENT_SECONDS, type SourceRecord } from '../../main/core/activity-record.js';
import { ActivityTally, countRecords } from '../../main/core/count-active.js';
import { sampleValue } from '../../main/core/format-openmetrics.js';
import { historyCsv } from '../../main/core/history-export.js';
import { formatTime } from '../../main/core/parse-time.js';
import { runBuiltCli } from '../fixtures/run-built-cli.js';
import { failedRefreshRow } from '../fixtures/monitor-figures.js';

const NOW = 1_795_536_000;
const BAD: Array<[name: string, value: number]> = [
  ['1e308', 1e308],
  ['-1e308', -1e308],
  ['Infinity (1e400 read as a number)', Infinity],
  ['-Infinity', -Infinity],
  ['NaN', NaN],
  ['one second past the largest date', MAX_EVENT_SECONDS + 1],
];

for (const [name, value] of BAD) {
  test(`formatTime shows ${name} as a number, without throwing`, () => {
    assert.equal(formatTime(value), `${value} s (not a date)`);
  });

  test(`a login at ${name} reaching the tally is a malformed row, and the account does not count`, () => {
    const r = countRecords(
      [{ host: 'a.test', user: 'x', event: 'login', timestamp: value } satisfies SourceRecord],
      NOW,
    );
    const c = r.hosts['a.test'];
    assert.ok(c);
    assert.deepEqual([c.accounts, c.dau, c.newestEvent], [0, 0, null]);
    assert.equal(c.skippedByReason.malformed, 1);
  });

  test(`a login at ${name} beside a good logout leaves the account counted by the logout`, () => {
    const r = countRecords(
      [
        { host: 'a.test', user: 'x', event: 'login', timestamp: value },
        { host: 'a.test', user: 'x', event: 'logout', timestamp: NOW - 60 },
      ],
      NOW,
    );
    assert.deepEqual([r.total.accounts, r.total.dau, r.total.newestEvent], [1, 1, NOW - 60]);
    assert.equal(r.total.skippedByReason.malformed, 1);
    // --json writes the newest event as the number it is, never null.
    assert.equal(JSON.parse(JSON.stringify(r.total)).newestEvent, NOW - 60);
  });

  test(`a last activity of ${name} given straight to the tally is a malformed row`, () => {
    const tally = new ActivityTally(NOW);
    tally.addActivity('a.test', value, null);
    tally.addActivity('a.test', NOW - 60, value);
    const c = tally.report().hosts['a.test'];
    assert.ok(c);
    assert.deepEqual([c.accounts, c.dau, c.new30d, c.newestEvent], [1, 1, 0, NOW - 60]);
    assert.equal(c.skippedByReason.malformed, 2);
  });
}

test('formatTime still shows the largest date there is', () => {
  assert.equal(formatTime(MAX_EVENT_SECONDS), '+275760-09-13 00:00:00 UTC');
});

const samples: Array<[number, string]> = [
  [Infinity, '+Inf'],
  [-Infinity, '-Inf'],
  [NaN, 'NaN'],
  [1_796_302_731.5, '1796302731.5'],
  [0, '0'],
];
for (const [value, text] of samples) {
  test(`an OpenMetrics sample of ${value} is written ${text}`, () => {
    assert.equal(sampleValue(value), text);
  });
}

test('--at beyond what a date can be is one line and a usage error', () => {
  const r = runBuiltCli(['--db', '/nonexistent.sqlite', '--at', '99999999999999']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /--at "99999999999999" is beyond what a date can be/);
});

test('the history export shows a refresh time no date can hold as its number', () => {
  const csv = historyCsv([failedRefreshRow(1e15, 'x')]);
  assert.match(csv.split('\n')[1] ?? '', /^1000000000000000,1000000000000000,main,false,/);
});
