// Against a real PostgreSQL 15 started by the test (test/helpers/postgres-server.ts).
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
import { TRICKY } from '../fixtures/prosody-tricky-rows.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-pg-test-'));
let pg: PostgresServer;
let dbs = 0;

before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const SCHEMA = `CREATE TABLE prosody ("host" TEXT NOT NULL, "user" TEXT NOT NULL, "store" TEXT NOT NULL,
  "key" TEXT NOT NULL, "type" TEXT NOT NULL, "value" TEXT NOT NULL);
CREATE INDEX prosody_index ON prosody ("host", "user", "store", "key");`;

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A fresh database holding these rows, as Prosody's PostgreSQL schema keeps them. */
async function databaseWith(rows: ProsodyRow[]): Promise<string> {
  const name = `prosody${dbs++}`;
  await pg.psql(`CREATE DATABASE ${name}`);
  const values = rows
    .map((r) => `(${[r.host, r.user, r.store, r.key, r.type, r.value].map(lit).join(', ')})`)
    .join(',\n');
  await pg.psql(`${SCHEMA}${rows.length > 0 ? `INSERT INTO prosody VALUES ${values};` : ''}`, name);
  return name;
}

const target = (database: string, over: Partial<SqlServerTarget> = {}): SqlServerTarget => ({
  engine: 'postgresql',
  database,
  user: 'postgres',
  password: pg.password,
  endpoint: { tcp: { host: '127.0.0.1', port: pg.port } },
  ...over,
});

const source = (
  t: SqlServerTarget,
  cache?: ConstructorParameters<typeof SqlServerSource>[1]['cache'],
) => new SqlServerSource(t, { seconds: 20, maxBytes: 10 ** 8, includeHost: () => true, cache });

test('PostgreSQL gives the same figures and skip counts as SQLite for the same rows', async () => {
  const db = await databaseWith(TRICKY);
  const sqlitePath = join(dir, 'same.sqlite');
  writeProsodySqlite(sqlitePath, TRICKY);
  const fromPg = await countSources([source(target(db))], NOW);
  const fromSqlite = await countSources([new SqliteSource(sqlitePath)], NOW);
  assert.ok(fromPg.ok, JSON.stringify(fromPg));
  assert.ok(fromSqlite.ok);
  assert.deepEqual(fromPg.value.hosts, fromSqlite.value.hosts);
  assert.deepEqual(fromPg.value.total, fromSqlite.value.total);
  assert.deepEqual(fromPg.value.rules, fromSqlite.value.rules);
  assert.ok(fromPg.value.hosts['a.test']?.excludedDisabled, 'the disabled account is left out');
});

test('a wrong password is a db-auth failure naming the user', async () => {
  const db = await databaseWith([]);
  const r = await countSources([source(target(db, { password: 'wrong' }))], NOW);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'db-auth');
});

test('a missing database is named', async () => {
  const r = await countSources([source(target('nosuchdb'))], NOW);
  assert.ok(!r.ok);
  assert.deepEqual(r.failure.kind === 'db-missing' && [r.failure.what, r.failure.name], [
    'database',
    'nosuchdb',
  ]);
});

test('a database without the prosody table says so', async () => {
  const name = `empty${dbs++}`;
  await pg.psql(`CREATE DATABASE ${name}`);
  const r = await countSources([source(target(name))], NOW);
  assert.ok(!r.ok);
  assert.deepEqual(r.failure.kind === 'db-missing' && r.failure.what, 'table');
});

test('a role without SELECT on prosody is a db-permission failure', async () => {
  const db = await databaseWith(TRICKY);
  await pg.psql(`CREATE ROLE nosel${dbs} LOGIN PASSWORD 'pw'`);
  const r = await countSources([source(target(db, { user: `nosel${dbs}`, password: 'pw' }))], NOW);
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'db-permission');
});

test('a role with SELECT on prosody alone, read-only by default, counts', async () => {
  const db = await databaseWith(TRICKY);
  const role = `pau${dbs}`;
  await pg.psql(
    `CREATE ROLE ${role} LOGIN PASSWORD 'pw'; ALTER ROLE ${role} SET default_transaction_read_only = on;`,
  );
  await pg.psql(`GRANT SELECT ON TABLE prosody TO ${role}`, db);
  const r = await countSources([source(target(db, { user: role, password: 'pw' }))], NOW);
  assert.ok(r.ok, JSON.stringify(r));
});

