import type Database from 'better-sqlite3';

/**
 * The history database's schema, as the ordered steps that build it. `PRAGMA user_version` holds
 * the number of the last step applied; each step runs in its own transaction together with the
 * version bump, so a crash leaves the file at one version or the next, never in between.
 *
 * Rules for adding a step: append, never edit a released one (files in the field were built by
 * it); keep data; bump nothing by hand. Tables are STRICT so a figure can never be stored as text
 * or a fraction.
 */
export interface Migration {
  /** The user_version after this step; steps are numbered 1, 2, 3 … without gaps. */
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'refreshes, per-host figures and per-profile state',
    sql: `
      CREATE TABLE refreshes (
        id INTEGER PRIMARY KEY,
        profile TEXT NOT NULL,
        at INTEGER NOT NULL,
        ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
        method TEXT,
        error_kind TEXT,
        error_message TEXT,
        CHECK (ok = 1 OR (error_kind IS NOT NULL AND error_message IS NOT NULL)),
        CHECK (ok = 0 OR (method IS NOT NULL AND error_kind IS NULL))
      ) STRICT;
      CREATE INDEX refreshes_by_profile_at ON refreshes (profile, at);

      CREATE TABLE figures (
        refresh_id INTEGER NOT NULL REFERENCES refreshes (id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        dau INTEGER NOT NULL CHECK (dau >= 0),
        wau INTEGER NOT NULL CHECK (wau >= 0),
        mau INTEGER NOT NULL CHECK (mau >= 0),
        accounts INTEGER NOT NULL CHECK (accounts >= 0),
        new1d INTEGER NOT NULL CHECK (new1d >= 0),
        new7d INTEGER NOT NULL CHECK (new7d >= 0),
        new30d INTEGER NOT NULL CHECK (new30d >= 0),
        newest_event INTEGER,
        PRIMARY KEY (refresh_id, host)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE state (
        profile TEXT NOT NULL,
        key TEXT NOT NULL,
        json TEXT NOT NULL CHECK (json_valid(json)),
        PRIMARY KEY (profile, key)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'bytes received and duration of each refresh',
    // Rows from version 1 keep NULL here: unknown, not zero.
    sql: `
      ALTER TABLE refreshes ADD COLUMN bytes_received INTEGER
        CHECK (bytes_received IS NULL OR bytes_received >= 0);
      ALTER TABLE refreshes ADD COLUMN seconds REAL
        CHECK (seconds IS NULL OR seconds >= 0);
    `,
  },
  {
    version: 3,
    description: 'alerts raised by the policy',
    // kind, host and figure are copies of the payload's fields, kept as columns to be queried.
    sql: `
      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        profile TEXT NOT NULL,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        host TEXT,
        figure TEXT,
        payload TEXT NOT NULL CHECK (json_valid(payload))
      ) STRICT;
      CREATE INDEX alerts_by_profile_at ON alerts (profile, at);
    `,
  },
  {
    version: 4,
    description: 'accounts with records that Prosody 13 left out: disabled, no account',
    // Rows written before keep NULL: unknown, not zero.
    sql: `
      ALTER TABLE figures ADD COLUMN excluded_disabled INTEGER
        CHECK (excluded_disabled IS NULL OR excluded_disabled >= 0);
      ALTER TABLE figures ADD COLUMN excluded_no_account INTEGER
        CHECK (excluded_no_account IS NULL OR excluded_no_account >= 0);
    `,
  },
  {
    version: 5,
    description: 'accounts online at each refresh (live view)',
    // NULL: the live server was not asked, or could not be (and rows from before version 5).
    sql: `
      ALTER TABLE figures ADD COLUMN online INTEGER CHECK (online IS NULL OR online >= 0);
    `,
  },
  {
    version: 6,
    description: 'the newest event as any number Prosody stores, fractions included',
    // STRICT allows no change of a column's type: the table is rebuilt, its rows copied as they are
    // (a whole number in a REAL column reads back as the same number).
    sql: `
      CREATE TABLE figures_v6 (
        refresh_id INTEGER NOT NULL REFERENCES refreshes (id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        dau INTEGER NOT NULL CHECK (dau >= 0),
        wau INTEGER NOT NULL CHECK (wau >= 0),
        mau INTEGER NOT NULL CHECK (mau >= 0),
        accounts INTEGER NOT NULL CHECK (accounts >= 0),
        new1d INTEGER NOT NULL CHECK (new1d >= 0),
        new7d INTEGER NOT NULL CHECK (new7d >= 0),
        new30d INTEGER NOT NULL CHECK (new30d >= 0),
        newest_event REAL,
        excluded_disabled INTEGER CHECK (excluded_disabled IS NULL OR excluded_disabled >= 0),
        excluded_no_account INTEGER CHECK (excluded_no_account IS NULL OR excluded_no_account >= 0),
        online INTEGER CHECK (online IS NULL OR online >= 0),
        PRIMARY KEY (refresh_id, host)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO figures_v6 SELECT refresh_id, host, dau, wau, mau, accounts, new1d, new7d,
        new30d, newest_event, excluded_disabled, excluded_no_account, online FROM figures;
      DROP TABLE figures;
      ALTER TABLE figures_v6 RENAME TO figures;
    `,
  },
  {
    version: 7,
    description: "the total under the empty host name, which no host can have, instead of '*'",
    // Every '*' row so far is a total: a host named '*' was overwritten by it before it was stored.
    // The alert policy's state keeps its old keys for the total: at most one alert is repeated.
    sql: `
      UPDATE figures SET host = '' WHERE host = '*';
      UPDATE alerts SET host = '', payload = json_set(payload, '$.host', '') WHERE host = '*';
    `,
  },
  {
    version: 8,
    description: "the alert policy's latches and cooldowns of the total follow it to ''",
    // Keys `*/<figure>` and `large-change/*/<figure>` were the total's (see version 7). Alerts held
    // for quiet hours are not rewritten: they are delivered as they were written.
    sql: `
      UPDATE state SET json = json_set(json, '$.changeLatch', (
        SELECT json_group_object(CASE WHEN key LIKE '*/%' THEN substr(key, 2) ELSE key END, value)
        FROM json_each(state.json, '$.changeLatch')))
      WHERE key = 'alert-policy' AND json_type(json, '$.changeLatch') = 'object';
      UPDATE state SET json = json_set(json, '$.lastSent', (
        SELECT json_group_object(
          CASE WHEN key LIKE 'large-change/*/%' THEN 'large-change//' || substr(key, 16) ELSE key END,
          value)
        FROM json_each(state.json, '$.lastSent')))
      WHERE key = 'alert-policy' AND json_type(json, '$.lastSent') = 'object';
    `,
  },
];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Reads `PRAGMA user_version`; throws SQLITE_NOTADB on a file that is not a database. */
export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to `target` (default: the latest), one step per IMMEDIATE transaction.
 * The version is re-read inside each transaction, so two processes opening the same file at once
 * (the app and the CLI) apply each step once. Returns the versions applied.
 */
export function migrate(db: Database.Database, target: number = SCHEMA_VERSION): number[] {
  const applied: number[] = [];
  for (const step of MIGRATIONS) {
    if (step.version > target) break;
    const apply = db.transaction(() => {
      const current = schemaVersion(db);
      if (current >= step.version) return;
      if (current !== step.version - 1) {
        throw new Error(`history schema is at version ${current}, cannot apply ${step.version}`);
      }
      db.exec(step.sql);
      // Not a bound parameter: PRAGMA takes none. step.version is our own integer.
      db.pragma(`user_version = ${step.version}`);
      applied.push(step.version);
    });
    apply.immediate();
  }
  return applied;
}
