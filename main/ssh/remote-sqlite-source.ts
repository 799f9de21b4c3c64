import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SFTPWrapper } from 'ssh2';
import type { ActivitySource } from '../core/activity-source.js';
import type { ActivityTally } from '../core/count-active.js';
import { type Failure, type Result, fail, ok } from '../core/failure.js';
import { feedQueryRow } from '../sources/feed-query-rows.js';
import { SqliteSource } from '../sources/sqlite-source.js';
import { parseRemoteQueryOutput, remoteQueryCommand } from './remote-query-command.js';
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
}

/** How often a read that overlapped a write is tried again. */
const ATTEMPTS = 3;

const WAL_ADVICE =
  'the database is in rollback-journal mode, where a reader can make Prosody 0.12\u2019s writes fail; WAL mode is safer (Prosody 13: sqlite_tune = "normal"; 0.12: PRAGMA journal_mode=WAL while Prosody is stopped). Reads here take no lock, so they stay harmless.';

type SftpOpener = () => Promise<Result<SFTPWrapper>>;

function stat(sftp: SFTPWrapper, path: string): Promise<{ size: number; mtime: number } | Error> {
  return new Promise((resolve) =>
    sftp.stat(path, (err, s) => resolve(err ? err : { size: s.size, mtime: s.mtime })),
  );
}

function fastGet(
  sftp: SFTPWrapper,
  remote: string,
  local: string,
  onStep: (received: number, total: number) => void,
): Promise<Error | null> {
  return new Promise((resolve) =>
    sftp.fastGet(
      remote,
      local,
      { step: (received, _chunk, total) => onStep(received, total) },
      (err) => resolve(err ?? null),
    ),
  );
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
  }

  async feed(tally: ActivityTally): Promise<Result<void>> {
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
        if (queried.ok) record('remote query');
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
    if (copied.ok) record('SFTP copy');
    return copied;
  }

  private async query(tally: ActivityTally): Promise<Result<void> | 'no-sqlite3'> {
    const command = remoteQueryCommand(this.path);
    if (command === null) {
      return fail({
        kind: 'usage',
        message: `the remote database path ${JSON.stringify(this.path)} must be absolute and use only letters, digits and ._/+@,=-`,
      });
    }
    const host = this.conn.host;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      this.options.onStep?.(`querying ${this.path}`);
      const ran = await this.conn.exec(
        command,
        'running the query',
        this.options.stepSeconds,
        this.options.maxQueryBytes,
      );
      if (!ran.ok) return ran;
      const { stdout, stderr, code } = ran.value;
      const out = parseRemoteQueryOutput(stdout.toString('utf8'));
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
      if (out.kind === 'garbage') {
        if (/no such table: prosody/.test(stderr))
          return fail({ kind: 'no-activity-records', source: this.label });
        if (/not a database|malformed/.test(stderr)) {
          if (attempt < ATTEMPTS) continue;
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
      if (!out.consistent && attempt < ATTEMPTS) continue;
      if (!out.consistent) {
        return fail({ kind: 'busy', path: `${host}:${this.path}` });
      }
      for (const row of out.rows) if (this.options.includeHost(row.host)) feedQueryRow(tally, row);
      if (!out.wal) tally.notices.push(`${host}:${this.path}: ${WAL_ADVICE}`);
      return ok(undefined);
    }
    return fail({ kind: 'busy', path: `${host}:${this.path}` });
  }

  private async copy(tally: ActivityTally): Promise<Result<void>> {
    const host = this.conn.host;
    const remotePath = `${host}:${this.path}`;
    const opened = await this.openSftp();
    if (!opened.ok) return opened;
    const sftp = opened.value;
    const dir = mkdtempSync(join(this.options.tempDir ?? tmpdir(), 'prosody-active-users-'));
    try {
      let last: Failure = { kind: 'busy', path: remotePath };
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const before = await stat(sftp, this.path);
        if (before instanceof Error) return fail(sftpStatFailure(before, remotePath));
        if (before.size > this.options.maxCopyBytes) {
          return fail({
            kind: 'too-large',
            path: remotePath,
            size: before.size,
            limit: this.options.maxCopyBytes,
          });
        }
        const local = join(dir, `copy-${attempt}.sqlite`);
        this.options.onStep?.(`copying ${this.path} (${before.size} bytes) over SFTP`);
        const got = await fastGet(sftp, this.path, local, (r, t) =>
          this.options.onProgress?.(r, t),
        );
        if (got) return fail(sftpStatFailure(got, remotePath));
        const wal = await stat(sftp, `${this.path}-wal`);
        if (!(wal instanceof Error) && wal.size > 0) {
          const gotWal = await fastGet(sftp, `${this.path}-wal`, `${local}-wal`, () => undefined);
          if (gotWal) return fail(sftpStatFailure(gotWal, remotePath));
        }
        const after = await stat(sftp, this.path);
        const unchanged =
          !(after instanceof Error) && after.size === before.size && after.mtime === before.mtime;
        const check = checkCopy(local);
        if (unchanged && check === null) {
          const isWal = readFileSync(local).subarray(18, 19)[0] === 2;
          const counted = await new SqliteSource(local, this.options.includeHost).feed(tally);
          if (counted.ok && !isWal) tally.notices.push(`${remotePath}: ${WAL_ADVICE}`);
          if (!counted.ok && counted.failure.kind === 'no-activity-records') {
            return fail({ kind: 'no-activity-records', source: this.label });
          }
          return counted;
        }
        last = check ?? { kind: 'busy', path: remotePath };
        this.options.onStep?.('the database changed during the copy: copying again');
      }
      return fail(last);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

/** A copy is used only when SQLite itself finds it sound; null when it is. */
function checkCopy(path: string): Failure | null {
  let db: Database.Database | undefined;
  try {
    // Opened writable only so that SQLite can fold a copied -wal file in; it is our own temp file.
    db = new Database(path, { fileMustExist: true });
    db.pragma('trusted_schema = OFF');
    const result = db.pragma('quick_check', { simple: true });
    return result === 'ok' ? null : { kind: 'corrupt', path, detail: String(result) };
  } catch (e) {
    return { kind: 'corrupt', path, detail: e instanceof Error ? e.message : String(e) };
  } finally {
    db?.close();
  }
}
