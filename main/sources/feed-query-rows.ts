import type { ActivityTally } from '../core/count-active.js';
import type { AccountStatus } from '../core/account-rule.js';
import {
  type ActivityQueryOutput,
  type ActivityQueryRow,
  type ActivityQueryTuple,
  accountStatus,
} from './activity-query.js';

/** Adds one row of ACTIVITY_QUERY (from any transport) to the tally. */
export function feedQueryRow(tally: ActivityTally, row: ActivityQueryRow): void {
  feedQueryColumns(
    tally,
    row.host,
    row.last_active,
    row.registered,
    row.not_an_event,
    row.malformed,
    row.no_timestamp,
    accountStatus(row.account),
  );
}

/** Adds one `.raw()` row of ACTIVITY_QUERY to the tally. */
export function feedQueryTuple(
  tally: ActivityTally,
  row: ActivityQueryTuple | ActivityQueryOutput,
): void {
  if (row[8] === 1) tally.noteHasRoles(row[0]);
  feedQueryColumns(tally, row[0], row[2], row[3], row[4], row[5], row[6], accountStatus(row[7]));
}

function feedQueryColumns(
  tally: ActivityTally,
  host: string,
  lastActive: number | null,
  registered: number | null,
  notAnEvent: number,
  malformed: number,
  noTimestamp: number,
  status: AccountStatus,
): void {
  if (notAnEvent > 0) tally.addSkipped(host, 'not-an-event', notAnEvent);
  if (malformed > 0) tally.addSkipped(host, 'malformed', malformed);
  if (noTimestamp > 0) tally.addSkipped(host, 'no-timestamp', noTimestamp);
  if (lastActive === null && registered === null) {
    tally.touchHost(host);
    return;
  }
  tally.addActivity(host, lastActive, registered, status);
}
