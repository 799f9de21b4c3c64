import { LASTLOG2_CLASS } from './activity-query.js';
import { type AccountRange, rangeCondition } from './account-ranges.js';
import { MODULE_COUNT_PERIOD } from '../core/timing-slack.js';
import { WINDOWS } from '../core/windows.js';

/**
 * The count without a row per account: ACTIVITY_QUERY's accounts (activity-query.ts, same classes,
 * same rule for an account's status) reduced in SQLite itself to what the tally adds up per host
 * and account status, with the same tests as ActivityTally.addActivity (`now - t < W`), so that a
 * million accounts cost a few rows rather than a million crossing into JavaScript. Parameters:
 * `:now`, the moment counted (never the clock), and, in the variant for open sessions, `:online`,
 * a JSON array of `[host, user]` pairs: those accounts come out as ACTIVITY_QUERY tuples of their
 * own (kind 1), for the tally to count in every window as the module does; the rest as totals
 * (kind 0, the columns of HostTotalsRow). Only for a source that keeps no account cache.
 *
 * Shaped for speed (test/bench, against the sqlite3 command): where ACTIVITY_QUERY sorts every
 * lastlog2, accounts and account_roles row by account (five a user on Prosody 13), this sorts
 * lastlog2's rows and one row an account: whether it exists and has a role comes from a walk of
 * prosody_index alone (host, user, store and key are all in it, so no table row is read), and
 * the few `disabled` rows from the table. A third of the rows to sort, no JSON read twice.
 * test/sources/sqlite-host-totals.test.ts holds it to ACTIVITY_QUERY's answers on random rows.
 */
const D1 = WINDOWS.d1;
const D7 = WINDOWS.d7;
const D30 = WINDOWS.d30;
const P = MODULE_COUNT_PERIOD;

/**
 * One row per account with lastlog2 rows: host, user, last_active, registered, not_an_event,
 * malformed, no_timestamp, account (0 none, 1 enabled, 2 disabled), has_role. Classes as in
 * ACTIVITY_QUERY: 0 login/logout with a usable timestamp, 1 registered with one, 2 not an event,
 * 3 malformed, 4 no numeric timestamp; 5 the account exists, 6 it is disabled, 8 only a role.
 */
const accounts = (range: AccountRange) => `SELECT host, user,
  max(CASE WHEN class = 0 THEN ts END) AS last_active,
  max(CASE WHEN class = 1 THEN ts END) AS registered,
  coalesce(sum(class = 2), 0) AS not_an_event,
  coalesce(sum(class = 3), 0) AS malformed,
  coalesce(sum(class = 4), 0) AS no_timestamp,
  coalesce(max(class IN (5, 6)), 0) + coalesce(max(class = 6), 0) AS account,
  coalesce(max(role), 0) AS has_role
FROM (
  SELECT host, user,
    ${LASTLOG2_CLASS} AS class,
    CASE WHEN json_valid(value) THEN json_extract(value, '$.timestamp') END AS ts,
    0 AS role
  FROM prosody WHERE store = 'lastlog2'${within(range, false)}
  UNION ALL
  SELECT host, user, CASE WHEN max(store = 'accounts') THEN 5 ELSE 8 END, NULL,
    max(store = 'account_roles')
  FROM prosody
  WHERE (store = 'account_roles'
    OR (store = 'accounts' AND key NOT IN ('salt', 'server_key', 'iteration_count')))${within(range, true)}
  GROUP BY host, user
  UNION ALL
  SELECT host, user, 6, NULL, 0
  FROM prosody
  WHERE store = 'accounts' AND key = 'disabled' AND NOT (type = 'boolean' AND value = 'false')${within(range, false)}
  LIMIT -1
)
GROUP BY host, user
HAVING max(class <= 4) = 1`;

/** `AND` the range's condition, or nothing for the whole table. */
const within = (range: AccountRange, indexed: boolean) =>
  range.lo === undefined && range.hi === undefined ? '' : ` AND ${rangeCondition(range, indexed)}`;

const AGE = '(:now - last_active)';
const IN = (column: string, window: number) =>
  `coalesce(sum(${column} IS NOT NULL AND (:now - ${column}) < ${window}), 0)`;
const LEFT = (window: number) =>
  `coalesce(sum(last_active IS NOT NULL AND ${AGE} >= ${window} AND ${AGE} < ${window + P}), 0)`;

const TOTALS = (from: string) => `SELECT 0 AS kind, host AS c1, account AS c2,
  coalesce(sum(last_active IS NOT NULL OR registered IS NOT NULL), 0) AS c3,
  ${IN('last_active', D1)} AS c4, ${IN('last_active', D7)} AS c5, ${IN('last_active', D30)} AS c6,
  ${IN('registered', D1)} AS c7, ${IN('registered', D7)} AS c8, ${IN('registered', D30)} AS c9,
  max(last_active) AS c10, ${IN('last_active', P)} AS c11, ${LEFT(D1)} AS c12,
  ${LEFT(D7)} AS c13, ${LEFT(D30)} AS c14, sum(not_an_event) AS c15, sum(malformed) AS c16,
  sum(no_timestamp) AS c17, max(has_role) AS c18
FROM ${from} GROUP BY host, account`;

/** Kind-0 rows only, of the accounts in `range`: no session is open (or none is known). */
export const hostTotalsQuery = (range: AccountRange = {}) => TOTALS(`(${accounts(range)})`);

/** Kind-0 rows for the accounts in `range` without an open session, kind-1 for those with one. */
export const hostTotalsOnlineQuery = (
  range: AccountRange = {},
) => `WITH a AS MATERIALIZED (${accounts(range)}),
o AS MATERIALIZED (SELECT value ->> 0 AS host, value ->> 1 AS user FROM json_each(:online)),
m AS MATERIALIZED (
  SELECT a.*, o.user IS NOT NULL AS online
  FROM a LEFT JOIN o ON o.host = a.host AND o.user = a.user
)
${TOTALS('m WHERE NOT online')}
UNION ALL
SELECT 1, host, user, last_active, registered, not_an_event, malformed, no_timestamp, account,
  has_role, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM m WHERE online`;

export const HOST_TOTALS_QUERY = hostTotalsQuery();
export const HOST_TOTALS_ONLINE_QUERY = hostTotalsOnlineQuery();

/** How many columns a row has, `kind` included. */
export const HOST_TOTALS_COLUMNS = 19;

/** The columns after `kind` of a kind-0 row. */
export type HostTotalsRow = [
  host: string,
  account: 0 | 1 | 2,
  accounts: number,
  dau: number,
  wau: number,
  mau: number,
  new1d: number,
  new7d: number,
  new30d: number,
  newestEvent: number | null,
  recent: number,
  leftD1: number,
  leftD7: number,
  leftD30: number,
  notAnEvent: number,
  malformed: number,
  noTimestamp: number,
  hasRole: 0 | 1,
];
