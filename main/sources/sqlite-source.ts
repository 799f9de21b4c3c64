import { accessSync, constants } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { sqliteBindingOptions } from '../store/sqlite-binding.js';
import type { ActivityTally } from '../core/count-active.js';
import { type Failure, type Result, fail, ok } from '../core/failure.js';
import {
  ACTIVITY_QUERY,
  type ActivityQueryOutput,
  type ActivityQueryTuple,
} from './activity-query.js';
import type { ActivitySource } from '../core/activity-source.js';
import { feedQueryTuple } from './feed-query-rows.js';
import { fileFailure } from './file-failure.js';
import { type SqliteFileState, sameQuietState, sqliteFileState } from './sqlite-file-state.js';
import { runSqliteCli } from './sqlite-cli-query.js';
import {
  HOST_TOTALS_COLUMNS,
  HOST_TOTALS_ONLINE_QUERY,
  HOST_TOTALS_QUERY,
  hostTotalsOnlineQuery,
  hostTotalsQuery,
} from './host-totals-query.js';
import { feedHostTotalsRow, onlinePairs } from './feed-host-totals.js';
import { type AccountRange, accountRanges, sampleQuery } from './account-ranges.js';

/**
 * Helper threads each of `processes` SQLite processes may use to sort (PRAGMA threads): the cores
 * left beside them, at most three. A million accounts sort in about two thirds of the time on two
 * cores.
 */
const sorterThreads = (processes: number) =>
  Math.max(0, Math.min(3, Math.floor(availableParallelism() / processes) - 1));

/** sqlite3 processes a lock-free count is split over: one a core, at most four (account-ranges.ts). */
const CLI_PARTS = Math.max(1, Math.min(4, availableParallelism()));
/** More than sampleQuery asks for: not sqlite3's answer. */
const MAX_SAMPLE_LINES = 1024;

/** Reads of a rollback-journal file before giving up while commits keep landing in each. */
export const LOCK_FREE_ATTEMPTS = 6;
const pauseBeforeRetry = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, 150 * attempt + Math.random() * 250));

const NO_CLI_NOTICE =
  'is in rollback-journal mode and the sqlite3 command (3.38 or later) is not installed here, so it was read with a lock, which can make Prosody 0.12\u2019s writes fail meanwhile: install sqlite3, or switch the database to WAL mode (Prosody 13: sqlite_tune = "normal"; 0.12: PRAGMA journal_mode=WAL while Prosody is stopped).';

/**
 * A value as JSON, exactly: sqlite3 before 3.43 writes a REAL in JSON with 15 digits
 * (1795535939.1234567 becomes …939.12346), 17 give back the same double.
 */
const asJson = (column: string) => `CASE typeof(${column})
  WHEN 'null' THEN 'null' WHEN 'text' THEN json_quote(${column})
  WHEN 'real' THEN printf('%.17g', ${column}) ELSE ${column} END`;

/** A totals query's rows as one JSON array a line, made by SQLite (names escaped). */
const cliRows = (query: string) =>
  `SELECT '[' || ${Array.from({ length: HOST_TOTALS_COLUMNS }, (_, i) =>
    asJson(i === 0 ? 'kind' : `c${i}`),
  ).join(" || ',' || ")} || ']' FROM (${query})`;

/** ACTIVITY_QUERY's tuple columns (ActivityQueryTuple), one JSON array a line. */
const ACCOUNT_COLUMNS = [
  'host',
  'user',
  'last_active',
  'registered',
  'not_an_event',
  'malformed',
  'no_timestamp',
  'account',
  'has_role',
];
const CLI_ACCOUNT_ROWS = `SELECT '[' || ${ACCOUNT_COLUMNS.map(asJson).join(" || ',' || ")} || ']'
FROM (${ACTIVITY_QUERY})`;

/**
 * The statement for the sqlite3 command: its parameters written in as literals. As of a past
 * moment (TallyOptions.pastMoment) a row per account, for the tally to apply that rule, which
 * the totals query does not know.
 */
function cliStatement(
  now: number,
  online: string | null,
  pastMoment: boolean,
  range: AccountRange = {},
): string {
  if (!Number.isFinite(now)) throw new RangeError(`bad now: ${now}`);
  if (pastMoment) return CLI_ACCOUNT_ROWS;
  const sql =
    online === null
      ? cliRows(hostTotalsQuery(range))
      : cliRows(hostTotalsOnlineQuery(range)).replace(
          /:online\b/g,
          `'${online.replace(/'/g, "''")}'`,
        );
  return sql.replace(/:now\b/g, `(${now})`);
}

