import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ActivityRecord, SourceRecord } from '../../main/core/activity-record.js';
import { AccountFolder, ActivityTally, countRecords } from '../../main/core/count-active.js';
import { DAY } from '../../main/core/windows.js';

const NOW = 1_795_536_000;
const rec = (
  user: string,
  event: ActivityRecord['event'],
  ago: number,
  host = 'a.test',
): ActivityRecord => ({
  host,
  user,
  event,
  timestamp: NOW - ago,
});

const edges: Array<[name: string, ago: number, dau: number, wau: number, mau: number]> = [
  ['a login 86399 s ago is active today', DAY - 1, 1, 1, 1],
  ['a login exactly 86400 s ago is not active today', DAY, 0, 1, 1],
  ['a login 7 days less one second ago is active this week', 7 * DAY - 1, 0, 1, 1],
  ['a login exactly 7 days ago is not active this week', 7 * DAY, 0, 0, 1],
  ['a login 30 days less one second ago is active this month', 30 * DAY - 1, 0, 0, 1],
  ['a login exactly 30 days ago is not active this month', 30 * DAY, 0, 0, 0],
  ['a login in the future counts in every window, as in Prosody', -3600, 1, 1, 1],
];

for (const [name, ago, dau, wau, mau] of edges) {
  test(name, () => {
    const r = countRecords([rec('alice', 'login', ago)], NOW);
    assert.deepEqual([r.total.dau, r.total.wau, r.total.mau], [dau, wau, mau]);
  });
}

test('the newer of login and logout is the last activity', () => {
  const r = countRecords([rec('bob', 'login', 40 * DAY), rec('bob', 'logout', 3600)], NOW);
  assert.equal(r.total.dau, 1);
  const s = countRecords([rec('bob', 'login', 3600), rec('bob', 'logout', 40 * DAY)], NOW);
  assert.equal(s.total.dau, 1);
});

test('a registration alone never counts as activity', () => {
  const r = countRecords([rec('carol', 'registered', 60)], NOW);
  assert.deepEqual([r.total.dau, r.total.wau, r.total.mau], [0, 0, 0]);
  assert.equal(r.total.accounts, 1);
  assert.deepEqual([r.total.new1d, r.total.new7d, r.total.new30d], [1, 1, 1]);
});

test('new registrations use the same strict windows', () => {
  const r = countRecords(
    [
      rec('a', 'registered', DAY),
      rec('b', 'registered', DAY - 1),
      rec('c', 'registered', 30 * DAY),
    ],
    NOW,
  );
  assert.deepEqual([r.total.new1d, r.total.new7d, r.total.new30d], [1, 2, 2]);
});

// Prosody 13's mod_measure_active_users takes the last activity from mod_lastlog2 alone;
// test/parity/prosody13-parity.test.ts shows the real module doing so.
test('an account_activity timestamp newer than lastlog2 is ignored, as Prosody 13 does', () => {
  const r = countRecords([rec('dave', 'login', 10 * DAY), rec('dave', 'activity', 60)], NOW);
  assert.deepEqual([r.total.dau, r.total.wau, r.total.mau], [0, 0, 1]);
});

test('a user with only an account_activity timestamp is no user with records', () => {
  const r = countRecords([rec('erin', 'activity', 60)], NOW);
  assert.deepEqual([r.total.mau, r.total.accounts], [0, 0]);
});

test('hosts are counted separately and summed in the total', () => {
  const r = countRecords(
    [
      rec('x', 'login', 60, 'a.test'),
      rec('x', 'login', 8 * DAY, 'b.test'),
      rec('y', 'login', 60, 'b.test'),
    ],
    NOW,
  );
  assert.equal(r.hosts['a.test']?.dau, 1);
  assert.equal(r.hosts['b.test']?.dau, 1);
  assert.equal(r.hosts['b.test']?.mau, 2);
  assert.equal(r.total.dau, 2);
  assert.equal(r.total.mau, 3);
});

