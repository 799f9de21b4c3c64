import type { Connection } from 'mysql2/promise';
import type { Failure, Result } from '../core/failure.js';
import { fail, ok } from '../core/failure.js';
import type { ActivityQueryTuple, HostTotals } from './activity-query.js';
import type { LazySocket } from './lazy-socket.js';
import { type SqlServerAnswer, cleanServerText } from './postgres-activity.js';
import { isAccountCode, isCount, isTime, toHostTotals } from './server-row-checks.js';
import { mysqlActivityQuery, mysqlTotalsQuery } from './sql-server-queries.js';
import { type SqlServerTarget, describeTarget } from './sql-server-target.js';

type MysqlError = Error & { errno?: number; code?: string };

/** A driver or server error as a failure kind with a next step. */
export function mysqlFailure(e: MysqlError, target: SqlServerTarget): Failure {
  const where = describeTarget(target);
  const detail = cleanServerText(e.message);
  switch (e.errno) {
    case 1045: // ER_ACCESS_DENIED_ERROR
    case 1698: // ER_ACCESS_DENIED_NO_PASSWORD_ERROR (unix_socket)
      return { kind: 'db-auth', where, user: target.user, detail, engine: 'mysql' };
    case 1049: // ER_BAD_DB_ERROR
      return { kind: 'db-missing', where, what: 'database', name: target.database };
    case 1146: // ER_NO_SUCH_TABLE
      return { kind: 'db-missing', where, what: 'table', name: 'prosody' };
    case 1044: // ER_DBACCESS_DENIED_ERROR
    case 1142: // ER_TABLEACCESS_DENIED_ERROR
    case 1143: // ER_COLUMNACCESS_DENIED_ERROR
      return { kind: 'db-permission', where, user: target.user, detail };
  }
  return { kind: 'db-error', where, detail };
}

/** A row of the accounts query: ActivityQueryTuple's columns, then account_updated (dropped). */
function toAccount(row: unknown[]): ActivityQueryTuple | null {
  const [host, user, last, registered, a, b, c, account, role, updated] = row;
  if (row.length !== 10 || typeof host !== 'string' || typeof user !== 'string') return null;
  if (!isTime(last) || !isTime(registered) || !isTime(updated) || ![a, b, c].every(isCount)) {
    return null;
  }
  if (!isAccountCode(account) || (role !== 0 && role !== 1)) return null;
  return row.slice(0, 9) as ActivityQueryTuple;
}

/**
 * Reads every account (or those changed since `since`, with every host's totals) in one READ ONLY
 * transaction WITH CONSISTENT SNAPSHOT: InnoDB's plain SELECTs take no row locks, so Prosody's
 * writers never wait for it; each statement is bounded by `seconds` (MariaDB max_statement_time,
 * MySQL max_execution_time).
 */
export async function fetchMysql(
  target: SqlServerTarget,
  socket: LazySocket,
  since: number | undefined,
  seconds: number,
): Promise<Result<SqlServerAnswer>> {
  const where = describeTarget(target);
  if (!(await socket.connected())) {
    return fail(socket.failure ?? { kind: 'db-unreachable', where, detail: 'no connection' });
  }
  let conn: Connection | undefined;
  try {
    // Loaded here, not with the module: as pg in postgres-activity.ts.
    const { default: mysql } = await import('mysql2/promise');
    conn = await mysql.createConnection({
      user: target.user,
      password: target.password,
      database: target.database,
      stream: socket,
      connectTimeout: seconds * 1000,
      rowsAsArray: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4',
    });
    conn.on('error', () => undefined);
    const [versionRows] = await conn.query('SELECT VERSION()');
    const version = String((versionRows as unknown[][])[0]?.[0] ?? '');
    await conn.query(
      /mariadb/i.test(version)
        ? `SET SESSION max_statement_time = ${seconds}`
        : `SET SESSION max_execution_time = ${Math.round(seconds * 1000)}`,
    );
    await conn.query(`SET SESSION innodb_lock_wait_timeout = ${Math.max(1, Math.round(seconds))}`);
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [nowRows] = await conn.query('SELECT UNIX_TIMESTAMP()');
    const serverNow = Number((nowRows as unknown[][])[0]?.[0]);
    const [rows] = await conn.query({ sql: mysqlActivityQuery(since), rowsAsArray: true });
    const [totalRows] =
      since === undefined ? [[]] : await conn.query({ sql: mysqlTotalsQuery(), rowsAsArray: true });
    await conn.query('COMMIT');
    const accounts: ActivityQueryTuple[] = [];
    for (const row of rows as unknown[][]) {
      const a = toAccount(row);
      if (a === null)
        return fail({ kind: 'db-error', where, detail: 'a row is not in the expected form' });
      accounts.push(a);
    }
    const totals: HostTotals[] = [];
    for (const row of totalRows as unknown[][]) {
      const t = toHostTotals(row);
      if (t === null)
        return fail({ kind: 'db-error', where, detail: 'a total is not in the expected form' });
      totals.push(t);
    }
    if (since === undefined) {
      // No totals were asked for: each host's has_roles from its accounts.
      const roles = new Set(accounts.filter((a) => a[8] === 1).map((a) => a[0]));
      for (const host of roles) {
        totals.push({
          host,
          accounts: 0,
          notAnEvent: 0,
          malformed: 0,
          noTimestamp: 0,
          hasRoles: true,
        });
      }
    }
    if (!Number.isSafeInteger(serverNow)) {
      return fail({ kind: 'db-error', where, detail: 'the server clock is not a number' });
    }
    return ok({ accounts, totals, serverNow });
  } catch (e) {
    if (socket.failure) return fail(socket.failure);
    const err = e as MysqlError;
    if (err.errno === 1969 || err.errno === 3024 || err.code === 'ETIMEDOUT') {
      return fail({ kind: 'timeout', host: where, step: 'reading the prosody table', seconds });
    }
    return fail(mysqlFailure(err, target));
  } finally {
    await conn?.end().catch(() => undefined);
    socket.destroy();
  }
}
