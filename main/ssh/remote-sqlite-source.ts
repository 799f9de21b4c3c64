import {
  closeSync,
  mkdtempSync,
  openSync,
  readSync,
  readdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sqliteBindingOptions } from '../store/sqlite-binding.js';
import type { SFTPWrapper } from 'ssh2';
import type { ActivitySource } from '../core/activity-source.js';
import type { ActivityTally } from '../core/count-active.js';
import { type Failure, type Result, fail, ok } from '../core/failure.js';
import {
  type AccountCache,
  FULL_RECHECK_SECONDS,
  type UnchangedProof,
} from '../sources/account-cache.js';
import type { ActivityQueryOutput, ActivityQueryTuple } from '../sources/activity-query.js';
import { feedQueryTuple } from '../sources/feed-query-rows.js';
import { GuardedCache } from '../sources/guarded-cache.js';
import { feedCachedAccounts } from '../sources/feed-cached-accounts.js';
import { SINCE_MARGIN_SECONDS, cachedSince } from '../sources/incremental-cache.js';
import type { DigestedTuple } from '../sources/row-digest.js';
import { SqliteSource } from '../sources/sqlite-source.js';
import { fileSizeOf } from '../sources/file-state.js';
import { CHUNK_FROM_BYTES, remoteQueryCommand } from './remote-query-command.js';
import { RemoteQueryReader, type StreamedQueryOutput } from './remote-query-reader.js';
import type { SshConnection } from './ssh-connection.js';

export type SqlMethod = 'auto' | 'query' | 'copy';

export interface RemoteSqliteOptions {
  method: SqlMethod;
  /** Seconds allowed for one remote step (the query, or the copy). */
  stepSeconds: number;
  /** Largest database file the SFTP copy will fetch. */
  maxCopyBytes: number;
  /** The longest query output accepted (the query returns one short row per account). */
  maxQueryBytes: number;
  includeHost: (host: string) => boolean;
  onProgress?: (received: number, total: number) => void;
  onStep?: (step: string) => void;
  /** Where temporary copies go; the OS temp folder by default. */
  tempDir?: string;
  /** Remembers accounts between refreshes, so that an unchanged server costs little. */
  cache?: SourceCache;
}

/** The account cache as one source uses it: its own key, and the clock for the daily full fetch. */
export interface SourceCache {
  store: AccountCache;
  key: string;
  /** This machine's clock, Unix seconds. */
  clock: () => number;
}

/** A query answer, and the time it was asked from (undefined: every account). */
type QueryAnswer = Extract<StreamedQueryOutput, { kind: 'rows' }> & { since: number | undefined };

const QUERY_STAMP = 'query';

/**
 * The most the query may print, whatever the options say: its rows take about 40 bytes an
 * account, so this is some 6 million accounts, and it is held as bytes, never as one string.
 */
export const MAX_QUERY_OUTPUT_BYTES = 256 * 1024 * 1024;

const tooMuchOutput = (maxBytes: number) =>
  `the query printed more than ${Math.round(maxBytes / 1024 / 1024)} MiB and was stopped, far more than its rows take for any real server (about 40 bytes an account)`;

/** How often a read that overlapped a write is tried again. */
const ATTEMPTS = 3;

/**
 * The lock-free query is asked again when a commit overlapped it; between tries it waits a little
 * longer each time, with jitter, so that it can fall between Prosody's writes.
 */
export const QUERY_ATTEMPTS = 6;
/**
 * A file the server scans by one statement (under CHUNK_FROM_BYTES, as its state says) costs it a
 * few tens of milliseconds a read, so it is asked more often, with short pauses: a small server
 * with a steady stream of logins commits every few tens of milliseconds, and each read needs one
 * quiet span as long as itself.
 */
export const SMALL_FILE_QUERY_ATTEMPTS = 20;
const pauseBeforeRetry = (attempt: number, small: boolean) =>
  new Promise((resolve) =>
    setTimeout(resolve, small ? 50 + Math.random() * 200 : 150 * attempt + Math.random() * 250),
  );

const WAL_ADVICE =
  'the database is in rollback-journal mode, where a reader can make Prosody 0.12\u2019s writes fail; WAL mode is safer (Prosody 13: sqlite_tune = "normal"; 0.12: PRAGMA journal_mode=WAL while Prosody is stopped). Reads here take no lock, so they stay harmless.';

type SftpOpener = () => Promise<Result<SFTPWrapper>>;

