import { SKIP_REASONS, type SkipReason } from './activity-record.js';
import type { SourcedReport } from './activity-source.js';
import type { FetchInfo, HostCounts } from './count-active.js';
import { formatTime } from './parse-time.js';
import { liveLines } from './format-live.js';
import { showControls } from './terminal-text.js';

const REASON_TEXT: Record<SkipReason, string> = {
  'not-an-event': 'not a login/logout/registration (e.g. a component\u2019s message rows)',
  malformed: 'not readable as data',
  'no-timestamp': 'without a numeric timestamp',
};

/** "Skipped 3 records: 2 not a login/…, 1 not readable as data." or null when none. */
export function describeSkipped(counts: HostCounts): string | null {
  if (counts.skipped === 0) return null;
  const parts = SKIP_REASONS.filter((r) => counts.skippedByReason[r] > 0).map(
    (r) => `${counts.skippedByReason[r]} ${REASON_TEXT[r]}`,
  );
  const noun = counts.skipped === 1 ? 'record' : 'records';
  return `Skipped ${counts.skipped} ${noun}: ${parts.join(', ')}.`;
}

function pad(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
    .join('  ')
    .trimEnd();
}

/** The default, human-readable output. */
export function formatTable(report: SourcedReport): string {
  const withOnline = report.live?.known === true;
  const header = ['HOST', 'DAU', 'WAU', 'MAU', 'ACCOUNTS', 'NEW 1D/7D/30D', 'NEWEST EVENT'];
  if (withOnline) header.splice(4, 0, 'ONLINE');
  const row = (name: string, c: HostCounts): string[] => {
    const cells = [
      name,
      String(c.dau),
      String(c.wau),
      String(c.mau),
      String(c.accounts),
      `${c.new1d}/${c.new7d}/${c.new30d}`,
      c.newestEvent === null ? '-' : formatTime(c.newestEvent),
    ];
    if (withOnline) cells.splice(4, 0, c.online === null ? '?' : String(c.online));
    return cells;
  };
  // Shown only where Prosody 13's rule left someone out, so 0.12 tables stay as they were.
  const leftOut = hasExclusions(report.total);
  if (leftOut) header.push('LEFT OUT DIS/NONE');
  const withLeftOut = (cells: string[], c: HostCounts): string[] =>
    leftOut ? [...cells, `${c.excludedDisabled}/${c.excludedNoAccount + c.excludedByAuth}`] : cells;
  // Shown only when counting as of a past --at left someone unknowable.
  const later = (report.total.notKnowable ?? 0) > 0;
  if (later) header.push('NOT KNOWABLE');
  const cellsOf = (name: string, c: HostCounts): string[] => {
    const cells = withLeftOut(row(name, c), c);
    return later ? [...cells, String(c.notKnowable ?? 0)] : cells;
  };
  // Names shown escaped here too, so that the columns are as wide as what the terminal shows.
  const rows = Object.entries(report.hosts).map(([name, c]) => cellsOf(showControls(name), c));
  const total = cellsOf('TOTAL', report.total);
  const all = [header, ...rows, total];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const lines = [
    `Active users as of ${formatTime(report.at)}, from ${report.sources.join(' and ')}`,
    '',
    pad(header, widths),
    ...rows.map((r) => pad(r, widths)),
    pad(total, widths),
  ];
  const skipped = describeSkipped(report.total);
  if (skipped) lines.push('', skipped);
  for (const notice of report.notices) lines.push('', `Note: ${notice}`);
  for (const fetch of report.fetches) lines.push('', formatFetch(fetch));
  const live = liveLines(report);
  if (live.length > 0) lines.push('', ...live);
  lines.push(
    '',
    withOnline
      ? 'DAU/WAU/MAU: accounts that logged in or out within the last 1, 7 and 30 days, or are online now (as Prosody counts them).'
      : 'DAU/WAU/MAU: accounts that logged in or out within the last 1, 7 and 30 days.',
  );
  if (leftOut) lines.push(describeLeftOut(report.total));
  if (later) lines.push(describeNotKnowable(report.total, report.at));
  // Each line is one line: a line break inside a host name or notice cannot start a fake row.
  return lines.map(showControls).join('\n') + '\n';
}

/** Whether the rule left any account with records out (Prosody 13). */
export function hasExclusions(c: HostCounts): boolean {
  return c.excludedDisabled + c.excludedNoAccount + c.excludedByAuth > 0;
}

/** The table's footnote for the LEFT OUT column: what was left out, and why. */
export function describeLeftOut(c: HostCounts): string {
  const auth =
    c.excludedByAuth > 0
      ? ` NONE also holds ${c.excludedByAuth} on hosts whose authentication cannot say "enabled", where Prosody 13 counts nobody.`
      : '';
  return (
    'LEFT OUT: accounts with records that Prosody 13 does not count, as its own module does: ' +
    `disabled (${c.excludedDisabled} in all) / no account (${c.excludedNoAccount}).${auth}`
  );
}

/** The table's footnote for NOT KNOWABLE (counting as of a past --at). */
export function describeNotKnowable(c: HostCounts, at: number): string {
  return (
    `NOT KNOWABLE: ${c.notKnowable ?? 0} accounts have a last login or logout after ${formatTime(at)}; ` +
    'mod_lastlog2 keeps only the last one, so what they did then cannot be known: they count neither ' +
    'as active nor as inactive, nor in ACCOUNTS.'
  );
}

/** "Fetched by remote query: 12 345 bytes received in 0.42 s." */
export function formatFetch(f: FetchInfo): string {
  return `Fetched by ${f.method}: ${f.bytesReceived} bytes received in ${f.seconds.toFixed(2)} s.`;
}

/** `--json`: one object; the names at, hosts, total, dau, wau, mau are a promise to scripts. */
export function formatJson(report: SourcedReport): string {
  const { at, hosts, total, sources, notices, fetches, rules, live } = report;
  return (
    JSON.stringify({
      at,
      sources,
      hosts,
      total,
      skipped: total.skipped,
      notices,
      fetch: fetches,
      rules,
      ...(live === undefined ? {} : { live }),
    }) + '\n'
  );
}
