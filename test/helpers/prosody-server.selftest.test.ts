// Self-test of the Prosody test helper against the real server: what we seed is what
// Prosody's own mod_measure_active_users reads, in both storage layouts, and a real
// login/logout lands in mod_lastlog2 in exactly the format the seeding writes.
//
// Run: node --import tsx --test test/helpers/prosody-server.selftest.test.ts

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  datFileContent,
  encodeProsodyName,
  parseDatFile,
  type LuaTable,
  type LuaValue,
} from './lua-data.js';
import {
  cleanupProsody,
  createProsody,
  type ActiveUsers,
  type ProsodyInstance,
  type RawFile,
  type RawRow,
  type SeedRecord,
} from './prosody-server.js';
import { loginLogout } from './xmpp-login.js';

const DAY = 86_400;
const WINDOWS = [DAY, 7 * DAY, 30 * DAY] as const;
const EDGE_MARGIN = 3600;

const HOSTS = ['example.org', 'chat.example.net', 'xn--bcher-kva.example'] as const;
const MUC = 'conference.example.org';

after(cleanupProsody);

/** Deterministic PRNG (mulberry32) so a failure can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Dataset {
  records: SeedRecord[];
  extraRows: RawRow[];
  extraFiles: RawFile[];
  expected: Map<string, ActiveUsers>;
}

/**
 * An age (seconds before now) up to a year, at least EDGE_MARGIN away from every window edge:
 * a quarter each within 1 day, 1-7 days, 7-30 days and 30-365 days.
 */
function safeAge(rand: () => number): number {
  const bands: [number, number][] = [
    [60, DAY],
    [DAY, 7 * DAY],
    [7 * DAY, 30 * DAY],
    [30 * DAY, 365 * DAY],
  ];
  const [lo, hi] = bands[Math.floor(rand() * bands.length)] ?? [60, DAY];
  for (;;) {
    const age = lo + Math.floor(rand() * (hi - lo));
    if (WINDOWS.every((w) => Math.abs(age - w) >= EDGE_MARGIN)) return age;
  }
}

function buildDataset(now: number, storage: 'internal' | 'sql', seed: number): Dataset {
  const rand = prng(seed);
  const records: SeedRecord[] = [];
  const lastActive = new Map<string, Map<string, number>>(); // host -> user -> max(login, logout)
  const special = ['o.neil-x_y', 'zoë', 'Ωmega', 'a+b=c', '%41'];

  for (const [hi, host] of HOSTS.entries()) {
    const users = new Map<string, number>();
    lastActive.set(host, users);
    const n = 90 + hi * 15; // 90, 105, 120 accounts
    for (let i = 0; i < n; i++) {
      const user = i < special.length ? (special[i] ?? `u${i}`) : `user${i}`;
      const kind = rand();
      const login = now - safeAge(rand);
      const logout = now - safeAge(rand);
      const ip = rand() < 0.2 ? `2001:db8::${i.toString(16)}` : undefined;
      const push = (event: SeedRecord['event'], timestamp: number): void => {
        records.push({ host, user, event, timestamp, ...(ip ? { ip } : {}) });
      };
      if (rand() < 0.5) push('registered', now - safeAge(rand));
      if (kind < 0.1) {
        // Only registered (or nothing in lastlog2 at all but account_activity): never counted.
        if (rand() < 0.5) push('activity', now - 120);
        else push('registered', now - 120);
        continue;
      }
      if (kind < 0.4) {
        push('login', login);
        users.set(user, login);
      } else if (kind < 0.55) {
        push('logout', logout);
        users.set(user, logout);
      } else {
        push('login', login);
        push('logout', logout);
        users.set(user, Math.max(login, logout));
      }
      // Prosody 0.12's module ignores account_activity; seed some anyway.
      if (rand() < 0.2) push('activity', now - 30);
    }
  }

  // Odd data Prosody must survive: a component's "message" row, and an unreadable entry.
  const extraRows: RawRow[] = [
    { host: MUC, user: 'room1', store: 'lastlog2', key: MUC, type: 'string', value: 'message' },
  ];
  const extraFiles: RawFile[] = [];
  const host0 = HOSTS[0];
  if (storage === 'sql') {
    // Not JSON: mod_storage_sql's get() fails for this user, the module skips it.
    extraRows.push({
      host: host0,
      user: 'garbage',
      store: 'lastlog2',
      key: 'login',
      type: 'json',
      value: 'not json',
    });
  } else {
    extraFiles.push({ path: 'example%2eorg/lastlog2/garbage.dat', content: 'return { oops' });
  }

  const expected = new Map<string, ActiveUsers>();
  for (const host of HOSTS) {
    const counts = { d1: 0, d7: 0, d30: 0 };
    for (const last of lastActive.get(host)?.values() ?? []) {
      if (now - last < DAY) counts.d1++;
      if (now - last < 7 * DAY) counts.d7++;
      if (now - last < 30 * DAY) counts.d30++;
    }
    expected.set(host, counts);
  }
  return { records, extraRows, extraFiles, expected };
}

