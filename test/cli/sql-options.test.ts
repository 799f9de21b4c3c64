import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCliOptions } from '../../main/cli/cli-options.js';
import { dbRecipe } from '../../main/sources/db-recipe.js';

const usageOf = (argv: string[]) => {
  const r = parseCliOptions(argv);
  return r.ok ? null : r.failure.kind === 'usage' ? r.failure.message : r.failure.kind;
};

test('--sql takes a database on this machine', () => {
  const r = parseCliOptions(['--sql', 'postgres://pau@db.example:5433/prosody']);
  assert.ok(r.ok);
  assert.deepEqual(r.value.sql, {
    engine: 'postgresql',
    user: 'pau',
    database: 'prosody',
    endpoint: { tcp: { host: 'db.example', port: 5433 } },
  });
});

test('with --ssh, --sql names the database as the server reaches it', () => {
  const r = parseCliOptions([
    '--ssh',
    'pau@xmpp.example.org',
    '--sql',
    'mysql://pau@127.0.0.1/prosody',
  ]);
  assert.ok(r.ok);
  assert.equal(r.value.sql, undefined);
  assert.equal(r.value.ssh?.sql?.engine, 'mysql');
  assert.equal(
    r.value.ssh?.sql && 'tcp' in r.value.ssh.sql.endpoint && r.value.ssh.sql.endpoint.tcp.port,
    3306,
  );
});

test('a password in --sql is refused without echoing it', () => {
  const message = usageOf(['--sql', 'postgres://pau:hunter2@db/prosody']);
  assert.match(message ?? '', /PROSODY_ACTIVE_USERS_DB_PASSWORD/);
  assert.doesNotMatch(message ?? '', /hunter2/);
});

test('--sql cannot be combined with another way to the data', () => {
  assert.match(
    usageOf(['--sql', 'postgres://pau@db/prosody', '--db', '/x.sqlite']) ?? '',
    /cannot be used together/,
  );
  assert.match(
    usageOf(['--ssh', 'h', '--sql', 'postgres://pau@db/prosody', '--remote-db', '/x.sqlite']) ?? '',
    /cannot be used with --remote-db/,
  );
});

test('--print-db-recipe needs --sql', () => {
  assert.match(usageOf(['--print-db-recipe']) ?? '', /needs --sql/);
});

test('the recipe for a socket says OpenSSH cannot limit a key to one socket', () => {
  const text = dbRecipe(
    {
      engine: 'postgresql',
      user: 'pau',
      database: 'prosody',
      endpoint: { socket: '/run/postgresql/.s.PGSQL.5432' },
    },
    'ssh-ed25519 AAAA me',
  );
  assert.match(text, /^restrict,port-forwarding,command="\/bin\/false" ssh-ed25519 AAAA me$/m);
  assert.match(text, /permitopen covers TCP only/);
  assert.doesNotMatch(text, /permitopen="/);
});

test('the MySQL recipe grants SELECT on the prosody table alone', () => {
  const text = dbRecipe(
    {
      engine: 'mysql',
      user: 'pau',
      database: 'prosody',
      endpoint: { tcp: { host: '127.0.0.1', port: 3306 } },
    },
    'KEY',
  );
  assert.match(text, /permitopen="127\.0\.0\.1:3306"/);
  assert.match(text, /^GRANT SELECT ON `prosody`\.`prosody` TO 'pau'@'127\.0\.0\.1';$/m);
});
