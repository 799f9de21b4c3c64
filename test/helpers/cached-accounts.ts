import Database from 'better-sqlite3';
import type { ActivityQueryTuple } from '../../main/sources/activity-query.js';

/**
 * The account rows a cache file holds under `key`, by host and user, read beside the cache's own
 * connection (WAL: a second reader sees every committed write): what the packs are checked against.
 */
export function cachedAccounts(path: string, key: string): ActivityQueryTuple[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        'SELECT host, user, last_active, registered, not_an_event, malformed, no_timestamp, account, has_role FROM account WHERE key = ? ORDER BY host, user',
      )
      .raw(true)
      .all(key) as ActivityQueryTuple[];
  } finally {
    db.close();
  }
}
