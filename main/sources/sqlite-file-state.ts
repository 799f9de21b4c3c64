import { closeSync, openSync, readSync } from 'node:fs';

/**
 * What a lock-free reader of a live SQLite file checks before and after it reads: the header's
 * write version (2 in WAL mode) and file change counter (bytes 18 and 24..27, sqlite.org/fileformat),
 * and whether a rollback journal is hot. In rollback-journal mode every commit moves the counter,
 * and a journal exists with a live header from before a commit writes its first page until after it
 * wrote its last: a read that saw the same counter and no live journal at both ends saw no commit.
 */
export interface SqliteFileState {
  /** The database is in WAL mode (readers take no lock that holds a writer up there). */
  wal: boolean;
  /** The change counter, or null for a file too short to have a header (empty: no tables). */
  counter: number | null;
  /** A rollback journal with a live header: a commit is under way (or was cut short). */
  writing: boolean;
}

/** The header bytes a rollback journal starts with while it is live (sqlite.org/fileformat2). */
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

/** Reads up to `n` bytes from the start of `path`; null when it cannot be opened (no journal). */
function head(path: string, n: number): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** The state of the database at `path` (throws as openSync does when it cannot be read). */
export function sqliteFileState(path: string): SqliteFileState {
  const fd = openSync(path, 'r');
  let header: Buffer;
  try {
    const buf = Buffer.alloc(28);
    header = buf.subarray(0, readSync(fd, buf, 0, 28, 0));
  } finally {
    closeSync(fd);
  }
  const journal = head(`${path}-journal`, JOURNAL_MAGIC.length);
  return {
    wal: header.length >= 20 && (header[18] === 2 || header[19] === 2),
    counter: header.length >= 28 ? header.readUInt32BE(24) : null,
    // PERSIST mode zeroes a finished journal's header and TRUNCATE empties it; DELETE removes it.
    writing: journal !== null && journal.equals(JOURNAL_MAGIC),
  };
}

/** Two states with no commit between them (and none under way at either). */
export function sameQuietState(a: SqliteFileState, b: SqliteFileState): boolean {
  return !a.writing && !b.writing && a.counter === b.counter && a.wal === b.wal;
}
