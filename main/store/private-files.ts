/**
 * The monitor's state files hold every account's JID and last activity: nobody else may read
 * them. SQLite creates a database's -wal, -shm and -journal with the mode of the database file
 * itself, so creating that file 0600 before SQLite opens it makes all four private, whatever the
 * umask and whatever the folder's mode.
 */
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';

const SQLITE_SIDECARS = ['', '-wal', '-shm', '-journal'];

/**
 * Creates the database file 0600 when it does not exist, and takes group and other access away
 * from it and its sidecars when this user owns them (files left 0644 by an earlier version).
 */
export function makeDbFilesPrivate(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const suffix of SQLITE_SIDECARS) makePrivate(path + suffix);
}

function makePrivate(path: string): void {
  try {
    const st = statSync(path);
    if (!st.isFile() || (st.mode & 0o077) === 0) return;
    if (process.getuid !== undefined && st.uid !== process.getuid()) return;
    chmodSync(path, st.mode & 0o700);
  } catch {
    // Missing (a sidecar not made yet) or not ours to change: SQLite reports what matters.
  }
}