async function gaugesMatchSeed(storage: 'internal' | 'sql', seed: number): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const data = buildDataset(now, storage, seed);
  const prosody = await createProsody({ storage, hosts: [...HOSTS], components: [MUC] });
  try {
    await prosody.seed(data.records, data.extraRows, data.extraFiles);
    await prosody.start();
    await prosody.waitForActiveUsersCount();
    const metrics = await prosody.metrics();
    for (const host of HOSTS) {
      assert.deepEqual(metrics.get(host), data.expected.get(host), `gauges for ${host}`);
    }
    // Sanity: the data set exercises every window and the counts differ between them.
    const all = [...data.expected.values()];
    assert.ok(
      all.every((c) => c.d1 > 0 && c.d1 < c.d7 && c.d7 < c.d30),
      `data set should separate the windows: ${JSON.stringify(all)}`,
    );
    assert.equal(metrics.has(MUC), false, 'no gauges for the MUC component');
  } finally {
    await prosody.dispose();
  }
}

async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function realLoginLands(storage: 'internal' | 'sql'): Promise<void> {
  const host = 'example.org';
  const prosody: ProsodyInstance = await createProsody({
    storage,
    hosts: [host],
    components: [MUC],
    plainLogins: true,
  });
  try {
    await prosody.start();
    await prosody.register('alice', host, 's3cret');
    const before = Math.floor(Date.now() / 1000);
    await loginLogout({
      port: prosody.c2sPort,
      host,
      user: 'alice',
      password: 's3cret',
      whileOnline: async (session) => {
        assert.match(session.jid, /^alice@example\.org\//);
        await session.joinRoom(`room1@${MUC}`, 'alice');
        await session.sendMessage(`room1@${MUC}`, 'hello', 'groupchat');
      },
    });
    const stored = await waitFor(async () => {
      const d = await prosody.readStore(host, 'alice');
      return d && 'login' in d && 'logout' in d ? d : undefined;
    }, 'login and logout in lastlog2');
    const afterTs = Math.floor(Date.now() / 1000);

    // prosodyctl register does not fire user-registered: only login and logout are there.
    assert.deepEqual(Object.keys(stored).sort(), ['login', 'logout']);
    const login = (stored.login as { timestamp: number }).timestamp;
    const logout = (stored.logout as { timestamp: number }).timestamp;
    assert.deepEqual(stored, { login: { timestamp: login }, logout: { timestamp: logout } });
    assert.ok(Number.isInteger(login) && Number.isInteger(logout));
    assert.ok(
      before <= login && login <= logout && logout <= afterTs,
      `${before} ${login} ${logout}`,
    );

    // Byte-exact: what Prosody wrote is what the seeding would have written.
    if (storage === 'internal') {
      const text = await readFile(prosody.internalPath(host, 'lastlog2', 'alice'), 'utf8');
      const a = datFileContent({ login: { timestamp: login }, logout: { timestamp: logout } });
      const b = datFileContent({ logout: { timestamp: logout }, login: { timestamp: login } });
      assert.ok(text === a || text === b, `unexpected file content:\n${text}`);
      assert.deepEqual(parseDatFile(text), stored);
    } else {
      const rows = prosody
        .sqlRows({ host, store: 'lastlog2' })
        .sort((x, y) => x.key.localeCompare(y.key));
      assert.deepEqual(rows, [
        {
          host,
          user: 'alice',
          store: 'lastlog2',
          key: 'login',
          type: 'json',
          value: `{"timestamp":${login}}`,
        },
        {
          host,
          user: 'alice',
          store: 'lastlog2',
          key: 'logout',
          type: 'json',
          value: `{"timestamp":${logout}}`,
        },
      ]);
    }

    // The MUC component's mod_lastlog2 wrote its odd entry: exactly what seeding writes for
    // the RawRow { host: MUC, user: 'room1', store: 'lastlog2', key: MUC, type: 'string', value: 'message' }.
    const room = await waitFor(
      async () => (await prosody.readStore(MUC, 'room1')) ?? undefined,
      'the component row',
    );
    assert.deepEqual(room, { [MUC]: 'message' });
    if (storage === 'internal') {
      const text = await readFile(prosody.internalPath(MUC, 'lastlog2', 'room1'), 'utf8');
      assert.equal(text, datFileContent({ [MUC]: 'message' }));
    } else {
      assert.deepEqual(prosody.sqlRows({ host: MUC }), [
        { host: MUC, user: 'room1', store: 'lastlog2', key: MUC, type: 'string', value: 'message' },
      ]);
    }

    // A second round: the map entries are overwritten in place.
    await new Promise((r) => setTimeout(r, 1100));
    await loginLogout({ port: prosody.c2sPort, host, user: 'alice', password: 's3cret' });
    await waitFor(async () => {
      const d = (await prosody.readStore(host, 'alice')) as Record<string, { timestamp: number }>;
      return (d.logout?.timestamp ?? 0) > logout ? d : undefined;
    }, 'a newer logout');

    // A wrong password fails loudly rather than hanging.
    await assert.rejects(
      loginLogout({ port: prosody.c2sPort, host, user: 'alice', password: 'wrong' }),
      /login of alice@example\.org failed/,
    );
  } finally {
    await prosody.dispose();
  }
}

/** Seeded strings that need escaping come back intact when Prosody itself reads them. */
async function prosodyReadsSeededStrings(storage: 'internal' | 'sql'): Promise<void> {
  const host = 'example.org';
  const prosody = await createProsody({ storage, hosts: [host] });
  try {
    const ip = `it's "odd"\\ \t\u0001 zoë ☃ ${storage}`;
    await prosody.seed([
      { host, user: 'zoë', event: 'login', timestamp: 1_700_000_000, ip },
      { host, user: 'zoë', event: 'logout', timestamp: 1_700_000_100 },
    ]);
    // mod_lastlog2's own prosodyctl command loads the entry through Prosody's storage layer.
    const res = await prosody.prosodyctl('mod_lastlog2', `zoë@${host}`);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /Last login: \d{4}-\d\d-\d\d/);
    assert.match(res.stdout, /Last logout: \d{4}-\d\d-\d\d/);
    assert.ok(res.stdout.includes(`IP address: ${ip}\n`), res.stdout);
    assert.deepEqual(await prosody.readStore(host, 'zoë'), {
      login: { timestamp: 1_700_000_000, ip },
      logout: { timestamp: 1_700_000_100 },
    });
  } finally {
    await prosody.dispose();
  }
}

