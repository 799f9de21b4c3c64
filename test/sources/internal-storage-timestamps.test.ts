/**
 * Timestamps in lastlog2 `.dat` files in every form Lua data can hold them. A usable one (finite,
 * within a Date's range, fractions included) is an event; a number beyond that range is a
 * malformed record, exactly as the SQL sources classify it (core/activity-record.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { countSources } from '../../main/core/activity-source.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import { lastlog2Records } from '../../main/sources/internal-storage-records.js';
import { writeDatFile } from '../fixtures/prosody-internal.js';

const NOW = 1_795_536_000;
const root = mkdtempSync(join(tmpdir(), 'pau-dat-timestamps-'));
after(() => rmSync(root, { recursive: true, force: true }));

const file = (ts: string) => `return {\n\t["login"] = {\n\t\t["timestamp"] = ${ts};\n\t};\n};\n`;

const cases: Array<{ written: string; expected: number | 'malformed' | 'no-timestamp' }> = [
  { written: '1795535940', expected: 1795535940 },
  { written: '1796302731.5', expected: 1796302731.5 },
  { written: '1.7955359e9', expected: 1.7955359e9 },
  { written: '8.64e12', expected: 8.64e12 },
  { written: '-8.64e12', expected: -8.64e12 },
  { written: '8.6400000001e12', expected: 'malformed' },
  { written: '1e308', expected: 'malformed' },
  { written: '-1e308', expected: 'malformed' },
  { written: '1e400', expected: 'malformed' },
  { written: '(1/0)', expected: 'malformed' },
  { written: '(-1/0)', expected: 'malformed' },
  { written: '(0/0)', expected: 'malformed' },
  { written: '0x7fffffffffffffff', expected: 'malformed' },
  { written: 'math.huge', expected: 'malformed' },
  { written: '"1795535940"', expected: 'no-timestamp' },
];

for (const c of cases) {
  test(`a login timestamp written ${c.written} is ${typeof c.expected === 'number' ? 'an event' : c.expected}`, () => {
    const records = lastlog2Records('a.test', 'alice', file(c.written));
    assert.equal(records.length, 1);
    const [r] = records;
    if (typeof c.expected === 'number') {
      assert.deepEqual(r, { host: 'a.test', user: 'alice', event: 'login', timestamp: c.expected });
    } else {
      assert.equal(r && 'skipped' in r ? r.skipped : r, c.expected);
    }
  });
}

test('a file with an out-of-range timestamp counts as malformed; a fractional one counts as active', async () => {
  const dir = mkdtempSync(join(root, 'data-'));
  writeDatFile(dir, 'a.test', 'lastlog2', 'frac', file(String(NOW - 0.5)));
  writeDatFile(dir, 'a.test', 'lastlog2', 'huge', file('1e308'));
  writeDatFile(dir, 'a.test', 'lastlog2', 'inf', file('1e400'));
  writeDatFile(dir, 'a.test', 'lastlog2', 'neg', file('-1e308'));
  const r = await countSources([new InternalStorageSource(dir)], NOW);
  assert.ok(r.ok, JSON.stringify(r));
  const a = r.value.hosts['a.test']!;
  assert.deepEqual([a.dau, a.accounts], [1, 1]);
  assert.equal(a.newestEvent, NOW - 0.5);
  assert.deepEqual(a.skippedByReason, { 'not-an-event': 0, malformed: 3, 'no-timestamp': 0 });
});
