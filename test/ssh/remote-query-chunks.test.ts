/**
 * The remote query's changes-only scan in parts (remote-query-command.ts changesInChunks), run as
 * the server runs it: the real script by `sh` (dash here), the real sqlite3 command, real SQLite
 * files in rollback-journal mode. Its answer is the one statement's (CHANGES) for any count of
 * parts and any spread of rowids, and a part that fails fails the whole command.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { type ProsodyRow, writeProsodySqlite } from '../fixtures/prosody-sqlite.js';
import {
  CHANGES,
  CHUNK_FROM_BYTES,
  CHUNKS,
  remoteQueryCommand,
} from '../../main/ssh/remote-query-command.js';

const dir = mkdtempSync(join(tmpdir(), 'pau-chunks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SINCE = 1_795_536_000;
/** A file state no file has: the script never answers "unchanged". */
const OTHER_STATE = '1.1.0.64.32.32.0.0.0.1.1.1.1.1';

/** A sqlite3 that logs each run (and fails on the part named by FAIL_PART), then runs the real one. */
const bin = mkdtempSync(join(dir, 'bin-'));
const runs = join(bin, 'runs.log');
writeFileSync(
  join(bin, 'sqlite3'),
  `#!/bin/sh
echo "run $PPID" >> '${runs}'
case "$*" in *"CASE WHEN $FAIL_PART = 1 THEN"*) echo '[5,"partial"]'; exit 3;; esac
# A slow part: every worker has claimed one before the first ends.
case "$*" in *"CASE WHEN"*) [ -z "$SLOW_PARTS" ] || sleep "$SLOW_PARTS";; esac
exec /usr/bin/sqlite3 "$@"
`,
);
chmodSync(join(bin, 'sqlite3'), 0o755);

/** Where the script makes its folder for the parts' answers (mktemp -d reads TMPDIR). */
const scratch = mkdtempSync(join(dir, 'tmp-'));

/** Rows at the given rowids (any, negative and far apart too), in one rollback-journal file. */
function database(name: string, rows: ReadonlyArray<[rowid: number, row: ProsodyRow]>): string {
  const path = join(dir, `${name}.sqlite`);
  writeProsodySqlite(path, []);
  const db = new Database(path);
  try {
    const insert = db.prepare(
      'INSERT INTO prosody (rowid, host, user, store, key, type, value) VALUES (?, @host, @user, @store, @key, @type, @value)',
    );
    db.transaction(() => {
      for (const [rowid, row] of rows) insert.run(rowid, row);
    })();
  } finally {
    db.close();
  }
  return path;
}

/** What the server prints but its PAU: lines, sorted: the accounts, the changed, the digest. */
const answer = (out: string) =>
  out
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('PAU:'))
    .sort();

/** The server's core count as `nproc` tells it (unset: this machine's). */
let cores: number | undefined;

function chunked(
  path: string,
  chunks: number,
  afterRowid: number,
  failPart = 0,
  fromBytes = 0,
): { status: number | null; lines: string[]; runs: number; workers: number } {
  writeFileSync(runs, '');
  const command = remoteQueryCommand(path, SINCE, OTHER_STATE, afterRowid, chunks, fromBytes)!;
  const tools = cores === undefined ? bin : coresBin(cores);
  const run = spawnSync('sh', ['-c', command], {
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: `${tools}:${bin}:/usr/bin:/bin`,
      FAIL_PART: String(failPart),
      TMPDIR: scratch,
      SLOW_PARTS: cores === undefined ? '' : '0.3',
    },
  });
  const logged = readFileSync(runs, 'utf8').split('\n').slice(0, -1);
  return {
    status: run.status,
    lines: answer(run.stdout),
    runs: logged.length,
    // The parts' sqlite3 runs by parent: each worker is a shell of its own.
    workers: new Set(logged.slice(0, -1).map((l) => l.split(' ')[1])).size,
  };
}

/** A folder whose `nproc` says `n`. */
function coresBin(n: number): string {
  const folder = join(dir, `cores-${n}`);
  if (!existsSync(folder)) {
    mkdirSync(folder);
    writeFileSync(join(folder, 'nproc'), `#!/bin/sh\necho ${n}\n`, { mode: 0o755 });
  }
  return folder;
}

