/**
 * The live view with Prosody 0.12's SQL storage (SQLite), read over SSH by the remote query: the
 * open sessions join the records by the query's user column, and the figures equal the module's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import { type LiveBench, startLiveBench } from '../helpers/live-server.js';

let bench: LiveBench;

before(async () => {
  bench = await startLiveBench('0.12', 'sql');
});

after(async () => {
  await bench?.close();
});

test('with SQL storage, users online with 40-day-old records count as the module counts them', async () => {
  const gauges = (await bench.prosody.metrics()).get('a.test');
  assert.deepEqual(gauges, { d1: 2, d7: 3, d30: 3 });
  const run = await runBuiltCliAsync([
    ...bench.cliBase(bench.admin),
    '--method',
    'query',
    '--admin-socket',
    bench.prosody.adminSocketPath,
    '--json',
  ]);
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  const a = out.hosts['a.test'];
  assert.deepEqual([a.dau, a.wau, a.mau, a.online], [2, 3, 3, 3]);
  assert.match(out.fetch[0].method, /query/);
  assert.equal(out.live.hosts['a.test'].comparison, 'equal');
});

test('counted from the account cache, users online count as the module counts them', async () => {
  const gauges = (await bench.prosody.metrics()).get('a.test');
  assert.deepEqual(gauges, { d1: 2, d7: 3, d30: 3 });
  const state = mkdtempSync(join(tmpdir(), 'pau-live-cache-'));
  try {
    const args = [
      ...bench.cliBase(bench.admin),
      '--method',
      'query',
      '--admin-socket',
      bench.prosody.adminSocketPath,
      '--state-dir',
      state,
      '--json',
    ];
    const methods: string[] = [];
    const figures: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      const run = await runBuiltCliAsync(args);
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout);
      const a = out.hosts['a.test'];
      assert.deepEqual([a.dau, a.wau, a.mau, a.online], [2, 3, 3, 3], `run ${i + 1}`);
      assert.equal(out.live.hosts['a.test'].comparison, 'equal');
      methods.push(out.fetch[0].method);
      figures.push({ hosts: out.hosts, total: out.total });
    }
    // Every figure, accounts and skips included, as the read of every account gave them.
    assert.deepEqual(figures[1], figures[0]);
    // The second count came from the cache (nothing written since, or only the changes).
    assert.match(methods[1]!, /counted from the cache|changes only/, methods.join(' / '));
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
