/**
 * The one query that reads activity from Prosody's SQL storage: it touches only the lastlog2 and
 * account_activity stores, never selects anything but timestamps (no IP addresses), and reduces
 * them to one row per account in SQLite itself, so that a million accounts cost one pass and a
 * million small rows rather than three million JSON values.
 *
 * Columns: host, user, last_active (max of login, logout and account_activity, or NULL),
 * registered (or NULL), then how many rows of that account were skipped for each reason.
 * Rows come out grouped by (host, user). Kept a constant: the SSH source sends the same text to the
 * server's sqlite3 command.
 */
export const ACTIVITY_QUERY = `
SELECT host, user,
  max(CASE WHEN bad IS NULL AND ev <> 'registered' THEN ts END) AS last_active,
  max(CASE WHEN bad IS NULL AND ev = 'registered' THEN ts END) AS registered,
  coalesce(sum(bad = 'not-an-event'), 0) AS not_an_event,
  coalesce(sum(bad = 'malformed'), 0) AS malformed,
  coalesce(sum(bad = 'no-timestamp'), 0) AS no_timestamp
FROM (
  SELECT host, user, key AS ev,
    CASE
      WHEN store = 'lastlog2' AND key NOT IN ('login', 'logout', 'registered') THEN 'not-an-event'
      WHEN store = 'account_activity' AND key <> 'timestamp' THEN 'not-an-event'
      WHEN NOT json_valid(value) THEN 'malformed'
      WHEN store = 'lastlog2' AND type <> 'json' THEN 'malformed'
      WHEN store = 'lastlog2' AND json_type(value, '$.timestamp') IN ('integer', 'real') THEN NULL
      WHEN store = 'account_activity' AND json_type(value) IN ('integer', 'real') THEN NULL
      ELSE 'no-timestamp'
    END AS bad,
    CASE
      WHEN NOT json_valid(value) THEN NULL
      WHEN store = 'lastlog2' THEN json_extract(value, '$.timestamp')
      ELSE json_extract(value, '$')
    END AS ts
  FROM prosody
  WHERE store IN ('lastlog2', 'account_activity')
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
