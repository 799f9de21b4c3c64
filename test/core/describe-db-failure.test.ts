import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeAppFailure } from '../../main/app/describe-app-failure.js';
import { describeFailure } from '../../main/core/describe-failure.js';
import type { Failure } from '../../main/core/failure.js';

const where = 'PostgreSQL pau@127.0.0.1:5432/prosody';
const cases: Array<[Failure, RegExp]> = [
  [
    {
      kind: 'db-auth',
      where,
      user: 'pau',
      detail: 'password authentication failed',
      engine: 'postgres',
    },
    /refused the login as pau.*password.*pg_hba\.conf/,
  ],
  [
    {
      kind: 'db-auth',
      where: 'MySQL pau@127.0.0.1:3306/prosody',
      user: 'pau',
      detail: "Access denied for user 'pau'@'localhost'",
      engine: 'mysql',
    },
    /refused the login as pau.*password.*'user'@'127\.0\.0\.1'.*unix_socket/,
  ],
  [
    { kind: 'db-missing', where, what: 'database', name: 'prosody' },
    /has no database prosody.*database = /,
  ],
  [
    { kind: 'db-missing', where, what: 'table', name: 'prosody' },
    /has no prosody table.*storage = "sql"/,
  ],
  [
    { kind: 'db-permission', where, user: 'pau', detail: 'permission denied' },
    /GRANT SELECT ON prosody TO pau/,
  ],
  [
    {
      kind: 'db-unreachable',
      where: `${where} from xmpp.example.org`,
      detail: 'Connection refused',
    },
    /Cannot reach .* from xmpp\.example\.org/,
  ],
  [{ kind: 'db-error', where, detail: 'out of memory' }, /failed \(out of memory\).*log/],
  [
    { kind: 'sql-config', detail: 'Prosody\u2019s sql = { … } names no driver' },
    /names no driver.*fix Prosody/,
  ],
];

for (const [failure, says] of cases) {
  test(`a ${failure.kind} failure is one line that says what to fix`, () => {
    const line = describeFailure(failure);
    assert.match(line, says);
    assert.doesNotMatch(line, /\n/);
  });
}

test('the app never tells its user about command-line flags or variables for database failures', () => {
  for (const [failure] of cases) {
    assert.doesNotMatch(
      describeAppFailure(failure),
      /--print|PROSODY_ACTIVE_USERS_|--sql/,
      failure.kind,
    );
  }
});
