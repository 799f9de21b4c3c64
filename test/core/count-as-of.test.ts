/**
 * Counting as of a past moment (`--at`) from last-event records: an event after that moment is
 * never activity at it. lastlog2 keeps one login and one logout per account, so an account whose
 * last one is later is not knowable then (counted apart, neither active nor inactive); a
 * registration after it is no account yet; sessions open today say nothing about it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActivityRecord, SourceRecord } from '../../main/core/activity-record.js';
import { AccountFolder, ActivityTally, type HostCounts } from '../../main/core/count-active.js';
import { DAY } from '../../main/core/windows.js';

const AT = 1_795_536_000;
const HOUR = 3600;

const ev = (user: string, event: ActivityRecord['event'], offset: number): SourceRecord => ({
  host: 'a.test',
  user,
  event,
  timestamp: AT + offset,
});

type Picked = Pick<
  HostCounts,
  'dau' | 'wau' | 'mau' | 'accounts' | 'new1d' | 'new30d' | 'notKnowable'
>;

function countAsOf(
  records: SourceRecord[],
  options: { online?: string[]; pastMoment?: boolean } = {},
): Picked {
  const online = new Map([['a.test', new Set(options.online ?? [])]]);
  const tally = new ActivityTally(AT, online, { pastMoment: options.pastMoment ?? true });
  const folder = new AccountFolder(tally);
  for (const r of records) folder.add(r);
  folder.flush();
  const { dau, wau, mau, accounts, new1d, new30d, notKnowable } = tally.report().total;
  return { dau, wau, mau, accounts, new1d, new30d, notKnowable };
}

const zero: Picked = { dau: 0, wau: 0, mau: 0, accounts: 0, new1d: 0, new30d: 0, notKnowable: 0 };

const cases: Array<[name: string, records: SourceRecord[], expected: Partial<Picked>]> = [
  [
    'a login an hour before the moment is active then',
    [ev('a', 'login', -HOUR)],
    { dau: 1, wau: 1, mau: 1, accounts: 1 },
  ],
  [
    'a login exactly at the moment is active then',
    [ev('a', 'login', 0)],
    { dau: 1, wau: 1, mau: 1, accounts: 1 },
  ],
  [
    'a login a second after the moment is not knowable, not active',
    [ev('a', 'login', 1)],
    { notKnowable: 1 },
  ],
  [
    'a login before and a logout after the moment: the last event is later, so not knowable',
    [ev('a', 'login', -HOUR), ev('a', 'logout', HOUR)],
    { notKnowable: 1 },
  ],
  [
    'a login 10 days before and nothing since is inactive that day, active that month',
    [ev('a', 'login', -10 * DAY)],
    { mau: 1, accounts: 1 },
  ],
  [
    'a registration after the moment is no account yet, and not new',
    [ev('a', 'registered', HOUR)],
    {},
  ],
  [
    'a registration after the moment with a later login is neither new nor an account',
    [ev('a', 'registered', HOUR), ev('a', 'login', 2 * HOUR)],
    { notKnowable: 1 },
  ],
  [
    'a registration before the moment counts as new even when the last login is later',
    [ev('a', 'registered', -HOUR), ev('a', 'login', HOUR)],
    { new1d: 1, new30d: 1, notKnowable: 1 },
  ],
  [
    'a registration before the moment with no login is an account, new and inactive',
    [ev('a', 'registered', -2 * DAY)],
    { accounts: 1, new30d: 1 },
  ],
];

for (const [name, records, expected] of cases) {
  test(name, () => {
    assert.deepEqual(countAsOf(records), { ...zero, ...expected });
  });
}

test('counting as of 1970 (--at 0) shows nobody active and every account not knowable', () => {
  const tally = new ActivityTally(0, new Map(), { pastMoment: true });
  for (let i = 0; i < 5; i++) tally.addActivity('a.test', AT - i * HOUR, AT - 30 * DAY);
  const t = tally.report().total;
  assert.deepEqual(
    [t.dau, t.wau, t.mau, t.accounts, t.new1d, t.new7d, t.new30d, t.notKnowable],
    [0, 0, 0, 0, 0, 0, 0, 5],
  );
});

test('a session open today does not make an account active at a past moment', () => {
  assert.deepEqual(countAsOf([ev('a', 'login', -40 * DAY)], { online: ['a'] }), {
    ...zero,
    accounts: 1,
  });
});

test('counting as of now, a login stamped after now still counts, as the module does', () => {
  const { notKnowable, ...rest } = countAsOf([ev('a', 'login', HOUR)], { pastMoment: false });
  assert.equal(notKnowable, undefined);
  assert.deepEqual(rest, { dau: 1, wau: 1, mau: 1, accounts: 1, new1d: 0, new30d: 0 });
});

test('each host counts its not knowable accounts, and the total adds them', () => {
  const tally = new ActivityTally(AT, new Map(), { pastMoment: true });
  tally.addActivity('a.test', AT + 1, null);
  tally.addActivity('b.test', AT + 1, null);
  tally.addActivity('b.test', AT - 1, null);
  const r = tally.report();
  assert.deepEqual(
    [r.hosts['a.test']?.notKnowable, r.hosts['b.test']?.notKnowable, r.total.notKnowable],
    [1, 1, 2],
  );
  assert.equal(r.hosts['b.test']?.dau, 1);
});