describe('lua-data', () => {
  it('writes the exact format Prosody writes', () => {
    assert.equal(
      datFileContent({ logout: { timestamp: 1795536286 }, login: { timestamp: 1795536286 } }),
      'return {\n\t["logout"] = {\n\t\t["timestamp"] = 1795536286;\n\t};\n' +
        '\t["login"] = {\n\t\t["timestamp"] = 1795536286;\n\t};\n};\n',
    );
    assert.equal(datFileContent({}), 'return {};\n');
    assert.equal(
      datFileContent({ s: 'a"\'\\\n\u0001é' }),
      'return {\n\t["s"] = "a\\"\\\'\\\\\\n\\001\\195\\169";\n};\n',
    );
    assert.equal(encodeProsodyName('example.org'), 'example%2eorg');
    assert.equal(encodeProsodyName('o.neil-x_y'), 'o%2eneil%2dx%5fy');
    assert.equal(encodeProsodyName('zoë'), 'zo%c3%ab');
  });

  it('parses what it writes (property)', () => {
    const value: fc.Arbitrary<LuaTable> = fc.letrec<{ table: LuaTable }>((tie) => ({
      table: fc.dictionary(
        fc.string({ unit: 'binary', maxLength: 8 }),
        fc.oneof(
          { depthSize: 'small' },
          fc.string({ unit: 'binary' }),
          fc.integer(),
          fc.double(),
          fc.boolean(),
          tie('table'),
        ),
        { maxKeys: 5 },
      ) as fc.Arbitrary<LuaTable>,
    })).table;
    fc.assert(
      fc.property(value, (t) => {
        // Lua has no -0 integer: "%d" writes 0. Everything else comes back as written.
        const normalize = (v: LuaValue): LuaValue => {
          if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
          if (typeof v !== 'object') return v;
          const out: LuaTable = {};
          for (const [k, x] of Object.entries(v)) {
            Object.defineProperty(out, k, { value: normalize(x), enumerable: true });
          }
          return out;
        };
        assert.deepEqual(parseDatFile(datFileContent(t)), normalize(t));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('prosody-server helper against a real Prosody', { concurrency: true }, () => {
  it('internal storage: seeded lastlog2 gives Prosody the expected 1/7/30-day gauges', () =>
    gaugesMatchSeed('internal', 1));
  it('sql storage: seeded lastlog2 gives Prosody the expected 1/7/30-day gauges', () =>
    gaugesMatchSeed('sql', 2));
  it('internal storage: a real login/logout lands in lastlog2', () => realLoginLands('internal'));
  it('sql storage: a real login/logout lands in lastlog2', () => realLoginLands('sql'));
  it('internal storage: Prosody reads seeded strings back intact', () =>
    prosodyReadsSeededStrings('internal'));
  it('sql storage: Prosody reads seeded strings back intact', () =>
    prosodyReadsSeededStrings('sql'));
});
