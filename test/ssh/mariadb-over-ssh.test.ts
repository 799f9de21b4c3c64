/**
 * MariaDB reached through the SSH connection alone: the database listens only inside a test host's
 * network namespace (its own loopback), where sshd runs too, so the figures can only have come
 * through SSH. Real MariaDB 10.11, real OpenSSH sshd, the built CLI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SSH_SERVER_PLACEHOLDER, dbRecipe } from '../../main/sources/db-recipe.js';
import { type BenchHost, createBenchHost } from '../bench/bench-host.js';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import {
  NOW,
  type OverSsh,
  cliOverSsh,
  hostsOf,
  lastlogRows,
  startSshdInside,
} from '../helpers/database-over-ssh.js';
import { type MariadbServer, startMariadb } from '../helpers/mariadb-server.js';
import {
  type GeneratedKey,
  type SshdInstance,
  type TestUser,
  stopAllSshd,
} from '../support/sshd.js';

const PASSWORD = 'reader-pw';
/**
 * A second address on the test host's own loopback device (TEST-NET-1, routed nowhere from here):
 * the database as if on another machine, which sees sshd's forwarded connections come from it.
 */
const FAR = '192.0.2.7';
const rows = lastlogRows();

/** The table as Prosody 0.12 creates it on MySQL (value MEDIUMTEXT, utf8mb4, binary collation). */
const SCHEMA = `CREATE TABLE prosody (host TEXT NOT NULL, user TEXT NOT NULL, store TEXT NOT NULL,
  \`key\` TEXT NOT NULL, type TEXT NOT NULL, value MEDIUMTEXT NOT NULL,
  INDEX prosody_index (host(20), user(20), store(20), \`key\`(20)))
  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;`;

const lit = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

let host: BenchHost;
let db: MariadbServer;
let sshd: SshdInstance;
let key: GeneratedKey;
let dbOnly: TestUser;
let farOnly: TestUser;
let peer: TestUser;
let full: TestUser;
let local: string;
let expected: Record<string, unknown>;
let overSsh: OverSsh;

const keyLineOf = (recipe: string) => recipe.split('\n').find((l) => l.startsWith('restrict,'))!;
/** The recipe's SQL: everything after its first blank line, comments dropped. */
const sqlOf = (recipe: string) =>
  recipe
    .slice(recipe.indexOf('\n\n'))
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .join('\n');

before(async () => {
  local = mkdtempSync(join(tmpdir(), 'pau-mariadb-ssh-'));
  host = createBenchHost({ subnet: 'auto' });
  execFileSync(host.inside[0]!, [
    ...host.inside.slice(1),
    'ip',
    'addr',
    'add',
    `${FAR}/32`,
    'dev',
    'lo',
  ]);
  db = await startMariadb({ prefix: host.inside, bind: `127.0.0.1,${FAR}` });
  await db.sql('CREATE DATABASE prosody CHARACTER SET utf8mb4');
  const values = rows
    .map((r) => `(${[r.host, r.user, r.store, r.key, r.type, r.value].map(lit).join(', ')})`)
    .join(',\n');
  await db.sql(`SET NAMES utf8mb4; ${SCHEMA} INSERT INTO prosody VALUES ${values};`, 'prosody');
  ({ sshd, key } = await startSshdInside(host));
  // The recipes the CLI prints, pasted as the operator would: the key line, and the SQL with the
  // password chosen (over TCP) or unix_socket as its comment offers (over the socket).
  const tcpRecipe = dbRecipe(
    {
      engine: 'mysql',
      user: 'reader',
      database: 'prosody',
      endpoint: { tcp: { host: '127.0.0.1', port: db.port } },
    },
    key.authorizedKey,
  );
  dbOnly = await sshd.addUser('dbonly', { authorizedKeys: [keyLineOf(tcpRecipe)] });
  await db.sql(sqlOf(tcpRecipe).replace(/'CHANGE-ME'/g, `'${PASSWORD}'`));
  const farRecipe = dbRecipe(
    {
      engine: 'mysql',
      user: 'far',
      database: 'prosody',
      endpoint: { tcp: { host: FAR, port: db.port } },
    },
    key.authorizedKey,
  );
  farOnly = await sshd.addUser('far', { authorizedKeys: [keyLineOf(farRecipe)] });
  await db.sql(
    sqlOf(farRecipe)
      .replace(/'CHANGE-ME'/g, `'${PASSWORD}'`)
      .replaceAll(SSH_SERVER_PLACEHOLDER, FAR),
  );
  // The account's name is only known once it exists, and the unix_socket user is named after it.
  peer = await sshd.addUser('peer');
  const socketRecipe = dbRecipe(
    { engine: 'mysql', user: peer.name, database: 'prosody', endpoint: { socket: db.socket } },
    key.authorizedKey,
  );
  peer.setAuthorizedKeys([keyLineOf(socketRecipe)]);
  await db.sql(
    sqlOf(socketRecipe).replace(/IDENTIFIED BY 'CHANGE-ME'/g, 'IDENTIFIED VIA unix_socket'),
  );
  full = await sshd.addUser('full', { authorizedKeys: [key.authorizedKey] });
  ({ expected, overSsh } = cliOverSsh(local, sshd, key, rows));
});

