/**
 * Fuzz test over the readers (issue 15, "Proof"): property-based hostile values in SQLite rows (a
 * real SQLite file through the built CLI with --db), .dat files (internal storage through
 * --data-dir), the remote query's answer (its parser, fed directly, then counted and formatted)
 * and Prosody's config (its parser, and files through --config). Every run must end (exit 0 with
 * the rest counted, or exit 1 with one line), print valid --json and --openmetrics, and show no
 * raw control character in the table.
 *
 * The runs are few (the CLI is spawned three times per case) and the seed fixed, so that the test
 * is the same in every run and well under a minute; FUZZ_SEED=n and FUZZ_RUNS=n explore further.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { type ActivitySource, countSources } from '../../main/core/activity-source.js';
import { formatOpenMetrics } from '../../main/core/format-openmetrics.js';
import { formatJson, formatTable } from '../../main/core/format-report.js';
import { ok } from '../../main/core/failure.js';
import { feedQueryTuple } from '../../main/sources/feed-query-rows.js';
import { parseProsodyConfig } from '../../main/sources/prosody-config-parser.js';
import { encodeProsodyName } from '../../main/sources/prosody-name-encoding.js';
import { FORMAT_VERSION, parseRemoteQueryOutput } from '../../main/ssh/remote-query-reader.js';
import { writeProsodyInternal } from '../fixtures/prosody-internal.js';
import { activityRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import { luaString } from '../helpers/lua-data.js';
import { hostileName, invalidUtf8, numberText, numericValue } from './hostile-values.js';
import {
  CONTROL_HOST,
  NOW,
  assertEnded,
  assertOpenMetrics,
  checkEveryFormat,
  runCli,
} from './output-checks.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_203);
const RUNS = process.env.FUZZ_RUNS === undefined ? null : Number(process.env.FUZZ_RUNS);
const runs = (n: number) => ({
  seed: SEED,
  numRuns: RUNS ?? n,
  endOnFailure: true,
  includeErrorInReport: true,
});

const dir = mkdtempSync(join(tmpdir(), 'pau-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let cases = 0;
const fresh = (name: string) => join(dir, `${cases++}-${name}`);

/** Never the control host, whose count every run checks. */
const otherName = hostileName.filter((n) => n !== CONTROL_HOST);

// --- SQLite rows, through the built CLI with --db

const sqliteValue: fc.Arbitrary<string | Buffer> = fc.oneof(
  numberText.map((n) => `{"timestamp":${n}}`),
  numberText.map((n) => `{"timestamp":${n},"ip":"::1"}`),
  numberText,
  fc.tuple(otherName, numberText).map(([k, n]) => `{${JSON.stringify(k)}:${n}}`),
  otherName,
  fc.constantFrom('', '{}', '[]', 'null', '{"timestamp":null}', '{"timestamp":"1"}', '{'),
  invalidUtf8,
);

/** Any column hostile. */
const anyRow = fc.record({
  host: otherName,
  user: otherName,
  store: fc.oneof(fc.constantFrom('lastlog2', 'account_activity', 'accounts'), otherName),
  key: fc.oneof(fc.constantFrom('login', 'logout', 'registered', 'timestamp'), otherName),
  type: fc.oneof(fc.constantFrom('json', 'number', 'string', 'boolean'), otherName),
  value: sqliteValue,
});
/** The shapes Prosody writes, with hostile names and values: what reaches the counting. */
const lastlog2Row = fc.record({
  host: otherName,
  user: otherName,
  store: fc.constant('lastlog2'),
  key: fc.constantFrom('login', 'logout', 'registered'),
  type: fc.constant('json'),
  value: sqliteValue,
});
const activityRowOf = fc.record({
  host: otherName,
  user: otherName,
  store: fc.constant('account_activity'),
  key: fc.constant('timestamp'),
  type: fc.constantFrom('number', 'string', 'json'),
  value: fc.oneof(numberText, sqliteValue),
});
const accountsRow = fc.record({
  host: otherName,
  user: otherName,
  store: fc.constant('accounts'),
  key: fc.constantFrom('disabled', 'created', 'updated'),
  type: fc.constantFrom('boolean', 'number', 'string'),
  value: fc.oneof(fc.constantFrom('true', 'false', '1', ''), numberText, otherName),
});
const sqliteRow = fc.oneof(
  { arbitrary: lastlog2Row, weight: 5 },
  { arbitrary: activityRowOf, weight: 2 },
  { arbitrary: accountsRow, weight: 1 },
  { arbitrary: anyRow, weight: 2 },
);

type HostileRow = Record<'host' | 'user' | 'store' | 'key' | 'type', string> & {
  value: string | Buffer;
};

function writeHostileSqlite(path: string, rows: readonly HostileRow[]): void {
  writeProsodySqlite(path, [
    activityRow({ host: CONTROL_HOST, user: 'c', event: 'login', timestamp: NOW - 60 }),
  ]);
  const db = new Database(path);
  try {
    // A Buffer goes in as a BLOB; CAST keeps its bytes as TEXT, invalid UTF-8 and all.
    const insert = db.prepare(
      'INSERT INTO prosody (host, user, store, key, type, value) VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT))',
    );
    for (const r of rows) {
      insert.run(r.host, r.user, r.store, r.key, r.type, r.value);
    }
  } finally {
    db.close();
  }
}

