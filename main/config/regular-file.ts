import { type Stats, closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { Failure } from '../core/failure.js';

/**
 * A path someone gave (a config, a key, known_hosts, settings) may name a FIFO, whose open waits
 * for a writer forever, or a device that never ends. Only regular files are read: opened with
 * O_NONBLOCK, so that opening a FIFO returns at once, then checked with fstat on that very
 * descriptor (no race between a check and the open). /dev/null stays usable as an empty file,
 * as OpenSSH allows (`-F /dev/null`).
 */

/** What a non-regular file is, in words: "a FIFO", "a socket", "a folder", … */
export function fileTypeWords(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'a special file';
}

/** Thrown for a path that is not a regular file; `failure` says so in one sentence. */
export class SpecialFileError extends Error {
  readonly code = 'ESPECIALFILE';
  constructor(
    readonly path: string,
    readonly type: string,
  ) {
    super(`${path} is ${type}, not a regular file`);
  }
  failure(what: string): Failure {
    return { kind: 'special-file', path: this.path, what, type: this.type };
  }
}

let devNull: Stats | null | undefined;
function isDevNull(stats: Stats): boolean {
  if (!stats.isCharacterDevice()) return false;
  if (devNull === undefined) {
    try {
      devNull = statSync('/dev/null');
    } catch {
      devNull = null;
    }
  }
  return devNull !== null && stats.rdev === devNull.rdev;
}

/**
 * The bytes of a regular file (at most maxBytes; more is an error with code EFBIG). Node's own
 * errors (ENOENT, EACCES, ELOOP) pass through; a special file throws SpecialFileError.
 */
export function readRegularFileSync(path: string, maxBytes = 16 * 1024 * 1024): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (isDevNull(stats)) return Buffer.alloc(0);
    if (!stats.isFile()) throw new SpecialFileError(path, fileTypeWords(stats));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) {
        throw Object.assign(new Error(`${path} is larger than ${maxBytes} bytes`), {
          code: 'EFBIG',
        });
      }
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** The failure for a path that exists but is not a regular file, else null (no read). */
export function specialFileFailure(path: string, what: string): Failure | null {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch {
    return null;
  }
  if (stats.isFile() || isDevNull(stats)) return null;
  return { kind: 'special-file', path, what, type: fileTypeWords(stats) };
}