function oneStatement(path: string, afterRowid: number): string[] {
  const sql = CHANGES.replace(/SINCE/g, String(SINCE)).replace(/AFTER_ROWID/g, String(afterRowid));
  const run = spawnSync('/usr/bin/sqlite3', ['-readonly', '-batch', '-bail', '-list', path, sql], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return answer(run.stdout);
}

/** A small deterministic generator (mulberry32), so that a failure can be run again. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ (t >>> 14);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rows of every kind the scan sorts: counted, digested only, left out, odd. */
function randomRows(seed: number, count: number): ProsodyRow[] {
  const next = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const time = () => SINCE + Math.floor((next() - 0.8) * 40 * 86400);
  return Array.from({ length: count }, () => {
    const host = pick(['a.test', 'b.test']);
    const user = `u${Math.floor(next() * 40)}${pick(['', "o'q", '"x"', 'é'])}`;
    const [store, key, type, value] = pick<[string, string, string, () => string]>([
      ['lastlog2', 'login', 'json', () => `{"timestamp":${time()}}`],
      ['lastlog2', 'logout', 'json', () => `{"ip":"192.0.2.1","timestamp":${time()}.5}`],
      ['lastlog2', 'registered', 'json', () => `{"timestamp":${time() / 1e9}e9}`],
      ['lastlog2', 'login', 'json', () => 'not json'],
      ['lastlog2', 'other', 'json', () => `{"timestamp":${time()}}`],
      ['accounts', 'updated', 'number', () => String(time())],
      ['accounts', 'disabled', 'boolean', () => pick(['true', 'false'])],
      ['accounts', 'stored_key', 'string', () => `k${next()}`],
      ['accounts', 'salt', 'string', () => `s${next()}`],
      ['account_roles', '_default', 'string', () => 'prosody:member'],
      ['roster', 'x', 'json', () => '{}'],
    ]);
    return { host, user, store, key, type, value: value() };
  });
}

test('in any count of parts, the parts give the one statement’s answer', () => {
  for (const [seed, chunks] of [
    [1, 1],
    [2, 2],
    [3, 3],
    [4, CHUNKS],
    [5, 13],
  ] as const) {
    const rows = randomRows(seed, 400);
    const path = database(
      `random${seed}`,
      rows.map((row, i) => [i + 1, row]),
    );
    const afterRowid = 350;
    const got = chunked(path, chunks, afterRowid);
    assert.equal(got.status, 0, `seed ${seed}`);
    assert.equal(got.runs, chunks + 1, `seed ${seed}: ${chunks} parts and the last statement`);
    assert.deepEqual(got.lines, oneStatement(path, afterRowid), `seed ${seed}, ${chunks} parts`);
    assert.ok(
      got.lines.some((l) => l.startsWith('[2,')),
      `seed ${seed}: some accounts changed`,
    );
  }
});

test('rowids far apart, negative or zero each fall in exactly one part', () => {
  const rows = randomRows(7, 60);
  const rowids = [-9_000_000_000_000, -5, 0, 1, 2, 3, 1000, 1001, 50_000, 9_000_000_000_000_000];
  const path = database(
    'gaps',
    rows.map((row, i) => [rowids[i % rowids.length]! + 1e6 * Math.floor(i / rowids.length), row]),
  );
  for (const chunks of [2, CHUNKS, 7]) {
    const got = chunked(path, chunks, 1001);
    assert.equal(got.status, 0);
    assert.deepEqual(got.lines, oneStatement(path, 1001), `${chunks} parts`);
  }
});

test('an empty table and a table of one row give the one statement’s answer', () => {
  const empty = database('empty', []);
  assert.deepEqual(chunked(empty, CHUNKS, 0).lines, ['[1,0,0]']);
  assert.deepEqual(chunked(empty, CHUNKS, 0).lines, oneStatement(empty, 0));
  const one = database('one', [
    [1, { ...randomRows(9, 1)[0]!, store: 'lastlog2', key: 'login', value: '{"timestamp":1}' }],
  ]);
  for (const afterRowid of [0, 1]) {
    const got = chunked(one, CHUNKS, afterRowid);
    assert.equal(got.status, 0);
    assert.deepEqual(got.lines, oneStatement(one, afterRowid));
  }
});

test('half the server’s cores take the parts, two to four, with the one statement’s answer', () => {
  const path = database(
    'cores',
    randomRows(21, 300).map((row, i) => [i + 1, row]),
  );
  const truth = oneStatement(path, 250);
  try {
    for (const [n, workers] of [
      [1, 2],
      [2, 2],
      [6, 3],
      [64, 4],
    ] as const) {
      cores = n;
      const got = chunked(path, CHUNKS, 250);
      assert.equal(got.status, 0, `${n} cores`);
      assert.deepEqual(got.lines, truth, `${n} cores`);
      assert.equal(got.workers, workers, `${n} cores`);
    }
    cores = 64;
    const failed = chunked(path, CHUNKS, 250, 2);
    assert.equal(failed.status, 3, 'a failing part fails the command with four workers too');
  } finally {
    cores = undefined;
  }
});

test('a part whose sqlite3 fails fails the whole command, with no digest', () => {
  const path = database(
    'failing',
    randomRows(11, 200).map((row, i) => [i + 1, row]),
  );
  for (const part of [1, 4, CHUNKS]) {
    const got = chunked(path, CHUNKS, 150, part);
    assert.equal(got.status, 3, `part ${part}`);
    assert.deepEqual(
      got.lines.filter((l) => l.startsWith('[1,')),
      [],
      `part ${part}: no digest printed`,
    );
  }
});

test('a file smaller than the threshold is scanned by one statement, from its size on in parts', () => {
  const path = database(
    'threshold',
    randomRows(13, 300).map((row, i) => [i + 1, row]),
  );
  const size = statSync(path).size;
  const whole = oneStatement(path, 250);
  for (const [fromBytes, runs] of [
    [CHUNK_FROM_BYTES, 1],
    [size + 1, 1],
    [size, CHUNKS + 1],
    [0, CHUNKS + 1],
  ] as const) {
    const got = chunked(path, CHUNKS, 250, 0, fromBytes);
    assert.equal(got.status, 0, `from ${fromBytes} B`);
    assert.equal(got.runs, runs, `a ${size} B file, parts from ${fromBytes} B`);
    assert.deepEqual(got.lines, whole, `parts from ${fromBytes} B`);
  }
  assert.throws(() => remoteQueryCommand(path, SINCE, OTHER_STATE, 250, CHUNKS, -1), RangeError);
  assert.throws(() => remoteQueryCommand(path, SINCE, OTHER_STATE, 250, CHUNKS, 0.5), RangeError);
});

test("the parts' folder is gone when the script ends, whether it succeeded or a part failed", () => {
  const path = database(
    'folder',
    randomRows(17, 200).map((row, i) => [i + 1, row]),
  );
  for (const part of [0, 1, CHUNKS]) {
    const got = chunked(path, CHUNKS, 150, part);
    assert.equal(got.status, part === 0 ? 0 : 3, `part ${part} failing`);
    assert.equal(got.runs, part === 0 ? CHUNKS + 1 : got.runs, 'the parts ran');
    assert.deepEqual(readdirSync(scratch), [], `part ${part} failing: nothing left behind`);
  }
});