test('hostile SQLite rows: every run ends, with valid outputs and the rest counted', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(sqliteRow, { minLength: 1, maxLength: 6 }), async (rows) => {
      const path = fresh('prosody.sqlite');
      writeHostileSqlite(path, rows);
      const statuses = await checkEveryFormat(['--db', path], `--db with ${JSON.stringify(rows)}`);
      // Rows are data: none of them makes the whole count fail.
      assert.deepEqual(statuses, [0, 0, 0]);
    }),
    runs(6),
  );
});

// --- .dat files, through the built CLI with --data-dir

const luaNumber = numberText;
const datContent: fc.Arbitrary<string | Buffer> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .tuple(fc.constantFrom('login', 'logout', 'registered'), luaNumber)
      .map(([k, n]) => `return {\n\t[${luaString(k)}] = {\n\t\t["timestamp"] = ${n};\n\t};\n};\n`),
  },
  fc
    .tuple(otherName, luaNumber)
    .map(([k, n]) => `return { [${luaString(k)}] = { ["timestamp"] = ${n} } };\n`),
  fc.tuple(otherName, otherName).map(([k, v]) => `return { [${luaString(k)}] = ${luaString(v)} };`),
  luaNumber.map((n) => `return { ["timestamp"] = ${n}; };\n`),
  luaNumber.map((n) => `return ${n};`),
  fc.nat({ max: 3000 }).map((d) => `return ${'{'.repeat(d)}${'}'.repeat(d)};`),
  fc.constantFrom('', 'return', 'return {', 'os.execute("touch /tmp/pau-pwned")', 'return nil;'),
  otherName,
  invalidUtf8,
  invalidUtf8.map((b) =>
    Buffer.concat([
      Buffer.from('return { ["login"] = { ["timestamp"] = "'),
      b,
      Buffer.from('" } };'),
    ]),
  ),
);

const datFile = fc.record({
  host: otherName,
  store: fc.oneof(
    { weight: 4, arbitrary: fc.constant('lastlog2') },
    { weight: 1, arbitrary: fc.constantFrom('account_activity', 'accounts') },
  ),
  user: otherName,
  content: datContent,
  // Raw folder names that are not datamanager's encoding at all.
  rawHost: fc.option(fc.constantFrom('%zz', '%00', '%2', '..', '%2e%2e', '%2f', 'UPPER%2E'), {
    nil: undefined,
  }),
});

test('hostile .dat files: every run ends, with valid outputs and the rest counted', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(datFile, { minLength: 1, maxLength: 6 }), async (files) => {
      const data = fresh('data');
      writeProsodyInternal(data, [
        { host: CONTROL_HOST, user: 'c', event: 'login', timestamp: NOW - 60 },
      ]);
      for (const f of files) {
        const folder = join(data, f.rawHost ?? encodeProsodyName(f.host), f.store);
        mkdirSync(folder, { recursive: true });
        writeFileSync(join(folder, `${encodeProsodyName(f.user)}.dat`), f.content);
      }
      const statuses = await checkEveryFormat(
        ['--data-dir', data],
        `--data-dir with ${JSON.stringify(files)}`,
      );
      assert.deepEqual(statuses, [0, 0, 0]);
    }),
    runs(6),
  );
});

// --- the remote query's answer, its parser fed directly, then counted and formatted

const jsonNumber = numberText.filter((t) => {
  try {
    return typeof JSON.parse(t) === 'number';
  } catch {
    return false;
  }
});
const remoteValue: fc.Arbitrary<unknown> = fc.oneof(
  jsonNumber.map((t) => JSON.parse(t) as number),
  otherName,
  fc.constantFrom(null, true, false, 0, 1, 2, 3, -1, [], {}, '1'),
);
const remoteRow: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(otherName, otherName, jsonNumber, fc.oneof(fc.constant(null), jsonNumber))
    .map(([h, u, last, reg]) =>
      JSON.stringify([h, u, JSON.parse(last), reg === null ? null : JSON.parse(reg), 1]),
    ),
  fc
    .tuple(otherName, otherName, remoteValue, remoteValue, remoteValue)
    .map((r) => JSON.stringify(r)),
  fc
    .tuple(otherName, otherName, remoteValue, remoteValue, fc.constantFrom(0, 1, 2))
    .map((r) => JSON.stringify(r)),
  fc
    .tuple(otherName, jsonNumber, jsonNumber)
    .map(([h, a, b]) => `["${h.replace(/["\\]/g, '')}","u",${a},${b},1]`),
  fc
    .tuple(otherName, fc.array(remoteValue, { minLength: 8, maxLength: 9 }))
    .map(([h, r]) => JSON.stringify([0, h, ...r])),
  fc.string({ maxLength: 40 }),
);
const remoteAnswer: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.array(remoteRow, { maxLength: 8 }), jsonNumber, fc.constantFrom('1 2', '2 7', ''))
    .map(
      ([rows, now, header]) =>
        `PAU:before:${header}\nPAU:v${FORMAT_VERSION}:${now}:13.0.1\n${rows.join('\n')}\nPAU:after:${header}\n`,
    ),
  fc
    .string({ maxLength: 200 })
    .map((s) => `PAU:before:1 2\nPAU:v${FORMAT_VERSION}:1\n${s}\nPAU:after:1 2`),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

