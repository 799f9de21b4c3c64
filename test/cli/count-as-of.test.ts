/**
 * `--at` in the past through the built CLI: `--at 0` against a database written today shows
 * nobody active, and says how many accounts cannot be known at that moment (table and --json).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { runBuiltCli } from '../fixtures/run-built-cli.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-as-of-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, 'prosody.sqlite');
writeProsodySqlite(db, [
  activityRow({ host: 'a.test', user: 'old', event: 'login', timestamp: NOW - 2 * 86400 }),
  activityRow({ host: 'a.test', user: 'new', event: 'registered', timestamp: NOW - 3600 }),
  activityRow({ host: 'a.test', user: 'new', event: 'login', timestamp: NOW - 60 }),
]);

test('--at 0 counts nobody as active and every account as not knowable', () => {
  const r = runBuiltCli(['--db', db, '--at', '0', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    total: { dau: number; mau: number; accounts: number; new30d: number; notKnowable: number };
  };
  assert.deepEqual(
    [out.total.dau, out.total.mau, out.total.accounts, out.total.new30d, out.total.notKnowable],
    [0, 0, 0, 0, 2],
  );
});

test('--at between two logins counts the earlier one and reports the later one apart', () => {
  const r = runBuiltCli(['--db', db, '--at', String(NOW - 86400)]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /NOT KNOWABLE/);
  assert.match(r.stdout, /^a\.test\s+0\s+1\s+1\s+1\s+0\/0\/0\s.*\s1$/m);
  assert.match(r.stdout, /^NOT KNOWABLE: 1 accounts have a last login or logout after /m);
});

test('counting as of now leaves the table as it was', () => {
  const r = runBuiltCli(['--db', db]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /NOT KNOWABLE/);
});

test('--openmetrics gives the not knowable accounts per host when counting as of a past --at', () => {
  const past = runBuiltCli(['--db', db, '--at', String(NOW - 86400), '--openmetrics']);
  assert.equal(past.status, 0, past.stderr);
  assert.match(past.stdout, /^prosody_active_users_not_knowable_accounts\{host="a\.test"\} 1$/m);
  const now = runBuiltCli(['--db', db, '--openmetrics']);
  assert.doesNotMatch(now.stdout, /^prosody_active_users_not_knowable_accounts\{/m);
});
