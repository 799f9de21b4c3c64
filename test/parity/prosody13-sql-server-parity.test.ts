/**
 * Parity with a real Prosody 13.0.1 whose storage is on PostgreSQL 15 or MariaDB 10.11
 * (lua-dbi-postgresql / lua-dbi-mysql): the Prosody 13 scenario of test/helpers/prosody13-scenario.ts
 * (accounts created, disabled and deleted through `prosodyctl shell`, a host without accounts, real
 * logins), then our figures, read through Prosody's config and through `--sql`, must equal
 * mod_measure_active_users' gauges for every host and window, leaving out what was set up.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { startProsodyDatabase } from '../helpers/prosody-database.js';
import { type SqlServerSettings, cleanupProsody } from '../helpers/prosody-server.js';
import {
  PLAIN_HOST_USERS,
  assertLeftOutAsSetUp,
  assertSameFigures,
  describeParity13,
  ours,
  runProsody13Scenario,
} from '../helpers/prosody13-scenario.js';

after(cleanupProsody);

async function parity13On(driver: SqlServerSettings['driver']): Promise<void> {
  const db = await startProsodyDatabase(driver);
  try {
    const { prosody, theirs, at } = await runProsody13Scenario({ storage: 'sql', sql: db.sql });
    try {
      const viaConfig = await ours(['--config', prosody.configPath, '--at', at]);
      // The password from the environment, as an operator without the config gives it.
      const viaUrl = await ours(['--sql', db.url, '--at', at], {
        PROSODY_ACTIVE_USERS_DB_PASSWORD: db.sql.password,
      });
      assertSameFigures(theirs, viaConfig, `${driver}, via config`);
      assertSameFigures(theirs, viaUrl, `${driver}, --sql`);
      assertLeftOutAsSetUp(theirs, viaConfig);
      assertLeftOutAsSetUp(theirs, viaUrl);
      assert.equal(viaConfig.hosts['plain.test']!.excludedByAuth, PLAIN_HOST_USERS);
    } finally {
      await prosody.dispose();
    }
  } finally {
    await db.stop();
  }
}

describeParity13('parity with a real Prosody 13 on database servers', {
  PostgreSQL: () => parity13On('PostgreSQL'),
  MariaDB: () => parity13On('MySQL'),
});
