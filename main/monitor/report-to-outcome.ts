import type { SourcedReport } from '../core/activity-source.js';
import { type HostCounts, addCounts, emptyCounts } from '../core/count-active.js';
import { describeFailure } from '../core/describe-failure.js';
import type { Failure } from '../core/failure.js';
import {
  type Figures,
  type RefreshFailure,
  type RefreshSuccess,
  TOTAL_HOST,
} from '../core/monitor-types.js';
import { setOwn } from '../core/host-record.js';

/** Which hosts a profile shows: all but the hidden, or only the listed. */
export interface HostFilter {
  show?: string[];
  hide?: string[];
}

function figures(c: HostCounts): Figures {
  const { dau, wau, mau, accounts, new1d, new7d, new30d, newestEvent, online } = c;
  const excludedDisabled = c.excludedDisabled;
  const excludedNoAccount = c.excludedNoAccount + c.excludedByAuth;
  const base = {
    ...{ dau, wau, mau, accounts, new1d, new7d, new30d, newestEvent },
    ...{ excludedDisabled, excludedNoAccount },
  };
  return online === null ? base : { ...base, online };
}

function shown(host: string, filter: HostFilter | undefined): boolean {
  if (filter?.show && filter.show.length > 0) return filter.show.includes(host);
  return !(filter?.hide ?? []).includes(host);
}

/** A count as the monitor records it: the shown hosts, and their total under TOTAL_HOST. */
export function reportToOutcome(
  profile: string,
  report: SourcedReport,
  filter?: HostFilter,
): RefreshSuccess {
  const hosts: Record<string, Figures> = {};
  const total = emptyCounts();
  for (const [host, counts] of Object.entries(report.hosts)) {
    if (!shown(host, filter)) continue;
    setOwn(hosts, host, figures(counts));
    addCounts(total, counts);
  }
  hosts[TOTAL_HOST] = figures(total);
  const fetch = report.fetches;
  const live = report.live;
  const missing = live?.known
    ? Object.entries(live.hosts)
        .filter(([host, h]) => h.activityModuleMissing && shown(host, filter))
        .map(([host]) => host)
    : undefined;
  return {
    ok: true,
    profile,
    at: report.at,
    hosts,
    method: fetch.length > 0 ? fetch.map((f) => f.method).join(' + ') : 'local read',
    bytesReceived: fetch.reduce((sum, f) => sum + f.bytesReceived, 0),
    seconds: fetch.reduce((sum, f) => sum + f.seconds, 0),
    ...(missing === undefined ? {} : { activityModuleMissing: missing }),
  };
}

export function failureToOutcome(profile: string, at: number, failure: Failure): RefreshFailure {
  return { ok: false, profile, at, kind: failure.kind, message: describeFailure(failure) };
}
