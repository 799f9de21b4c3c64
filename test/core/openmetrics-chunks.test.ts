import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SourcedReport } from '../../main/core/activity-source.js';
import type { HostCounts } from '../../main/core/count-active.js';
import { formatOpenMetrics, openMetricsChunks } from '../../main/core/format-openmetrics.js';
import { formatOpenMetricsBeforeStreaming } from '../fixtures/openmetrics-before-streaming.js';

function counts(i: number, over: Partial<HostCounts> = {}): HostCounts {
  return {
    dau: i % 7,
    wau: i % 11,
    mau: i % 13,
    accounts: i,
    new1d: 0,
    new7d: i % 2,
    new30d: i % 3,
    newestEvent: i % 5 === 0 ? null : 1_795_536_000 - i,
    online: i % 4 === 0 ? null : i % 3,
    skipped: i % 3,
    skippedByReason: { 'not-an-event': i % 3, malformed: 0, 'no-timestamp': 0 },
    excludedDisabled: i % 2,
    excludedNoAccount: 0,
    excludedByAuth: 0,
    ...over,
  } as HostCounts;
}

function report(hosts: Array<[string, HostCounts]>): SourcedReport {
  return {
    at: 1_795_536_000,
    hosts: Object.fromEntries(hosts),
    total: counts(hosts.length),
    sources: ['test'],
    notices: [],
    fetches: [],
  } as unknown as SourcedReport;
}

const many = (n: number) =>
  Array.from({ length: n }, (_, i): [string, HostCounts] => [`h${i}.example`, counts(i)]);

const CASES: Array<[what: string, r: SourcedReport]> = [
  ['no hosts', report([])],
  ['one host', report([['example.org', counts(1)]])],
  ['a newest event of null and an unknown online count', report([['a.test', counts(20)]])],
  [
    'label values that need escaping',
    report([
      ['back\\slash.test', counts(2)],
      ['quo"te.test', counts(3)],
      ['new\nline.test', counts(4)],
    ]),
  ],
  ['exactly one chunk of lines', report(many(111))],
  ['many chunks', report(many(2500))],
];

for (const [what, r] of CASES) {
  test(`the streamed OpenMetrics text is byte for byte what it was: ${what}`, () => {
    const before = formatOpenMetricsBeforeStreaming(r);
    assert.equal([...openMetricsChunks(r)].join(''), before);
    assert.equal(formatOpenMetrics(r), before);
  });
}

test('every chunk ends at the end of a line', () => {
  for (const chunk of openMetricsChunks(report(many(2500)))) assert.ok(chunk.endsWith('\n'));
});
