import {
  type ActivityReport,
  ActivityTally,
  type FetchInfo,
  type TallyOptions,
} from './count-active.js';
import { type Result, fail, ok } from './failure.js';
import { type LiveReport, evaluateLive } from './live-health.js';
import { type LiveSnapshot, onlineSets } from './live-snapshot.js';
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
  /** The live server's view (online now, module health); absent when it was not asked. */
  live?: LiveReport;
}

/**
 * Counts every source as of `now`. No activity record at all is a failure that names the module
 * to enable, never a silent zero. With a live snapshot, the accounts with open sessions count in
 * every window (as mod_measure_active_users counts them), every live VirtualHost appears, and the
 * report carries the hosts' health.
 */
export async function countSources(
  sources: readonly ActivitySource[],
  now: number,
  live?: LiveSnapshot,
  options: TallyOptions = {},
): Promise<Result<SourcedReport>> {
  const tally = new ActivityTally(now, onlineSets(live), options);
  // The running server says best which rule each host counts by (its version, its auth provider).
  if (live?.known) {
    for (const [host, h] of Object.entries(live.hosts)) {
      if (h.facts) tally.noteFacts(host, { ...h.facts, configRead: true });
    }
  }
  for (const source of sources) {
    const fed = await source.feed(tally);
    if (!fed.ok) return fed;
  }
  const labels = sources.map((s) => s.label);
  if (Object.keys(tally.report().hosts).length === 0) {
    return fail({ kind: 'no-activity-records', source: labels.join(' and ') });
  }
  if (live?.known) for (const host of Object.keys(live.hosts)) tally.touchHost(host);
  const { slack, ...report } = tally.report();
  const out: SourcedReport = {
    ...report,
    sources: labels,
    notices: [...tally.notices, ...ruleNotices(report)],
    fetches: tally.fetches,
  };
  const evaluated = evaluateLive(live, report.hosts, slack ?? {});
  if (evaluated) out.live = evaluated;
  return ok(out);
}
