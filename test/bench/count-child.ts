/**
 * One measured count, run by the benchmark in a fresh process (bundled to plain JavaScript first,
 * so that no TypeScript loader sits in the figures): `count-child sqlite|internal PATH NOW`.
 * Prints one JSON line: the time countSources took, the process's peak RSS and the figures.
 */
import { readFileSync } from 'node:fs';
import { countSources } from '../../main/core/activity-source.js';
import type { ActivitySource } from '../../main/core/activity-source.js';
import { InternalStorageSource } from '../../main/sources/internal-storage-source.js';
import { SqliteSource } from '../../main/sources/sqlite-source.js';

export interface ChildResult {
  countSeconds: number;
  /** The peak resident set of this process, in KiB (see peakRssKb). */
  maxRssKb: number;
  hosts: Record<string, Record<string, unknown>>;
}

/**
 * Linux's VmHWM: the peak of this process's own memory since exec. Not getrusage's ru_maxrss,
 * which Linux carries over from the process that forked this one: a child of a benchmark that
 * had just generated a million accounts in memory reported that memory as its own.
 */
export function peakRssKb(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // Not Linux.
  }
  return process.resourceUsage().maxRSS;
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
    maxRssKb: peakRssKb(),
    hosts: result.value.hosts as unknown as ChildResult['hosts'],
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
