/**
 * One measured `--openmetrics` write (openmetrics-bench.ts): builds a report of N hosts, writes it
 * to stdout as before (one string) or streamed (chunks, at the reader's pace), and prints its peak
 * RSS, before and after the write, as JSON on stderr.
 *
 *   node --import tsx test/bench/openmetrics-child.ts before|streamed HOSTS
 */
import type { SourcedReport } from '../../main/core/activity-source.js';
import type { HostCounts } from '../../main/core/count-active.js';
import { openMetricsChunks } from '../../main/core/format-openmetrics.js';
import { formatOpenMetricsBeforeStreaming } from '../fixtures/openmetrics-before-streaming.js';

function counts(i: number): HostCounts {
  return {
    dau: i % 7,
    wau: i % 11,
    mau: i % 13,
    accounts: 13,
    new1d: 0,
    new7d: 1,
    new30d: 2,
    newestEvent: 1_795_536_000 - i,
    online: 3,
    liveKnown: true,
    skipped: 0,
    skippedByReason: { 'not-an-event': 0, malformed: 0, 'no-timestamp': 0 },
    excludedDisabled: 0,
    excludedNoAccount: 0,
    excludedByAuth: 0,
  } as HostCounts;
}

async function main(mode: string, n: number): Promise<void> {
  const hosts: Record<string, HostCounts> = {};
  for (let i = 0; i < n; i++) hosts[`host-${i}.example.org`] = counts(i);
  const report = {
    at: 1_795_536_000,
    hosts,
    total: counts(n),
    sources: ['bench'],
    notices: [],
    fetches: [],
  } as unknown as SourcedReport;
  const rssBeforeMb = process.resourceUsage().maxRSS / 1024;
  let bytes = 0;
  if (mode === 'before') {
    const text = formatOpenMetricsBeforeStreaming(report);
    bytes = Buffer.byteLength(text);
    process.stdout.write(text);
  } else {
    for (const chunk of openMetricsChunks(report)) {
      bytes += Buffer.byteLength(chunk);
      if (!process.stdout.write(chunk)) {
        await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
      }
    }
  }
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stderr.write(JSON.stringify({ mode, hosts: n, bytes, rssBeforeMb, peakRssMb }) + '\n');
}

void main(process.argv[2] ?? 'streamed', Number(process.argv[3] ?? 100_000));
