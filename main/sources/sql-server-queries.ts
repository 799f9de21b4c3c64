import { MAX_EVENT_SECONDS } from '../core/activity-record.js';
import { accountDigestKey, digestTerm, hostDigest } from './account-digest.js';
import { flatJsonObjectRegex, jsonSyntaxRegex } from './json-syntax-regex.js';

/**
 * ACTIVITY_QUERY (activity-query.ts, the SQLite query) for PostgreSQL and MySQL/MariaDB: the same
 * classes, worked out by the database itself, so that only host, user and timestamps leave it
 * (never the IP addresses in the values) and one row per account at most.
 *
 * Classes: 0 login/logout with a numeric timestamp, 1 registered with one, 2 not an event,
 * 3 malformed, 4 no numeric timestamp, 5 an account row, 6 an account's `disabled` row, 7 a role.
 * mod_account_activity's store is not read (see activity-query.ts: Prosody 13's module ignores it).
 *
 * A timestamp beyond ±MAX_EVENT_SECONDS (core/activity-record.ts) is malformed, as in SQLite.
 *
 * Known edges where these differ from SQLite on values Prosody never writes: JSON nested deeper
 * than JSON_DEPTH (PostgreSQL: malformed), a number float8 cannot parse safely that is yet tiny,
 * such as 1e-400 (PostgreSQL: malformed, where SQLite reads about 0), and an object with the key
 * twice (PostgreSQL and MySQL read the last, SQLite the first).
 */

/** How deep the PostgreSQL syntax check follows nesting: Prosody's values are flat objects. */
export const JSON_DEPTH = 3;

const IS_EVENT_PG = `(p.store = 'lastlog2' AND p."key" IN ('login', 'logout', 'registered'))`;

/**
 * The rows read: mod_lastlog2's, and of an account only whether it exists, is disabled and was
 * updated (as activity-query.ts; never the hash, salt or key rows), and account_roles' (13's mark).
 */
const WHERE_STORES = (quote: string) => `(store = 'lastlog2' OR store = 'account_roles'
  OR (store = 'accounts' AND ${quote}key${quote} NOT IN ('salt', 'server_key', 'iteration_count')))`;

/**
 * Numbers float8 takes without an overflow error (which would abort the statement): up to 17
 * digits before the point and a two-digit exponent. Checked only for numbers with an exponent or
 * longer than 24 characters; shorter plain ones always fit, and skipping the expression for them
 * saves a second a million rows.
 */
const SAFE_NUMBER = '^-?[0-9]{1,17}(\\.[0-9]+)?([eE][-+]?[0-9]{1,2})?$';

/**
 * The value as json, with every \uXXXX escape made \u0020: PostgreSQL's json operators refuse
 * \u0000 and lone surrogates inside any string of the value, and only numbers matter here. The
 * swap keeps valid JSON valid, even after an escaped backslash (a string's `\\u0000` text
 * becomes `\\u0020`).
 */
const PG_PARSED = `(CASE WHEN strpos(value, '\\u') > 0
  THEN regexp_replace(value, '\\\\u[0-9a-fA-F]{4}', '\\\\u0020', 'g') ELSE value END)::json`;

/**
 * One row per account with lastlog2 rows: host, user, last_active, registered, not_an_event,
 * malformed, no_timestamp, account (0 none, 1 enabled, 2 disabled), has_role, account_updated:
 * ACTIVITY_QUERY's columns. Each `OFFSET 0` keeps PostgreSQL from folding a step into the next
 * one, which would run the regular expression and the JSON parse again for every use of its result.
 * Classes as there: 5 an account row, 6 an account's `disabled` row (anything but boolean false),
 * 7 a role.
 */