test('the newest event is the newest login, logout or activity of the host', () => {
  const r = countRecords(
    [rec('x', 'login', 500), rec('x', 'registered', 10), rec('y', 'logout', 200)],
    NOW,
  );
  assert.equal(r.hosts['a.test']?.newestEvent, NOW - 200);
});

test('skipped rows are counted by reason and do not hide the rest of the host', () => {
  const records: SourceRecord[] = [
    { host: 'a.test', user: 'room', skipped: 'not-an-event' },
    rec('x', 'login', 60),
    { host: 'a.test', user: 'y', skipped: 'no-timestamp' },
    { host: 'a.test', user: 'z', skipped: 'malformed' },
  ];
  const r = countRecords(records, NOW);
  const host = r.hosts['a.test']!;
  assert.equal(host.dau, 1);
  assert.equal(host.accounts, 1);
  assert.equal(host.skipped, 3);
  assert.deepEqual(host.skippedByReason, { 'not-an-event': 1, malformed: 1, 'no-timestamp': 1 });
});

test('a host with only skipped rows still appears, with zeros', () => {
  const r = countRecords([{ host: 'muc.test', user: 'room', skipped: 'not-an-event' }], NOW);
  assert.equal(r.hosts['muc.test']?.mau, 0);
  assert.equal(r.hosts['muc.test']?.skipped, 1);
});

/** The rule written the plain way, as an oracle for the streaming fold. */
function oracle(records: ActivityRecord[], now: number) {
  const last = new Map<string, number>();
  for (const r of records) {
    if (r.event === 'registered' || r.event === 'activity') continue;
    const k = `${r.host}/${r.user}`;
    last.set(k, Math.max(last.get(k) ?? 0, r.timestamp));
  }
  const within = (w: number) => [...last.values()].filter((t) => now - t < w).length;
  return { dau: within(DAY), wau: within(7 * DAY), mau: within(30 * DAY) };
}

test('the streaming fold agrees with the plain rule on any grouped record stream', () => {
  const recordArb = fc.record({
    host: fc.constantFrom('a.test', 'b.test'),
    user: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'zoë'),
    event: fc.constantFrom('login', 'logout', 'registered', 'activity') as fc.Arbitrary<
      ActivityRecord['event']
    >,
    timestamp: fc.integer({ min: NOW - 40 * DAY, max: NOW + DAY }),
  });
  fc.assert(
    fc.property(fc.array(recordArb, { maxLength: 60 }), (records) => {
      const grouped = [...records].sort((a, b) =>
        `${a.host}/${a.user}`.localeCompare(`${b.host}/${b.user}`),
      );
      const r = countRecords(grouped, NOW);
      const o = oracle(records, NOW);
      assert.deepEqual([r.total.dau, r.total.wau, r.total.mau], [o.dau, o.wau, o.mau]);
      const withRecords = records.filter((x) => x.event !== 'activity');
      assert.equal(r.total.accounts, new Set(withRecords.map((x) => `${x.host}/${x.user}`)).size);
    }),
  );
});

test('a tally absorbed into another counts as if its accounts had been added there', () => {
  const account = fc.record({
    host: fc.constantFrom('a.test', 'b.test', 'c.test'),
    last: fc.option(fc.integer({ min: NOW - 40 * DAY, max: NOW }), { nil: null }),
    registered: fc.option(fc.integer({ min: NOW - 40 * DAY, max: NOW }), { nil: null }),
    skipped: fc.nat(2),
  });
  fc.assert(
    fc.property(fc.array(account), fc.array(account), (mine, theirs) => {
      const add = (t: ActivityTally, a: (typeof mine)[number]) => {
        if (a.skipped > 0) t.addSkipped(a.host, 'malformed', a.skipped);
        else t.addActivity(a.host, a.last, a.registered);
      };
      const direct = new ActivityTally(NOW);
      for (const a of [...mine, ...theirs]) add(direct, a);
      const apart = new ActivityTally(NOW);
      const other = new ActivityTally(NOW);
      for (const a of mine) add(apart, a);
      for (const a of theirs) add(other, a);
      apart.absorb(other);
      assert.deepEqual(apart.report(), direct.report());
    }),
  );
});

