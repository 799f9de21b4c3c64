// A lock-free count split over several sqlite3 processes, each a range of accounts
// (account-ranges.ts), against the same count in one process, on the real sqlite3 command.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { DAY } from '../../main/core/windows.js';
import { accountRanges, rangeCondition } from '../../main/sources/account-ranges.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';
import { sourceReport } from '../fixtures/source-report.js';
import { type ProsodyRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';

const NOW = 1_795_536_000;
const dir = mkdtempSync(join(tmpdir(), 'pau-ranges-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** sqlite3, with each run's first statement line logged: how many processes a count started. */
const log = join(dir, 'runs.log');
const sqlite3 = join(dir, 'sqlite3-logging');
writeFileSync(
  sqlite3,
  // One write a line: the parts run at once.
  `#!/bin/sh\ncat > "${dir}/stdin.$$"\nprintf '%s\\n' "$(head -c 40 "${dir}/stdin.$$" | tr -d '\\n')" >> "${log}"\nexec sqlite3 "$@" < "${dir}/stdin.$$"\n`,
);
chmodSync(sqlite3, 0o755);

function runsLogged(): string[] {
  try {
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    writeFileSync(log, '');
    return lines;
  } catch {
    return [];
  }
}

test('ranges: one open range when the table is small, keys may be NULL or the sample is odd', () => {
  const sample = [
    ['a', 'u1'],
    ['a', 'u5'],
    ['b', 'u2'],
    ['b', 'u9'],
  ];
  const cases: [string, unknown[], number][] = [
    ['one part asked', [[1000, 1], ...sample], 1],
    ['fewer rows than minRows', [[99, 1], ...sample], 2],
    ['host or user may be NULL', [[1000, 0], ...sample], 2],
    ['no header line', [], 2],
    ['a header that is not a number', [['1000', 1], ...sample], 2],
    ['no sampled row', [[1000, 1]], 2],
    [
      'only names with NUL',
      [
        [1000, 1],
        ['a\u0000', 'u'],
        ['a', 'u\u0000'],
      ],
      2,
    ],
  ];
  for (const [name, lines, parts] of cases) {
    assert.deepEqual(accountRanges(lines, parts, 100), [{}], name);
  }
});

test('ranges: bounds picked at rising places of the sample, repeated picks dropped', () => {
  const sample = [
    ['a', 'u1'],
    ['a', 'u5'],
    ['b', 'u2'],
    ['b', 'u9'],
  ];
  assert.deepEqual(accountRanges([[1000, 1], ...sample], 2, 100), [
    { hi: ['b', 'u2'] },
    { lo: ['b', 'u2'] },
  ]);
  assert.deepEqual(accountRanges([[1000, 1], ...sample], 4, 100), [
    { hi: ['a', 'u5'] },
    { lo: ['a', 'u5'], hi: ['b', 'u2'] },
    { lo: ['b', 'u2'], hi: ['b', 'u9'] },
    { lo: ['b', 'u9'] },
  ]);
  assert.deepEqual(
    accountRanges(
      [
        [1000, 1],
        ['a', 'u1'],
        ['a', 'u1'],
      ],
      3,
      100,
    ),
    [{ hi: ['a', 'u1'] }, { lo: ['a', 'u1'] }],
  );
});

test('ranges: conditions quote names and keep table scans off the index', () => {
  const range = { lo: ['a', "o'neil"] as const, hi: ['b', 'x'] as const };
  assert.equal(
    rangeCondition(range, false),
    `(+host, user) >= ('a', 'o''neil') AND (+host, user) < ('b', 'x')`,
  );
  assert.equal(rangeCondition({ hi: ['b', 'x'] }, true), `(host, user) < ('b', 'x')`);
  assert.equal(rangeCondition({}, true), 'TRUE');
});

const names = fc.constantFrom('u1', 'u2', 'U2', "o'neil", 'zoë', '日本', 'a b', '', 'ü', 'u1 ');
const row: fc.Arbitrary<ProsodyRow> = fc.oneof(
  fc.record({
    host: fc.constantFrom('a.test', 'b.test', 'B.test'),
    user: names,
    store: fc.constant('lastlog2'),
    key: fc.constantFrom('login', 'logout', 'registered', 'muc.a.test'),
    type: fc.constantFrom('json', 'json', 'string'),
    value: fc.oneof(
      fc.integer({ min: -40 * DAY, max: 40 * DAY }).map((age) => `{"timestamp":${NOW - age}}`),
      fc.constantFrom('{not json', '{"ip":"x"}', '{"timestamp":1e400}'),
    ),
  }),
  fc.record({
    host: fc.constantFrom('a.test', 'b.test', 'B.test'),
    user: names,
    store: fc.constantFrom('accounts', 'account_roles'),
    key: fc.constantFrom('updated', 'disabled', 'salt', '_default'),
    type: fc.constantFrom('boolean', 'number'),
    value: fc.constantFrom('true', 'false', '1795000000'),
  }),
);

/** The schema Prosody writes, and one whose names compare without case. */
const SCHEMAS = {
  prosody: undefined,
  nocase: `CREATE TABLE prosody (host TEXT NOT NULL COLLATE NOCASE, user TEXT NOT NULL COLLATE NOCASE,
    store TEXT NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL)`,
};

test('a count split over 2 to 5 sqlite3 processes equals the count in one, on random rows', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(row, { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 2, max: 5 }),
      fc.constantFrom(...(Object.keys(SCHEMAS) as (keyof typeof SCHEMAS)[])),
      fc.subarray<[string, string]>([
        ['a.test', 'u1'],
        ['B.test', "o'neil"],
      ]),
      async (rows, parts, schema, sessions) => {
        // Without case, which of `b.test` and `B.test` names a host's group is SQLite's choice,
        // and it may choose differently in each part: then only the total is the same, and only
        // with no session open (a session belongs to a host by its exact name).
        const online: [string, string][] = schema === 'nocase' ? [] : sessions;
        const path = join(mkdtempSync(join(dir, `${files++}-`)), 'prosody.sqlite');
        const ddl = SCHEMAS[schema];
        if (ddl !== undefined) new Database(path).exec(ddl).close();
        writeProsodySqlite(path, rows);
        runsLogged();
        const whole = await sourceReport(
          new SqliteSource(path, undefined, undefined, { sqlite3 }),
          NOW,
          online,
        );
        const wholeRuns = runsLogged();
        const split = await sourceReport(
          new SqliteSource(path, undefined, undefined, { sqlite3, split: { parts, minRows: 0 } }),
          NOW,
          online,
        );
        const splitRuns = runsLogged();
        if (schema === 'nocase') assert.deepEqual(split.report.total, whole.report.total);
        else assert.deepEqual(split, whole);
        // The machine running the test may have one core: then the default is one process.
        assert.ok(wholeRuns.length >= 1);
        // The sample, then a count a range: at least two ranges once rowids can be sampled.
        if (rows.length >= 2) assert.ok(splitRuns.length >= 3, splitRuns.join('\n'));
        assert.ok(splitRuns.length <= parts + 1, splitRuns.join('\n'));
      },
    ),
    { numRuns: 40 },
  );
});

test('a table whose host or user may be NULL is counted whole, by one process after the sample', async () => {
  const path = join(mkdtempSync(join(dir, `${files++}-`)), 'prosody.sqlite');
  new Database(path)
    .exec(
      'CREATE TABLE prosody (host TEXT, user TEXT, store TEXT, key TEXT, type TEXT, value TEXT)',
    )
    .close();
  const rows: ProsodyRow[] = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'].map((user) => ({
    host: 'a.test',
    user,
    store: 'lastlog2',
    key: 'login',
    type: 'json',
    value: `{"timestamp":${NOW - 60}}`,
  }));
  writeProsodySqlite(path, rows);
  runsLogged();
  const split = await sourceReport(
    new SqliteSource(path, undefined, undefined, { sqlite3, split: { parts: 3, minRows: 0 } }),
    NOW,
    [],
  );
  assert.equal(runsLogged().length, 2);
  assert.equal(split.report.hosts['a.test']?.dau, 6);
});
