import type { SFTPWrapper } from 'ssh2';
import { type Failure, FailureError } from '../core/failure.js';
import type { DiscoveryFs } from '../sources/discover-sources.js';
import type { ReadCapped, StorageEntry } from '../sources/storage-fs.js';
import { posixJoin } from './posix-join.js';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, section 7). */
const SFTP_EOF = 1;
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** What a mode says an entry is; undefined when the server sent no mode. */
function entryType(mode: number | undefined): StorageEntry['type'] {
  if (typeof mode !== 'number') return undefined;
  const type = mode & S_IFMT;
  return type === S_IFREG ? 'file' : type === S_IFLNK ? 'link' : 'special';
}

/** Seconds one SFTP request may go unanswered: the CLI's default step time. */
const DEFAULT_REQUEST_SECONDS = 120;

type SftpError = Error & { code?: number | string };

function sftpFailure(e: SftpError, host: string, path: string, what: string): Failure {
  if (e.code === SFTP_PERMISSION_DENIED)
    return { kind: 'permission-denied', path: `${host}:${path}`, what };
  if (e.code === SFTP_NO_SUCH_FILE) return { kind: 'not-found', path: `${host}:${path}`, what };
  return { kind: 'connection-lost', host, step: `reading ${path}` };
}

/**
 * Prosody's files over SFTP: the same reader as on the local disk.
 *
 * Two things ssh2 leaves to us. A request the server never answers waits forever, so each one
 * has a deadline (`requestSeconds`); after a timeout every later request fails at once. And after
 * a cut, sending anything (a handle's close included) throws from inside ssh2 where nobody can
 * catch it (mscdex/ssh2#1178, "Invalid Zlib instance"), so nothing is sent once the channel has
 * closed, and callbacks only settle promises; this is also why folders are listed with
 * opendir/readdir here rather than with readdir(path), which closes its handle from its callback.
 */
