/**
 * One measured count, run by the benchmark in a fresh process (bundled to plain JavaScript first,
 * so that no TypeScript loader sits in the figures): `count-child sqlite|internal PATH NOW`.
 * Prints one JSON line: the time countSources took, the process's peak RSS and the figures.
 */
import { countSources } from '../../main/core/activity-source.js';
import type { ActivitySource } from '../../main/core/activity-source.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';

export interface ChildResult {
  countSeconds: number;
  /** getrusage's ru_maxrss: the peak resident set of this process, in KiB. */
  maxRssKb: number;
  hosts: Record<string, Record<string, unknown>>;
}

async function main(argv: string[]): Promise<void> {
  const [kind, path, now] = argv;
  if ((kind !== 'sqlite' && kind !== 'internal') || !path || !now) {
    throw new Error('usage: count-child sqlite|internal PATH NOW');
  }
  const source: ActivitySource =
    kind === 'sqlite' ? new SqliteSource(path) : new InternalStorageSource(path);
  const started = process.hrtime.bigint();
  const result = await countSources([source], Number(now));
  const countSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!result.ok) throw new Error(`count failed: ${JSON.stringify(result.failure)}`);
  const out: ChildResult = {
    countSeconds,
    maxRssKb: process.resourceUsage().maxRSS,
    hosts: result.value.hosts as unknown as ChildResult['hosts'],
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
