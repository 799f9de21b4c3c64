import type { ActivityTally } from '../core/count-active.js';
import { type ActivityQueryTuple, accountStatus } from './activity-query.js';
import { feedQueryTuple } from './feed-query-rows.js';
import type { HostTotalsRow } from './host-totals-query.js';

/** Adds one row of HOST_TOTALS_QUERY (`kind` first) to the tally. */
export function feedHostTotalsRow(tally: ActivityTally, row: readonly unknown[]): void {
  if (row[0] === 1) {
    feedQueryTuple(tally, row.slice(1, 10) as ActivityQueryTuple);
    return;
  }
  const [
    host,
    account,
    accounts,
    dau,
    wau,
    mau,
    new1d,
    new7d,
    new30d,
    newestEvent,
    recent,
    d1,
    d7,
    d30,
    notAnEvent,
    malformed,
    noTimestamp,
    hasRole,
  ] = row.slice(1) as HostTotalsRow;
  tally.touchHost(host);
  if (hasRole === 1) tally.noteHasRoles(host);
  if (notAnEvent > 0) tally.addSkipped(host, 'not-an-event', notAnEvent);
  if (malformed > 0) tally.addSkipped(host, 'malformed', malformed);
  if (noTimestamp > 0) tally.addSkipped(host, 'no-timestamp', noTimestamp);
  tally.addTotals(host, accountStatus(account), {
    accounts,
    dau,
    wau,
    mau,
    new1d,
    new7d,
    new30d,
    newestEvent,
    recent,
    leftSince: { d1, d7, d30 },
  });
}

/** The `:online` parameter: every open session's [host, user], or null when there is none. */
export function onlinePairs(online: ReadonlyMap<string, ReadonlySet<string>>): string | null {
  const pairs: [string, string][] = [];
  for (const [host, users] of online) for (const user of users) pairs.push([host, user]);
  return pairs.length === 0 ? null : JSON.stringify(pairs);
}
