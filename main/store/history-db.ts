/**
 * The monitor's own history: every refresh (figures per host, or the error), every alert, and a
 * little state per profile, in a local SQLite file.
 *
 * Durability: WAL with `synchronous = FULL`. With NORMAL, a WAL database survives a killed process
 * but may lose the last commits on a power cut or OS crash; the monitor writes one small
 * transaction an hour, so the extra fsync per commit costs nothing worth saving, and a refresh that
 * record() returned from stays recorded. A transaction cut short (a killed process) is rolled back
 * when the file is next opened.
 *
 * A file that is not a database, that belongs to something else, or that a newer version wrote is
 * refused with a 'state-file' failure and left exactly as it was; read commands open it read-only
 * (openReadOnly) and never write to it.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { makeDbFilesPrivate } from './private-files.js';
import { sqliteBindingOptions } from './sqlite-binding.js';
import { type Failure, FailureError, type Result, fail, ok } from '../core/failure.js';
import type { HistoryRow } from '../core/history-export.js';
import {
  type Alert,
  FIGURE_NAMES,
  type FigureName,
  type Figures,
  type RefreshOutcome,
  TOTAL_HOST,
} from '../core/monitor-types.js';
import { SCHEMA_VERSION, migrate, schemaVersion } from './history-migrations.js';
import { setOwn } from '../core/host-record.js';

/** The spans the window charts, in seconds. */
export const WINDOW_SECONDS = {
  '24h': 24 * 3600,
  '7d': 7 * 24 * 3600,
  '30d': 30 * 24 * 3600,
  '90d': 90 * 24 * 3600,
} as const;
export type HistoryWindow = keyof typeof WINDOW_SECONDS;

/**
 * How far from exactly 24 hours / 7 days earlier a recorded refresh may lie and still serve as the
 * comparison: a few missed hourly refreshes, or half a day in a week.
 */
export const DELTA_TOLERANCE_SECONDS = { d24h: 3 * 3600, d7d: 12 * 3600 } as const;

/** How long a writer waits for another connection's lock before giving up with 'busy'. */
export const BUSY_TIMEOUT_MS = 5000;

export type SeriesPoint = { at: number } & Figures;

export interface StoredSuccess {
  id: number;
  ok: true;
  profile: string;
  at: number;
  method: string;
  /** null for refreshes recorded by schema version 1, which did not keep them. */
  bytesReceived: number | null;
  seconds: number | null;
  hosts: Record<string, Figures>;
}

export interface StoredFailure {
  id: number;
  ok: false;
  profile: string;
  at: number;
  /** A FailureKind when written; a string, since a newer version may have written others. */
  kind: string;
  message: string;
}

export type StoredRefresh = StoredSuccess | StoredFailure;

export interface StoredAlert {
  id: number;
  at: number;
  alert: Alert;
}

export interface LatestRefreshes {
  /** The newest refresh, success or failure. */
  last: StoredRefresh | null;
  /** The newest successful refresh (the same as last when that succeeded). */
  lastSuccess: StoredSuccess | null;
}

export interface Deltas {
  /** The figures recorded nearest to 24 hours before `now` (within DELTA_TOLERANCE_SECONDS.d24h). */
  d24h: Figures | null;
  /** When those were recorded. */
  d24hAt: number | null;
  /** The figures recorded nearest to 7 days before `now` (within DELTA_TOLERANCE_SECONDS.d7d). */
  d7d: Figures | null;
  d7dAt: number | null;
}

export interface ConnectionSettings {
  journalMode: string;
  synchronous: string;
  foreignKeys: boolean;
  busyTimeoutMs: number;
}

const SYNCHRONOUS = ['off', 'normal', 'full', 'extra'];

interface RefreshDbRow {
  id: number;
  profile: string;
  at: number;
  ok: 0 | 1;
  method: string | null;
  bytes_received: number | null;
  seconds: number | null;
  error_kind: string | null;
  error_message: string | null;
}

