import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SSH_SERVER_PLACEHOLDER, dbRecipe } from '../../main/sources/db-recipe.js';

const recipeFor = (host: string) =>
  dbRecipe(
    { engine: 'mysql', user: 'pau', database: 'prosody', endpoint: { tcp: { host, port: 3306 } } },
    'KEY',
  );

// sshd opens the forwarded connection: MySQL sees it come from the SSH server itself.
const cases: Array<[string, string]> = [
  ['127.0.0.1', "'pau'@'127.0.0.1'"],
  ['127.0.1.1', "'pau'@'127.0.0.1'"],
  ['localhost', "'pau'@'127.0.0.1'"],
  ['::1', "'pau'@'::1'"],
  ['db.internal', `'pau'@'${SSH_SERVER_PLACEHOLDER}'`],
  ['10.0.0.5', `'pau'@'${SSH_SERVER_PLACEHOLDER}'`],
];

for (const [host, user] of cases) {
  test(`the MySQL recipe for a database at ${host} creates and grants ${user}`, () => {
    const text = recipeFor(host);
    assert.ok(text.includes(`CREATE USER ${user} `), text);
    assert.ok(text.includes(`TO ${user};`), text);
  });
}

test('the MySQL recipe for a database on another machine says what to put for the SSH server', () => {
  assert.match(
    recipeFor('db.internal'),
    new RegExp(
      `^# ${SSH_SERVER_PLACEHOLDER}: the SSH server's address as db\\.internal sees it`,
      'm',
    ),
  );
  assert.doesNotMatch(recipeFor('127.0.0.1'), new RegExp(SSH_SERVER_PLACEHOLDER));
});
