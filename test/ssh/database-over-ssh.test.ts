/**
 * PostgreSQL reached through the SSH connection alone: the database listens only inside a test
 * host's network namespace (its own loopback), where sshd runs too. Real PostgreSQL 15, real
 * OpenSSH sshd, the built CLI.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dbRecipe } from '../../main/sources/db-recipe.js';
import { type BenchHost, createBenchHost } from '../bench/bench-host.js';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import {
  type OverSsh,
  cliOverSsh,
  hostsOf,
  lastlogRows,
  startSshdInside,
} from '../helpers/database-over-ssh.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  stopAllSshd,
} from '../support/sshd.js';

const rows = lastlogRows();

let host: BenchHost;
let pg: PostgresServer;
let sshd: SshdInstance;
let key: GeneratedKey;
let dbOnly: TestUser;
let peer: TestUser;
let full: TestUser;
let local: string;
let expected: Record<string, unknown>;
let overSsh: OverSsh;

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

before(async () => {
  local = mkdtempSync(join(tmpdir(), 'pau-db-ssh-'));
  host = createBenchHost({ subnet: 'auto' });
  pg = await startPostgres({ prefix: host.inside, localAuth: 'peer' });
  await pg.psql('CREATE DATABASE prosody');
  const values = rows
    .map((r) => `(${[r.host, r.user, r.store, r.key, r.type, r.value].map(lit).join(', ')})`)
    .join(',\n');
  await pg.psql(
    `CREATE TABLE prosody ("host" TEXT NOT NULL, "user" TEXT NOT NULL, "store" TEXT NOT NULL,
      "key" TEXT NOT NULL, "type" TEXT NOT NULL, "value" TEXT NOT NULL);
     INSERT INTO prosody VALUES ${values};`,
    'prosody',
  );
  ({ sshd, key } = await startSshdInside(host));
  // The recipe the CLI prints, as the operator would paste it.
  const recipe = dbRecipe(
    {
      engine: 'postgresql',
      user: 'postgres',
      database: 'prosody',
      endpoint: { tcp: { host: '127.0.0.1', port: pg.port } },
    },
    key.authorizedKey,
  );
  const keyLine = recipe.split('\n').find((l) => l.startsWith('restrict,'))!;
  dbOnly = await sshd.addUser('dbonly', { authorizedKeys: [keyLine] });
  peer = await sshd.addUser('peer', {
    authorizedKeys: [`restrict,port-forwarding,command="/bin/false" ${key.authorizedKey}`],
  });
  full = await sshd.addUser('full', { authorizedKeys: [key.authorizedKey] });
  // Peer authentication: a role named after the SSH account, which may only read the table.
  await pg.psql(`CREATE ROLE "${peer.name}" LOGIN`);
  await pg.psql(`GRANT SELECT ON TABLE prosody TO "${peer.name}"`, 'prosody');
  ({ expected, overSsh } = cliOverSsh(local, sshd, key, rows));
});

after(async () => {
  await stopAllSshd();
  await pg?.stop();
  host?.destroy();
  rmSync(local, { recursive: true, force: true });
});

test('the database is not reachable from here: it listens only inside the test host', async () => {
  const run = await runBuiltCliAsync(
    ['--sql', `postgres://postgres@${sshd.host}:${pg.port}/prosody`, '--json'],
    { PATH: process.env.PATH, HOME: local, PROSODY_ACTIVE_USERS_DB_PASSWORD: pg.password },
  );
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /Cannot reach PostgreSQL/);
});

test('--sql over SSH counts as the SQLite file does, with a key that may only forward to the database', async () => {
  const run = await overSsh(dbOnly, ['--sql', `postgres://postgres@127.0.0.1:${pg.port}/prosody`], {
    PROSODY_ACTIVE_USERS_DB_PASSWORD: pg.password,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(hostsOf(run), expected);
});

test('a port the key may not forward to is refused, in one line naming the server', async () => {
  const run = await overSsh(
    dbOnly,
    ['--sql', `postgres://postgres@127.0.0.1:${pg.port + 1}/prosody`],
    { PROSODY_ACTIVE_USERS_DB_PASSWORD: pg.password },
  );
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    new RegExp(`Cannot reach PostgreSQL .* from ${sshd.host.replace(/\./g, '\\.')}`),
  );
  assert.match(run.stderr, /the key's permitopen/);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
});

test('a wrong database password says so in one line', async () => {
  const run = await overSsh(dbOnly, ['--sql', `postgres://postgres@127.0.0.1:${pg.port}/prosody`], {
    PROSODY_ACTIVE_USERS_DB_PASSWORD: 'wrong',
  });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /refused the login as postgres/);
});

test('peer authentication over the server\u2019s Unix socket needs no password', async () => {
  const socket = `${pg.socketDir}/.s.PGSQL.${pg.port}`;
  const run = await overSsh(peer, [
    '--sql',
    `postgres://${peer.name}@/prosody?socket=${encodeURIComponent(socket)}`,
  ]);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(hostsOf(run), expected);
});

test('Prosody\u2019s config on the server is read over SFTP and its database reached through SSH', async () => {
  const dir = mkdtempSync(join(sshd.dir, 'etc-'));
  chmodSync(dir, 0o755);
  const config = join(dir, 'prosody.cfg.lua');
  writeFileSync(
    config,
    `storage = "sql"\nsql = { driver = "PostgreSQL", database = "prosody", username = "postgres", password = ${JSON.stringify(pg.password)}, host = "127.0.0.1", port = ${pg.port} }\nVirtualHost "a.test"\nVirtualHost "b.test"\nVirtualHost "c.test"\n`,
  );
  chmodSync(config, 0o644);
  const run = await overSsh(full, ['--remote-config', config]);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(hostsOf(run), expected);
});
