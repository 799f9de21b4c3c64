import type { ActivityTally } from '../core/count-active.js';
import type { ActivityQueryRow } from './activity-query.js';

/** Adds one row of ACTIVITY_QUERY (from any transport) to the tally. */
export function feedQueryRow(tally: ActivityTally, row: ActivityQueryRow): void {
  const { host } = row;
  if (row.not_an_event > 0) tally.addSkipped(host, 'not-an-event', row.not_an_event);
  if (row.malformed > 0) tally.addSkipped(host, 'malformed', row.malformed);
  if (row.no_timestamp > 0) tally.addSkipped(host, 'no-timestamp', row.no_timestamp);
  if (row.last_active === null && row.registered === null) {
    tally.touchHost(host);
    return;
  }
  tally.addAccount({
    host,
    user: row.user,
    lastActive: row.last_active,
    registered: row.registered,
  });
}
