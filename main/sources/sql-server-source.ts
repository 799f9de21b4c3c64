import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ActivitySource } from '../core/activity-source.js';
import { ActivityTally } from '../core/count-active.js';
import { type Failure, type Result, fail, ok } from '../core/failure.js';
import type { AccountCache } from './account-cache.js';
import type { ActivityQueryTuple } from './activity-query.js';
import { feedQueryTuple } from './feed-query-rows.js';
import { GuardedCache } from './guarded-cache.js';
import { cachedSince, mergeChanges } from './incremental-cache.js';
import { LazySocket } from './lazy-socket.js';
import { fetchMysql } from './mysql-activity.js';
import { type SqlServerAnswer, fetchPostgres } from './postgres-activity.js';
import { type SqlServerTarget, describeTarget } from './sql-server-target.js';

/** Opens a byte channel to the database's endpoint: directly, or through SSH. */
export type EndpointOpener = (endpoint: SqlServerTarget['endpoint']) => Promise<Result<Duplex>>;

export interface SqlServerSourceOptions {
  /** Seconds for connecting, and again for the statement. */
  seconds: number;
  /** The most the server may send for one read. */
  maxBytes: number;
  includeHost: (host: string) => boolean;
  /** How the channel is opened; a direct TCP or Unix socket connection by default. */
  open?: EndpointOpener;
  /** Bytes received so far on the transport (the SSH connection's, when there is one). */
  transportBytes?: () => number;
  /** False once closing a channel is no longer safe (the SSH connection is gone). */
  canClose?: () => boolean;
  /** Says what the transport is, in the label: "via ssh example.org". */
  via?: string;
  onStep?: (step: string) => void;
  cache?: { store: AccountCache; key: string; clock: () => number };
}

const STAMP = 'sql-server';

/** A direct connection from this machine, as a failure kind when it cannot be made. */
export function openDirect(
  target: SqlServerTarget,
  seconds: number,
): (endpoint: SqlServerTarget['endpoint']) => Promise<Result<Duplex>> {
  return (endpoint) =>
    new Promise((resolve) => {
      const socket =
        'tcp' in endpoint
          ? net.connect(endpoint.tcp.port, endpoint.tcp.host)
          : net.connect(endpoint.socket);
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(
          fail({
            kind: 'db-unreachable',
            where: describeTarget(target),
            detail: `no answer within ${seconds} s`,
          }),
        );
      }, seconds * 1000);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(ok(socket));
      });
      socket.once('error', (e: Error & { code?: string }) => {
        clearTimeout(timer);
        resolve(
          fail({
            kind: 'db-unreachable',
            where: describeTarget(target),
            detail: e.code === 'ENOENT' ? 'no such socket' : (e.code ?? e.message),
          }),
        );
      });
    });
}

/** Prosody's `prosody` table in PostgreSQL or MySQL/MariaDB, read with one aggregate query. */
export class SqlServerSource implements ActivitySource {
  readonly label: string;
  private readonly cache: GuardedCache<NonNullable<SqlServerSourceOptions['cache']>>;
  /** Bytes the database sent, for a source with no transport of its own to count them. */
  private socketBytes = 0;

  constructor(
    private readonly target: SqlServerTarget,
    private readonly options: SqlServerSourceOptions,
  ) {
    this.label = `${describeTarget(target)}${options.via ? ` ${options.via}` : ''}`;
    this.cache = new GuardedCache(options.cache);
  }

  private async fetch(since: number | undefined): Promise<Result<SqlServerAnswer>> {
    const { seconds, maxBytes } = this.options;
    const where = describeTarget(this.target);
    const tooMuch = (): Failure => ({
      kind: 'db-error',
      where,
      detail: `the answer passed ${maxBytes} bytes`,
    });
    const open = this.options.open ?? openDirect(this.target, seconds);
    const socket = new LazySocket(
      () => open(this.target.endpoint),
      maxBytes,
      tooMuch,
      this.options.canClose,
    );
    this.options.onStep?.(
      since === undefined
        ? `reading ${where}`
        : `reading ${where} for changes since ${new Date(since * 1000).toISOString()}`,
    );
    const got = await (this.target.engine === 'postgresql'
      ? fetchPostgres(this.target, socket, since, seconds)
      : fetchMysql(this.target, socket, since, seconds));
    this.socketBytes += socket.bytesReceived;
    return got;
  }

  /** The time to ask changes from, when the cache may be brought up to date. */
  private sinceFor(tally: ActivityTally): number | undefined {
    return this.cache.use(tally, (cache) => cachedSince(cache, STAMP));
  }

  async feed(tally: ActivityTally): Promise<Result<void>> {
    const started = Date.now();
    const bytesOf = this.options.transportBytes;
    const before = bytesOf?.() ?? 0;
    this.socketBytes = 0;
    const since = this.sinceFor(tally);
    let got = await this.fetch(since);
    if (!got.ok) return got;
    let accounts: Iterable<ActivityQueryTuple> = got.value.accounts;
    let usedCache = false;
    if (since !== undefined) {
      const answer = got.value;
      const fromCache = tally.fork();
      const merged = this.cache.use(tally, (cache) =>
        mergeChanges(cache, STAMP, answer, this.options.includeHost, fromCache),
      );
      if (merged) {
        tally.absorb(fromCache);
        accounts = [];
        usedCache = true;
      } else {
        if (merged === false)
          this.options.onStep?.('the cached accounts no longer match: fetching all');
        got = await this.fetch(undefined);
        if (!got.ok) return got;
        accounts = got.value.accounts;
      }
    }
    const answer = got.value;
    if (!usedCache) {
      this.cache.use(tally, (cache) =>
        cache.store.replace(
          cache.key,
          { stamp: STAMP, fullAt: cache.clock(), serverNow: answer.serverNow },
          answer.accounts,
        ),
      );
    }
    for (const a of accounts) if (this.options.includeHost(a[0])) feedQueryTuple(tally, a);
    // Prosody 13's mark, told per host (the cached accounts do not carry it).
    for (const t of answer.totals) {
      if (t.hasRoles === true && this.options.includeHost(t.host)) tally.noteHasRoles(t.host);
    }
    tally.fetches.push({
      method: usedCache ? 'database query, changes only' : 'database query',
      bytesReceived: bytesOf === undefined ? this.socketBytes : bytesOf() - before,
      seconds: (Date.now() - started) / 1000,
    });
    return ok(undefined);
  }
}
