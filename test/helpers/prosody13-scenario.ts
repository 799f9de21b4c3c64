// The Prosody 13 parity scenario, shared by the parity tests on every storage: a real Prosody 13
// whose accounts are made with `prosodyctl shell user create`, some disabled with `user disable`,
// some deleted with `user delete` (their lastlog2 records put back while stopped), a host with no
// account at all, a host on internal_plain, account_activity timestamps the module must ignore, and
// real logins through an XMPP client. Our figures must then equal the module's /metrics gauges.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DAY } from '../../main/core/windows.js';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import {
  type ActiveUsers,
  type ProsodyInstance,
  type SeedRecord,
  type SqlServerSettings,
  createProsody,
} from './prosody-server.js';
import { loginLogout } from './xmpp-login.js';

export const HOSTS = ['a.test', 'b.test', 'empty.test', 'plain.test'];
const EDGES = [DAY, 7 * DAY, 30 * DAY];
const MARGIN = 3600;
/** Ages clear of every window edge, spread over all windows. */
const AGES = [2 * 3600, 3 * DAY, 12 * DAY, 45 * DAY, 5 * 3600, 2 * DAY, 20 * DAY, 100 * DAY];
assert.ok(AGES.every((a) => EDGES.every((e) => Math.abs(a - e) > MARGIN)));

const USERS = Array.from({ length: 16 }, (_, i) => (i === 3 ? 'zoë' : `u${i}`));
/** Which users get an account, which are then disabled, which deleted (records kept). */
const PLAN: Record<string, { accounts: string[]; disable: string[]; remove: string[] }> = {
  'a.test': {
    accounts: USERS.slice(0, 12),
    disable: ['u0', 'u1', 'zoë'],
    remove: ['u9', 'u10'],
  },
  'b.test': { accounts: USERS.slice(0, 8), disable: ['u5'], remove: ['u7'] },
  'empty.test': { accounts: [], disable: [], remove: [] },
  // internal_plain has no is_enabled: 13's module counts nobody here, accounts or not.
  'plain.test': { accounts: USERS.slice(0, 4), disable: [], remove: [] },
};

function seedRecords(now: number): SeedRecord[] {
  const records: SeedRecord[] = [];
  for (const host of HOSTS) {
    USERS.forEach((user, i) => {
      const age = AGES[i % AGES.length]!;
      records.push({ host, user, event: 'login', timestamp: now - age - 600 });
      if (i % 2 === 0) records.push({ host, user, event: 'logout', timestamp: now - age });
      // A newer account_activity timestamp: the module goes by lastlog2 alone.
      if (i % 4 === 1) records.push({ host, user, event: 'activity', timestamp: now - 120 });
    });
    // account_activity alone: never a user of lastlog2's.
    records.push({ host, user: 'aa-only', event: 'activity', timestamp: now - 120 });
  }
  return records;
}

