/**
 * Counting the account cache from its packs gives exactly what feeding its accounts one by one
 * gives (feedQueryTuple), on a real SQLite cache, after full reads and changes-only merges, with
 * open sessions, skipped rows, hosts left out and a past moment.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { ActivityTally } from '../../main/core/count-active.js';
import type { AccountCache } from '../../main/sources/account-cache.js';
import { EMPTY_FLAG, PACK_SLOTS, packFlags } from '../../main/sources/account-packs.js';
import type { ActivityQueryTuple } from '../../main/sources/activity-query.js';
import { feedCachedAccounts } from '../../main/sources/feed-cached-accounts.js';
import { feedQueryTuple } from '../../main/sources/feed-query-rows.js';
import type { ChangedAccount, DigestedTuple } from '../../main/sources/row-digest.js';
import { openAccountCache } from '../../main/store/account-cache-db.js';
import { cachedAccounts } from '../helpers/cached-accounts.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-packs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const P = 2147483647;
const NOW = 1_800_000_000;
const HOSTS = ['a.test', 'b.test', 'c.test'];
const info = { stamp: 'query', fullAt: 1000, serverNow: NOW };

const name: fc.Arbitrary<string> = fc.constantFrom(
  '',
  'u1',
  'u2',
  'u3',
  'émile',
  'u\u{1F600}',
  'z',
  'ab',
  'x y',
);
const time = fc.oneof(
  fc.constant(null),
  fc.integer({ min: NOW - 40 * 86400, max: NOW + 3 * 86400 }),
  fc.double({ min: NOW - 40 * 86400, max: NOW + 86400, noNaN: true }),
  fc.constantFrom(-5, 0, 1e300, Infinity, -Infinity, NOW - 86400, NOW - 86399.5),
);
const skips = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
);
interface Account {
  host: string;
  user: string;
  last: number | null;
  reg: number | null;
  skips: [number, number, number];
  code: 0 | 1 | 2 | null;
  role: 0 | 1;
  digest: number;
}

const account: fc.Arbitrary<Account> = fc.record({
  host: fc.constantFrom(...HOSTS),
  user: name,
  last: time,
  reg: time,
  skips: fc.tuple(skips, skips, skips),
  code: fc.constantFrom(0, 1, 2, null),
  role: fc.constantFrom(0, 1),
  digest: fc.integer({ min: 0, max: P - 1 }),
});

const tupleOf = (a: Account): DigestedTuple => [
  a.host,
  a.user,
  a.last,
  a.reg,
  ...a.skips,
  a.code as 0 | 1 | 2 | null,
  a.role as 0 | 1,
  a.digest,
];
const id = (host: string, user: string) => JSON.stringify([host, user]);

/** The cache as the test expects it: accounts by name, and the rest's digest by name. */
interface Model {
  accounts: Map<string, DigestedTuple>;
  rest: Map<string, number>;
  restSum: number;
}

const modelDigest = (m: Model) =>
  ([...m.accounts.values()].reduce((s, t) => s + t[9], 0) + m.restSum) % P;

/** One changes-only read: accounts sent again (new or changed), and accounts dropped. */
const change = fc.record({
  sent: fc.array(account, { maxLength: 6 }),
  dropped: fc.array(fc.nat(), { maxLength: 3 }),
  rest: fc.integer({ min: 0, max: P - 1 }),
});

function applyChange(
  cache: AccountCache,
  key: string,
  m: Model,
  c: typeof change extends fc.Arbitrary<infer T> ? T : never,
): void {
  const byName = new Map<string, DigestedTuple>();
  for (const a of c.sent) byName.set(id(a.host, a.user), tupleOf(a));
  const held = [...m.accounts.keys()].filter((k) => !byName.has(k));
  const dropped = new Set(
    c.dropped.filter(() => held.length > 0).map((i) => held[i % held.length]!),
  );
  const changed: ChangedAccount[] = [];
  for (const [k, t] of byName) {
    changed.push({ host: t[0], user: t[1], rest: 0, fresh: true });
    m.restSum = (m.restSum - (m.rest.get(k) ?? 0) + P) % P;
    m.rest.delete(k);
    m.accounts.set(k, t);
  }
  for (const k of dropped) {
    const [host, user] = JSON.parse(k) as [string, string];
    changed.push({ host, user, rest: c.rest, fresh: false });
    m.accounts.delete(k);
    m.rest.set(k, c.rest);
    m.restSum = (m.restSum + c.rest) % P;
  }
  const kept = cache.mergeDigested(key, info, [...byName.values()], changed, modelDigest(m));
  assert.equal(kept, true, 'the merge predicts the digest the model does');
}

