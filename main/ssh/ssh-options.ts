import type { SqlServerTarget } from '../sources/sql-server-target.js';

/**
 * What a count over SSH is told, by the CLI's flags or by an app profile alike: it lives below
 * both front doors so that neither imports the other.
 */
export interface SshOptions {
  /** `[user@]host[:port]` or an alias from ~/.ssh/config. */
  target: string;
  identity?: string;
  sshConfig?: string;
  knownHosts?: string;
  acceptNewHostKey: boolean;
  remoteDb?: string;
  remoteDataDir?: string;
  remoteConfig: string;
  method: 'auto' | 'query' | 'copy';
  connectTimeout: number;
  stepTimeout: number;
  /**
   * The account cache (in the state folder), so that a refresh when little changed fetches
   * little; none for a one-shot count without --state-dir.
   */
  cacheFile?: string;
  /**
   * Ask the live server (Prosody's admin socket, through this connection) for open sessions and
   * module health; undefined means yes. Off for --at (the sessions are now's, not then's).
   */
  live?: boolean;
  /** Where Prosody's admin socket is on the server (default: from its config). */
  adminSocket?: string;
  /** `--sql URL`: a database as the server reaches it (password from DB_PASSWORD_ENV). */
  sql?: Omit<SqlServerTarget, 'password'>;
}

/** A key's passphrase for a run without a terminal; the app removes it from its environment. */
export const PASSPHRASE_ENV = 'PROSODY_ACTIVE_USERS_PASSPHRASE';
/** A login password for a run without a terminal; the app removes it from its environment. */
export const PASSWORD_ENV = 'PROSODY_ACTIVE_USERS_PASSWORD';
/** The database password for --sql (a Prosody config's own sql.password is used as it is). */
export const DB_PASSWORD_ENV = 'PROSODY_ACTIVE_USERS_DB_PASSWORD';
