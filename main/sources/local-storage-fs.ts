import {
  close,
  closeSync,
  constants,
  fstat,
  fstatSync,
  lstatSync,
  open,
  openSync,
  read,
  readSync,
} from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FailureError } from '../core/failure.js';
import { fileFailure } from './file-failure.js';
import type { ReadCapped, StorageFs, UnreadableReason } from './storage-fs.js';

const codeOf = (e: unknown) => (e as { code?: string }).code;

type ReadResult = ReadCapped;

/**
 * Opening never waits: O_NONBLOCK makes a FIFO's open return at once (a plain file ignores it),
 * and O_NOCTTY keeps a terminal device from becoming ours. What is opened is then checked with
 * fstat before a byte is read, unless the listing already said it was a plain file (then a FIFO
 * swapped in since reads as empty or fails with EAGAIN: a bad file either way, never a hang).
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

const DANGLING = { unreadable: 'cannot be opened' } as const;

/** Whether a path that could not be opened is there all the same: a link to nothing. Rare. */
function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A file that cannot be opened for what it is, rather than for a reason that fails the count. */
function unreadableBy(e: unknown): UnreadableReason | null {
  switch (codeOf(e)) {
    case 'ENXIO': // a socket, or a device without its driver
    case 'EAGAIN':
    case 'ENODEV':
      return 'not a plain file';
    case 'ELOOP':
      return 'symlink loop';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return null;
  }
}

/**
 * How much one read asks for. Prosody's activity files are a few hundred bytes, so one read holds
 * a whole file and the next one sees its end.
 */
const READ_CHUNK = 8 * 1024;

/** A file error as the FailureError the reader expects, or the error itself when unexpected. */
function readFailure(e: unknown, path: string): unknown {
  try {
    return new FailureError(fileFailure(e, path, 'Prosody data file'));
  } catch (unexpected) {
    return unexpected;
  }
}

/** Reused by every synchronous read: nothing else runs while one is under way. */
let scratch: Buffer | null = null;

/**
 * Reads at most maxBytes + 1 bytes with open, read until the end, close: no stat, since a read
 * past the cap says "too large" just as well. Synchronous: see {@link readCapped} for when.
 * Exported for tests.
 */
export function readCappedSync(path: string, maxBytes: number, listedPlain = false): ReadResult {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    // An account deleted while we read is simply gone; a link to nothing is a bad file.
    if (codeOf(e) === 'ENOENT') return !listedPlain && isLink(path) ? DANGLING : null;
    const reason = unreadableBy(e);
    if (reason) return { unreadable: reason };
    throw readFailure(e, path);
  }
  try {
    if (!listedPlain && !fstatSync(fd).isFile()) return { unreadable: 'not a plain file' };
    scratch ??= Buffer.allocUnsafe(READ_CHUNK);
    let buffer = scratch;
    let total = 0;
    for (;;) {
      if (total === buffer.length) {
        const larger = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxBytes + 1));
        buffer.copy(larger, 0, 0, total);
        buffer = larger;
      }
      const n = readSync(fd, buffer, total, Math.min(buffer.length, maxBytes + 1) - total, total);
      if (n === 0) return { text: buffer.toString('utf8', 0, total) };
      total += n;
      if (total > maxBytes) return { tooLarge: true };
    }
  } catch (e) {
    const reason = unreadableBy(e);
    if (reason) return { unreadable: reason };
    throw readFailure(e, path);
  } finally {
    closeSync(fd);
  }
}

