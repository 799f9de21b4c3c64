/**
 * Which accounts folders a count asks the server's stream for (StorageFs.prepare), from what the
 * version and config say before anything is listed: a Prosody 0.12 server is not asked for the
 * files that hold its password hashes unless its data turns out to be Prosody 13's. A file
 * system in memory stands in for the stream: only the question asked is under test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostFacts } from '../../main/core/account-rule.js';
import { countSources } from '../../main/core/activity-source.js';
import { withHostFacts } from '../../main/sources/host-facts-source.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import type { AccountsWanted, StorageEntry, StorageFs } from '../../main/sources/storage-fs.js';

const NOW = 1_795_536_000;

/** One host with one lastlog2 file; records what prepare was asked. */
function oneHost(): StorageFs & { asked: Array<AccountsWanted | undefined> } {
  const fs = {
    asked: [] as Array<AccountsWanted | undefined>,
    join: (...parts: string[]) => parts.join('/'),
    list(path: string): Promise<StorageEntry[] | null> {
      if (path === '/data') return Promise.resolve([{ name: 'a%2etest', isDir: true }]);
      if (path === '/data/a%2etest/lastlog2') {
        return Promise.resolve([
          { name: 'u.dat', isDir: false, type: 'file', size: 10, mtime: NOW - 60 },
        ]);
      }
      return Promise.resolve(null);
    },
    prepare(_since: number | null, accounts?: AccountsWanted): Promise<void> {
      fs.asked.push(accounts);
      return Promise.resolve();
    },
    readCapped: () =>
      Promise.resolve({
        text: `return {\n\t["login"] = {\n\t\t["timestamp"] = ${NOW - 60};\n\t};\n};\n`,
      }),
  };
  return fs;
}

async function asked(facts: HostFacts | null): Promise<AccountsWanted | undefined> {
  const fs = oneHost();
  const source = new InternalStorageSource('/data', { fs });
  const r = await countSources([withHostFacts(source, facts ? [[null, facts]] : [])], NOW);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(fs.asked.length, 1);
  return fs.asked[0];
}

test('nothing known: the accounts only where the data has account_roles (then it is 13)', async () => {
  assert.equal(await asked(null), 'roles');
  assert.equal(await asked({ version: '0.12.3', configRead: true }), 'roles');
});

test('Prosody 13 with internal_hashed: every host’s accounts', async () => {
  assert.equal(await asked({ version: '13.0.1', configRead: true }), 'all');
  assert.equal(
    await asked({ version: '13.0.1', configRead: true, authentication: 'internal_hashed' }),
    'all',
  );
});

test('a rule that never asks about accounts: none, whatever the data holds', async () => {
  assert.equal(await asked({ version: '13.0.1', configRead: true, countDisabled: true }), 'none');
  assert.equal(
    await asked({ version: '0.12.3', configRead: true, authentication: 'internal_plain' }),
    'none',
  );
});
