import { type ActivityReport, ActivityTally, type FetchInfo } from './count-active.js';
import { type Result, fail, ok } from './failure.js';
import { ruleNotices } from './rule-notices.js';

/** Where activity records come from. Every source feeds the same tally. */
export interface ActivitySource {
  /** Says where the records are, for the report and for messages ("SQLite /var/lib/…"). */
  readonly label: string;
  feed(tally: ActivityTally): Promise<Result<void>>;
}

/** A count, with where it came from. */
export interface SourcedReport extends ActivityReport {
  sources: string[];
  notices: string[];
  fetches: FetchInfo[];
}

/**
 * Counts every source as of `now`. No activity record at all is a failure that names the module
 * to enable, never a silent zero.
 */
export async function countSources(
  sources: readonly ActivitySource[],
  now: number,
): Promise<Result<SourcedReport>> {
  const tally = new ActivityTally(now);
  for (const source of sources) {
    const fed = await source.feed(tally);
    if (!fed.ok) return fed;
  }
  const report = tally.report();
  const labels = sources.map((s) => s.label);
  if (Object.keys(report.hosts).length === 0) {
    return fail({ kind: 'no-activity-records', source: labels.join(' and ') });
  }
  const notices = [...tally.notices, ...ruleNotices(report)];
  return ok({ ...report, sources: labels, notices, fetches: tally.fetches });
}
