import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyCounts } from '../../main/core/count-active.js';
import { compareGauges, evaluateLive } from '../../main/core/live-health.js';
import type { LiveHost } from '../../main/core/live-snapshot.js';
import { emptySlack } from '../../main/core/timing-slack.js';

const ours = { dau: 10, wau: 20, mau: 30 };
const slack = { recent: 2, leftSince: { d1: 1, d7: 0, d30: 3 }, onlineCounted: 0 };

const comparisons: Array<
  [name: string, g: { d1: number; d7: number; d30: number } | null, want: string]
> = [
  ['equal gauges are equal', { d1: 10, d7: 20, d30: 30 }, 'equal'],
  ['no gauges are not published', null, 'not-published'],
  [
    'two fewer, with two accounts active since, is explained',
    { d1: 8, d7: 18, d30: 28 },
    'explained',
  ],
  [
    'three fewer, with two accounts active since, is unexplained',
    { d1: 7, d7: 20, d30: 30 },
    'unexplained',
  ],
  [
    'one more today, with one that left the day since, is explained',
    { d1: 11, d7: 20, d30: 30 },
    'explained',
  ],
  [
    'one more this week, with none that left the week since, is unexplained',
    { d1: 10, d7: 21, d30: 30 },
    'unexplained',
  ],
];

for (const [name, g, want] of comparisons) {
  test(name, () => assert.equal(compareGauges(ours, g, slack), want));
}

const host = (over: Partial<LiveHost['modules']>, gauges: LiveHost['gauges'] = null): LiveHost => ({
  online: [],
  modules: { lastlog2: true, accountActivity: false, measureActiveUsers: true, ...over },
  gauges,
});

test('a host without mod_lastlog2 or mod_account_activity warns that the figures will stop moving', () => {
  const r = evaluateLive(
    {
      known: true,
      via: 'x',
      hosts: { 'a.test': host({ lastlog2: false }, { d1: 0, d7: 0, d30: 0 }) },
    },
    { 'a.test': emptyCounts() },
    { 'a.test': emptySlack() },
  );
  assert.equal(r?.hosts['a.test']?.activityModuleMissing, true);
  assert.match(r!.hosts['a.test']!.warnings[0]!, /will stop moving/);
});

test('a host with mod_account_activity (Prosody 13) is not missing its activity module', () => {
  const r = evaluateLive(
    {
      known: true,
      via: 'x',
      hosts: { 'a.test': host({ lastlog2: false, accountActivity: true }) },
    },
    {},
    {},
  );
  assert.equal(r?.hosts['a.test']?.activityModuleMissing, false);
});

test('a host without mod_measure_active_users says there is nothing to compare with', () => {
  const r = evaluateLive(
    { known: true, via: 'x', hosts: { 'a.test': host({ measureActiveUsers: false }) } },
    {},
    {},
  );
  assert.equal(r?.hosts['a.test']?.comparison, 'not-published');
  assert.match(r!.hosts['a.test']!.warnings.join(' '), /not loaded on a\.test/);
});

test('an unexplained difference is a warning with both figures', () => {
  const counts = { ...emptyCounts(), dau: 5, wau: 5, mau: 5 };
  const r = evaluateLive(
    { known: true, via: 'x', hosts: { 'a.test': host({}, { d1: 9, d7: 9, d30: 9 }) } },
    { 'a.test': counts },
    { 'a.test': emptySlack() },
  );
  assert.match(r!.hosts['a.test']!.warnings[0]!, /\(9\/9\/9\) differ from ours \(5\/5\/5\)/);
});

test('no live view carries its reason and no hosts', () => {
  const r = evaluateLive({ known: false, reason: 'refused', accessRefused: true }, {}, {});
  assert.deepEqual(r, { known: false, reason: 'refused', accessRefused: true, hosts: {} });
});