const PG_ACCOUNTS = `SELECT host, "user",
  max(ts) FILTER (WHERE class = 0) AS last_active,
  max(ts) FILTER (WHERE class = 1) AS registered,
  count(*) FILTER (WHERE class = 2) AS not_an_event,
  count(*) FILTER (WHERE class = 3) AS malformed,
  count(*) FILTER (WHERE class = 4) AS no_timestamp,
  coalesce(bool_or(class IN (5, 6)), false)::int + coalesce(bool_or(class = 6), false)::int
    AS account,
  coalesce(bool_or(class = 7), false)::int AS has_role,
  max(updated) FILTER (WHERE class = 5) AS account_updated
FROM (
  SELECT host, "user", class, updated, CASE WHEN class < 2 THEN t::float8 END AS ts
  FROM (
    SELECT host, "user", t, updated,
      CASE
        WHEN store = 'accounts' THEN CASE WHEN disabled THEN 6 ELSE 5 END
        WHEN store = 'account_roles' THEN 7
        WHEN NOT event THEN 2
        WHEN NOT valid OR "type" <> 'json' THEN 3
        WHEN json_typeof(v) = 'number' THEN
          CASE
            WHEN NOT ((length(t) <= 24 AND strpos(t, 'e') = 0 AND strpos(t, 'E') = 0)
              OR t ~ '${SAFE_NUMBER}') THEN 3
            WHEN t::float8 NOT BETWEEN -${MAX_EVENT_SECONDS} AND ${MAX_EVENT_SECONDS} THEN 3
            WHEN "key" = 'registered' THEN 1
            ELSE 0
          END
        ELSE 4
      END AS class
    FROM (
      SELECT host, "user", store, "key", "type", event, valid, disabled, updated, v, v::text AS t
      FROM (
        SELECT host, "user", store, "key", "type", event, valid, disabled, updated,
          CASE WHEN valid THEN ${PG_PARSED} -> 'timestamp' END AS v
        FROM (
          SELECT p.host, p."user", p.store, p."key", p."type", p.value,
            ${IS_EVENT_PG} AS event,
            ${IS_EVENT_PG} AND CASE WHEN p.value ~ '${flatJsonObjectRegex()}' THEN true
              ELSE p.value ~ '${jsonSyntaxRegex(JSON_DEPTH)}' END AS valid,
            p.store = 'accounts' AND p."key" = 'disabled'
              AND NOT (p."type" = 'boolean' AND p.value = 'false') AS disabled,
            CASE WHEN p.store = 'accounts' AND p."key" = 'updated' AND p."type" = 'number'
              AND p.value ~ '^[0-9]{1,15}$' THEN p.value::float8 END AS updated
          FROM prosody p
          WHERE ${WHERE_STORES('"')}
          OFFSET 0
        ) checked
        OFFSET 0
      ) parsed
      OFFSET 0
    ) texts
    OFFSET 0
  ) classified
) timed
GROUP BY host, "user"
HAVING count(*) FILTER (WHERE class <= 4) > 0`;

/**
 * Accounts go out in chunks: one text row of `[host, [user, last, registered(, skips…)], …]` for
 * up to 4096 accounts of one host, which costs a tenth of a row per account on the wire. In byte
 * order of the names (SQLite's order): the account cache then inserts them in its key order, five
 * times faster than in random order at a million accounts.
 */
const PG_CHUNKS = (since: number | undefined) => `SELECT json_build_array(host, json_agg(
    CASE WHEN not_an_event + malformed + no_timestamp = 0
      THEN json_build_array("user", last_active, registered, account)
      ELSE json_build_array("user", last_active, registered, account,
        not_an_event, malformed, no_timestamp)
    END ORDER BY "user" COLLATE "C"))::text
  FROM (
    SELECT a.*, (row_number() OVER (PARTITION BY host ORDER BY "user" COLLATE "C") - 1) / 4096
      AS chunk
    FROM a
    ${since === undefined ? '' : `WHERE greatest(last_active, registered, account_updated) >= ${since}`}
  ) numbered
  GROUP BY host, chunk
  ORDER BY host COLLATE "C", chunk`;

/**
 * Per host: `[0, host, accounts, not_an_event, malformed, no_timestamp, enabled, disabled,
 * missing, has_roles, digest]`, as the remote SQLite query's totals (account-digest.ts).
 */
const PG_TOTALS = `SELECT json_build_array(0, host, count(*), sum(not_an_event), sum(malformed),
    sum(no_timestamp), count(*) FILTER (WHERE account = 1), count(*) FILTER (WHERE account = 2),
    count(*) FILTER (WHERE account = 0), max(has_role),
    (${hostDigest(digestTerm('k'))})::bigint)::text
  FROM (SELECT a.*, ${accountDigestKey('postgres')} AS k FROM a OFFSET 0) keyed GROUP BY host`;

function checkedSince(since: number | undefined): void {
  if (since !== undefined && (!Number.isSafeInteger(since) || since < 0)) {
    throw new RangeError(`bad since: ${since}`);
  }
}

/**
 * The PostgreSQL statement: one text column, a JSON array a row (see PG_CHUNKS and PG_TOTALS).
 * With `since`, only accounts active, registered or updated at or after it; every host's totals.
 */
export function postgresActivityQuery(since?: number): string {
  checkedSince(since);
  // The totals always come: they carry each host's has_roles (Prosody 13's mark) too.
  const body = `WITH a AS MATERIALIZED (${PG_ACCOUNTS}) (${PG_CHUNKS(since)}) UNION ALL (${PG_TOTALS})`;
  return body.replace(/\s+/g, ' ').trim();
}

const NUMERIC_JSON_TYPES = `('INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL')`;

const IS_EVENT_MY = `(store = 'lastlog2' AND \`key\` IN ('login', 'logout', 'registered'))`;

/** A backslash, written without one: the server's sql_mode may or may not treat it as an escape. */
const MY_BACKSLASH = 'CHAR(92 USING utf8mb4)';

