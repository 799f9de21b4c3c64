// Against a real MariaDB 10.11 started by the test (test/helpers/mariadb-server.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { countSources } from '../../main/core/activity-source.js';
import { discoverLocalSources } from '../../main/sources/discover-local.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';
import { SqlServerSource } from '../../main/sources/sql-server-source.js';
import type { SqlServerTarget } from '../../main/sources/sql-server-target.js';
import { openAccountCache } from '../../main/store/account-cache-db.js';
import { type ProsodyRow, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import {
  NOW as OUT_OF_RANGE_NOW,
  OUT_OF_RANGE,
  OUT_OF_RANGE_EXPECTED,
  outOfRangePart,
} from '../fixtures/out-of-range-rows.js';
import { NOW, TRICKY } from '../fixtures/prosody-tricky-rows.js';
import { type MariadbServer, startMariadb } from '../helpers/mariadb-server.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-mariadb-test-'));
let db: MariadbServer;
let dbs = 0;
const PASSWORD = 'reader-pw';

before(async () => {
  db = await startMariadb();
  await db.sql(
    `CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}';
     CREATE USER 'nosel'@'127.0.0.1' IDENTIFIED BY 'pw';`,
  );
});
after(async () => {
  await db?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The table as Prosody 0.12 creates it on MySQL (value MEDIUMTEXT, utf8mb4, binary collation). */
const SCHEMA = `CREATE TABLE prosody (host TEXT NOT NULL, user TEXT NOT NULL, store TEXT NOT NULL,
  \`key\` TEXT NOT NULL, type TEXT NOT NULL, value MEDIUMTEXT NOT NULL,
  INDEX prosody_index (host(20), user(20), store(20), \`key\`(20)))
  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;`;

const lit = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function databaseWith(rows: ProsodyRow[]): Promise<string> {
  const name = `prosody${dbs++}`;
  await db.sql(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
  const values = rows
    .map((r) => `(${[r.host, r.user, r.store, r.key, r.type, r.value].map(lit).join(', ')})`)
    .join(',\n');
  await db.sql(
    `SET NAMES utf8mb4; ${SCHEMA} ${rows.length > 0 ? `INSERT INTO prosody VALUES ${values};` : ''}
     GRANT SELECT ON ${name}.prosody TO 'reader'@'127.0.0.1';`,
    name,
  );
  return name;
}

const target = (database: string, over: Partial<SqlServerTarget> = {}): SqlServerTarget => ({
  engine: 'mysql',
  database,
  user: 'reader',
  password: PASSWORD,
  endpoint: { tcp: { host: '127.0.0.1', port: db.port } },
  ...over,
});

const source = (
  t: SqlServerTarget,
  cache?: ConstructorParameters<typeof SqlServerSource>[1]['cache'],
) => new SqlServerSource(t, { seconds: 20, maxBytes: 10 ** 8, includeHost: () => true, cache });

test('MariaDB gives the same figures and skip counts as SQLite for the same rows', async () => {
  const name = await databaseWith(TRICKY);
  const sqlitePath = join(dir, 'same.sqlite');
  writeProsodySqlite(sqlitePath, TRICKY);
  const fromDb = await countSources([source(target(name))], NOW);
  const fromSqlite = await countSources([new SqliteSource(sqlitePath)], NOW);
  assert.ok(fromDb.ok, JSON.stringify(fromDb));
  assert.ok(fromSqlite.ok);
  assert.deepEqual(fromDb.value.hosts, fromSqlite.value.hosts);
  assert.deepEqual(fromDb.value.rules, fromSqlite.value.rules);
});

test('a wrong MariaDB password is a db-auth failure', async () => {
  const name = await databaseWith([]);
  const r = await countSources([source(target(name, { password: 'wrong' }))], NOW);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'db-auth');
});

test('a missing MariaDB database is named', async () => {
  const r = await countSources(
    [
      source(
        target('nosuchdb', { user: 'root', password: undefined, endpoint: { socket: db.socket } }),
      ),
    ],
    NOW,
  );
  assert.ok(!r.ok);
  assert.deepEqual(r.failure.kind === 'db-missing' && [r.failure.what, r.failure.name], [
    'database',
    'nosuchdb',
  ]);
});

test('a MariaDB database without the prosody table says so', async () => {
  const name = `empty${dbs++}`;
  await db.sql(`CREATE DATABASE ${name}`);
  const r = await countSources(
    [source(target(name, { user: 'root', password: undefined, endpoint: { socket: db.socket } }))],
    NOW,
  );
  assert.ok(!r.ok);
  assert.deepEqual(r.failure.kind === 'db-missing' && r.failure.what, 'table');
});

test('a MariaDB user without SELECT on prosody is a db-permission failure', async () => {
  const name = await databaseWith(TRICKY);
  await db.sql(
    `GRANT USAGE ON ${name}.* TO 'nosel'@'127.0.0.1'; GRANT SELECT (host) ON ${name}.prosody TO 'nosel'@'127.0.0.1'`,
  );
  const r = await countSources([source(target(name, { user: 'nosel', password: 'pw' }))], NOW);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'db-permission');
});

test('unix_socket authentication over MariaDB\u2019s socket needs no password', async () => {
  const name = await databaseWith(TRICKY);
  const r = await countSources(
    [source(target(name, { user: 'root', password: undefined, endpoint: { socket: db.socket } }))],
    NOW,
  );
  assert.ok(r.ok, JSON.stringify(r));
});

test('Prosody config with driver = "MySQL" is found and read', async () => {
  const name = await databaseWith(TRICKY);
  const config = join(dir, `my${dbs}.cfg.lua`);
  writeFileSync(
    config,
    `storage = "sql"\nsql = { driver = "MySQL", database = "${name}", username = "reader", password = "${PASSWORD}", host = "127.0.0.1", port = ${db.port} }\n`,
  );
  const found = await discoverLocalSources(config, dir);
  assert.ok(found.ok, JSON.stringify(found));
  const r = await countSources(found.value, NOW);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(Object.keys(r.value.hosts).sort(), ['a.test', 'b.test', 'c.test']);
});

test('with the account cache, MariaDB is brought up to date from changes only', async () => {
  const name = await databaseWith(TRICKY);
  const cache = openAccountCache(join(dir, `cache${dbs}.sqlite`));
  try {
    const c = { store: cache, key: 'my test', clock: () => Math.floor(Date.now() / 1000) };
    assert.ok((await countSources([source(target(name), c)], NOW)).ok);
    await db.sql(
      `INSERT INTO prosody VALUES ('a.test', 'new', 'lastlog2', 'login', 'json', '{"timestamp":${Math.floor(Date.now() / 1000)}}')`,
      name,
    );
    const second = await countSources([source(target(name), c)], NOW + 10 ** 6);
    assert.ok(second.ok);
    assert.equal(second.value.fetches[0]?.method, 'database query, changes only');
    const full = await countSources([source(target(name))], NOW + 10 ** 6);
    assert.ok(full.ok);
    assert.deepEqual(second.value.hosts, full.value.hosts);
  } finally {
    cache.close();
  }
});

test('timestamps beyond a date’s range are malformed and fractions count (MariaDB)', async () => {
  const r = await countSources(
    [source(target(await databaseWith(OUT_OF_RANGE)))],
    OUT_OF_RANGE_NOW,
  );
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(outOfRangePart(r.value.hosts['a.test']!), OUT_OF_RANGE_EXPECTED);
});

test('with the account cache, an account swapped for one with an old login is caught, though the counts match', async () => {
  // Issue 15, item 3: one account active today deleted, one whose only login is 5 days old added,
  // on the same host: every count stays equal, and the new one is older than the changes asked for.
  const now = Math.floor(Date.now() / 1000);
  const name = await databaseWith([
    activityRow({ host: 'a.test', user: 'today', event: 'login', timestamp: now - 60 }),
    activityRow({ host: 'a.test', user: 'older', event: 'login', timestamp: now - 20 * 86400 }),
  ]);
  const cache = openAccountCache(join(dir, `cache${dbs}.sqlite`));
  try {
    const c = { store: cache, key: 'my swap', clock: () => Math.floor(Date.now() / 1000) };
    assert.ok((await countSources([source(target(name), c)], now)).ok);
    await db.sql(`DELETE FROM prosody WHERE host = 'a.test' AND \`user\` = 'today'`, name);
    await db.sql(
      `INSERT INTO prosody VALUES ('a.test', 'fivedays', 'lastlog2', 'login', 'json', '{"timestamp":${now - 5 * 86400}}')`,
      name,
    );
    const second = await countSources([source(target(name), c)], now);
    assert.ok(second.ok);
    const full = await countSources([source(target(name))], now);
    assert.ok(full.ok);
    assert.deepEqual(second.value.hosts, full.value.hosts);
    assert.equal(second.value.fetches[0]?.method, 'database query');
  } finally {
    cache.close();
  }
});