/** The report of the cache's accounts fed one by one, as before the packs. */
function oneByOne(
  tuples: Iterable<ActivityQueryTuple>,
  tally: ActivityTally,
  include: (h: string) => boolean,
) {
  for (const t of tuples) if (include(t[0])) feedQueryTuple(tally, t);
  return tally.report();
}

interface Moment {
  now: number;
  past: boolean;
  online: [string, string][];
  excluded: string[];
}

const moment: fc.Arbitrary<Moment> = fc.record({
  now: fc.constantFrom(NOW, NOW - 86400, NOW + 0.5),
  past: fc.boolean(),
  online: fc.array(fc.tuple(fc.constantFrom(...HOSTS, 'd.test'), name), { maxLength: 5 }),
  excluded: fc.subarray(HOSTS, { maxLength: 2 }),
});

function tallyFor(m: Moment): ActivityTally {
  const online = new Map<string, Set<string>>();
  for (const [h, u] of m.online) online.set(h, (online.get(h) ?? new Set()).add(u));
  return new ActivityTally(m.now, online, { pastMoment: m.past });
}

let run = 0;

/** Every held account's figures are in its slot of its host's pack, and every other slot is empty. */
function checkSlots(cache: AccountCache, model: Model): void {
  const parts = new Map([...cache.packs('k')].map((p) => [`${p.host}:${p.first}`, p]));
  const used = new Set<string>();
  for (const t of model.accounts.values()) {
    const held = cache.account('k', t[0], t[1]);
    assert.ok(held !== null);
    const first = held.slot - (held.slot % PACK_SLOTS);
    const p = parts.get(`${t[0]}:${first}`);
    assert.ok(p !== undefined, `a part for slot ${held.slot}`);
    const i = held.slot - first;
    assert.ok(!used.has(`${t[0]}:${held.slot}`), 'one account a slot');
    used.add(`${t[0]}:${held.slot}`);
    assert.ok(Object.is(p.lastActive[i], t[2] ?? NaN));
    assert.ok(Object.is(p.registered[i], t[3] ?? NaN));
    assert.equal(p.flags[i], packFlags(t));
  }
  for (const p of parts.values()) {
    p.flags.forEach((f, i) => {
      if (!used.has(`${p.host}:${p.first + i}`)) assert.equal(f, EMPTY_FLAG, 'a free slot');
    });
  }
}

/** An account for the other key when the first read had none. */
const someAccount: Account = {
  host: 'a.test',
  user: 'u1',
  last: 1,
  reg: null,
  skips: [0, 0, 0],
  code: 1,
  role: 0,
  digest: 1,
};

test('counting from the packs equals feeding every cached account, after reads and merges', () => {
  fc.assert(
    fc.property(
      fc.array(account, { maxLength: 40 }),
      fc.array(change, { maxLength: 4 }),
      moment,
      (first, changes, m) => {
        const path = join(dir, `p${run++}`, 'cache.sqlite');
        const cache = openAccountCache(path);
        try {
          const model: Model = { accounts: new Map(), rest: new Map(), restSum: 7 };
          for (const a of first) model.accounts.set(id(a.host, a.user), tupleOf(a));
          cache.replaceDigested('k', { ...info, rest: 7 }, [...model.accounts.values()]);
          // Another key's accounts never count under this one.
          cache.replaceDigested('other', { ...info, rest: 0 }, [tupleOf(first[0] ?? someAccount)]);
          for (const c of changes) applyChange(cache, 'k', model, c);
          const include = (h: string) => !m.excluded.includes(h);
          const fromPacks = tallyFor(m);
          feedCachedAccounts(cache, 'k', fromPacks, include);
          const expected = oneByOne(
            [...model.accounts.values()].map((t) => t.slice(0, 9) as ActivityQueryTuple),
            tallyFor(m),
            include,
          );
          assert.deepEqual(fromPacks.report(), expected);
          assert.deepEqual(oneByOne(cachedAccounts(path, 'k'), tallyFor(m), include), expected);
        } finally {
          cache.close();
        }
      },
    ),
    { numRuns: 150 },
  );
});

