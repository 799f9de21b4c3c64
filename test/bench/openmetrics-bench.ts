/**
 * `--openmetrics` at 100 k hosts (issue 15): peak RSS of writing the text as one string (before)
 * against writing it as it is made (now), side by side, each in a fresh process reading the same
 * report, its stdout a pipe drained by this process as a reader would.
 *
 *   npm run bench -- --openmetrics-only [--sizes 100k]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fmtCount, table } from './bench-util.js';

const CHILD = join(__dirname, 'openmetrics-child.ts');

export interface OpenMetricsCase {
  hosts: number;
  bytes: number;
  /** Peak RSS after the report was built, before the write. */
  reportRssMb: number;
  beforePeakRssMb: number;
  streamedPeakRssMb: number;
}

interface ChildFigures {
  bytes: number;
  rssBeforeMb: number;
  peakRssMb: number;
}

function runChild(mode: 'before' | 'streamed', hosts: number): Promise<ChildFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, String(hosts)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.resume();
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0)
        return reject(new Error(`openmetrics-child ${mode} exited ${code}: ${stderr}`));
      resolve(JSON.parse(stderr.trim().split('\n').pop()!) as ChildFigures);
    });
  });
}

export async function benchOpenMetrics(
  sizes: number[],
  log: (line: string) => void,
): Promise<OpenMetricsCase[]> {
  const cases: OpenMetricsCase[] = [];
  for (const hosts of sizes) {
    log(`openmetrics: ${fmtCount(hosts)} hosts, as one string and streamed`);
    const before = await runChild('before', hosts);
    const streamed = await runChild('streamed', hosts);
    if (before.bytes !== streamed.bytes) {
      throw new Error(`openmetrics: ${before.bytes} bytes before, ${streamed.bytes} streamed`);
    }
    cases.push({
      hosts,
      bytes: streamed.bytes,
      reportRssMb: streamed.rssBeforeMb,
      beforePeakRssMb: before.peakRssMb,
      streamedPeakRssMb: streamed.peakRssMb,
    });
  }
  return cases;
}

export function openMetricsReport(cases: OpenMetricsCase[]): string {
  const mb = (n: number) => `${Math.round(n)} MB`;
  return (
    '--openmetrics, peak RSS of the whole process (report built, then written to a pipe)\n' +
    table([
      ['hosts', 'output', 'report alone', 'one string (before)', 'streamed (now)'],
      ...cases.map((c) => [
        fmtCount(c.hosts),
        mb(c.bytes / 1024 / 1024),
        mb(c.reportRssMb),
        mb(c.beforePeakRssMb),
        mb(c.streamedPeakRssMb),
      ]),
    ])
  );
}
