import { type Result, fail, ok } from '../core/failure.js';
import { DEFAULT_SQL_PORT, type SqlEngine, type SqlServerTarget } from '../core/sql-url.js';

export type { SqlEngine, SqlServerTarget } from '../core/sql-url.js';
export { parseSqlUrl } from '../core/sql-url.js';

export const ENGINE_NAMES: Record<SqlEngine, string> = {
  postgresql: 'PostgreSQL',
  mysql: 'MySQL',
};

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
  const p = port ?? DEFAULT_SQL_PORT[engine];
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