test("every held account's figures are in its slot of its host's pack, and no other slot is used", () => {
  fc.assert(
    fc.property(
      fc.array(account, { maxLength: 40 }),
      fc.array(change, { maxLength: 4 }),
      (first, changes) => {
        const cache = openAccountCache(join(dir, `s${run++}`, 'cache.sqlite'));
        try {
          const model: Model = { accounts: new Map(), rest: new Map(), restSum: 0 };
          for (const a of first) model.accounts.set(id(a.host, a.user), tupleOf(a));
          cache.replaceDigested('k', { ...info, rest: 0 }, [...model.accounts.values()]);
          for (const c of changes) applyChange(cache, 'k', model, c);
          checkSlots(cache, model);
        } finally {
          cache.close();
        }
      },
    ),
    { numRuns: 100 },
  );
});

test('hosts of several parts, read out of order and merged across parts, count as their rows', () => {
  const cache = openAccountCache(join(dir, 'parts', 'cache.sqlite'));
  try {
    const model: Model = { accounts: new Map(), rest: new Map(), restSum: 0 };
    const n = 3 * PACK_SLOTS + 100;
    const first: DigestedTuple[] = [];
    for (let i = 0; i < n; i++) {
      // Hosts interleaved, as a source that does not sort by host gives them.
      const host = i % 5 === 0 ? 'b.test' : 'a.test';
      const t: DigestedTuple = [
        host,
        `u${i}`,
        NOW - (i % 50) * 86400,
        null,
        0,
        0,
        i % 7 === 0 ? 1 : 0,
        1,
        0,
        i % P,
      ];
      first.push(t);
      model.accounts.set(id(host, t[1]), t);
    }
    cache.replaceDigested('k', { ...info, rest: 0 }, first);
    const inA = n - Math.ceil(n / 5);
    const partsOf = (host: string, count: number) =>
      Array.from({ length: Math.ceil(count / PACK_SLOTS) }, (_, part) =>
        [host, part, Math.min(PACK_SLOTS, count - part * PACK_SLOTS)].join(':'),
      );
    assert.deepEqual(
      [...cache.packs('k')].map((p) => [p.host, p.first / PACK_SLOTS, p.flags.length].join(':')),
      [...partsOf('a.test', inA), ...partsOf('b.test', n - inA)],
    );
    assert.equal(partsOf('a.test', inA).length, 3);
    // Changes in every part, an account dropped, and enough new ones to need a fourth part.
    const sent: Account[] = [1, 3, PACK_SLOTS + 1, 2 * PACK_SLOTS + 1].map((i) => ({
      ...someAccount,
      host: 'a.test',
      user: `u${i}`,
      last: NOW - 10,
      digest: 5,
    }));
    for (let i = 0; i < PACK_SLOTS; i++)
      sent.push({ ...someAccount, host: 'a.test', user: `new${i}`, digest: 1 });
    applyChange(cache, 'k', model, { sent, dropped: [7], rest: 3 });
    checkSlots(cache, model);
    const include = () => true;
    const m: Moment = {
      now: NOW,
      past: false,
      online: [
        ['a.test', `u${2 * PACK_SLOTS + 1}`],
        ['a.test', `u${PACK_SLOTS + 3}`],
      ],
      excluded: [],
    };
    const fromPacks = tallyFor(m);
    feedCachedAccounts(cache, 'k', fromPacks, include);
    assert.deepEqual(
      fromPacks.report(),
      oneByOne(
        [...model.accounts.values()].map((t) => t.slice(0, 9) as ActivityQueryTuple),
        tallyFor(m),
        include,
      ),
    );
  } finally {
    cache.close();
  }
});