export function sftpStorageFs(
  sftp: SFTPWrapper,
  host: string,
  requestSeconds = DEFAULT_REQUEST_SECONDS,
): DiscoveryFs {
  let closed = false;
  sftp.once('close', () => (closed = true));
  let timedOut: Failure | null = null;

  /** One request; rejects with its SftpError, or with a FailureError (timeout, lost). */
  function call<T>(
    path: string,
    send: (cb: (err: SftpError | undefined | null, value: T) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (timedOut) return reject(new FailureError(timedOut));
      if (closed) {
        return reject(new FailureError({ kind: 'connection-lost', host, step: `reading ${path}` }));
      }
      const timer = setTimeout(() => {
        timedOut = { kind: 'timeout', host, step: `reading ${path}`, seconds: requestSeconds };
        reject(new FailureError(timedOut));
      }, requestSeconds * 1000);
      try {
        send((err, value) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve(value);
        });
      } catch (e) {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Lets go of a handle, unless the connection is gone (the server then drops it itself). */
  function release(handle: Buffer): void {
    if (closed || timedOut) return;
    try {
      sftp.close(handle, () => undefined);
    } catch {
      // The channel closed between the check and the send.
    }
  }

  /**
   * A file the server answered about, but would not let us read: one bad file, not a failed
   * count. Its status says only "permission denied" or a bare "failure" (a symlink loop, an I/O
   * error: OpenSSH's sftp-server sends the same code for both); null for anything else.
   */
  const unreadable = (e: unknown): ReadCapped => {
    if (e instanceof FailureError) return null;
    const code = (e as SftpError).code;
    if (code === SFTP_PERMISSION_DENIED) return { unreadable: 'permission denied' };
    if (typeof code === 'number' && code !== SFTP_NO_SUCH_FILE) {
      return { unreadable: 'cannot be opened' };
    }
    return null;
  };

  const rethrow = (e: unknown, path: string, what: string): never => {
    if (e instanceof FailureError) throw e;
    throw new FailureError(sftpFailure(e as SftpError, host, path, what));
  };

  return {
    join: posixJoin,

    async list(path) {
      let handle: Buffer;
      try {
        handle = await call<Buffer>(path, (cb) => sftp.opendir(path, cb));
      } catch (e) {
        if ((e as SftpError).code === SFTP_NO_SUCH_FILE) return null;
        return rethrow(e, path, 'Prosody data folder');
      }
      try {
        const entries: StorageEntry[] = [];
        for (;;) {
          let batch: Array<{
            filename: string;
            attrs: { mode: number; size: number; mtime: number };
          }>;
          try {
            batch = await call(path, (cb) => sftp.readdir(handle, cb));
          } catch (e) {
            if ((e as SftpError).code === SFTP_EOF) return entries;
            throw e;
          }
          for (const e of batch) {
            if (e.filename === '.' || e.filename === '..') continue;
            entries.push({
              name: e.filename,
              isDir: (e.attrs.mode & S_IFMT) === S_IFDIR,
              type: entryType(e.attrs.mode),
              size: e.attrs.size,
              mtime: e.attrs.mtime,
            });
          }
        }
      } catch (e) {
        return rethrow(e, path, 'Prosody data folder');
      } finally {
        release(handle);
      }
    },

    async readCapped(path, maxBytes, listedSize, listedPlain) {
      // SFTP's OPEN waits on a FIFO until a writer comes, server side, with no way to cancel it
      // (the server's sftp process stays stuck): so only what the server calls a plain file is
      // opened. A FIFO swapped in between this check and the OPEN still waits, up to the request's
      // deadline (--timeout), as any unanswered request does.
      if (!listedPlain) {
        let mode: number | undefined;
        try {
          mode = (await call<{ mode?: number }>(path, (cb) => sftp.stat(path, cb))).mode;
        } catch (e) {
          // OpenSSH's sftp-server says "no such file" for a symlink loop and a link to nothing too.
          if ((e as SftpError).code === SFTP_NO_SUCH_FILE) {
            const link = await call(path, (cb) => sftp.lstat(path, cb)).then(
              () => true,
              () => false,
            );
            return link ? { unreadable: 'cannot be opened' } : null;
          }
          return unreadable(e) ?? rethrow(e, path, 'Prosody data file');
        }
        if (entryType(mode) !== 'file') return { unreadable: 'not a plain file' };
      }
      let handle: Buffer;
      try {
        handle = await call<Buffer>(path, (cb) => sftp.open(path, 'r', cb));
      } catch (e) {
        if ((e as SftpError).code === SFTP_NO_SUCH_FILE) return null;
        return unreadable(e) ?? rethrow(e, path, 'Prosody data file');
      }
      try {
        // One read for the whole file when the listing said how large it is: a read that
        // returns exactly that many bytes, and no more than the cap, is the whole file. Anything
        // else (it grew, it shrank) falls back to asking the file's size.
        if (listedSize !== undefined && listedSize <= maxBytes) {
          // One byte more than listed: a read that stops short of it reached the end.
          const buffer = Buffer.allocUnsafe(listedSize + 1);
          const n = await call<number>(path, (cb) =>
            sftp.read(handle, buffer, 0, buffer.length, 0, (err, bytesRead) => cb(err, bytesRead)),
          ).catch((e: unknown) => {
            if ((e as SftpError).code === SFTP_EOF) return 0;
            throw e;
          });
          if (n === listedSize) return { text: buffer.subarray(0, n).toString('utf8') };
        }
        const { size } = await call<{ size: number }>(path, (cb) => sftp.fstat(handle, cb));
        if (size > maxBytes) return { tooLarge: true };
        const buffer = Buffer.alloc(size);
        let filled = 0;
        while (filled < size) {
          const n = await call<number>(path, (cb) =>
            sftp.read(handle, buffer, filled, size - filled, filled, (err, bytesRead) =>
              cb(err, bytesRead),
            ),
          );
          if (n === 0) break;
          filled += n;
        }
        return { text: buffer.subarray(0, filled).toString('utf8') };
      } catch (e) {
        return unreadable(e) ?? rethrow(e, path, 'Prosody data file');
      } finally {
        release(handle);
      }
    },

    async folderMtime(path) {
      try {
        const s = await call<{ mtime: number }>(path, (cb) => sftp.stat(path, cb));
        return s.mtime;
      } catch (e) {
        if ((e as SftpError).code === SFTP_NO_SUCH_FILE) return null;
        return rethrow(e, path, 'Prosody data folder');
      }
    },

    async exists(path) {
      try {
        await call(path, (cb) => sftp.stat(path, cb));
        return true;
      } catch (e) {
        // Something we may not see is still there: reading it will say "permission denied".
        return (e as SftpError).code === SFTP_PERMISSION_DENIED;
      }
    },
  };
}