test('a port where nothing listens is db-unreachable', async () => {
  const r = await countSources(
    [source(target('x', { endpoint: { tcp: { host: '127.0.0.1', port: 1 } } }))],
    NOW,
  );
  assert.ok(!r.ok);
  assert.equal(r.failure.kind, 'db-unreachable');
});

test('the Unix socket works as Prosody reaches it with no host', async () => {
  const db = await databaseWith(TRICKY);
  const r = await countSources(
    [source(target(db, { endpoint: { socket: `${pg.socketDir}/.s.PGSQL.${pg.port}` } }))],
    NOW,
  );
  assert.ok(r.ok, JSON.stringify(r));
  const sqlitePath = join(dir, 'socket.sqlite');
  writeProsodySqlite(sqlitePath, TRICKY);
  const fromSqlite = await countSources([new SqliteSource(sqlitePath)], NOW);
  assert.ok(fromSqlite.ok);
  assert.deepEqual(r.value.hosts, fromSqlite.value.hosts);
});

test('Prosody config with driver = "PostgreSQL" is found and read', async () => {
  const db = await databaseWith(TRICKY);
  const config = join(dir, `pg${dbs}.cfg.lua`);
  writeFileSync(
    config,
    `storage = "sql"\nsql = { driver = "PostgreSQL", database = "${db}", username = "postgres", password = "${pg.password}", host = "127.0.0.1", port = ${pg.port} }\nVirtualHost "a.test"\nVirtualHost "b.test"\n`,
  );
  const found = await discoverLocalSources(config, dir);
  assert.ok(found.ok, JSON.stringify(found));
  const r = await countSources(found.value, NOW);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(Object.keys(r.value.hosts).sort(), ['a.test', 'b.test', 'c.test']);
});

test('an sql table without a driver is a clear sql-config failure, as Prosody refuses it', async () => {
  const config = join(dir, 'nodriver.cfg.lua');
  writeFileSync(config, `storage = "sql"\nsql = { database = "prosody", host = "127.0.0.1" }\n`);
  const found = await discoverLocalSources(config, dir);
  assert.ok(!found.ok);
  assert.equal(found.failure.kind, 'sql-config');
});

test('with the account cache, an unchanged database is brought up to date from changes only', async () => {
  const db = await databaseWith(TRICKY);
  const cache = openAccountCache(join(dir, `cache${dbs}.sqlite`));
  try {
    const c = { store: cache, key: 'pg test', clock: () => Math.floor(Date.now() / 1000) };
    const first = await countSources([source(target(db), c)], NOW);
    assert.ok(first.ok);
    await pg.psql(
      `INSERT INTO prosody VALUES ('a.test', 'new', 'lastlog2', 'login', 'json', '{"timestamp":${Math.floor(Date.now() / 1000)}}')`,
      db,
    );
    const second = await countSources([source(target(db), c)], NOW + 10 ** 6);
    assert.ok(second.ok);
    assert.equal(second.value.fetches[0]?.method, 'database query, changes only');
    const full = await countSources([source(target(db))], NOW + 10 ** 6);
    assert.ok(full.ok);
    assert.deepEqual(second.value.hosts, full.value.hosts);
  } finally {
    cache.close();
  }
});

test('timestamps beyond a date’s range are malformed and fractions count (PostgreSQL)', async () => {
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
  const db = await databaseWith([
    activityRow({ host: 'a.test', user: 'today', event: 'login', timestamp: now - 60 }),
    activityRow({ host: 'a.test', user: 'older', event: 'login', timestamp: now - 20 * 86400 }),
  ]);
  const cache = openAccountCache(join(dir, `cache${dbs}.sqlite`));
  try {
    const c = { store: cache, key: 'pg swap', clock: () => Math.floor(Date.now() / 1000) };
    assert.ok((await countSources([source(target(db), c)], now)).ok);
    await pg.psql(`DELETE FROM prosody WHERE host = 'a.test' AND "user" = 'today'`, db);
    await pg.psql(
      `INSERT INTO prosody VALUES ('a.test', 'fivedays', 'lastlog2', 'login', 'json', '{"timestamp":${now - 5 * 86400}}')`,
      db,
    );
    const second = await countSources([source(target(db), c)], now);
    assert.ok(second.ok);
    const full = await countSources([source(target(db))], now);
    assert.ok(full.ok);
    assert.deepEqual(second.value.hosts, full.value.hosts);
    assert.equal(second.value.fetches[0]?.method, 'database query');
  } finally {
    cache.close();
  }
});