after(async () => {
  await stopAllSshd();
  await db?.stop();
  host?.destroy();
  rmSync(local, { recursive: true, force: true });
});

test('the MariaDB server is not reachable from here: it listens only inside the test host', async () => {
  const run = await runBuiltCliAsync(
    ['--sql', `mysql://reader@${sshd.host}:${db.port}/prosody`, '--json'],
    { PATH: process.env.PATH, HOME: local, PROSODY_ACTIVE_USERS_DB_PASSWORD: PASSWORD },
  );
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /Cannot reach MySQL/);
});

test('--sql mysql:// over SSH counts as the SQLite file does, with a key that may only forward to the database', async () => {
  const run = await overSsh(dbOnly, ['--sql', `mysql://reader@127.0.0.1:${db.port}/prosody`], {
    PROSODY_ACTIVE_USERS_DB_PASSWORD: PASSWORD,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(hostsOf(run), expected);
});

test('a database on another address than the SSH server\u2019s loopback works with the recipe printed for it', async () => {
  const run = await overSsh(farOnly, ['--sql', `mysql://far@${FAR}:${db.port}/prosody`], {
    PROSODY_ACTIVE_USERS_DB_PASSWORD: PASSWORD,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(hostsOf(run), expected);
});

test('a MariaDB port the key may not forward to is refused, in one line naming the server', async () => {
  const run = await overSsh(dbOnly, ['--sql', `mysql://reader@127.0.0.1:${db.port + 1}/prosody`], {
    PROSODY_ACTIVE_USERS_DB_PASSWORD: PASSWORD,
  });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    new RegExp(`Cannot reach MySQL .* from ${sshd.host.replace(/\./g, '\\.')}`),
  );
  assert.match(run.stderr, /the key's permitopen/);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
});

test('a wrong MariaDB password over SSH says so in one line', async () => {
  const run = await overSsh(dbOnly, ['--sql', `mysql://reader@127.0.0.1:${db.port}/prosody`], {
    PROSODY_ACTIVE_USERS_DB_PASSWORD: 'wrong',
  });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /refused the login as reader/);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
});

test('the same database read here through its socket file, without SSH, gives the same figures', async () => {
  // root logs in by unix_socket: the rows in MariaDB are the SQLite reference's rows.
  const run = await runBuiltCliAsync(
    [
      '--sql',
      `mysql://root@/prosody?socket=${encodeURIComponent(db.socket)}`,
      '--at',
      String(NOW),
      '--json',
    ],
    { PATH: process.env.PATH, HOME: local },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(hostsOf(run), expected);
});

test('the socket file alone does not log this machine in as the SSH account: unix_socket checks who connects', async () => {
  // Run here as root, the same URL is refused; so the next test's figures came from sshd's
  // forwarding, running as that account, and not from the socket file seen through the filesystem.
  const run = await runBuiltCliAsync(
    ['--sql', `mysql://${peer.name}@/prosody?socket=${encodeURIComponent(db.socket)}`, '--json'],
    { PATH: process.env.PATH, HOME: local },
  );
  assert.equal(run.status, 1, run.stdout);
  assert.match(run.stderr, new RegExp(`refused the login as ${peer.name}`));
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
});

test('unix_socket authentication over the MariaDB server\u2019s socket needs no password', async () => {
  const run = await overSsh(peer, [
    '--sql',
    `mysql://${peer.name}@/prosody?socket=${encodeURIComponent(db.socket)}`,
  ]);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(hostsOf(run), expected);
});

test('Prosody\u2019s MySQL config on the server is read over SFTP and its database reached through SSH', async () => {
  const dir = mkdtempSync(join(sshd.dir, 'etc-'));
  chmodSync(dir, 0o755);
  const config = join(dir, 'prosody.cfg.lua');
  writeFileSync(
    config,
    `storage = "sql"\nsql = { driver = "MySQL", database = "prosody", username = "reader", password = ${JSON.stringify(PASSWORD)}, host = "127.0.0.1", port = ${db.port} }\nVirtualHost "a.test"\nVirtualHost "b.test"\nVirtualHost "c.test"\n`,
  );
  chmodSync(config, 0o644);
  const run = await overSsh(full, ['--remote-config', config]);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(hostsOf(run), expected);
});
