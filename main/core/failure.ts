/**
 * Expected failures are values, not exceptions: each has a kind that the CLI and the window turn
 * into one sentence with a next step (see describe-failure.ts).
 */
export type Failure =
  | { kind: 'usage'; message: string }
  | { kind: 'not-found'; path: string; what: string }
  | { kind: 'permission-denied'; path: string; what: string }
  /** The path, or a folder on it, is a loop of symbolic links (ELOOP). */
  | { kind: 'symlink-loop'; path: string; what: string }
  | { kind: 'corrupt'; path: string; detail: string }
  | { kind: 'too-large'; path: string; size: number; limit: number }
  | { kind: 'busy'; path: string }
  /** A WAL-mode SQLite file whose -shm index cannot be made: its folder is not writable here. */
  | { kind: 'wal-read-only'; path: string }
  /** A remote database that changed during every one of `attempts` copies or lock-free reads. */
  | { kind: 'kept-changing'; path: string; attempts: number; method: 'copy' | 'query' }
  | { kind: 'no-activity-records'; source: string }
  | { kind: 'unsupported-storage'; detail: string }
  | { kind: 'no-prosody-data'; looked: string[] }
  /** A path the user gave that names a FIFO, socket, device or folder: only regular files are read. */
  | { kind: 'special-file'; path: string; what: string; type: string }
  /** Prosody's config named by --config that cannot be read as one (`detail` names the line). */
  | { kind: 'prosody-config'; path: string; detail: string }
  /** The monitor's settings file: `message` names the file and the field. */
  | { kind: 'settings'; message: string }
  /** A desktop notification that could not be shown. */
  | { kind: 'notify'; message: string }
  // Over SSH:
  | { kind: 'network'; host: string; port: number; detail: string }
  | { kind: 'timeout'; host: string; step: string; seconds: number }
  | { kind: 'host-key-unknown'; host: string; port: number; keyType: string; fingerprint: string }
  | {
      kind: 'host-key-changed';
      host: string;
      port: number;
      keyType: string;
      fingerprint: string;
      knownHostsFile: string;
      line: number;
    }
  | { kind: 'host-key-revoked'; host: string; port: number; fingerprint: string }
  | {
      kind: 'auth';
      host: string;
      user: string;
      tried: string[];
      /** The server hung up after too many refused keys (sshd's MaxAuthTries). */
      tooManyKeys?: boolean;
    }
  | { kind: 'key-format'; path: string; format: string }
  | { kind: 'key-passphrase'; path: string; wrong: boolean; envVar: string }
  | { kind: 'ssh-config'; path: string; detail: string }
  | { kind: 'connection-lost'; host: string; step: string }
  | { kind: 'remote-protocol'; host: string; detail: string }
  // A PostgreSQL or MySQL/MariaDB server (`where` names it: "PostgreSQL prosody@db:5432/prosody"):
  | {
      kind: 'db-auth';
      where: string;
      user: string;
      detail: string;
      /** Where each engine decides who may log in, for the advice. */
      engine: 'postgres' | 'mysql';
    }
  | { kind: 'db-missing'; where: string; what: 'database' | 'table'; name: string }
  | { kind: 'db-permission'; where: string; user: string; detail: string }
  | { kind: 'db-unreachable'; where: string; detail: string }
  | { kind: 'db-error'; where: string; detail: string }
  /** Prosody's `sql = { … }` cannot be used as written (Prosody itself would refuse it too). */
  | { kind: 'sql-config'; detail: string }
  /**
   * A bug met during a refresh (logged once, with its stack, at the edge): recorded like any other
   * failure, so that the history shows a gap and the failing alert still counts it.
   */
  | { kind: 'unexpected'; detail: string }
  /**
   * A file of the monitor's own state folder (the history) that cannot be used: not a history
   * database, damaged, or a disk that is full or failing. Never Prosody's data.
   */
  | {
      kind: 'state-file';
      path: string;
      what: string;
      problem: 'unusable' | 'disk-full' | 'io-error';
      detail: string;
    };

export type FailureKind = Failure['kind'];

export type Result<T> = { ok: true; value: T } | { ok: false; failure: Failure };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(failure: Failure): Result<T> {
  return { ok: false, failure };
}

/** Thrown only to carry a Failure through code that cannot return one (iterators); caught at the edge. */
export class FailureError extends Error {
  constructor(readonly failure: Failure) {
    super(failure.kind);
    this.name = 'FailureError';
  }
}
