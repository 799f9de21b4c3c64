import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { countSources } from '../../main/core/activity-source.js';
import { discoverLocalSources } from '../../main/sources/discover-local.js';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const NOW = 1_795_536_000;
const root = mkdtempSync(join(tmpdir(), 'pau-discover-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function setup(config: string | null): { dir: string; configPath: string } {
  const dir = mkdtempSync(join(root, `${n++}-`));
  const configPath = join(dir, 'prosody.cfg.lua');
  if (config !== null) writeFileSync(configPath, config.replaceAll('DIR', dir));
  return { dir, configPath };
}

async function count(configPath: string, fallback: string) {
  const found = await discoverLocalSources(configPath, fallback);
  if (!found.ok) return found;
  return countSources(found.value, NOW);
}

test('sql storage in the config leads to the SQLite file under data_path', async () => {
  const { dir, configPath } = setup(
    'data_path = "DIR/data"\nstorage = "sql"\nsql = { driver = "SQLite3", database = "p.sqlite" }\nVirtualHost "a.test"\n',
  );
  writeProsodyInternal(join(dir, 'data'), [
    { host: 'a.test', user: 'stale', event: 'login', timestamp: NOW - 60 },
  ]);
  writeProsodySqlite(join(dir, 'data', 'p.sqlite'), [
    activityRow({ host: 'a.test', user: 'x', event: 'login', timestamp: NOW - 60 }),
    activityRow({ host: 'a.test', user: 'y', event: 'login', timestamp: NOW - 60 }),
  ]);
  const r = await count(configPath, '/nonexistent');
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.value.sources, [`SQLite database ${join(dir, 'data', 'p.sqlite')}`]);
  assert.equal(r.value.total.dau, 2);
});

test('the default internal storage is read from data_path', async () => {
  const { dir, configPath } = setup('data_path = "DIR/data"\nVirtualHost "a.test"\n');
  writeProsodyInternal(join(dir, 'data'), [
    { host: 'a.test', user: 'x', event: 'login', timestamp: NOW - 60 },
  ]);
  const r = await count(configPath, '/nonexistent');
  assert.ok(r.ok);
  assert.deepEqual(r.value.sources, [`Prosody data folder ${join(dir, 'data')}`]);
  assert.equal(r.value.total.dau, 1);
});

test('hosts on different backends are each read from their own', async () => {
  const { dir, configPath } = setup(
    'data_path = "DIR"\nstorage = "internal"\nVirtualHost "a.test"\nVirtualHost "b.test"\n  storage = "sql"\n',
  );
  writeProsodyInternal(dir, [
    { host: 'a.test', user: 'x', event: 'login', timestamp: NOW - 60 },
    { host: 'b.test', user: 'stale', event: 'login', timestamp: NOW - 60 },
  ]);
  writeProsodySqlite(join(dir, 'prosody.sqlite'), [
    activityRow({ host: 'b.test', user: 'y', event: 'login', timestamp: NOW - 60 }),
    activityRow({ host: 'b.test', user: 'z', event: 'login', timestamp: NOW - 60 }),
    activityRow({ host: 'a.test', user: 'old', event: 'login', timestamp: NOW - 60 }),
  ]);
  const r = await count(configPath, '/nonexistent');
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.value.hosts['a.test']?.dau, 1);
  assert.equal(r.value.hosts['b.test']?.dau, 2);
});

test('without a readable config, the default data path is searched', async () => {
  const { dir, configPath } = setup(null);
  writeProsodySqlite(join(dir, 'prosody.sqlite'), [
    activityRow({ host: 'a.test', user: 'x', event: 'login', timestamp: NOW - 60 }),
  ]);
  const r = await count(configPath, dir);
  assert.ok(r.ok);
  assert.equal(r.value.total.dau, 1);
});

test('nothing found names every place it looked', async () => {
  const { dir, configPath } = setup(null);
  const r = await count(configPath, join(dir, 'empty'));
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'no-prosody-data');
  assert.ok(
    r.failure.kind === 'no-prosody-data' && r.failure.looked.some((p) => p.includes('empty')),
  );
});

test('PostgreSQL storage with no server listening is reported as unreachable, not as missing data', async () => {
  const { configPath } = setup(
    'storage = "sql"\nsql = { driver = "PostgreSQL", database = "prosody", host = "127.0.0.1", port = 1 }\n',
  );
  const r = await count(configPath, '/nonexistent');
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'db-unreachable');
});

test('an SQL driver this tool does not know is reported as unsupported', async () => {
  const { configPath } = setup(
    'storage = "sql"\nsql = { driver = "ODBC", database = "prosody" }\n',
  );
  const r = await count(configPath, '/nonexistent');
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'unsupported-storage');
});

test('the config’s authentication and count option decide each host’s rule on Prosody 13 data', async () => {
  const { dir, configPath } = setup(
    [
      'data_path = "DIR/data"',
      'storage = "sql"',
      'VirtualHost "hashed.test"',
      'VirtualHost "plain.test"',
      '  authentication = "internal_plain"',
      'VirtualHost "all.test"',
      '  measure_active_users_count_disabled = true',
    ].join('\n'),
  );
  const rows = ['hashed.test', 'plain.test', 'all.test'].flatMap((host) => [
    activityRow({ host, user: 'x', event: 'login', timestamp: NOW - 60 }),
    { host, user: 'x', store: 'account_roles', key: '_default', type: 'string', value: 'r' },
  ]);
  mkdirSync(join(dir, 'data'));
  writeProsodySqlite(join(dir, 'data', 'prosody.sqlite'), rows);
  const r = await count(configPath, '/nonexistent');
  assert.ok(r.ok, JSON.stringify(r));
  // x has no account anywhere: 13 leaves x out with internal_hashed, counts nobody with
  // internal_plain, and counts x where the config says to count disabled (and missing) ones.
  const dau = Object.fromEntries(Object.entries(r.value.hosts).map(([h, c]) => [h, c.dau]));
  assert.deepEqual(dau, { 'all.test': 1, 'hashed.test': 0, 'plain.test': 0 });
  assert.equal(r.value.rules['plain.test']!.rule, 'nobody');
  assert.equal(r.value.hosts['plain.test']!.excludedByAuth, 1);
  assert.equal(r.value.rules['hashed.test']!.rule, 'enabled-accounts');
});
