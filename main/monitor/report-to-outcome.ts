import type { SourcedReport } from '../core/activity-source.js';
import type { HostCounts } from '../core/count-active.js';
import { describeFailure } from '../core/describe-failure.js';
import type { Failure } from '../core/failure.js';
import {
  type Figures,
  type RefreshFailure,
  type RefreshSuccess,
  TOTAL_HOST,
} from '../core/monitor-types.js';

/** Which hosts a profile shows: all but the hidden, or only the listed. */
export interface HostFilter {
  show?: string[];
  hide?: string[];
}

function figures(c: HostCounts): Figures {
  const { dau, wau, mau, accounts, new1d, new7d, new30d, newestEvent } = c;
  return { dau, wau, mau, accounts, new1d, new7d, new30d, newestEvent };
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
  const total: Figures = {
    dau: 0,
    wau: 0,
    mau: 0,
    accounts: 0,
    new1d: 0,
    new7d: 0,
    new30d: 0,
    newestEvent: null,
  };
  for (const [host, counts] of Object.entries(report.hosts)) {
    if (!shown(host, filter)) continue;
    const f = figures(counts);
    hosts[host] = f;
    total.dau += f.dau;
    total.wau += f.wau;
    total.mau += f.mau;
    total.accounts += f.accounts;
    total.new1d += f.new1d;
    total.new7d += f.new7d;
    total.new30d += f.new30d;
    if (
      f.newestEvent !== null &&
      (total.newestEvent === null || f.newestEvent > total.newestEvent)
    ) {
      total.newestEvent = f.newestEvent;
    }
  }
  hosts[TOTAL_HOST] = total;
  const fetch = report.fetches;
  return {
    ok: true,
    profile,
    at: report.at,
    hosts,
    method: fetch.length > 0 ? fetch.map((f) => f.method).join(' + ') : 'local read',
    bytesReceived: fetch.reduce((sum, f) => sum + f.bytesReceived, 0),
    seconds: fetch.reduce((sum, f) => sum + f.seconds, 0),
  };
}

export function failureToOutcome(profile: string, at: number, failure: Failure): RefreshFailure {
  return { ok: false, profile, at, kind: failure.kind, message: describeFailure(failure) };
}
