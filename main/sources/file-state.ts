/**
 * What identifies a remote database file's state for the remote query's "unchanged" answer
 * (issue 14, row 3): header bytes 18..27 (file format versions, reserved byte, payload fractions
 * and the 4-byte file change counter, which SQLite moves on every commit in rollback-journal mode),
 * then the file's inode, size, mtime and ctime in nanoseconds (no one can set a ctime back: a copy written in place
 * with its old mtime still moves it), all in decimal, joined by dots. Read by the server's shell
 * from `od` and `stat` at no cost; the server compares it byte for byte with the one the client
 * kept, and answers "unchanged" only for a rollback-journal file with no live journal.
 */
export const FILE_STATE_FIELDS = 14;

const FILE_STATE = new RegExp(`^\\d{1,20}(?:\\.\\d{1,20}){${FILE_STATE_FIELDS - 1}}$`);

/** A file state as the server prints it and the cache keeps it: 14 decimal numbers, dot-joined. */
export const isFileState = (s: unknown): s is string =>
  typeof s === 'string' && s.length <= 300 && FILE_STATE.test(s);

/** The file's size in bytes as a state gives it (the field after the inode). */
export const fileSizeOf = (state: string): number =>
  Number(state.split('.')[FILE_STATE_FIELDS - 3]);