async function shell(prosody: ProsodyInstance, ...args: string[]): Promise<void> {
  const r = await prosody.prosodyctl('shell', ...args);
  assert.equal(r.code, 0, `prosodyctl shell ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /OK:/, `prosodyctl shell ${args.join(' ')}:\n${r.stdout}`);
}

export interface HostJson {
  excludedByAuth: number;
  dau: number;
  wau: number;
  mau: number;
  accounts: number;
  excludedDisabled: number;
  excludedNoAccount: number;
}

export interface OurReport {
  hosts: Record<string, HostJson>;
}

/** Our `--json` report from the built CLI; `env` is added to this process's environment. */
export async function ours(args: string[], env: NodeJS.ProcessEnv = {}): Promise<OurReport> {
  const run = await runBuiltCliAsync([...args, '--json'], { ...process.env, ...env });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as OurReport;
}

export interface Prosody13Scenario {
  prosody: ProsodyInstance;
  /** The module's gauges, counted afresh after the last start. */
  theirs: Map<string, ActiveUsers>;
  /** `--at` for our count: the moment the gauges were read. */
  at: string;
}

/** Runs the scenario on a new Prosody 13 (the caller disposes of it), up to the module's count. */
export async function runProsody13Scenario(storage: {
  storage: 'internal' | 'sql';
  sql?: SqlServerSettings;
}): Promise<Prosody13Scenario> {
  const prosody = await createProsody({
    ...storage,
    hosts: HOSTS,
    version: '13',
    adminSocket: true,
    // Real logins over plaintext c2s, with the default authentication (internal_hashed).
    extraGlobalConfig: 'c2s_require_encryption = false\nallow_unencrypted_plain_auth = true',
    hostConfig: { 'plain.test': 'authentication = "internal_plain"' },
  });
  const start = Math.floor(Date.now() / 1000);
  await prosody.seed(seedRecords(start));
  await prosody.start();
  for (const [host, plan] of Object.entries(PLAN)) {
    for (const user of plan.accounts)
      await shell(prosody, 'user', 'create', `${user}@${host}`, 'pw');
    for (const user of plan.disable) await shell(prosody, 'user', 'disable', `${user}@${host}`);
    for (const user of plan.remove) await shell(prosody, 'user', 'delete', `${user}@${host}`);
  }
  // Real logins: two new accounts log in and out; one logs in and is disabled afterwards.
  for (const user of ['live1', 'live2', 'live3']) {
    await shell(prosody, 'user', 'create', `${user}@b.test`, 'secret-pw');
    await loginLogout({ port: prosody.c2sPort, host: 'b.test', user, password: 'secret-pw' });
  }
  await shell(prosody, 'user', 'disable', 'live3@b.test');
  assert.equal(await prosody.readStore('a.test', 'u9', 'accounts'), null);

  // `user delete` purges the user's stores; records that outlive their account (kept in another
  // backend, or restored from a backup) are put back while the server is stopped.
  await prosody.stop();
  const removed = new Set(
    Object.entries(PLAN).flatMap(([h, p]) => p.remove.map((u) => `${h}/${u}`)),
  );
  await prosody.seed(
    seedRecords(start).filter((r) => r.event !== 'activity' && removed.has(`${r.host}/${r.user}`)),
  );
  assert.ok(await prosody.readStore('a.test', 'u9'));
  // Counted afresh by the module, 15 s after a start.
  await prosody.start();
  await prosody.waitForActiveUsersCount(HOSTS);
  const theirs = await prosody.metrics();
  return { prosody, theirs, at: String(Math.floor(Date.now() / 1000)) };
}

/** Our figures equal the module's for every host and window. */
export function assertSameFigures(
  theirs: Map<string, ActiveUsers>,
  report: OurReport,
  label: string,
): void {
  for (const host of HOSTS) {
    const t = theirs.get(host);
    assert.ok(t, `Prosody 13 published no figures for ${host}`);
    const c = report.hosts[host];
    assert.deepEqual(c && { d1: c.dau, d7: c.wau, d30: c.mau }, t, `${label}: ${host}`);
  }
}

/**
 * Not trivially equal: the rule left out what the scenario disabled and deleted, the live logins
 * counted, and nobody counts on the host without accounts or on internal_plain.
 */
export function assertLeftOutAsSetUp(theirs: Map<string, ActiveUsers>, report: OurReport): void {
  const a = report.hosts['a.test']!;
  assert.deepEqual([a.excludedDisabled, a.excludedNoAccount], [3, USERS.length - 12 + 2]);
  const b = report.hosts['b.test']!;
  assert.deepEqual([b.excludedDisabled, b.excludedNoAccount], [2, USERS.length - 8 + 1]);
  assert.ok(theirs.get('b.test')!.d1 >= 2, JSON.stringify(theirs.get('b.test')));
  assert.ok(theirs.get('a.test')!.d30 > 0, JSON.stringify(theirs.get('a.test')));
  assert.deepEqual(theirs.get('empty.test'), { d1: 0, d7: 0, d30: 0 });
  assert.deepEqual(theirs.get('plain.test'), { d1: 0, d7: 0, d30: 0 });
  assert.equal(report.hosts['empty.test']!.excludedNoAccount, USERS.length);
}

/** How many users have records on plain.test, where internal_plain's rule leaves all out. */
export const PLAIN_HOST_USERS = USERS.length;

/**
 * One parity test per storage, named alike and run two at a time: each starts its own Prosody 13
 * (and database server), which takes minutes on a loaded machine.
 */
export function describeParity13(suite: string, runs: Record<string, () => Promise<void>>): void {
  describe(suite, { concurrency: 2 }, () => {
    for (const [storage, run] of Object.entries(runs))
      test(
        `our figures equal Prosody 13’s module on ${storage}: disabled, deleted and missing accounts left out`,
        { timeout: 240_000 },
        run,
      );
  });
}
