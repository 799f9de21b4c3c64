/**
 * Where a PostgreSQL or MySQL/MariaDB database is, and the `--sql` URL that names it (also a
 * profile's `sql` field). Pure: the settings validation and the CLI's options share it.
 */
import { type Result, fail, ok } from './failure.js';

export type SqlEngine = 'postgresql' | 'mysql';

/** Where Prosody's PostgreSQL or MySQL/MariaDB database is, as Prosody's LuaDBI drivers reach it. */
export interface SqlServerTarget {
  engine: SqlEngine;
  database: string;
  user: string;
  /** Absent: none (peer/unix_socket authentication, or trust). */
  password?: string;
  /** A TCP endpoint, or a Unix socket's full path. */
  endpoint: { tcp: { host: string; port: number } } | { socket: string };
}

export const DEFAULT_SQL_PORT: Record<SqlEngine, number> = { postgresql: 5432, mysql: 3306 };

/**
 * `--sql URL`: `postgres://user@host:port/db`, `mysql://user@host/db`, or a socket as
 * `postgres://user@/db?socket=/run/postgresql/.s.PGSQL.5432`. A password in the URL is refused:
 * command lines are visible to every user of the machine.
 */
export function parseSqlUrl(text: string): Result<Omit<SqlServerTarget, 'password'>> {
  const bad = (why: string) =>
    fail<Omit<SqlServerTarget, 'password'>>({
      kind: 'usage',
      message: `--sql ${JSON.stringify(text)} ${why}`,
    });
  let url: URL;
  try {
    // `postgres://user@/db?socket=…` has no host, which URL does not take: the socket stands for it.
    url = new URL(text.replace(/^([a-z]+:\/\/[^@/]*@)\//, '$1socket/'));
  } catch {
    return bad('is not a URL such as postgres://prosody@127.0.0.1:5432/prosody');
  }
  const engine: SqlEngine | null =
    url.protocol === 'postgres:' || url.protocol === 'postgresql:'
      ? 'postgresql'
      : url.protocol === 'mysql:' || url.protocol === 'mariadb:'
        ? 'mysql'
        : null;
  if (engine === null) return bad('must start with postgres:// or mysql://');
  if (url.password !== '') {
    return fail({
      kind: 'usage',
      message:
        '--sql holds a password, which every user of this machine could read: give it in PROSODY_ACTIVE_USERS_DB_PASSWORD instead',
    });
  }
  const user = decodeURIComponent(url.username);
  if (user === '') return bad('names no user (postgres://USER@host/db)');
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) return bad('names no database (…/DATABASE)');
  const socket = url.searchParams.get('socket');
  if (socket !== null) {
    if (!socket.startsWith('/')) return bad('has a socket path that is not absolute');
    return ok({ engine, user, database, endpoint: { socket } });
  }
  if (url.hostname === '') return bad('names no host (or ?socket=PATH)');
  const port = url.port === '' ? DEFAULT_SQL_PORT[engine] : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return ok({ engine, user, database, endpoint: { tcp: { host, port } } });
}