test('hostile remote answers: the parser never throws, and what it accepts counts and formats validly', async () => {
  await fc.assert(
    fc.asyncProperty(remoteAnswer, async (text) => {
      const out = parseRemoteQueryOutput(text);
      if (out.kind !== 'rows') return;
      const source: ActivitySource = {
        label: 'fuzzed answer',
        async feed(tally) {
          tally.noteFacts(null, { version: out.version ?? '0.12.3' });
          for (const a of out.accounts) feedQueryTuple(tally, a);
          feedQueryTuple(tally, [CONTROL_HOST, 'c', NOW - 60, null, 0, 0, 0, 1, 0] as never);
          return ok(undefined);
        },
      };
      const counted = await countSources([source], NOW);
      assert.ok(counted.ok, JSON.stringify(counted));
      // eslint-disable-next-line no-control-regex -- control characters are what it finds
      assert.doesNotMatch(formatTable(counted.value), /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
      const json = JSON.parse(formatJson(counted.value)) as { total: { dau: number } };
      assert.ok(json.total.dau >= 1);
      assertOpenMetrics(formatOpenMetrics(counted.value));
    }),
    runs(300),
  );
});

// --- Prosody's config: the parser fed directly, then files through --config

const luaToken = fc.oneof(
  fc.constantFrom(
    'VirtualHost',
    'Component',
    'Include',
    'storage',
    'sql',
    'data_path',
    'default_storage',
    'authentication',
    '=',
    '{',
    '}',
    '[',
    ']',
    '(',
    ')',
    ';',
    ',',
    '..',
    '...',
    '--',
    '--[[',
    ']]',
    '[==[',
    '"',
    "'",
    '\\',
    'function',
    'end',
    'if',
    'then',
    'local',
    'return',
    '\n',
    ' ',
    '#!',
  ),
  numberText,
  otherName.map(luaString),
  otherName,
);
const configText = fc.oneof(
  fc.array(luaToken, { maxLength: 40 }).map((t) => t.join(' ')),
  fc.array(luaToken, { maxLength: 40 }).map((t) => t.join('')),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.nat({ max: 5000 }).map((d) => `x = ${'{'.repeat(d)}`),
);

test('hostile config text: the parser never throws and says where it stopped, if it did', () => {
  fc.assert(
    fc.property(configText, (text) => {
      const facts = parseProsodyConfig(text);
      assert.ok(Array.isArray(facts.hosts));
      if (facts.unreadable) assert.ok(facts.unreadable.line >= 1);
    }),
    runs(400),
  );
});

test('hostile configs through --config: every run ends, with valid outputs', async () => {
  const data = fresh('config-data');
  writeProsodyInternal(data, [
    { host: CONTROL_HOST, user: 'c', event: 'login', timestamp: NOW - 60 },
  ]);
  await fc.assert(
    fc.asyncProperty(configText, fc.boolean(), async (text, prefixed) => {
      const path = fresh('prosody.cfg.lua');
      writeFileSync(path, prefixed ? `data_path = ${luaString(data)}\n${text}` : text);
      const statuses = await checkEveryFormat(
        ['--config', path],
        `--config with ${JSON.stringify(text)}`,
      );
      assert.equal(new Set(statuses).size, 1, `${statuses}`);
    }),
    runs(4),
  );
});

test('special files as --config, --db and settings end with one line', async () => {
  const fifo = fresh('fifo');
  execFileSync('mkfifo', [fifo]);
  const loop = fresh('loop');
  symlinkSync(loop, loop);
  const socket = fresh('socket');
  const server = createServer();
  await new Promise<void>((r) => server.listen(socket, r));
  const folder = fresh('folder');
  mkdirSync(folder);
  try {
    for (const special of [fifo, loop, socket, folder, '/dev/zero', '/dev/null']) {
      for (const option of ['--config', '--db']) {
        const r = await runCli([option, special, '--json']);
        assertEnded(r, `${option} ${special}`);
        if (r.status === 0) JSON.parse(r.stdout);
      }
      const state = fresh('state');
      mkdirSync(state);
      symlinkSync(special, join(state, 'settings.json'));
      const r = await runCli(['--profile', 'p', '--state-dir', state]);
      assertEnded(r, `settings.json -> ${special}`);
    }
  } finally {
    server.close();
  }
});

test('numbers as text are read the way the checks assume', () => {
  assert.equal(numericValue('1e400'), Infinity);
  assert.ok(Number.isNaN(numericValue('')));
});
