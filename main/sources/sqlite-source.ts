import { accessSync, constants } from 'node:fs';
import Database from 'better-sqlite3';
import type { ActivityTally } from '../core/count-active.js';
import { type Result, fail, ok } from '../core/failure.js';
import { ACTIVITY_QUERY, type ActivityQueryRow } from './activity-query.js';
import type { ActivitySource } from '../core/activity-source.js';
import { feedQueryRow } from './feed-query-rows.js';
import { fileFailure } from './file-failure.js';

/** Prosody's SQL storage in a SQLite file, opened read-only. */
export class SqliteSource implements ActivitySource {
  readonly label: string;

  constructor(
    private readonly path: string,
    private readonly includeHost: (host: string) => boolean = () => true,
  ) {
    this.label = `SQLite database ${path}`;
  }

  async feed(tally: ActivityTally): Promise<Result<void>> {
    let db: Database.Database;
    try {
      // SQLite reports a missing and an unreadable file alike; ask the file system first.
      accessSync(this.path, constants.R_OK);
      db = new Database(this.path, { readonly: true, fileMustExist: true });
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
      const rows = db.prepare(ACTIVITY_QUERY).iterate() as IterableIterator<ActivityQueryRow>;
      for (const row of rows) if (this.includeHost(row.host)) feedQueryRow(tally, row);
      return ok(undefined);
    } catch (e) {
      return fail(fileFailure(e, this.path, 'Prosody SQLite database'));
    } finally {
      db.close();
    }
  }
}
