/**
 * Prosody 13's accounts, as both local layouts store them: an enabled, a disabled and a missing
 * account, a `disabled = false` that Prosody reads as enabled, and the account_roles entry that
 * tells a 13 server's data from 0.12's when nothing else does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type SourcedReport, countSources } from '../../main/core/activity-source.js';
import type { ActivitySource } from '../../main/core/activity-source.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';
import { writeDatFile, writeProsodyInternal } from '../fixtures/prosody-internal.js';
import {
  type ActivitySeed,
  type ProsodyRow,
  activityRow,
  writeProsodySqlite,
} from '../fixtures/prosody-sqlite.js';

const NOW = 1_795_536_000;
const root = mkdtempSync(join(tmpdir(), 'pau-accounts-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => mkdtempSync(join(root, `${n++}-`));

const USERS = ['en', 'dis', 'gone', 'falsy'];
const seeds: ActivitySeed[] = USERS.map((user) => ({
  host: 'a.test',
  user,
  event: 'login',
  timestamp: NOW - 3600,
}));

/** Account fields as 13.0.1's `user create` writes them (hash values are stand-ins). */
function accountFields(disabled?: boolean): Record<string, string | number | boolean> {
  const fields: Record<string, string | number | boolean> = {
    created: NOW - 100 * 86400,
    updated: NOW - 100 * 86400,
    salt: 'SECRET-SALT',
    stored_key: 'SECRET-STORED-KEY',
    server_key: 'SECRET-SERVER-KEY',
    iteration_count: 10000,
  };
  if (disabled !== undefined) fields.disabled = disabled;
  return fields;
}

const ACCOUNTS: Record<string, boolean | undefined | null> = {
  en: undefined,
  dis: true,
  falsy: false,
  gone: null, // no account
};

function sqliteWithAccounts(withRoles: boolean): string {
  const rows: ProsodyRow[] = seeds.map(activityRow);
  for (const [user, disabled] of Object.entries(ACCOUNTS)) {
    if (disabled === null) continue;
    for (const [key, v] of Object.entries(accountFields(disabled))) {
      const type = typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string';
      rows.push({ host: 'a.test', user, store: 'accounts', key, type, value: String(v) });
    }
    if (withRoles) {
      rows.push({
        host: 'a.test',
        user,
        store: 'account_roles',
        key: '_default',
        type: 'string',
        value: 'prosody:member',
      });
    }
  }
  const path = join(fresh(), 'prosody.sqlite');
  writeProsodySqlite(path, rows);
  return path;
}

function lua(fields: Record<string, string | number | boolean>): string {
  const body = Object.entries(fields)
    .map(
      ([k, v]) =>
        `\t[${JSON.stringify(k)}] = ${typeof v === 'string' ? JSON.stringify(v) : String(v)};`,
    )
    .join('\n');
  return `return {\n${body}\n};\n`;
}

function internalWithAccounts(withRoles: boolean): string {
  const dir = fresh();
  writeProsodyInternal(dir, seeds);
  for (const [user, disabled] of Object.entries(ACCOUNTS)) {
    if (disabled === null) continue;
    writeDatFile(dir, 'a.test', 'accounts', user, lua(accountFields(disabled)));
    if (withRoles) {
      writeDatFile(dir, 'a.test', 'account_roles', user, lua({ _default: 'prosody:member' }));
    }
  }
  return dir;
}

const layouts: Array<[string, (roles: boolean) => ActivitySource]> = [
  ['SQLite', (roles) => new SqliteSource(sqliteWithAccounts(roles))],
  ['internal storage', (roles) => new InternalStorageSource(internalWithAccounts(roles))],
];

async function count(source: ActivitySource): Promise<SourcedReport> {
  const r = await countSources([source], NOW);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.failure));
  return r.value;
}

for (const [layout, make] of layouts) {
  test(`${layout}: data with account_roles counts by 13's rule, leaving out disabled and missing accounts`, async () => {
    const r = await count(make(true));
    const c = r.hosts['a.test']!;
    assert.deepEqual([c.dau, c.wau, c.mau, c.accounts], [2, 2, 2, 2]);
    assert.deepEqual([c.excludedDisabled, c.excludedNoAccount], [1, 1]);
    assert.equal(r.rules['a.test']!.basis, 'assumed');
    assert.match(r.notices.join('\n'), /account_roles/);
  });

  test(`${layout}: data without account_roles counts everyone, as 0.12, and says it assumed so`, async () => {
    const r = await count(make(false));
    const c = r.hosts['a.test']!;
    assert.deepEqual([c.dau, c.excludedDisabled, c.excludedNoAccount], [4, 0, 0]);
    assert.match(r.notices.join('\n'), /a\.test: version unknown and no account_roles/);
  });

  test(`${layout}: nothing of an account but its flag reaches the report`, async () => {
    const r = await count(make(true));
    assert.doesNotMatch(JSON.stringify(r), /SECRET/);
  });
}
