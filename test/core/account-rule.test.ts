import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CountingRule,
  type HostFacts,
  type RuleBasis,
  decideRule,
  mergeFacts,
  prosodyMajor,
} from '../../main/core/account-rule.js';

const cases: Array<[name: string, facts: HostFacts, rule: CountingRule, basis: RuleBasis]> = [
  ['Prosody 0.12 counts every user with records', { version: '0.12.3' }, 'all-records', 'version'],
  [
    'Prosody 0.12 counts everyone whatever the authentication',
    { version: '0.12.4', authentication: 'internal_hashed', configRead: true },
    'all-records',
    'version',
  ],
  [
    'Prosody 13 with the default authentication counts only enabled accounts',
    { version: '13.0.1', configRead: true },
    'enabled-accounts',
    'version',
  ],
  [
    'Prosody 13 without a config read assumes the default authentication',
    { version: '13.0.1' },
    'enabled-accounts',
    'assumed',
  ],
  [
    'Prosody 13 with internal_plain counts nobody, as its module does',
    { version: '13.0.1', authentication: 'internal_plain' },
    'nobody',
    'version',
  ],
  [
    'Prosody 13 with LDAP counts nobody',
    { version: '13.0.2', authentication: 'ldap' },
    'nobody',
    'version',
  ],
  [
    'Prosody 13 with measure_active_users_count_disabled = true counts every user with records',
    { version: '13.0.1', authentication: 'ldap', countDisabled: true },
    'all-records',
    'version',
  ],
  [
    'An unknown version with account_roles entries is Prosody 13',
    { hasRoles: true, configRead: true },
    'enabled-accounts',
    'data',
  ],
  [
    'An unknown version without account_roles entries is counted as 0.12, and says it assumed',
    {},
    'all-records',
    'assumed',
  ],
  [
    'An unreadable version string falls back to the data',
    { version: 'trunk', hasRoles: true, authentication: 'internal_hashed' },
    'enabled-accounts',
    'data',
  ],
  [
    'account_roles entries win over a 0.12 version file (another install on the same machine)',
    { version: '0.12.3', hasRoles: true, configRead: true },
    'enabled-accounts',
    'data',
  ],
  [
    'A later major version follows 13',
    { version: '14.1.0', configRead: true },
    'enabled-accounts',
    'version',
  ],
];

for (const [name, facts, rule, basis] of cases) {
  test(name, () => {
    const d = decideRule(facts);
    assert.deepEqual([d.rule, d.basis], [rule, basis]);
    assert.ok(d.reason.length > 0);
  });
}

test('the major version is read from the start of the version string', () => {
  assert.deepEqual(['0.12.3', '13.0.1', ' 13.1\n', 'hg:abc', ''].map(prosodyMajor), [
    0,
    13,
    13,
    null,
    null,
  ]);
});

test('facts merge field by field and account_roles once seen stays seen', () => {
  const m = mergeFacts(
    { version: '13.0.1', hasRoles: true },
    { hasRoles: false, authentication: 'ldap' },
  );
  assert.deepEqual(m, { version: '13.0.1', hasRoles: true, authentication: 'ldap' });
});