/**
 * The value with every \uXXXX escape made \u0020 (as PG_PARSED does): MariaDB's JSON_VALID refuses
 * \u0000 and lone surrogates, which SQLite and RFC 8259 accept, and only numbers matter here.
 */
const MY_VALUE = `(CASE WHEN LOCATE(CONCAT(${MY_BACKSLASH}, 'u'), value) > 0
  THEN REGEXP_REPLACE(value, CONCAT(${MY_BACKSLASH}, ${MY_BACKSLASH}, 'u[0-9a-fA-F]{4}'),
    CONCAT(${MY_BACKSLASH}, ${MY_BACKSLASH}, 'u0020'))
  ELSE value END)`;

/**
 * MySQL/MariaDB: one row per account with lastlog2 rows, ACTIVITY_QUERY's columns. JSON_VALID
 * exists here and never raises; JSON_TYPE and JSON_EXTRACT run only on values that passed it.
 */
const MY_ACCOUNTS = `SELECT host, \`user\`,
  MAX(CASE WHEN class = 0 THEN ts END) AS last_active,
  MAX(CASE WHEN class = 1 THEN ts END) AS registered,
  COUNT(CASE WHEN class = 2 THEN 1 END) AS not_an_event,
  COUNT(CASE WHEN class = 3 THEN 1 END) AS malformed,
  COUNT(CASE WHEN class = 4 THEN 1 END) AS no_timestamp,
  COALESCE(MAX(class IN (5, 6)), 0) + COALESCE(MAX(class = 6), 0) AS account,
  COALESCE(MAX(class = 7), 0) AS has_role,
  MAX(CASE WHEN class = 5 THEN ts END) AS account_updated
FROM (
  SELECT host, \`user\`,
    CASE
      WHEN store = 'accounts' THEN
        CASE WHEN \`key\` = 'disabled' AND NOT (\`type\` = 'boolean' AND value = 'false')
          THEN 6 ELSE 5 END
      WHEN store = 'account_roles' THEN 7
      WHEN NOT ${IS_EVENT_MY} THEN 2
      WHEN NOT JSON_VALID(v) OR \`type\` <> 'json' THEN 3
      WHEN JSON_TYPE(JSON_EXTRACT(v, '$.timestamp')) IN ${NUMERIC_JSON_TYPES} THEN
        CASE
          WHEN JSON_EXTRACT(v, '$.timestamp') + 0e0
            NOT BETWEEN -${MAX_EVENT_SECONDS} AND ${MAX_EVENT_SECONDS} THEN 3
          WHEN \`key\` = 'registered' THEN 1
          ELSE 0
        END
      ELSE 4
    END AS class,
    CASE
      WHEN store = 'accounts' THEN
        CASE WHEN \`key\` = 'updated' AND \`type\` = 'number' AND value REGEXP '^[0-9]{1,15}$'
          THEN value + 0e0 END
      WHEN NOT ${IS_EVENT_MY} OR NOT JSON_VALID(v) THEN NULL
      ELSE JSON_EXTRACT(v, '$.timestamp') + 0e0
    END AS ts
  FROM (
    SELECT host, \`user\`, store, \`key\`, \`type\`, value,
      CASE WHEN store = 'lastlog2' THEN ${MY_VALUE} END AS v
    FROM prosody
    WHERE ${WHERE_STORES('`')}
  ) unescaped
) classified
GROUP BY host, \`user\`
HAVING COUNT(CASE WHEN class <= 4 THEN 1 END) > 0`;

/** MySQL/MariaDB: every account, or those active or registered at or after `since`. */
export function mysqlActivityQuery(since?: number): string {
  checkedSince(since);
  const having =
    since === undefined
      ? ''
      : ` AND GREATEST(COALESCE(last_active, -1), COALESCE(registered, -1),
          COALESCE(account_updated, -1)) >= ${since}`;
  return `${MY_ACCOUNTS}${having}`.replace(/\s+/g, ' ').trim();
}

/**
 * MySQL/MariaDB: per host, accounts, skip counts, enabled, disabled and missing accounts,
 * whether any has a role, and the accounts' digest (the remote SQLite query's totals).
 */
export function mysqlTotalsQuery(): string {
  return `SELECT host, COUNT(*), CAST(SUM(not_an_event) AS SIGNED), CAST(SUM(malformed) AS SIGNED),
    CAST(SUM(no_timestamp) AS SIGNED), COUNT(CASE WHEN account = 1 THEN 1 END),
    COUNT(CASE WHEN account = 2 THEN 1 END), COUNT(CASE WHEN account = 0 THEN 1 END),
    CAST(MAX(has_role) AS SIGNED), CAST(${hostDigest(digestTerm('k'))} AS SIGNED)
    FROM (SELECT a.*, ${accountDigestKey('mysql')} AS k FROM (${MY_ACCOUNTS}) a) keyed GROUP BY host`
    .replace(/\s+/g, ' ')
    .trim();
}
