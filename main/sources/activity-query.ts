/**
 * The one query that reads activity from Prosody's SQL storage: it touches only the lastlog2 and
 * account_activity stores, never selects anything but timestamps (no IP addresses), and reduces
 * them to one row per account in SQLite itself, so that a million accounts cost one pass and a
 * million small rows rather than three million JSON values.
 *
 * Columns: host, user, last_active (max of login, logout and account_activity, or NULL),
 * registered (or NULL), then how many rows of that account were skipped for each reason.
 * Rows come out grouped by (host, user). Kept a constant: the SSH source sends the same text to the
 * server's sqlite3 command, so it must stay valid for sqlite3 3.40 (Debian 12).
 *
 * Shaped for speed (see test/bench): the inner SELECT classifies each row once, into a small
 * integer, and `LIMIT -1` keeps SQLite from flattening it into the outer query, which would
 * evaluate the JSON functions again for each of the five aggregates. SQLite then reads the table
 * in storage order and sorts the small rows by (host, user); on a real server's file, where one
 * account's rows lie wherever they were last written, that beats walking prosody_index and
 * fetching every row from its random place by about a third. Together: 1 M accounts in half the
 * time of the earlier, flattened query (sqlite3 3.40: 8.2 s before, 4.0 s now).
 *
 * Classes: 0 login/logout/account_activity with a numeric timestamp, 1 registered with one,
 * 2 not an event, 3 malformed, 4 no numeric timestamp.
 */
export const ACTIVITY_QUERY = `
SELECT host, user,
  max(CASE WHEN class = 0 THEN ts END) AS last_active,
  max(CASE WHEN class = 1 THEN ts END) AS registered,
  coalesce(sum(class = 2), 0) AS not_an_event,
  coalesce(sum(class = 3), 0) AS malformed,
  coalesce(sum(class = 4), 0) AS no_timestamp
FROM (
  SELECT host, user,
    CASE
      WHEN store = 'lastlog2' AND key NOT IN ('login', 'logout', 'registered') THEN 2
      WHEN store = 'account_activity' AND key <> 'timestamp' THEN 2
      WHEN NOT json_valid(value) THEN 3
      WHEN store = 'lastlog2' AND type <> 'json' THEN 3
      WHEN store = 'lastlog2' AND json_type(value, '$.timestamp') IN ('integer', 'real')
        THEN CASE key WHEN 'registered' THEN 1 ELSE 0 END
      WHEN store = 'account_activity' AND json_type(value) IN ('integer', 'real') THEN 0
      ELSE 4
    END AS class,
    CASE
      WHEN NOT json_valid(value) THEN NULL
      WHEN store = 'lastlog2' THEN json_extract(value, '$.timestamp')
      ELSE json_extract(value, '$')
    END AS ts
  FROM prosody
  WHERE store IN ('lastlog2', 'account_activity')
  LIMIT -1
)
GROUP BY host, user
`;

/** One row of ACTIVITY_QUERY. */
export interface ActivityQueryRow {
  host: string;
  user: string;
  last_active: number | null;
  registered: number | null;
  not_an_event: number;
  malformed: number;
  no_timestamp: number;
}

/** The same row as `.raw()` gives it: the columns in ACTIVITY_QUERY's order. */
export type ActivityQueryTuple = [
  host: string,
  user: string,
  last_active: number | null,
  registered: number | null,
  not_an_event: number,
  malformed: number,
  no_timestamp: number,
];

/** One host's totals over every account a source holds: what an incremental fetch is checked by. */
export interface HostTotals {
  host: string;
  accounts: number;
  notAnEvent: number;
  malformed: number;
  noTimestamp: number;
}
