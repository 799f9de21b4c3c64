import { type Result, fail, ok } from '../core/failure.js';

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

export const ENGINE_NAMES: Record<SqlEngine, string> = {
  postgresql: 'PostgreSQL',
  mysql: 'MySQL',
};

const DEFAULT_PORT: Record<SqlEngine, number> = { postgresql: 5432, mysql: 3306 };

/** Debian's socket folders: libpq's and libmysqlclient's defaults when no host is given. */
const PG_SOCKET_DIR = '/var/run/postgresql';
const MYSQL_SOCKET = '/var/run/mysqld/mysqld.sock';

/** How a target is named in messages and cache keys; never with the password. */
export function describeTarget(t: SqlServerTarget): string {
  const at =
    'tcp' in t.endpoint ? `${t.endpoint.tcp.host}:${t.endpoint.tcp.port}` : t.endpoint.socket;
  return `${ENGINE_NAMES[t.engine]} ${t.user}@${at}/${t.database}`;
}

function engineOf(driver: string): SqlEngine | null {
  if (driver === 'PostgreSQL') return 'postgresql';
  if (driver === 'MySQL') return 'mysql';
  return null;
}

/**
 * The target from Prosody's `sql = { driver, database, username, password, host, port }`, as
 * LuaDBI passes them to libpq and libmysqlclient: no host (or a path, for PostgreSQL) means the
 * Unix socket; MySQL's "localhost" means the socket too.
 */
export function targetFromProsodySql(
  sql: Record<string, unknown>,
  defaultUser: string,
): Result<SqlServerTarget> {
  const driver = sql.driver;
  if (typeof driver !== 'string') {
    return fail({
      kind: 'sql-config',
      detail:
        'Prosody\u2019s sql = { … } names no driver (Prosody needs driver = "SQLite3", "PostgreSQL" or "MySQL" there)',
    });
  }
  const engine = engineOf(driver);
  if (engine === null) {
    return fail({ kind: 'unsupported-storage', detail: `Prosody uses the SQL driver ${driver}` });
  }
  if (typeof sql.database !== 'string' || sql.database === '') {
    return fail({ kind: 'sql-config', detail: 'Prosody\u2019s sql = { … } names no database' });
  }
  const user = typeof sql.username === 'string' && sql.username !== '' ? sql.username : defaultUser;
  const host = typeof sql.host === 'string' && sql.host !== '' ? sql.host : undefined;
  const rawPort = typeof sql.port === 'number' ? sql.port : Number(sql.port ?? NaN);
  const port = Number.isInteger(rawPort) && rawPort > 0 && rawPort < 65536 ? rawPort : undefined;
  if (sql.port !== undefined && port === undefined) {
    return fail({
      kind: 'sql-config',
      detail: `Prosody\u2019s sql port ${String(sql.port)} is not a port number`,
    });
  }
  const p = port ?? DEFAULT_PORT[engine];
  let endpoint: SqlServerTarget['endpoint'];
  if (engine === 'postgresql') {
    endpoint =
      host === undefined || host.startsWith('/')
        ? { socket: `${host ?? PG_SOCKET_DIR}/.s.PGSQL.${p}` }
        : { tcp: { host, port: p } };
  } else {
    endpoint =
      host === undefined || host === 'localhost'
        ? { socket: MYSQL_SOCKET }
        : { tcp: { host, port: p } };
  }
  const target: SqlServerTarget = { engine, database: sql.database, user, endpoint };
  if (typeof sql.password === 'string') target.password = sql.password;
  return ok(target);
}

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
  const port = url.port === '' ? DEFAULT_PORT[engine] : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return ok({ engine, user, database, endpoint: { tcp: { host, port } } });
}
