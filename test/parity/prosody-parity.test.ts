/**
 * Parity with the real thing: a throwaway Prosody 0.12 (Debian's package) with prosody-modules'
 * mod_measure_active_users, seeded in both storage layouts, must report exactly our figures for
 * every host and window; and logins through a real XMPP client must show up in our count.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DAY } from '../../main/core/windows.js';
import { runBuiltCli } from '../fixtures/run-built-cli.js';
import {
  type ProsodyInstance,
  type RawRow,
  type SeedRecord,
  cleanupProsody,
  createProsody,
} from '../helpers/prosody-server.js';
import { loginLogout } from '../helpers/xmpp-login.js';

after(cleanupProsody);

const HOSTS = ['a.test', 'b.test', 'c.test'];
const EDGES = [DAY, 7 * DAY, 30 * DAY];
const MARGIN = 3600;

/** A deterministic generator, so that a failure can be reproduced. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Age bands: a quarter each within a day, a week, a month and a year. */
const BANDS: Array<[number, number]> = [
  [0, DAY],
  [DAY, 7 * DAY],
  [7 * DAY, 30 * DAY],
  [30 * DAY, 365 * DAY],
];

/** An age up to a year, at least an hour away from every window edge. */
function ageClearOfEdges(rand: () => number): number {
  const [from, to] = BANDS[Math.floor(rand() * BANDS.length)]!;
  for (;;) {
    const age = from + Math.floor(rand() * (to - from));
    if (age > MARGIN && EDGES.every((e) => Math.abs(age - e) > MARGIN)) return age;
  }
}

function seedRecords(now: number): SeedRecord[] {
  const rand = lcg(20261124);
  const records: SeedRecord[] = [];
  const names = ['alice', 'zoë', 'o.neil-x_y', 'bob', 'Ærin', 'user'];
  for (const host of HOSTS) {
    for (let i = 0; i < 120; i++) {
      const user = `${names[i % names.length]}${i}`.toLowerCase();
      const kind = rand();
      const login = now - ageClearOfEdges(rand);
      if (kind < 0.1) {
        records.push({ host, user, event: 'registered', timestamp: login });
        continue;
      }
      records.push({ host, user, event: 'login', timestamp: login, ip: '2001:db8::7' });
      if (kind < 0.7) {
        const logout = Math.min(now - MARGIN, login + Math.floor(rand() * 6 * 3600));
        const clear = EDGES.every((e) => Math.abs(now - logout - e) > MARGIN);
        records.push({ host, user, event: 'logout', timestamp: clear ? logout : login });
      }
      if (kind > 0.9) records.push({ host, user, event: 'registered', timestamp: login - DAY });
    }
  }
  return records;
}

/** mod_lastlog2 on a MUC component stores rows that are not logins at all. */
const componentRows: RawRow[] = [
  {
    host: 'muc.a.test',
    user: 'room1',
    store: 'lastlog2',
    key: 'muc.a.test',
    type: 'string',
    value: 'message',
  },
];

interface Figures {
  d1: number;
  d7: number;
  d30: number;
}

function ourFigures(args: string[]): Map<string, Figures> & { raw: Record<string, unknown> } {
  const run = runBuiltCli([...args, '--json']);
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as {
    hosts: Record<string, { dau: number; wau: number; mau: number }>;
  };
  const map = new Map(
    Object.entries(out.hosts).map(([h, c]) => [h, { d1: c.dau, d7: c.wau, d30: c.mau }]),
  ) as Map<string, Figures> & { raw: Record<string, unknown> };
  map.raw = out as unknown as Record<string, unknown>;
  return map;
}

async function parityFor(storage: 'internal' | 'sql'): Promise<void> {
  const prosody: ProsodyInstance = await createProsody({
    storage,
    hosts: HOSTS,
    components: ['muc.a.test'],
    plainLogins: true,
  });
  const now = Math.floor(Date.now() / 1000);
  const seeds = seedRecords(now);
  if (storage === 'sql') {
    await prosody.seed(seeds, componentRows);
  } else {
    await prosody.seed(
      seeds,
      [],
      [
        {
          path: 'muc%2ea%2etest/lastlog2/room1.dat',
          content: 'return {\n\t["muc.a.test"] = "message";\n};\n',
        },
      ],
    );
  }
  await prosody.start();
  await prosody.waitForActiveUsersCount(HOSTS);
  const theirs = await prosody.metrics();
  const source =
    storage === 'sql' ? ['--db', prosody.sqlitePath!] : ['--data-dir', prosody.dataPath];
  const ours = ourFigures([...source, '--at', String(Math.floor(Date.now() / 1000))]);

  for (const host of HOSTS) {
    const t = theirs.get(host);
    assert.ok(t, `Prosody published no figures for ${host}`);
    assert.deepEqual(ours.get(host), t, `${storage}: ${host}`);
  }
  // The figures are not trivially zero: the seed spreads over every window.
  for (const host of HOSTS) {
    const t = theirs.get(host)!;
    assert.ok(t.d1 > 0 && t.d1 < t.d7 && t.d7 < t.d30, `${host}: ${JSON.stringify(t)}`);
  }
  // The component's rows are skipped, not counted and not fatal.
  const raw = ours.raw as { hosts: Record<string, { mau: number; skipped: number }> };
  assert.deepEqual([raw.hosts['muc.a.test']?.mau, raw.hosts['muc.a.test']?.skipped], [0, 1]);

  // Found from Prosody's own config, with no path given, the figures are the same.
  const discovered = ourFigures(['--config', prosody.configPath]);
  for (const host of HOSTS) assert.deepEqual(discovered.get(host), theirs.get(host));

  // Real logins through an XMPP client are counted.
  const before = ours.get('b.test')!;
  const users = ['newcomer', 'o.neil-live', 'third'];
  for (const user of users) await prosody.register(user, 'b.test', 'secret-pw');
  for (const user of users) {
    await loginLogout({ port: prosody.c2sPort, host: 'b.test', user, password: 'secret-pw' });
  }
  const afterLogins = ourFigures(source);
  assert.deepEqual(afterLogins.get('b.test'), {
    d1: before.d1 + users.length,
    d7: before.d7 + users.length,
    d30: before.d30 + users.length,
  });
  await prosody.dispose();
}

// Each instance waits ~15 s for the module's first count: the two layouts run side by side.
describe('parity with a real Prosody', { concurrency: 2 }, () => {
  test(
    'our figures equal mod_measure_active_users on internal storage, and real logins count',
    { timeout: 120_000 },
    () => parityFor('internal'),
  );
  test(
    'our figures equal mod_measure_active_users on SQLite storage, and real logins count',
    { timeout: 120_000 },
    () => parityFor('sql'),
  );
});