/** Reads kept in flight during a copy, 32 KB each: enough to fill a long, fast link. */
const READS_IN_FLIGHT = 32;
const CHUNK_BYTES = 32 * 1024;

type SftpCallback<T> = (err: Error | null | undefined, value?: T) => void;

/**
 * The SFTP requests of one copy, under an idle deadline: when requests are pending and none is
 * answered for `seconds`, every pending one fails at once and the connection is closed (a stalled
 * server would otherwise keep the copy waiting forever). Callbacks only settle promises: nothing
 * is ever sent from inside ssh2's own cleanup after a cut (see SshConnection.isOpen).
 */
class SftpRequests {
  timedOut = false;
  private readonly pending = new Set<(answer: Error) => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly conn: SshConnection,
    private readonly seconds: number,
  ) {}

  /** False once the deadline passed or the connection is gone: then nothing more is sent. */
  get usable(): boolean {
    return !this.timedOut && this.conn.isOpen;
  }

  send<T>(request: (cb: SftpCallback<T>) => void): Promise<T | Error> {
    return new Promise((resolve) => {
      if (!this.usable) return resolve(new Error('the connection is closed'));
      const settle = (v: T | Error) => {
        if (!this.pending.delete(settle)) return;
        if (this.pending.size === 0) clearTimeout(this.timer);
        else this.arm();
        resolve(v);
      };
      this.pending.add(settle);
      this.arm();
      try {
        request((err, value) => settle(err ? err : (value as T)));
      } catch (e) {
        settle(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      for (const settle of [...this.pending]) settle(new Error('timed out'));
      this.conn.close();
    }, this.seconds * 1000);
  }
}

function stat(
  requests: SftpRequests,
  sftp: SFTPWrapper,
  path: string,
): Promise<{ size: number; mtime: number } | Error> {
  return requests.send<{ size: number; mtime: number }>((cb) =>
    sftp.stat(path, (err, s) => cb(err, s && { size: s.size, mtime: s.mtime })),
  );
}

/**
 * Copies the first `size` bytes of a remote file to `local` (a file that grows meanwhile is caught
 * by the caller's second stat). Our own loop rather than ssh2's fastGet: after a cut, fastGet
 * closes its remote handle from inside ssh2's cleanup, which throws where nobody can catch it
 * (mscdex/ssh2#1178), and fastGet has no deadline.
 */
async function copyFile(
  requests: SftpRequests,
  sftp: SFTPWrapper,
  remote: string,
  local: string,
  size: number,
  onProgress: (received: number, total: number) => void,
): Promise<Error | null> {
  const handle = await requests.send<Buffer>((cb) => sftp.open(remote, 'r', cb));
  if (handle instanceof Error) return handle;
  const fd = openSync(local, 'w', 0o600);
  let failed: Error | null = null;
  let next = 0;
  let received = 0;
  const reader = async () => {
    // One buffer a reader, used again for every chunk: a fresh one each time leaves hundreds of
    // megabytes of dead buffers for the garbage collector, and the process's memory grows by them.
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    while (failed === null && next < size) {
      const offset = next;
      const length = Math.min(CHUNK_BYTES, size - offset);
      next += length;
      for (let done = 0; done < length && failed === null;) {
        const n = await requests.send<number>((cb) =>
          sftp.read(handle, buffer, done, length - done, offset + done, (err, bytesRead) =>
            cb(err, bytesRead),
          ),
        );
        if (n instanceof Error) failed = n;
        else if (n === 0)
          return; // the file shrank: the second stat will tell
        else {
          writeSync(fd, buffer, done, n, offset + done);
          done += n;
          received += n;
          onProgress(received, size);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: READS_IN_FLIGHT }, reader));
    return failed;
  } finally {
    closeSync(fd);
    if (requests.usable) {
      try {
        sftp.close(handle, () => undefined);
      } catch {
        // The connection went away meanwhile: the server drops the handle with it.
      }
    }
  }
}

/** Prosody's SQLite database on the server: one read-only query, or a copy over SFTP. */
export class RemoteSqliteSource implements ActivitySource {
  readonly label: string;

  constructor(
    private readonly conn: SshConnection,
    private readonly openSftp: SftpOpener,
    private readonly path: string,
    private readonly options: RemoteSqliteOptions,
  ) {
    this.label = `SQLite database ${conn.host}:${path}`;
    this.cache = new GuardedCache(options.cache);
  }

  async feed(tally: ActivityTally): Promise<Result<void>> {
    this.usedCache = false;
    this.unchanged = false;
    const started = Date.now();
    const bytesBefore = this.conn.bytesReceived;
    const record = (method: string) =>
      tally.fetches.push({
        method,
        bytesReceived: this.conn.bytesReceived - bytesBefore,
        seconds: (Date.now() - started) / 1000,
      });
    if (this.options.method !== 'copy') {
      const queried = await this.query(tally);
      if (queried !== 'no-sqlite3') {
        if (queried.ok) {
          record(
            this.unchanged
              ? 'remote query, unchanged: counted from the cache'
              : this.usedCache
                ? 'remote query, changes only'
                : 'remote query',
          );
        }
        return queried;
      }
      if (this.options.method === 'query') {
        return fail({
          kind: 'remote-protocol',
          host: this.conn.host,
          detail: 'the server has no sqlite3 command; install sqlite3 there or use the SFTP copy',
        });
      }
      this.options.onStep?.('no sqlite3 on the server: copying the database over SFTP');
    }
    const copied = await this.copy(tally);
    if (copied.ok)
      record(this.usedCache ? 'SFTP copy, unchanged: counted from the cache' : 'SFTP copy');
    return copied;
  }

  /** The account cache, when there is one and it works; a broken cache is left aside, once. */
  private readonly cache: GuardedCache<SourceCache>;
  /** Whether the last feed was answered (in part) from the cache. */
  private usedCache = false;
  /** Whether the server said nothing changed: the last feed was answered from the cache alone. */
  private unchanged = false;

  /** When the cached accounts may be brought up to date rather than fetched again: the time. */
  private sinceFor(tally: ActivityTally): number | undefined {
    return this.cache.use(tally, (cache) => cachedSince(cache, QUERY_STAMP));
  }

  private async query(tally: ActivityTally): Promise<Result<void> | 'no-sqlite3'> {
    let since = this.sinceFor(tally);
    const snapshot =
      since === undefined
        ? undefined
        : (this.cache.use(tally, (cache) => cache.store.snapshot(cache.key)) ?? undefined);
    const held = snapshot?.proof ?? undefined;
    // With the last read's highest rowid, the rows Prosody 0.12 wrote since (DELETE and INSERT: a
    // rowid above it) are found whatever time they carry, and Prosody 13's in-place writes carry
    // the server's clock: asking from that clock at the last read, less the margin, no longer
    // sends again every account active in the minutes before it (26.7 k of the bench's 1 M).
    if (
      since !== undefined &&
      held?.rowid !== undefined &&
      typeof snapshot?.serverNow === 'number'
    ) {
      since = Math.max(since, Math.floor(snapshot.serverNow) - SINCE_MARGIN_SECONDS);
    }
    let got = await this.queryRetrying(since, held?.state, held?.rowid);
    if (got === 'no-sqlite3' || !got.ok) return got;
    if (got.value.unchanged && held !== undefined) {
      const counted = this.countUnchanged(tally);
      if (counted) return this.finish(tally, got.value);
    }
    if (got.value.unchanged) {
      // The cache went away between the question and the answer: everything, then.
      got = await this.queryRetrying(undefined);
      if (got === 'no-sqlite3' || !got.ok) return got;
    }
    let accounts: Iterable<DigestedTuple> = got.value.accounts;
    const key = this.options.cache?.key ?? '';
    if (got.value.since !== undefined) {
      // Changes only: few accounts, held parsed for the merge.
      const answer = got.value;
      const changes = [...answer.accounts];
      // Counted apart first: a cache that fails half-way must not leave half its accounts behind.
      const fromCache = tally.fork();
      const merged = this.cache.use(tally, (cache) => {
        const held = cache.store.snapshot(cache.key);
        const info = {
          stamp: QUERY_STAMP,
          fullAt: held?.fullAt ?? 0,
          serverNow: answer.serverNow,
          proof: proofOf(answer) ?? null,
        };
        if (answer.digest === null) return false;
        if (!cache.store.mergeDigested(cache.key, info, changes, answer.changed, answer.digest)) {
          return false;
        }
        feedCachedAccounts(cache.store, cache.key, fromCache, this.options.includeHost);
        return true;
      });
      if (merged) {
        tally.absorb(fromCache);
        accounts = [];
        this.usedCache = true;
      } else {
        if (merged === false)
          this.options.onStep?.('the cached accounts no longer match: fetching all');
        got = await this.queryRetrying(undefined);
        if (got === 'no-sqlite3' || !got.ok) return got;
        accounts = got.value.accounts;
      }
    }
    const answer = got.value;
    if (answer.since === undefined) {
      this.cache.use(tally, (cache) =>
        cache.store.replaceDigested(
          key,
          {
            stamp: QUERY_STAMP,
            fullAt: cache.clock(),
            serverNow: answer.serverNow,
            proof: proofOf(answer) ?? null,
            rest: answer.digest,
          },
          answer.accounts,
        ),
      );
    }
    for (const a of accounts) if (this.options.includeHost(a[0])) feedQueryTuple(tally, a);
    return this.finish(tally, answer);
  }

  /** Counts every cached account: the server said its rows are the ones they were made from. */
  private countUnchanged(tally: ActivityTally): boolean {
    const fromCache = tally.fork();
    const counted = this.cache.use(tally, (cache) => {
      feedCachedAccounts(cache.store, cache.key, fromCache, this.options.includeHost);
      return true;
    });
    if (counted !== true) return false;
    tally.absorb(fromCache);
    this.usedCache = true;
    this.unchanged = true;
    return true;
  }

  private finish(tally: ActivityTally, answer: QueryAnswer): Result<void> {
    if (answer.version !== undefined) tally.noteFacts(null, { version: answer.version });
    if (!answer.wal) tally.notices.push(`${this.conn.host}:${this.path}: ${WAL_ADVICE}`);
    return ok(undefined);
  }

  /** Every lock-free read overlapped a commit: the file kept changing, nothing held it locked. */
  private keptChanging(attempts: number): Failure {
    const path = `${this.conn.host}:${this.path}`;
    return { kind: 'kept-changing', path, attempts, method: 'query' };
  }

  /** Runs the query, asking again while commits overlap it (the lock-free read may be torn). */
  private async queryRetrying(
    since: number | undefined,
    state?: string,
    afterRowid?: number,
  ): Promise<Result<QueryAnswer> | 'no-sqlite3'> {
    const command = remoteQueryCommand(this.path, since, state, afterRowid);
    if (command === null) {
      return fail({
        kind: 'usage',
        message: `the remote database path ${JSON.stringify(this.path)} must be absolute and use only letters, digits and ._/+@,=-`,
      });
    }
    const host = this.conn.host;
    // A read torn by a commit can make sqlite3 say "malformed": the file's change counter moving
    // between tries tells that from a database that is really damaged.
    let lastHeader: string | undefined;
    let writerSeen = false;
    // The file's state said it is under CHUNK_FROM_BYTES: cheap to read again.
    let small = false;
    const attempts = () => (small ? SMALL_FILE_QUERY_ATTEMPTS : QUERY_ATTEMPTS);
    let attempt = 1;
    for (; attempt <= attempts(); attempt++) {
      if (attempt > 1) await pauseBeforeRetry(attempt, small);
      this.options.onStep?.(
        since === undefined
          ? `querying ${this.path}`
          : `querying ${this.path} for changes since ${new Date(since * 1000).toISOString()}`,
      );
      const reader = new RemoteQueryReader();
      const maxBytes = Math.min(this.options.maxQueryBytes, MAX_QUERY_OUTPUT_BYTES);
      const ran = await this.conn.execStreaming(
        command,
        'running the query',
        this.options.stepSeconds,
        maxBytes,
        (chunk) => reader.push(chunk),
      );
      if (!ran.ok) {
        const f = ran.failure;
        if (f.kind === 'remote-protocol' && /bytes of output$/.test(f.detail)) {
          return fail({ ...f, detail: tooMuchOutput(maxBytes) });
        }
        return ran;
      }
      const { stderr, code } = ran.value;
      const out = reader.end();
      const header = reader.header;
      if (header !== undefined) {
        if (lastHeader !== undefined && header !== lastHeader) writerSeen = true;
        lastHeader = header;
      }
      if (out.kind === 'no-sqlite3') return 'no-sqlite3';
      if (out.kind === 'not-found')
        return fail({
          kind: 'not-found',
          path: `${host}:${this.path}`,
          what: 'Prosody SQLite database',
        });
      if (out.kind === 'permission-denied') {
        return fail({
          kind: 'permission-denied',
          path: `${host}:${this.path}`,
          what: 'Prosody SQLite database',
        });
      }
      if (out.kind === 'old-format') {
        return fail({
          kind: 'remote-protocol',
          host,
          detail:
            'the forced command on the server is from an older version of prosody-active-users; replace its authorized_keys line with the one --print-forced-command prints now',
        });
      }
      if (out.kind === 'garbage') {
        if (/no such table: (main\.)?prosody\b/.test(stderr))
          return fail({ kind: 'no-activity-records', source: this.label });
        if (/not a database|malformed/.test(stderr)) {
          if (attempt < attempts()) continue;
          if (writerSeen) return fail(this.keptChanging(attempt));
          return fail({
            kind: 'corrupt',
            path: `${host}:${this.path}`,
            detail: stderr.trim().split('\n')[0] ?? '',
          });
        }
        const detail =
          code !== 0 && stderr.trim() !== '' ? stderr.trim().split('\n')[0]! : out.detail;
        return fail({ kind: 'remote-protocol', host, detail });
      }
      if (!out.consistent) writerSeen = true;
      if (out.state !== null && fileSizeOf(out.state) < CHUNK_FROM_BYTES) small = true;
      if (!out.consistent && attempt < attempts()) continue;
      if (!out.consistent) {
        return fail(this.keptChanging(attempt));
      }
      return ok({ ...out, since });
    }
    return fail(this.keptChanging(attempt - 1));
  }

  private async copy(tally: ActivityTally): Promise<Result<void>> {
    const host = this.conn.host;
    const remotePath = `${host}:${this.path}`;
    const opened = await this.openSftp();
    if (!opened.ok) return opened;
    const sftp = opened.value;
    const requests = new SftpRequests(this.conn, this.options.stepSeconds);
    const failed = (e: Error): Result<void> =>
      requests.timedOut
        ? fail({
            kind: 'timeout',
            host,
            step: 'copying the database',
            seconds: this.options.stepSeconds,
          })
        : fail(sftpStatFailure(e, remotePath));
    const dir = mkdtempSync(join(this.options.tempDir ?? tmpdir(), 'prosody-active-users-'));
    try {
      let last: Failure = {
        kind: 'kept-changing',
        path: remotePath,
        attempts: ATTEMPTS,
        method: 'copy',
      };
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        // One copy at a time: an attempt's copy is of no use once the file moved on, and keeping
        // each one until the end took three times the database's size (issue 15, item 4).
        for (const old of readdirSync(dir)) rmSync(join(dir, old), { force: true });
        const before = await stat(requests, sftp, this.path);
        if (before instanceof Error) return failed(before);
        const walBefore = await stat(requests, sftp, `${this.path}-wal`);
        if (walBefore instanceof Error && !requests.usable) return failed(walBefore);
        const stamp = copyStamp(before, walBefore);
        if (attempt === 1 && this.fromCache(tally, stamp)) {
          this.usedCache = true;
          return ok(undefined);
        }
        if (before.size > this.options.maxCopyBytes) {
          return fail({
            kind: 'too-large',
            path: remotePath,
            size: before.size,
            limit: this.options.maxCopyBytes,
          });
        }
        const local = join(dir, 'copy.sqlite');
        this.options.onStep?.(`copying ${this.path} (${before.size} bytes) over SFTP`);
        const got = await copyFile(requests, sftp, this.path, local, before.size, (r, t) =>
          this.options.onProgress?.(r, t),
        );
        if (got) return failed(got);
        const wal = await stat(requests, sftp, `${this.path}-wal`);
        if (!(wal instanceof Error) && wal.size > 0) {
          const gotWal = await copyFile(
            requests,
            sftp,
            `${this.path}-wal`,
            `${local}-wal`,
            wal.size,
            () => undefined,
          );
          if (gotWal) return failed(gotWal);
        } else if (wal instanceof Error && !requests.usable) {
          return failed(wal); // not "no -wal file": the connection is gone
        }
        const after = await stat(requests, sftp, this.path);
        if (after instanceof Error && !requests.usable) return failed(after);
        const unchanged =
          !(after instanceof Error) && after.size === before.size && after.mtime === before.mtime;
        const check = checkCopy(local, remotePath);
        if (unchanged && check === null) {
          const isWal = writeVersion(local) === 2;
          const rows: Array<ActivityQueryTuple | ActivityQueryOutput> | null = this.options.cache
            ? []
            : null;
          const counted = await new SqliteSource(local, this.options.includeHost, (row) =>
            rows?.push(row),
          ).feed(tally);
          if (counted.ok && !isWal) tally.notices.push(`${remotePath}: ${WAL_ADVICE}`);
          if (!counted.ok && counted.failure.kind === 'no-activity-records') {
            return fail({ kind: 'no-activity-records', source: this.label });
          }
          if (counted.ok && rows !== null) {
            const walAfter = await stat(requests, sftp, `${this.path}-wal`);
            // Only a copy of a file that stood still may stand for it next time; and not one
            // changed within the last minute, where mtime's whole seconds could hide a write.
            const settled = (cache: SourceCache) =>
              [before, walBefore].every((s) => s instanceof Error || cache.clock() - s.mtime > 60);
            if (copyStamp(after, walAfter) === stamp) {
              this.cache.use(
                tally,
                (cache) =>
                  settled(cache) &&
                  cache.store.replace(
                    cache.key,
                    {
                      stamp: `${COPY_STAMP}${isWal ? 'wal' : 'rollback'}:${stamp}`,
                      fullAt: cache.clock(),
                      serverNow: null,
                    },
                    rows,
                  ),
              );
            }
          }
          return counted;
        }
        last = check ?? {
          kind: 'kept-changing',
          path: remotePath,
          attempts: ATTEMPTS,
          method: 'copy',
        };
        this.options.onStep?.('the database changed during the copy: copying again');
      }
      return fail(last);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Counts from the cache when the file (and its -wal) still has the size and mtime of the copy
   * the cache was made from, and that copy is less than a day old.
   */
  private fromCache(tally: ActivityTally, stamp: string): boolean {
    return (
      this.cache.use(tally, (cache) => {
        const held = cache.store.snapshot(cache.key);
        const now = cache.clock();
        if (held === null || !held.stamp.startsWith(COPY_STAMP)) return false;
        const [mode, heldStamp] = held.stamp.slice(COPY_STAMP.length).split(/:(.*)/s);
        if (heldStamp !== stamp) return false;
        if (now < held.fullAt || now - held.fullAt >= FULL_RECHECK_SECONDS) return false;
        this.options.onStep?.(`${this.path} has not changed since it was last copied`);
        const fromCache = tally.fork();
        feedCachedAccounts(cache.store, cache.key, fromCache, this.options.includeHost);
        tally.absorb(fromCache);
        if (mode === 'rollback')
          tally.notices.push(`${this.conn.host}:${this.path}: ${WAL_ADVICE}`);
        return true;
      }) ?? false
    );
  }
}

const COPY_STAMP = 'copy:';

/**
 * What the cache keeps of an answer for the server's "unchanged" next time: only from a read that
 * no commit overlapped (its before and after lines equal), in a state the server could tell.
 */
function proofOf(answer: QueryAnswer): UnchangedProof | undefined {
  if (answer.state === null || !answer.consistent) return undefined;
  return answer.maxRowid === null
    ? { state: answer.state }
    : { state: answer.state, rowid: answer.maxRowid };
}

/** What says the file is as it was: size and mtime of the database and of its -wal, if any. */
function copyStamp(
  db: { size: number; mtime: number } | Error,
  wal: { size: number; mtime: number } | Error,
): string {
  const part = (s: { size: number; mtime: number } | Error) =>
    s instanceof Error ? '-' : `${s.size}@${s.mtime}`;
  return `${part(db)} ${part(wal)}`;
}

/** The header's write version (byte 18): 2 in WAL mode. Reads that byte, not the whole file. */
function writeVersion(path: string): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const byte = Buffer.alloc(1);
    return readSync(fd, byte, 0, 1, 18) === 1 ? byte[0] : undefined;
  } finally {
    closeSync(fd);
  }
}

function sftpStatFailure(e: Error & { code?: unknown }, path: string): Failure {
  if (e.code === 3) return { kind: 'permission-denied', path, what: 'Prosody SQLite database' };
  if (e.code === 2) return { kind: 'not-found', path, what: 'Prosody SQLite database' };
  return {
    kind: 'connection-lost',
    host: path.split(':')[0] ?? path,
    step: 'copying the database',
  };
}

/** A copy is used only when SQLite itself finds it sound; null when it is. Named by `shownAs`. */
function checkCopy(path: string, shownAs: string): Failure | null {
  let db: Database.Database | undefined;
  try {
    // Opened writable only so that SQLite can fold a copied -wal file in; it is our own temp file.
    db = new Database(path, { ...sqliteBindingOptions(), fileMustExist: true });
    db.pragma('trusted_schema = OFF');
    const result = db.pragma('quick_check', { simple: true });
    return result === 'ok' ? null : { kind: 'corrupt', path: shownAs, detail: String(result) };
  } catch (e) {
    return { kind: 'corrupt', path: shownAs, detail: e instanceof Error ? e.message : String(e) };
  } finally {
    db?.close();
  }
}
