/**
 * Parity with a real Prosody 13.0.1 (bookworm-backports, unpacked at /opt/prosody-13) and the
 * prosody-modules of its time: accounts made with `prosodyctl shell user create`, some disabled
 * with `user disable`, some deleted with `user delete` while their lastlog2 records stay, a host
 * with no account at all, account_activity timestamps the module must ignore, and real logins
 * through an XMPP client (test/helpers/prosody13-scenario.ts). Our figures must equal
 * mod_measure_active_users' /metrics gauges for every host and window, in both storage layouts,
 * read directly and through Prosody's config.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { cleanupProsody } from '../helpers/prosody-server.js';
import {
  PLAIN_HOST_USERS,
  assertLeftOutAsSetUp,
  assertSameFigures,
  describeParity13,
  ours,
  runProsody13Scenario,
} from '../helpers/prosody13-scenario.js';

after(cleanupProsody);

async function parity13(storage: 'internal' | 'sql'): Promise<void> {
  const { prosody, theirs, at } = await runProsody13Scenario({ storage });
  const direct = await ours([
    ...(storage === 'sql' ? ['--db', prosody.sqlitePath!] : ['--data-dir', prosody.dataPath]),
    '--at',
    at,
  ]);
  const viaConfig = await ours(['--config', prosody.configPath, '--at', at]);
  assertSameFigures(theirs, direct, `${storage}, direct`);
  assertSameFigures(theirs, viaConfig, `${storage}, via config`);
  assertLeftOutAsSetUp(theirs, direct);
  assert.equal(viaConfig.hosts['plain.test']!.excludedByAuth, PLAIN_HOST_USERS);
  await prosody.dispose();
}

describeParity13('parity with a real Prosody 13', {
  'internal storage': () => parity13('internal'),
  'SQLite storage': () => parity13('sql'),
});
