import { accessSync, constants } from 'node:fs';
import { availableParallelism } from 'node:os';
import Database from 'better-sqlite3';
import { sqliteBindingOptions } from '../store/sqlite-binding.js';
import type { ActivityTally } from '../core/count-active.js';
import { type Result, fail, ok } from '../core/failure.js';
import {
  ACTIVITY_QUERY,
  type ActivityQueryOutput,
  type ActivityQueryTuple,
} from './activity-query.js';
import type { ActivitySource } from '../core/activity-source.js';
import { feedQueryTuple } from './feed-query-rows.js';
import { fileFailure } from './file-failure.js';

/**
 * Helper threads SQLite may use to sort ACTIVITY_QUERY's rows (PRAGMA threads): the other cores,
 * at most three. A million accounts sort in about two thirds of the time on two cores.
 */
const SORTER_THREADS = Math.max(0, Math.min(3, availableParallelism() - 1));

/** Prosody's SQL storage in a SQLite file, opened read-only. */
export class SqliteSource implements ActivitySource {
  readonly label: string;

  constructor(
    private readonly path: string,
    private readonly includeHost: (host: string) => boolean = () => true,
    /** Sees every account row, of every host (the SFTP copy keeps them for its cache). */
    private readonly onRow?: (row: ActivityQueryTuple | ActivityQueryOutput) => void,
  ) {
    this.label = `SQLite database ${path}`;
  }

  async feed(tally: ActivityTally): Promise<Result<void>> {
    let db: Database.Database;
    try {
      // SQLite reports a missing and an unreadable file alike; ask the file system first.
      accessSync(this.path, constants.R_OK);
      db = new Database(this.path, {
        ...sqliteBindingOptions(),
        readonly: true,
        fileMustExist: true,
      });
    } catch (e) {
      return fail(fileFailure(e, this.path, 'Prosody SQLite database'));
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
      db.pragma(`threads = ${SORTER_THREADS}`);
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
      return fail(fileFailure(e, this.path, 'Prosody SQLite database'));
    } finally {
      db.close();
    }
  }
}
