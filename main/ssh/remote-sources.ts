import { channelRefusal } from './channel-refusal.js';
import type { SFTPWrapper } from 'ssh2';
import type { ActivitySource } from '../core/activity-source.js';
import type { ActivityTally } from '../core/count-active.js';
import { type Result, fail, ok } from '../core/failure.js';
import { DEFAULT_DATA_PATH, discoverSources } from '../sources/discover-sources.js';
import { InternalStorageSource } from '../sources/internal-storage-source.js';
import { type RemoteSqliteOptions, RemoteSqliteSource } from './remote-sqlite-source.js';
import { sftpStorageFs } from './sftp-storage-fs.js';
import { commandStorageFs } from './command-storage-fs.js';
import type { AccountCache } from '../sources/account-cache.js';
import type { SshConnection } from './ssh-connection.js';
import { DB_MAX_BYTES } from '../sources/discover-local.js';
import { cleanServerText } from '../sources/postgres-activity.js';
import { SqlServerSource } from '../sources/sql-server-source.js';
import { type SqlServerTarget, describeTarget } from '../sources/sql-server-target.js';

/** The account cache for every source on one connection; each gets a key of its own. */
export interface ConnectionCache {
  store: AccountCache;
  /** `user@host:port`: with the path, what a cached snapshot belongs to. */
  where: string;
  clock: () => number;
}

export interface RemoteSourceOptions extends Omit<RemoteSqliteOptions, 'includeHost' | 'cache'> {
  cache?: ConnectionCache;
  remoteDb?: string;
  remoteDataDir?: string;
  /** Prosody's config on the server, read over SFTP to find the data. */
  remoteConfig: string;
  /** A PostgreSQL or MySQL/MariaDB database as the server reaches it (`--sql`). */
  sql?: SqlServerTarget;
}

/** Records the method, bytes and time of a source that does not report them itself. */
class MeasuredSource implements ActivitySource {
  constructor(
    private readonly inner: ActivitySource,
    private readonly conn: SshConnection,
    private readonly method: () => string,
  ) {}

  get label(): string {
    return this.inner.label;
  }

  async feed(tally: ActivityTally): Promise<Result<void>> {
    const started = Date.now();
    const before = this.conn.bytesReceived;
    const fed = await this.inner.feed(tally);
    if (fed.ok) {
      tally.fetches.push({
        method: this.method(),
        bytesReceived: this.conn.bytesReceived - before,
        seconds: (Date.now() - started) / 1000,
      });
    }
    return fed;
  }
}

/** The sources to read over one SSH connection: as given, or found from the server's config. */
export async function remoteSources(
  conn: SshConnection,
  options: RemoteSourceOptions,
): Promise<Result<ActivitySource[]>> {
  let sftp: Promise<Result<SFTPWrapper>> | null = null;
  const openSftp = () => (sftp ??= conn.sftp(options.stepSeconds));
  const sqlite = (path: string, includeHost: (host: string) => boolean) =>
    new RemoteSqliteSource(conn, openSftp, path, {
      ...options,
      includeHost,
      cache: options.cache && {
        store: options.cache.store,
        clock: options.cache.clock,
        key: `sqlite ${options.cache.where} ${path}`,
      },
    });
  const internal = (
    fs: ReturnType<typeof sftpStorageFs>,
    dir: string,
    includeHost: (h: string) => boolean,
  ) => {
    // One stream by command where the account may run one; SFTP for the rest, and for all of it
    // where it may not.
    const files = commandStorageFs(conn, dir, fs, options.stepSeconds);
    const source = new InternalStorageSource(dir, {
      fs: files,
      includeHost,
      label: `Prosody data folder ${conn.host}:${dir}`,
      cache: options.cache && {
        store: options.cache.store,
        clock: options.cache.clock,
        key: `files ${options.cache.where} ${dir}`,
      },
    });
    return new MeasuredSource(source, conn, () =>
      options.cache === undefined
        ? files.method
        : `${files.method}: ${source.lastCount.read} read, ${source.lastCount.fromCache} unchanged from the cache`,
    );
  };

  const sqlServer = (target: SqlServerTarget, includeHost: (host: string) => boolean) =>
    new SqlServerSource(target, {
      seconds: options.stepSeconds,
      maxBytes: DB_MAX_BYTES,
      includeHost,
      via: `through ${conn.host}`,
      onStep: options.onStep,
      transportBytes: () => conn.bytesReceived,
      canClose: () => conn.isOpen,
      open: async (endpoint) => {
        const channel = await conn.channelTo(endpoint, options.stepSeconds);
        if (!(channel instanceof Error)) return ok(channel);
        return fail({
          kind: 'db-unreachable',
          where: `${describeTarget(target)} from ${conn.host}`,
          detail: cleanServerText(channelRefusal(channel)),
        });
      },
      cache: options.cache && {
        store: options.cache.store,
        clock: options.cache.clock,
        key: `db ${options.cache.where} ${describeTarget(target)}`,
      },
    });

  if (options.sql !== undefined) return ok([sqlServer(options.sql, () => true)]);
  if (options.remoteDb !== undefined) return ok([sqlite(options.remoteDb, () => true)]);
  const opened = await openSftp();
  if (!opened.ok) {
    return fail({
      kind: 'remote-protocol',
      host: conn.host,
      detail:
        'SFTP is not available to find the data; pass --remote-db PATH (a forced-command account needs it)',
    });
  }
  const fs = sftpStorageFs(opened.value, conn.host, options.stepSeconds);
  if (options.remoteDataDir !== undefined)
    return ok([internal(fs, options.remoteDataDir, () => true)]);
  const found = await discoverSources(
    fs,
    { sqlite, internal: (dir, includeHost) => internal(fs, dir, includeHost), sqlServer },
    options.remoteConfig,
    DEFAULT_DATA_PATH,
  );
  if (!found.ok && found.failure.kind === 'no-prosody-data') {
    return fail({ ...found.failure, looked: found.failure.looked.map((p) => `${conn.host}:${p}`) });
  }
  return found;
}
