/**
 * Counting as of a past moment (`--at`) from a local SQLite file, in both of its read paths
 * (rollback journal: the sqlite3 command; WAL: in-process), agrees with the record fold.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { countSources } from '../../main/core/activity-source.js';
import { AccountFolder, ActivityTally } from '../../main/core/count-active.js';
import { DAY } from '../../main/core/windows.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';
import { type ActivitySeed, activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-past-moment-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const seedArb = fc.record({
  host: fc.constantFrom('a.test', 'b.test'),
  user: fc.constantFrom('u1', 'u2', 'u3', 'zoë', "o'neil"),
  event: fc.constantFrom('login', 'logout', 'registered') as fc.Arbitrary<ActivitySeed['event']>,
  timestamp: fc.integer({ min: NOW - 40 * DAY, max: NOW + 40 * DAY }),
});

async function agreesWithTheFold(journal: 'delete' | 'wal'): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(seedArb, {
        minLength: 1,
        maxLength: 30,
        selector: (s) => `${s.host}/${s.user}/${s.event}`,
      }),
      async (seeds) => {
        const path = join(mkdtempSync(join(dir, `${files++}-`)), 'prosody.sqlite');
        writeProsodySqlite(path, seeds.map(activityRow));
        const db = new Database(path);
        db.pragma(`journal_mode = ${journal}`);
        db.close();
        const r = await countSources([new SqliteSource(path)], NOW, undefined, {
          pastMoment: true,
        });
        const sorted = [...seeds].sort((a, b) =>
          a.host + '\0' + a.user < b.host + '\0' + b.user ? -1 : 1,
        );
        const tally = new ActivityTally(NOW, new Map(), { pastMoment: true });
        const folder = new AccountFolder(tally);
        for (const s of sorted) folder.add(s);
        folder.flush();
        assert.ok(r.ok);
        assert.deepEqual(r.value.hosts, tally.report().hosts);
      },
    ),
    { numRuns: 30 },
  );
}

test('a rollback-journal file counted as of a past moment agrees with the record fold', async () => {
  await agreesWithTheFold('delete');
});

test('a WAL file counted as of a past moment agrees with the record fold', async () => {
  await agreesWithTheFold('wal');
});