/** The same read through libuv's thread pool, so that many files wait on the disk at once. */
export function readCappedAsync(
  path: string,
  maxBytes: number,
  listedPlain = false,
): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    open(path, OPEN_FLAGS, (openError, fd) => {
      if (openError) {
        const reason = unreadableBy(openError);
        if (codeOf(openError) === 'ENOENT') resolve(!listedPlain && isLink(path) ? DANGLING : null);
        else if (reason) resolve({ unreadable: reason });
        else reject(readFailure(openError, path));
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      const finish = (error: unknown, result: ReadResult) => {
        const reason = error ? unreadableBy(error) : null;
        close(fd, () =>
          reason
            ? resolve({ unreadable: reason })
            : error
              ? reject(readFailure(error, path))
              : resolve(result),
        );
      };
      const readMore = () => {
        const want = Math.min(READ_CHUNK, maxBytes + 1 - total);
        const buffer = Buffer.allocUnsafe(want);
        read(fd, buffer, 0, want, total, (readError, n) => {
          if (readError) return finish(readError, null);
          if (n === 0) return finish(null, { text: Buffer.concat(chunks, total).toString('utf8') });
          chunks.push(n === want ? buffer : buffer.subarray(0, n));
          total += n;
          if (total > maxBytes) return finish(null, { tooLarge: true });
          readMore();
        });
      };
      if (listedPlain) return readMore();
      fstat(fd, (statError, stats) => {
        if (statError) finish(statError, null);
        else if (!stats.isFile()) finish(null, { unreadable: 'not a plain file' });
        else readMore();
      });
    });
  });
}

/** Synchronous reads run for at most this long before the event loop gets a turn. */
const SLICE_MS = 8;
/**
 * The page cache serves one of these files in a few microseconds, a disk in a tenth of a
 * millisecond or more: a slice whose reads took longer than this on average went to the disk.
 */
const DISK_READ_MS = 0.1;
/** After this long without a read, the next count starts over with synchronous reads. */
const FRESH_START_MS = 5000;

const reads = { sync: true, last: -Infinity, sliceStart: 0, sliceFiles: 0, sliceReadMs: 0 };

/**
 * Internal storage is a hundred thousand small files. Files in the page cache read fastest
 * synchronously: each call into libuv's thread pool costs more than the read itself (on two cores
 * a full count takes half the time). Files on the disk read fastest many at a time, which only
 * the thread pool gives. So a count starts reading synchronously, in slices of a few milliseconds
 * between which the event loop runs (the app's window stays responsive), and when a slice's reads
 * went to the disk, the rest of that count goes through the thread pool.
 */
async function readCapped(
  path: string,
  maxBytes: number,
  _listedSize?: number,
  listedPlain = false,
): Promise<ReadResult> {
  const now = performance.now();
  if (now - reads.last > FRESH_START_MS) {
    Object.assign(reads, { sync: true, sliceStart: now, sliceFiles: 0, sliceReadMs: 0 });
  }
  reads.last = now;
  if (reads.sync && now - reads.sliceStart > SLICE_MS) {
    if (reads.sliceFiles > 0 && reads.sliceReadMs / reads.sliceFiles > DISK_READ_MS) {
      reads.sync = false;
    }
    await new Promise((resolve) => setImmediate(resolve));
    Object.assign(reads, { sliceStart: performance.now(), sliceFiles: 0, sliceReadMs: 0 });
  }
  if (!reads.sync) return readCappedAsync(path, maxBytes, listedPlain);
  const started = performance.now();
  try {
    return readCappedSync(path, maxBytes, listedPlain);
  } finally {
    reads.sliceReadMs += performance.now() - started;
    reads.sliceFiles++;
  }
}

/** StorageFs over the local disk. */
export const localStorageFs: StorageFs = {
  join,
  async list(path) {
    try {
      const entries = await readdir(path, { withFileTypes: true });
      return entries.map((d) => ({
        name: d.name,
        isDir: d.isDirectory(),
        type: d.isFile() ? 'file' : d.isSymbolicLink() ? 'link' : 'special',
      }));
    } catch (e) {
      if (codeOf(e) === 'ENOENT' || codeOf(e) === 'ENOTDIR') return null;
      throw new FailureError(fileFailure(e, path, 'Prosody data folder'));
    }
  },
  readCapped,
};
