import type { QueryArrayResult } from 'pg';
import type { Failure, Result } from '../core/failure.js';
import { fail, ok } from '../core/failure.js';
import type { ActivityQueryTuple, HostTotals } from './activity-query.js';
import type { LazySocket } from './lazy-socket.js';
import { isAccountCode, isCount, isTime, toHostTotals } from './server-row-checks.js';
import { postgresActivityQuery } from './sql-server-queries.js';
import { type SqlServerTarget, describeTarget } from './sql-server-target.js';

/** What one read of a database server gives. */
export interface SqlServerAnswer {
  accounts: ActivityQueryTuple[];
  /** Every host's totals (MySQL/MariaDB: only asked for with `since`; hasRoles then from rows). */
  totals: HostTotals[];
  /** The server's clock at the snapshot, Unix seconds. */
  serverNow: number;
}

/** Control characters and overlong text from a server never reach a terminal. */
export function cleanServerText(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it removes
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/**
 * One account of a chunk: `[user, last, registered, account]`, or with the three skip counts.
 * Its role is told per host, in the totals (as for the remote SQLite query).
 */
function toAccount(host: string, v: unknown): ActivityQueryTuple | null {
  if (!Array.isArray(v) || (v.length !== 4 && v.length !== 7)) return null;
  const [user, last, registered, account, a = 0, b = 0, c = 0] = v as unknown[];
  if (typeof user !== 'string' || !isTime(last) || !isTime(registered)) return null;
  if (!isAccountCode(account) || !isCount(a) || !isCount(b) || !isCount(c)) return null;
  return [
    host,
    user,
    last as number | null,
    registered as number | null,
    a as number,
    b as number,
    c as number,
    account,
    0,
  ];
}

/** Reads the statement's rows; null when one does not fit (never half-used). */
export function parsePostgresChunks(
  rows: readonly unknown[][],
): { accounts: ActivityQueryTuple[]; totals: HostTotals[] } | null {
  const accounts: ActivityQueryTuple[] = [];
  const totals: HostTotals[] = [];
  for (const row of rows) {
    if (typeof row[0] !== 'string') return null;
    let v: unknown;
    try {
      v = JSON.parse(row[0]);
    } catch {
      return null;
    }
    if (!Array.isArray(v)) return null;
    if (v[0] === 0) {
      const t = toHostTotals(v.slice(1));
      if (t === null) return null;
      totals.push(t);
      continue;
    }
    const [host, list] = v as unknown[];
    if (v.length !== 2 || typeof host !== 'string' || !Array.isArray(list)) return null;
    for (const item of list) {
      const account = toAccount(host, item);
      if (account === null) return null;
      accounts.push(account);
    }
  }
  return { accounts, totals };
}

type PgError = Error & { code?: string };

/** A driver or server error as a failure kind with a next step. */
export function postgresFailure(e: PgError, target: SqlServerTarget): Failure {
  const where = describeTarget(target);
  const detail = cleanServerText(e.message);
  switch (e.code) {
    case '28P01':
    case '28000':
      return { kind: 'db-auth', where, user: target.user, detail, engine: 'postgres' };
    case '3D000':
      return { kind: 'db-missing', where, what: 'database', name: target.database };
    case '42P01':
      return { kind: 'db-missing', where, what: 'table', name: 'prosody' };
    case '42501':
      return { kind: 'db-permission', where, user: target.user, detail };
    case 'ECONNREFUSED':
    case 'ENOENT':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return { kind: 'db-unreachable', where, detail };
  }
  if (/password must be a string|password authentication/i.test(e.message)) {
    return {
      kind: 'db-auth',
      where,
      user: target.user,
      detail: 'the server asks for a password and none was given',
      engine: 'postgres',
    };
  }
  return { kind: 'db-error', where, detail };
}

/**
 * Reads every account (or those changed since `since`, with every host's totals) in one READ ONLY
 * REPEATABLE READ transaction: one snapshot, no row locks, nothing Prosody's writers wait for;
 * the statement and any lock wait are bounded by `seconds`.
 */
export async function fetchPostgres(
  target: SqlServerTarget,
  socket: LazySocket,
  since: number | undefined,
  seconds: number,
): Promise<Result<SqlServerAnswer>> {
  // Loaded here, not with the module: every count but a PostgreSQL one would pay for it (60 ms
  // with mysql2, of a refresh that is otherwise a few hundred).
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    user: target.user,
    password: target.password,
    database: target.database,
    stream: () => socket,
    connectionTimeoutMillis: seconds * 1000,
    query_timeout: (seconds + 5) * 1000,
    application_name: 'prosody-active-users',
    ssl: false,
  });
  // Errors after a failed query arrive here too; the query's own rejection reports them.
  client.on('error', () => undefined);
  const ms = Math.round(seconds * 1000);
  try {
    await client.connect();
    const results = (await client.query({
      text: [
        'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
        `SET LOCAL statement_timeout = ${ms}`,
        `SET LOCAL lock_timeout = ${ms}`,
        `SET LOCAL idle_in_transaction_session_timeout = ${ms}`,
        'SET LOCAL standard_conforming_strings = on',
        // Room to group a million accounts in memory rather than in temporary files: several
        // times faster, and the memory is freed with the transaction.
        "SET LOCAL work_mem = '128MB'",
        'SELECT floor(extract(epoch FROM now()))::bigint::text',
        postgresActivityQuery(since),
        'COMMIT',
      ].join('; '),
      rowMode: 'array',
    })) as unknown as QueryArrayResult[];
    const selects = results.filter((r) => r.command === 'SELECT');
    const serverNow = Number(selects[0]?.rows[0]?.[0]);
    const parsed = parsePostgresChunks((selects[1]?.rows ?? []) as unknown[][]);
    if (selects.length !== 2 || !Number.isSafeInteger(serverNow) || parsed === null) {
      return fail({
        kind: 'db-error',
        where: describeTarget(target),
        detail: 'the answer is not in the expected form',
      });
    }
    return ok({ ...parsed, serverNow });
  } catch (e) {
    if (socket.failure) return fail(socket.failure);
    const err = e as PgError;
    if (err.code === '57014' || /timeout/i.test(err.message)) {
      return fail({
        kind: 'timeout',
        host: describeTarget(target),
        step: 'reading the prosody table',
        seconds,
      });
    }
    return fail(postgresFailure(err, target));
  } finally {
    await client.end().catch(() => undefined);
    socket.destroy();
  }
}