const status = (user: string, s: 'enabled' | 'disabled' | 'missing', host = 'a.test') => ({
  host,
  user,
  status: s,
});

/** Four users: enabled, disabled, no account, account not read; each logged in an hour ago. */
function fourUsers(): SourceRecord[] {
  return [
    status('en', 'enabled'),
    rec('en', 'login', 3600),
    rec('dis', 'login', 3600),
    status('dis', 'disabled'),
    status('gone', 'missing'),
    rec('gone', 'login', 3600),
    rec('unread', 'login', 3600),
  ];
}

function tallyOf(records: SourceRecord[], facts: Parameters<ActivityTally['noteFacts']>[1]) {
  const tally = new ActivityTally(NOW);
  tally.noteFacts(null, facts);
  const folder = new AccountFolder(tally);
  for (const r of records) folder.add(r);
  folder.flush();
  return tally.report();
}

test("Prosody 13's rule leaves out disabled accounts and users without an account", () => {
  const r = tallyOf(fourUsers(), { version: '13.0.1', configRead: true });
  const c = r.hosts['a.test']!;
  assert.deepEqual([c.dau, c.wau, c.mau, c.accounts], [2, 2, 2, 2]);
  assert.deepEqual([c.excludedDisabled, c.excludedNoAccount, c.statusUnknown], [1, 1, 1]);
  assert.equal(r.rules['a.test']!.rule, 'enabled-accounts');
});

test("Prosody 0.12's rule counts every user with records, whatever the account", () => {
  const r = tallyOf(fourUsers(), { version: '0.12.3' });
  const c = r.hosts['a.test']!;
  assert.deepEqual([c.dau, c.accounts, c.excludedDisabled, c.excludedNoAccount], [4, 4, 0, 0]);
});

test('a host where Prosody 13 counts nobody shows every account as left out by authentication', () => {
  const r = tallyOf(fourUsers(), { version: '13.0.1', authentication: 'internal_plain' });
  const c = r.hosts['a.test']!;
  assert.deepEqual([c.dau, c.wau, c.mau, c.accounts, c.excludedByAuth], [0, 0, 0, 0, 4]);
  assert.equal(c.newestEvent, NOW - 3600);
});

test('an account_roles entry seen while reading makes the host count by 13, decided at report time', () => {
  const tally = new ActivityTally(NOW);
  const folder = new AccountFolder(tally);
  for (const r of fourUsers()) folder.add(r);
  folder.flush();
  assert.equal(tally.report().hosts['a.test']!.dau, 4);
  tally.noteFacts('a.test', { hasRoles: true });
  const r = tally.report();
  assert.equal(r.hosts['a.test']!.dau, 2);
  assert.match(r.rules['a.test']!.reason, /account_roles/);
});

test('an account with a status but no activity record is no user with records', () => {
  const r = tallyOf([status('idle', 'enabled'), status('off', 'disabled')], { version: '13.0.1' });
  assert.equal(r.hosts['a.test'], undefined);
});

test('the total adds every host’s left-out accounts', () => {
  const records = [...fourUsers(), ...fourUsers().map((x) => ({ ...x, host: 'b.test' }))];
  const r = tallyOf(records, { version: '13.0.1' });
  assert.deepEqual([r.total.excludedDisabled, r.total.excludedNoAccount, r.total.dau], [2, 2, 4]);
});

test('absorbing a tally keeps its accounts apart by status and its facts', () => {
  const part = new ActivityTally(NOW);
  part.noteFacts('a.test', { version: '13.0.1' });
  part.addActivity('a.test', NOW - 60, null, 'disabled');
  part.addActivity('a.test', NOW - 60, null, 'enabled');
  const whole = new ActivityTally(NOW);
  whole.absorb(part);
  const c = whole.report().hosts['a.test']!;
  assert.deepEqual([c.dau, c.excludedDisabled], [1, 1]);
});