export interface SqliteSourceOptions {
  /** Sees each step, as the SSH sources' onStep; a test commits a write here. */
  onStep?: (step: string) => void;
  /** The sqlite3 command for the lock-free read; `sqlite3` on PATH by default. */
  sqlite3?: string;
  /** How many sqlite3 processes may share a lock-free count, and from how many rows (tests). */
  split?: { parts: number; minRows: number };
}

/**
 * Prosody's SQL storage in a SQLite file, read without ever holding Prosody's writers up: in WAL
 * mode readers never block a writer, so SQLite reads it here; in rollback-journal mode any reader's
 * lock makes a commit of Prosody 0.12 (no busy timeout) fail, so the file is read through the
 * `sqlite3` command with no lock at all, as the SSH remote query does, and read again when a
 * commit landed meanwhile. A file given `onRow` is a private copy nobody writes: SQLite reads it.
 */
export class SqliteSource implements ActivitySource {
  readonly label: string;

  constructor(
    private readonly path: string,
    private readonly includeHost: (host: string) => boolean = () => true,
    /** Sees every account row, of every host (the SFTP copy keeps them for its cache). */
    private readonly onRow?: (row: ActivityQueryTuple | ActivityQueryOutput) => void,
    private readonly options: SqliteSourceOptions = {},
  ) {
    this.label = `SQLite database ${path}`;
  }

  async feed(tally: ActivityTally): Promise<Result<void>> {
    let state: SqliteFileState;
    try {
      // SQLite reports a missing and an unreadable file alike; ask the file system first.
      accessSync(this.path, constants.R_OK);
      state = sqliteFileState(this.path);
    } catch (e) {
      return fail(fileFailure(e, this.path, 'Prosody SQLite database'));
    }
    if (this.onRow !== undefined || state.wal) return this.feedInProcess(tally, state.wal);
    return this.feedLockFree(tally, state);
  }

  private async feedLockFree(tally: ActivityTally, first: SqliteFileState): Promise<Result<void>> {
    let before = first;
    for (let attempt = 1; attempt <= LOCK_FREE_ATTEMPTS; attempt++) {
      if (attempt > 1) {
        await pauseBeforeRetry(attempt);
        try {
          before = sqliteFileState(this.path);
        } catch (e) {
          return fail(fileFailure(e, this.path, 'Prosody SQLite database'));
        }
        if (before.wal) return this.feedInProcess(tally, true);
      }
      this.options.onStep?.(`reading ${this.path}`);
      const perAccount = tally.options.pastMoment === true;
      const command = this.options.sqlite3 ?? 'sqlite3';
      const ranges = perAccount ? [{}] : await this.ranges(command);
      // Sorter threads as in-process, shared among the parts; sqlite3 prints the value set.
      const threads = sorterThreads(ranges.length);
      const parts = ranges.map(() => tally.fork());
      let ran: Awaited<ReturnType<typeof runSqliteCli>>[];
      try {
        ran = await Promise.all(
          ranges.map((range, i) => {
            const part = parts[i] as ActivityTally;
            const sql = `PRAGMA threads = ${threads};\n${cliStatement(tally.now, onlinePairs(tally.online), perAccount, range)}`;
            return runSqliteCli(command, this.path, sql, (line) => {
              if (/^[0-9]+$/.test(line)) return;
              const row = JSON.parse(line) as unknown[];
              if (perAccount) {
                if (this.includeHost(row[0] as string))
                  feedQueryTuple(part, row as ActivityQueryTuple);
              } else if (this.includeHost(row[1] as string)) feedHostTotalsRow(part, row);
            });
          }),
        );
      } catch (e) {
        if (!(e instanceof SyntaxError)) throw e;
        // Not what the statement prints: another program answered as sqlite3.
        return fail({ kind: 'corrupt', path: this.path, detail: `sqlite3 printed ${e.message}` });
      }
      let after: SqliteFileState;
      try {
        after = sqliteFileState(this.path);
      } catch (e) {
        return fail(fileFailure(e, this.path, 'Prosody SQLite database'));
      }
      const quiet = sameQuietState(before, after);
      if (ran.some((r) => r.missing || /no such function: json/.test(r.stderr))) {
        tally.notices.push(`${this.path} ${NO_CLI_NOTICE}`);
        return this.feedInProcess(tally, false);
      }
      const failed = ran.find((r) => r.code !== 0);
      if (failed !== undefined) {
        // A read torn by a commit can make sqlite3 say "malformed": only a quiet file is damaged.
        if (!quiet) continue;
        if (/no such table: prosody/.test(failed.stderr)) {
          return fail({ kind: 'no-activity-records', source: this.label });
        }
        const detail = failed.stderr.trim().split('\n')[0] ?? `sqlite3 exited with ${failed.code}`;
        return fail({ kind: 'corrupt', path: this.path, detail });
      }
      if (!quiet) continue;
      for (const part of parts) tally.absorb(part);
      return ok(undefined);
    }
    return fail({ kind: 'busy', path: this.path });
  }

