/**
 * Parity with the real thing on PostgreSQL 15 and MariaDB 10.11: a throwaway Prosody 0.12 with
 * storage = "sql" on each (lua-dbi-postgresql / lua-dbi-mysql), seeded through its own schema,
 * must publish exactly our figures for every host and window; and real logins through an XMPP
 * client, which Prosody writes into the database itself, must show up in our count.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DAY } from '../../main/core/windows.js';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import { startProsodyDatabase } from '../helpers/prosody-database.js';
import {
  type SeedRecord,
  type SqlServerSettings,
  cleanupProsody,
  createProsody,
} from '../helpers/prosody-server.js';
import { loginLogout } from '../helpers/xmpp-login.js';

after(cleanupProsody);

const HOSTS = ['a.test', 'b.test'];
const MARGIN = 3600;
const EDGES = [DAY, 7 * DAY, 30 * DAY];

/** Ages spread over every window, each at least an hour from an edge; deterministic. */
function seedRecords(now: number): SeedRecord[] {
  let s = 20261203;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const records: SeedRecord[] = [];
  for (const host of HOSTS) {
    for (let i = 0; i < 80; i++) {
      // A quarter each within a day, a week, a month and two months.
      const [from, to] = [
        [0, DAY],
        [DAY, 7 * DAY],
        [7 * DAY, 30 * DAY],
        [30 * DAY, 60 * DAY],
      ][i % 4]!;
      let age: number;
      do age = from! + Math.floor(rand() * (to! - from!));
      while (age < MARGIN || EDGES.some((e) => Math.abs(age - e) < MARGIN));
      const user = ['alice', 'zoë', 'o.neil-x_y'][i % 3]! + i;
      if (i % 10 === 0) {
        records.push({ host, user, event: 'registered', timestamp: now - age });
        continue;
      }
      records.push({ host, user, event: 'login', timestamp: now - age, ip: '2001:db8::7' });
      if (i % 3 === 0) records.push({ host, user, event: 'logout', timestamp: now - age + 60 });
    }
  }
  return records;
}

interface Figures {
  d1: number;
  d7: number;
  d30: number;
}

async function ourFigures(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Map<string, Figures>> {
  const run = await runBuiltCliAsync([...args, '--json'], { PATH: process.env.PATH, ...env });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as {
    hosts: Record<string, { dau: number; wau: number; mau: number }>;
  };
  return new Map(
    Object.entries(out.hosts).map(([h, c]) => [h, { d1: c.dau, d7: c.wau, d30: c.mau }]),
  );
}

async function parityOn(sql: SqlServerSettings, url: string): Promise<void> {
  const prosody = await createProsody({ storage: 'sql', sql, hosts: HOSTS, plainLogins: true });
  try {
    await prosody.seed(seedRecords(Math.floor(Date.now() / 1000)), [
      {
        host: 'a.test',
        user: 'room',
        store: 'lastlog2',
        key: 'muc.a.test',
        type: 'string',
        value: 'message',
      },
    ]);
    await prosody.start();
    await prosody.waitForActiveUsersCount(HOSTS);
    const theirs = await prosody.metrics();
    const now = String(Math.floor(Date.now() / 1000));
    // Found from Prosody's own config, as the operator's machine would.
    const ours = await ourFigures(['--config', prosody.configPath, '--at', now]);
    for (const host of HOSTS) {
      const t = theirs.get(host);
      assert.ok(t, `Prosody published no figures for ${host}`);
      assert.deepEqual(ours.get(host), t, `${sql.driver}: ${host}`);
      assert.ok(t.d1 > 0 && t.d1 < t.d7 && t.d7 < t.d30, `${host}: ${JSON.stringify(t)}`);
    }
    // The same through --sql, with the password from the environment.
    const viaUrl = await ourFigures(['--sql', url, '--at', now], {
      PROSODY_ACTIVE_USERS_DB_PASSWORD: sql.password,
    });
    for (const host of HOSTS) assert.deepEqual(viaUrl.get(host), theirs.get(host));

    // Real logins, written into the database by Prosody itself, are counted.
    const before = ours.get('b.test')!;
    const users = ['newcomer', 'o.neil-live'];
    for (const user of users) await prosody.register(user, 'b.test', 'secret-pw');
    for (const user of users) {
      await loginLogout({ port: prosody.c2sPort, host: 'b.test', user, password: 'secret-pw' });
    }
    const afterLogins = await ourFigures(['--config', prosody.configPath]);
    assert.deepEqual(afterLogins.get('b.test'), {
      d1: before.d1 + users.length,
      d7: before.d7 + users.length,
      d30: before.d30 + users.length,
    });
  } finally {
    await prosody.dispose();
  }
}

async function parityOnServer(driver: SqlServerSettings['driver']): Promise<void> {
  const db = await startProsodyDatabase(driver);
  try {
    await parityOn(db.sql, db.url);
  } finally {
    await db.stop();
  }
}

describe('parity with a real Prosody on database servers', { concurrency: 2 }, () => {
  test(
    'our figures equal mod_measure_active_users on PostgreSQL, and real logins count',
    { timeout: 120_000 },
    () => parityOnServer('PostgreSQL'),
  );
  test(
    'our figures equal mod_measure_active_users on MariaDB, and real logins count',
    { timeout: 120_000 },
    () => parityOnServer('MySQL'),
  );
});
