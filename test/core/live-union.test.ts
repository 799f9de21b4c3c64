import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SourceRecord } from '../../main/core/activity-record.js';
import { AccountFolder, ActivityTally } from '../../main/core/count-active.js';
import { DAY } from '../../main/core/windows.js';
import { feedQueryTuple } from '../../main/sources/feed-query-rows.js';

const NOW = 1_795_536_000;

function count(records: SourceRecord[], online: Record<string, string[]>) {
  const tally = new ActivityTally(
    NOW,
    new Map(Object.entries(online).map(([h, users]) => [h, new Set(users)])),
  );
  const folder = new AccountFolder(tally);
  for (const r of records) folder.add(r);
  folder.flush();
  return tally.report();
}

const login = (user: string, ago: number, host = 'a.test'): SourceRecord => ({
  host,
  user,
  event: 'login',
  timestamp: NOW - ago,
});

const cases: Array<
  [name: string, records: SourceRecord[], online: string[], dau: number, wau: number, mau: number]
> = [
  [
    'an online account with 40-day-old records counts in every window',
    [login('alice', 40 * DAY)],
    ['alice'],
    1,
    1,
    1,
  ],
  [
    'an online account active an hour ago counts once, not twice',
    [login('alice', 3600)],
    ['alice'],
    1,
    1,
    1,
  ],
  [
    'an offline account keeps its records\u2019 windows',
    [login('alice', 3 * DAY)],
    ['bob'],
    0,
    1,
    1,
  ],
  [
    'an online account without records is not counted, as the module walks the store',
    [login('alice', 40 * DAY)],
    ['bob'],
    0,
    0,
    0,
  ],
  [
    'an online account with only a registration counts in every window',
    [{ host: 'a.test', user: 'alice', event: 'registered', timestamp: NOW - 90 * DAY }],
    ['alice'],
    1,
    1,
    1,
  ],
  [
    'an online account whose records were all skipped still counts (it is in the store)',
    [{ host: 'a.test', user: 'alice', skipped: 'malformed', where: 'lastlog2' }],
    ['alice'],
    1,
    1,
    1,
  ],
  ['an online name on another host does not count here', [login('alice', 40 * DAY)], [], 0, 0, 0],
];

for (const [name, records, online, dau, wau, mau] of cases) {
  test(name, () => {
    const r = count(records, { 'a.test': online, 'b.test': ['alice'] });
    const a = r.hosts['a.test']!;
    assert.deepEqual([a.dau, a.wau, a.mau], [dau, wau, mau]);
  });
}

test('online is the number of online accounts, with or without records', () => {
  const r = count([login('alice', 40 * DAY)], { 'a.test': ['alice', 'frank'] });
  assert.equal(r.hosts['a.test']!.online, 2);
  assert.equal(r.hosts['a.test']!.liveKnown, true);
  assert.equal(r.total.online, 2);
});

test('without a live view, online is null and the figures are the records\u2019', () => {
  const r = count([login('alice', 40 * DAY)], {});
  assert.deepEqual([r.hosts['a.test']!.online, r.hosts['a.test']!.liveKnown], [null, false]);
  assert.equal(r.total.online, null);
  assert.equal(r.hosts['a.test']!.dau, 0);
});

test('the total is live-known only when every host is', () => {
  const r = count([login('alice', 1), login('bob', 1, 'b.test')], { 'a.test': ['alice'] });
  assert.equal(r.total.liveKnown, false);
  assert.equal(r.total.online, 1);
});

test('rows of the SQL query count open sessions by their user column', () => {
  const tally = new ActivityTally(NOW, new Map([['a.test', new Set(['alice'])]]));
  feedQueryTuple(tally, ['a.test', 'alice', NOW - 40 * DAY, null, 0, 0, 0, null, 0]);
  feedQueryTuple(tally, ['a.test', 'bob', NOW - 40 * DAY, null, 0, 0, 0, null, 0]);
  const a = tally.report().hosts['a.test']!;
  assert.deepEqual([a.dau, a.wau, a.mau], [1, 1, 1]);
});

test('a forked tally counts the same open sessions', () => {
  const tally = new ActivityTally(NOW, new Map([['a.test', new Set(['alice'])]]));
  const fork = tally.fork();
  feedQueryTuple(fork, ['a.test', 'alice', NOW - 40 * DAY, null, 0, 0, 0, null, 0]);
  tally.absorb(fork);
  assert.equal(tally.report().hosts['a.test']!.dau, 1);
});

test('the timing slack counts recent accounts and those that left a window within the hour', () => {
  const r = count([login('alice', 600), login('bob', DAY + 600), login('carol', 7 * DAY + 100)], {
    'a.test': [],
  });
  assert.deepEqual(r.slack?.['a.test'], {
    recent: 1,
    leftSince: { d1: 1, d7: 1, d30: 0 },
    onlineCounted: 0,
  });
});

test('under Prosody 13 with a provider that cannot say "enabled", only open sessions count', () => {
  const tally = new ActivityTally(NOW, new Map([['a.test', new Set(['alice'])]]));
  tally.noteFacts('a.test', { version: '13.0.1', authentication: 'internal_plain' });
  feedQueryTuple(tally, ['a.test', 'alice', NOW - 40 * DAY, null, 0, 0, 0, null, 0]);
  feedQueryTuple(tally, ['a.test', 'carol', NOW - 3 * DAY, null, 0, 0, 0, null, 0]);
  const a = tally.report().hosts['a.test']!;
  assert.deepEqual([a.dau, a.wau, a.mau], [1, 1, 1]);
});

test('under Prosody 13, an open session counts even for an account marked disabled', () => {
  const tally = new ActivityTally(NOW, new Map([['a.test', new Set(['alice'])]]));
  tally.noteFacts('a.test', { version: '13.0.1', authentication: 'internal_hashed' });
  tally.addActivity('a.test', NOW - 40 * DAY, null, 'disabled', 'alice');
  tally.addActivity('a.test', NOW - 40 * DAY, null, 'disabled', 'bob');
  const a = tally.report().hosts['a.test']!;
  assert.deepEqual([a.dau, a.excludedDisabled], [1, 1]);
});