interface FigureDbRow {
  host: string;
  dau: number;
  wau: number;
  mau: number;
  accounts: number;
  new1d: number;
  new7d: number;
  new30d: number;
  newest_event: number | null;
  excluded_disabled: number | null;
  excluded_no_account: number | null;
  online: number | null;
}

type ExportDbRow = RefreshDbRow & { [K in keyof FigureDbRow]: FigureDbRow[K] | null };

const WHAT = 'history database';

/** Column names for the figures; also the guard that keeps a figure name out of the SQL text. */
const FIGURE_COLUMN: Record<FigureName, string> = {
  dau: 'dau',
  wau: 'wau',
  mau: 'mau',
  accounts: 'accounts',
  new1d: 'new1d',
  new7d: 'new7d',
  new30d: 'new30d',
};

const FIGURE_SELECT =
  'f.host, f.dau, f.wau, f.mau, f.accounts, f.new1d, f.new7d, f.new30d, f.newest_event, ' +
  'f.excluded_disabled, f.excluded_no_account, f.online';

/**
 * SQLite's and Node's errors about the file, as failures with a kind; anything else (a bug, a
 * violated constraint) is not a failure of the file and is returned as undefined.
 */
function historyFailure(e: unknown, path: string): Failure | undefined {
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  const message = e instanceof Error ? e.message : String(e);
  // better-sqlite3 reports extended result codes (SQLITE_BUSY_TIMEOUT, SQLITE_CORRUPT_INDEX …).
  const primary = code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1');
  switch (primary) {
    case 'SQLITE_NOTADB':
      return unusable(path, `not a SQLite database (${message})`);
    case 'SQLITE_CORRUPT':
      return unusable(path, `the database is damaged (${message})`);
    case 'SQLITE_FULL':
    case 'ENOSPC':
      return { kind: 'state-file', path, what: WHAT, problem: 'disk-full', detail: message };
    case 'SQLITE_IOERR':
    case 'EIO':
      return { kind: 'state-file', path, what: WHAT, problem: 'io-error', detail: message };
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return { kind: 'busy', path };
    case 'EACCES':
    case 'EPERM':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
    case 'SQLITE_READONLY':
    case 'SQLITE_CANTOPEN':
      return { kind: 'permission-denied', path, what: WHAT };
    default:
      return undefined;
  }
}

function unusable(path: string, detail: string): Failure {
  return { kind: 'state-file', path, what: WHAT, problem: 'unusable', detail };
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * The whole file, opened in memory: a read-only connection to a WAL database would create its
 * -wal and -shm next to it, and a read command writes nothing. Without a -wal every commit is in
 * the main file, which no writer changes until its next checkpoint. The copy's header is set to
 * the rollback journal (bytes 18 and 19), which an in-memory database needs.
 */
function inMemoryCopy(path: string): Database.Database {
  const bytes = readFileSync(path);
  if (bytes.length >= 20) bytes.fill(1, 18, 20);
  return new Database(bytes, sqliteBindingOptions());
}

/**
 * Why a file that exists is certainly not a SQLite database (SQLite takes a file shorter than its
 * header for an empty database, and would write over it), or undefined. Reads 16 bytes.
 */
function notSqlite(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // Missing or unreadable: SQLite says which.
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    return n === head.length && head.equals(SQLITE_MAGIC)
      ? undefined
      : `not a SQLite database: ${size} byte${size === 1 ? '' : 's'} without its header`;
  } finally {
    closeSync(fd);
  }
}

function figuresOf(r: FigureDbRow): Figures {
  const f = figuresWithoutExclusions(r);
  // Unknown (a row from before they were kept) stays absent rather than zero.
  if (r.excluded_disabled !== null) f.excludedDisabled = r.excluded_disabled;
  if (r.excluded_no_account !== null) f.excludedNoAccount = r.excluded_no_account;
  return f;
}

function figuresWithoutExclusions(r: FigureDbRow): Figures {
  return {
    dau: r.dau,
    wau: r.wau,
    mau: r.mau,
    accounts: r.accounts,
    new1d: r.new1d,
    new7d: r.new7d,
    new30d: r.new30d,
    newestEvent: r.newest_event,
    ...(r.online === null || r.online === undefined ? {} : { online: r.online }),
  };
}

