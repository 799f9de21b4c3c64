/**
 * The live view against a real Prosody 13.0 (with the prosody-modules of its time), reached only
 * through a real sshd: open sessions count as its mod_measure_active_users counts them, and online
 * and module health come through the same admin socket.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runBuiltCliAsync } from '../fixtures/run-built-cli.js';
import { type LiveBench, startLiveBench } from '../helpers/live-server.js';

let bench: LiveBench;

before(async () => {
  bench = await startLiveBench('13');
});

after(async () => {
  await bench?.close();
});

async function countJson(): Promise<{
  hosts: Record<string, { dau: number; wau: number; mau: number; online: number | null }>;
  live: {
    known: boolean;
    hosts: Record<string, { comparison: string; activityModuleMissing: boolean }>;
  };
}> {
  const run = await runBuiltCliAsync([
    ...bench.cliBase(bench.admin),
    '--admin-socket',
    bench.prosody.adminSocketPath,
    '--json',
  ]);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

test('on Prosody 13, figures with open sessions equal the module\u2019s gauges', async () => {
  const gauges = (await bench.prosody.metrics()).get('a.test');
  assert.ok(gauges, 'the module publishes gauges for a.test');
  assert.ok(
    gauges.d30 >= 2,
    `the two online accounts with old records count (got ${JSON.stringify(gauges)})`,
  );
  const out = await countJson();
  const a = out.hosts['a.test']!;
  assert.deepEqual({ d1: a.dau, d7: a.wau, d30: a.mau }, gauges);
  assert.equal(out.live.hosts['a.test']!.comparison, 'equal');
});

test('on Prosody 13, online counts each connected account once', async () => {
  const out = await countJson();
  assert.equal(out.hosts['a.test']!.online, 3);
  assert.equal(out.hosts['b.test']!.online, 1);
});

test('on Prosody 13, a host with mod_lastlog2 disabled is reported', async () => {
  const out = await countJson();
  assert.equal(out.live.hosts['b.test']!.activityModuleMissing, true);
  assert.equal(out.live.hosts['a.test']!.activityModuleMissing, false);
});
