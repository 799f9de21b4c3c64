/**
 * Where the figures differ from a raw count of the records, every output says by how many and
 * why: Prosody 13 data (account_roles present) with a disabled account and a user without one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runBuiltCli } from '../fixtures/run-built-cli.js';
import { type ProsodyRow, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-excluded-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const db = join(dir, 'prosody.sqlite');
const rows: ProsodyRow[] = [];
for (const user of ['en', 'dis', 'gone']) {
  rows.push(activityRow({ host: 'a.test', user, event: 'login', timestamp: NOW - 60 }));
}
for (const user of ['en', 'dis']) {
  rows.push(
    { host: 'a.test', user, store: 'accounts', key: 'stored_key', type: 'string', value: 'k' },
    { host: 'a.test', user, store: 'account_roles', key: '_default', type: 'string', value: 'r' },
  );
}
rows.push({
  host: 'a.test',
  user: 'dis',
  store: 'accounts',
  key: 'disabled',
  type: 'boolean',
  value: 'true',
});
writeProsodySqlite(db, rows);

const run = (...args: string[]) => {
  const r = runBuiltCli(['--db', db, '--at', String(NOW), ...args]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

test('the table shows the accounts left out, disabled and without an account, and says why', () => {
  const out = run();
  assert.match(out, /LEFT OUT DIS\/NONE/);
  assert.match(out, /^a\.test\s+1\s+1\s+1\s+1\s.*\s1\/1$/m);
  assert.match(out, /LEFT OUT: accounts with records that Prosody 13 does not count/);
  assert.match(out, /Note: .*account_roles/);
});

test('--json carries the left-out counts per host and the rule each host was counted by', () => {
  const out = JSON.parse(run('--json')) as {
    hosts: Record<string, { dau: number; excludedDisabled: number; excludedNoAccount: number }>;
    rules: Record<string, { rule: string; basis: string }>;
  };
  const a = out.hosts['a.test']!;
  assert.deepEqual([a.dau, a.excludedDisabled, a.excludedNoAccount], [1, 1, 1]);
  assert.equal(out.rules['a.test']!.rule, 'enabled-accounts');
});

test('--openmetrics has a gauge of the left-out accounts by reason', () => {
  const out = run('--openmetrics');
  assert.match(
    out,
    /^prosody_active_users_excluded_accounts\{host="a\.test",reason="disabled"\} 1$/m,
  );
  assert.match(
    out,
    /^prosody_active_users_excluded_accounts\{host="a\.test",reason="no-account"\} 1$/m,
  );
  assert.match(out, /^prosody_mod_measure_active_users__active_users_1d\{host="a\.test"\} 1$/m);
});
