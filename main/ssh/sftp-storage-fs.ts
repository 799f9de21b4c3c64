import { posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { type Failure, FailureError } from '../core/failure.js';
import type { DiscoveryFs } from '../sources/discover-sources.js';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, section 7). */
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

type SftpError = Error & { code?: number | string };

function sftpFailure(e: SftpError, host: string, path: string, what: string): Failure {
  if (e.code === SFTP_PERMISSION_DENIED)
    return { kind: 'permission-denied', path: `${host}:${path}`, what };
  if (e.code === SFTP_NO_SUCH_FILE) return { kind: 'not-found', path: `${host}:${path}`, what };
  return { kind: 'connection-lost', host, step: `reading ${path}` };
}

function call<T>(
  fn: (cb: (err: SftpError | undefined | null, value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

/** Prosody's files over SFTP: the same reader as on the local disk. */
export function sftpStorageFs(sftp: SFTPWrapper, host: string): DiscoveryFs {
  return {
    join: (...parts) => posix.join(...parts),

    async list(path) {
      try {
        const entries = await call<Array<{ filename: string; attrs: { mode: number } }>>((cb) =>
          sftp.readdir(path, cb),
        );
        return entries.map((e) => ({
          name: e.filename,
          isDir: (e.attrs.mode & S_IFMT) === S_IFDIR,
        }));
      } catch (e) {
        if ((e as SftpError).code === SFTP_NO_SUCH_FILE) return null;
        throw new FailureError(sftpFailure(e as SftpError, host, path, 'Prosody data folder'));
      }
    },

    async readCapped(path, maxBytes) {
      let handle: Buffer;
      try {
        handle = await call<Buffer>((cb) => sftp.open(path, 'r', cb));
      } catch (e) {
        if ((e as SftpError).code === SFTP_NO_SUCH_FILE) return null;
        throw new FailureError(sftpFailure(e as SftpError, host, path, 'Prosody data file'));
      }
      try {
        const { size } = await call<{ size: number }>((cb) => sftp.fstat(handle, cb));
        if (size > maxBytes) return { tooLarge: true };
        const buffer = Buffer.alloc(size);
        let filled = 0;
        while (filled < size) {
          const n = await call<number>((cb) =>
            sftp.read(handle, buffer, filled, size - filled, filled, (err, bytesRead) =>
              cb(err, bytesRead),
            ),
          );
          if (n === 0) break;
          filled += n;
        }
        return { text: buffer.subarray(0, filled).toString('utf8') };
      } catch (e) {
        throw new FailureError(sftpFailure(e as SftpError, host, path, 'Prosody data file'));
      } finally {
        sftp.close(handle, () => undefined);
      }
    },

    async exists(path) {
      try {
        await call((cb) => sftp.stat(path, cb));
        return true;
      } catch (e) {
        // Something we may not see is still there: reading it will say "permission denied".
        return (e as SftpError).code === SFTP_PERMISSION_DENIED;
      }
    },
  };
}