  /**
   * The ranges of accounts to count in parallel: several on a large table when there are cores
   * for them, else one. Anything odd in the sample (or a failed run) counts the file whole; the
   * count itself then says what is wrong.
   */
  private async ranges(command: string): Promise<AccountRange[]> {
    const { parts, minRows } = this.options.split ?? { parts: CLI_PARTS, minRows: undefined };
    if (parts < 2) return [{}];
    const lines: unknown[] = [];
    try {
      const ran = await runSqliteCli(command, this.path, sampleQuery(parts), (line) => {
        if (lines.length > MAX_SAMPLE_LINES) throw new RangeError('too many sample lines');
        lines.push(JSON.parse(line));
      });
      return ran.code === 0 ? accountRanges(lines, parts, minRows) : [{}];
    } catch {
      return [{}];
    }
  }

  private feedInProcess(tally: ActivityTally, wal: boolean): Result<void> {
    let db: Database.Database;
    try {
      db = new Database(this.path, {
        ...sqliteBindingOptions(),
        readonly: true,
        fileMustExist: true,
      });
    } catch (e) {
      return fail(this.failure(e, wal));
    }
    try {
      // A reader must never hold Prosody's writers up for long; one statement, then close.
      db.pragma('query_only = ON');
      const hasTable = db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'prosody'")
        .get();
      if (!hasTable) {
        return fail({ kind: 'no-activity-records', source: this.label });
      }
      db.pragma(`threads = ${sorterThreads(1)}`);
      // As of a past moment, a row per account: the totals query does not know that rule.
      if (this.onRow === undefined && tally.options.pastMoment !== true) {
        const online = onlinePairs(tally.online);
        const totals = (
          online === null
            ? db.prepare(HOST_TOTALS_QUERY).raw(true).all({ now: tally.now })
            : db.prepare(HOST_TOTALS_ONLINE_QUERY).raw(true).all({ now: tally.now, online })
        ) as unknown[][];
        for (const row of totals)
          if (this.includeHost(row[1] as string)) feedHostTotalsRow(tally, row);
        return ok(undefined);
      }
      // Arrays rather than objects: a million rows, each read once.
      const rows = db
        .prepare(ACTIVITY_QUERY)
        .raw(true)
        .iterate() as IterableIterator<ActivityQueryOutput>;
      let host: string | null = null;
      let included = false;
      const onRow = this.onRow;
      for (const row of rows) {
        onRow?.(row);
        // Rows come grouped by host: ask about each host once.
        if (row[0] !== host) {
          host = row[0];
          included = this.includeHost(host);
        }
        if (included) feedQueryTuple(tally, row);
      }
      return ok(undefined);
    } catch (e) {
      return fail(this.failure(e, wal));
    } finally {
      db.close();
    }
  }

  /**
   * In WAL mode a reader needs the -shm index beside the file; when Prosody is stopped it is gone,
   * and in a folder this user cannot write to SQLite cannot make it: say that, not "check the path".
   */
  private failure(e: unknown, wal: boolean): Failure {
    const failure = fileFailure(e, this.path, 'Prosody SQLite database');
    if (!wal || (failure.kind !== 'not-found' && failure.kind !== 'corrupt')) return failure;
    try {
      accessSync(`${this.path}-shm`);
      return failure;
    } catch {
      // No -shm: can this user make one?
    }
    try {
      accessSync(dirname(this.path), constants.W_OK);
      return failure;
    } catch {
      return { kind: 'wal-read-only', path: this.path };
    }
  }
}