function assertWholeSeconds(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be whole Unix seconds, got ${value}`);
  }
}

export class HistoryDb {
  private constructor(
    private readonly db: Database.Database,
    /** The file, for failures. */
    readonly path: string,
  ) {}

  /**
   * Opens (creating if need be) and migrates the history file. The folder must exist. Checks come
   * before anything is written: a file that is not SQLite, that holds tables but no schema version
   * (someone else's database), or whose version is newer than SCHEMA_VERSION is refused untouched.
   */
  static open(path: string): Result<HistoryDb> {
    if (!existsSync(dirname(path))) {
      return fail({ kind: 'not-found', path: dirname(path), what: `folder for the ${WHAT}` });
    }
    const foreign = notSqlite(path);
    if (foreign) return fail(unusable(path, foreign));
    let db: Database.Database;
    try {
      makeDbFilesPrivate(path);
      db = new Database(path, { ...sqliteBindingOptions(), timeout: BUSY_TIMEOUT_MS });
    } catch (e) {
      const failure = historyFailure(e, path);
      if (failure) return fail(failure);
      throw e;
    }
    try {
      const refusal = HistoryDb.refusal(db, path);
      if (refusal) {
        db.close();
        return fail(refusal);
      }
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db);
      return ok(new HistoryDb(db, path));
    } catch (e) {
      db.close();
      const failure = historyFailure(e, path);
      if (failure) return fail(failure);
      throw e;
    }
  }

  /**
   * Opens an existing history file to read it, writing nothing to it: for `history` and other
   * read commands. A file of an older schema is migrated in a copy in memory, never in place.
   */
  static openReadOnly(path: string): Result<HistoryDb> {
    const foreign = notSqlite(path);
    if (foreign) return fail(unusable(path, foreign));
    let db: Database.Database;
    try {
      db = existsSync(`${path}-wal`)
        ? // A writer is at work (or was killed): its WAL holds committed refreshes; read them too.
          new Database(path, {
            ...sqliteBindingOptions(),
            readonly: true,
            fileMustExist: true,
            timeout: BUSY_TIMEOUT_MS,
          })
        : inMemoryCopy(path);
    } catch (e) {
      const failure = historyFailure(e, path);
      if (failure) return fail(failure);
      throw e;
    }
    try {
      const refusal = HistoryDb.refusal(db, path);
      if (refusal) {
        db.close();
        return fail(refusal);
      }
      if (schemaVersion(db) < SCHEMA_VERSION) {
        const copy = new Database(db.serialize(), sqliteBindingOptions());
        db.close();
        db = copy;
        migrate(db);
      }
      return ok(new HistoryDb(db, path));
    } catch (e) {
      db.close();
      const failure = historyFailure(e, path);
      if (failure) return fail(failure);
      throw e;
    }
  }

  /** Why this file must not be touched, or undefined. Reads only. */
  private static refusal(db: Database.Database, path: string): Failure | undefined {
    const version = schemaVersion(db);
    if (version > SCHEMA_VERSION) {
      return unusable(
        path,
        `written by a newer version of prosody-active-users (history schema ${version}; this ` +
          `version knows up to ${SCHEMA_VERSION}); it was left untouched: update, or use another ` +
          `--state-dir`,
      );
    }
    if (version === 0) {
      const objects = db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number };
      if (objects.n > 0) {
        return unusable(
          path,
          'a SQLite database with tables but no history schema version, so not a history ' +
            'database; it was left untouched',
        );
      }
    }
    return undefined;
  }

  /**
   * Runs `fn` in one transaction (the writes inside nest as savepoints): a refresh and the alert
   * state it produced are kept together or not at all.
   */
  atomically<T>(fn: () => T): T {
    return this.guard(() => this.db.transaction(fn).immediate());
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The schema version of the open file (SCHEMA_VERSION once open() succeeded). */
  version(): number {
    return this.guard(() => schemaVersion(this.db));
  }

  /** The connection's settings, for diagnostics and for the tests that pin the durability choice. */
  settings(): ConnectionSettings {
    return this.guard(() => ({
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous:
        SYNCHRONOUS[Number(this.db.pragma('synchronous', { simple: true }))] ?? 'unknown',
      foreignKeys: this.db.pragma('foreign_keys', { simple: true }) === 1,
      busyTimeoutMs: Number(this.db.pragma('busy_timeout', { simple: true })),
    }));
  }

  /**
   * Records one refresh in one transaction: the refresh row and, for a success, a row per host.
   * A failure is a row with its kind and message and no figures. Throws FailureError when the
   * file cannot be written (busy, read-only, damaged), RangeError for a fractional `at`.
   */
  record(outcome: RefreshOutcome): void {
    assertWholeSeconds('at', outcome.at);
    this.guard(() => this.db.transaction(() => this.insertRefresh(outcome)).immediate());
  }

  private insertRefresh(outcome: RefreshOutcome): void {
    if (!outcome.ok) {
      this.stmt(
        `INSERT INTO refreshes (profile, at, ok, error_kind, error_message)
         VALUES (?, ?, 0, ?, ?)`,
      ).run(outcome.profile, outcome.at, outcome.kind, outcome.message);
      return;
    }
    const { lastInsertRowid } = this.stmt(
      `INSERT INTO refreshes (profile, at, ok, method, bytes_received, seconds)
       VALUES (?, ?, 1, ?, ?, ?)`,
    ).run(outcome.profile, outcome.at, outcome.method, outcome.bytesReceived, outcome.seconds);
    const insert = this.stmt(
      `INSERT INTO figures
         (refresh_id, host, dau, wau, mau, accounts, new1d, new7d, new30d, newest_event,
          excluded_disabled, excluded_no_account, online)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const [host, f] of Object.entries(outcome.hosts)) {
      insert.run(
        lastInsertRowid,
        host,
        f.dau,
        f.wau,
        f.mau,
        f.accounts,
        f.new1d,
        f.new7d,
        f.new30d,
        f.newestEvent,
        f.excludedDisabled ?? null,
        f.excludedNoAccount ?? null,
        f.online ?? null,
      );
    }
  }

  /** Records an alert the policy raised (and the notifier delivered or held) at `at`. */
  recordAlert(alert: Alert, at: number): void {
    assertWholeSeconds('at', at);
    const host = 'host' in alert ? alert.host : null;
    const figure = alert.kind === 'large-change' ? alert.figure : null;
    this.guard(() =>
      this.stmt(
        'INSERT INTO alerts (profile, at, kind, host, figure, payload) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(alert.profile, at, alert.kind, host, figure, JSON.stringify(alert)),
    );
  }

  /** Stores a JSON text under (profile, key), replacing what was there; e.g. the alert policy's state. */
  saveState(profile: string, key: string, json: string): void {
    JSON.parse(json); // A SyntaxError here names the caller's bug better than a CHECK failure.
    this.guard(() =>
      this.stmt(
        `INSERT INTO state (profile, key, json) VALUES (?, ?, ?)
         ON CONFLICT (profile, key) DO UPDATE SET json = excluded.json`,
      ).run(profile, key, json),
    );
  }

  /** The JSON text saved under (profile, key), or null. */
  loadState(profile: string, key: string): string | null {
    const row = this.guard(
      () =>
        this.stmt('SELECT json FROM state WHERE profile = ? AND key = ?').get(profile, key) as
          { json: string } | undefined,
    );
    return row?.json ?? null;
  }

  /**
   * A host's figures from the successful refreshes with fromAt <= at <= toAt, oldest first.
   * Failed refreshes are gaps, not points.
   */
  series(profile: string, host: string, fromAt: number, toAt: number): SeriesPoint[] {
    const rows = this.guard(
      () =>
        this.stmt(
          `SELECT r.at, ${FIGURE_SELECT}
           FROM refreshes r JOIN figures f ON f.refresh_id = r.id
           WHERE r.profile = ? AND r.ok = 1 AND f.host = ? AND r.at BETWEEN ? AND ?
           ORDER BY r.at, r.id`,
        ).all(profile, host, fromAt, toAt) as Array<FigureDbRow & { at: number }>,
    );
    return rows.map((r) => ({ at: r.at, ...figuresOf(r) }));
  }

  /** series() over one of the window's spans, ending at `now`. */
  seriesFor(profile: string, host: string, window: HistoryWindow, now: number): SeriesPoint[] {
    return this.series(profile, host, now - WINDOW_SECONDS[window], now);
  }

  /**
   * The recorded success nearest to `at` (at most toleranceSeconds away) that has `figure` for
   * `host`; on a tie, the earlier. The alert policy's baseline: "the same figure 24 hours earlier".
   */
  nearest(
    profile: string,
    host: string,
    figure: FigureName,
    at: number,
    toleranceSeconds: number,
  ): { value: number; at: number } | null {
    if (!FIGURE_NAMES.includes(figure)) throw new RangeError(`unknown figure ${String(figure)}`);
    const column = FIGURE_COLUMN[figure];
    const base = `SELECT r.at, f.${column} AS value
      FROM refreshes r JOIN figures f ON f.refresh_id = r.id
      WHERE r.profile = ? AND r.ok = 1 AND f.host = ?`;
    type Hit = { at: number; value: number } | undefined;
    const [before, after] = this.guard(() => [
      this.stmt(`${base} AND r.at BETWEEN ? AND ? ORDER BY r.at DESC, r.id DESC LIMIT 1`).get(
        profile,
        host,
        at - toleranceSeconds,
        at,
      ) as Hit,
      this.stmt(`${base} AND r.at > ? AND r.at <= ? ORDER BY r.at, r.id LIMIT 1`).get(
        profile,
        host,
        at,
        at + toleranceSeconds,
      ) as Hit,
    ]);
    const best = !before
      ? after
      : !after
        ? before
        : after.at - at < at - before.at
          ? after
          : before;
    return best ? { value: best.value, at: best.at } : null;
  }

  /**
   * The figures ~24 hours and ~7 days before `now`, for "change against 24 hours and 7 days
   * earlier"; null where nothing was recorded near enough (see DELTA_TOLERANCE_SECONDS).
   */
  deltas(profile: string, host: string, now: number): Deltas {
    const d24h = this.figuresNear(
      profile,
      host,
      now - WINDOW_SECONDS['24h'],
      DELTA_TOLERANCE_SECONDS.d24h,
    );
    const d7d = this.figuresNear(
      profile,
      host,
      now - WINDOW_SECONDS['7d'],
      DELTA_TOLERANCE_SECONDS.d7d,
    );
    return {
      d24h: d24h?.figures ?? null,
      d24hAt: d24h?.at ?? null,
      d7d: d7d?.figures ?? null,
      d7dAt: d7d?.at ?? null,
    };
  }

  private figuresNear(
    profile: string,
    host: string,
    at: number,
    tolerance: number,
  ): { at: number; figures: Figures } | null {
    const row = this.guard(
      () =>
        this.stmt(
          `SELECT r.at, ${FIGURE_SELECT}
           FROM refreshes r JOIN figures f ON f.refresh_id = r.id
           WHERE r.profile = ? AND r.ok = 1 AND f.host = ? AND r.at BETWEEN ? AND ?
           ORDER BY abs(r.at - ?), r.at, r.id LIMIT 1`,
        ).get(profile, host, at - tolerance, at + tolerance, at) as
          (FigureDbRow & { at: number }) | undefined,
    );
    return row ? { at: row.at, figures: figuresOf(row) } : null;
  }

  /** The newest refresh of a profile, and its newest success. */
  latest(profile: string): LatestRefreshes {
    return this.guard(() => {
      const newest = `SELECT * FROM refreshes WHERE profile = ?`;
      const order = 'ORDER BY at DESC, id DESC LIMIT 1';
      const last = this.stmt(`${newest} ${order}`).get(profile) as RefreshDbRow | undefined;
      const success = this.stmt(`${newest} AND ok = 1 ${order}`).get(profile) as
        RefreshDbRow | undefined;
      return {
        last: last ? this.stored(last) : null,
        lastSuccess: success ? (this.stored(success) as StoredSuccess) : null,
      };
    });
  }

  /** Refreshes, newest first, of one profile or all; at most `limit` of them. */
  refreshes(profile?: string, limit?: number): StoredRefresh[] {
    return this.guard(() => {
      const rows = this.stmt(
        `SELECT * FROM refreshes WHERE @profile IS NULL OR profile = @profile
         ORDER BY at DESC, id DESC LIMIT @limit`,
      ).all({ profile: profile ?? null, limit: limit ?? -1 }) as RefreshDbRow[];
      return rows.map((r) => this.stored(r));
    });
  }

  /**
   * Everything recorded, oldest first, as export rows: one per host of each success (the total
   * first), one per failure. Lazy; the connection is busy until the iteration ends, so do not
   * write from inside the loop.
   */
  *exportRows(profile?: string): Generator<HistoryRow> {
    const rows = this.guard(
      () =>
        this.stmt(
          `SELECT r.*, ${FIGURE_SELECT}
           FROM refreshes r LEFT JOIN figures f ON f.refresh_id = r.id
           WHERE @profile IS NULL OR r.profile = @profile
           ORDER BY r.at, r.id, f.host IS NOT @total, f.host`,
        ).iterate({ profile: profile ?? null, total: TOTAL_HOST }) as IterableIterator<ExportDbRow>,
    );
    try {
      for (const r of rows) {
        const success = r.ok === 1 && r.host !== null;
        yield {
          profile: r.profile,
          at: r.at,
          ok: r.ok === 1,
          host: r.host,
          figures: success ? figuresOf(r as FigureDbRow) : null,
          method: r.method,
          bytesReceived: r.bytes_received,
          seconds: r.seconds,
          errorKind: r.error_kind,
          errorMessage: r.error_message,
        };
      }
    } catch (e) {
      const failure = historyFailure(e, this.path);
      throw failure ? new FailureError(failure) : e;
    }
  }

  /** Recorded alerts, oldest first, of one profile or all, from `fromAt` on. */
  alerts(profile?: string, fromAt?: number): StoredAlert[] {
    const rows = this.guard(
      () =>
        this.stmt(
          `SELECT id, at, payload FROM alerts
           WHERE (@profile IS NULL OR profile = @profile) AND (@fromAt IS NULL OR at >= @fromAt)
           ORDER BY at, id`,
        ).all({ profile: profile ?? null, fromAt: fromAt ?? null }) as Array<{
          id: number;
          at: number;
          payload: string;
        }>,
    );
    return rows.map((r) => ({ id: r.id, at: r.at, alert: JSON.parse(r.payload) as Alert }));
  }

  private stored(r: RefreshDbRow): StoredRefresh {
    if (r.ok === 0) {
      return {
        id: r.id,
        ok: false,
        profile: r.profile,
        at: r.at,
        kind: r.error_kind ?? '',
        message: r.error_message ?? '',
      };
    }
    const hosts: Record<string, Figures> = {};
    const figureRows = this.stmt(
      `SELECT ${FIGURE_SELECT} FROM figures f WHERE f.refresh_id = ? ORDER BY f.host`,
    ).all(r.id) as FigureDbRow[];
    for (const f of figureRows) setOwn(hosts, f.host, figuresOf(f));
    return {
      id: r.id,
      ok: true,
      profile: r.profile,
      at: r.at,
      method: r.method ?? '',
      bytesReceived: r.bytes_received,
      seconds: r.seconds,
      hosts,
    };
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** Prepared once per connection. */
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Runs fn; an error about the file becomes a FailureError with a kind, others pass through. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const failure = historyFailure(e, this.path);
      throw failure ? new FailureError(failure) : e;
    }
  }
}
