import { posix } from 'node:path';
import { FailureError } from '../core/failure.js';
import type { DiscoveryFs } from '../sources/discover-sources.js';
import type { ReadCapped, StorageEntry, StorageFs } from '../sources/storage-fs.js';
import { FILES_SCRIPT, filesCommand } from './files-by-command.js';
import {
  type FilesStreamResult,
  type ListedEntry,
  FilesStreamParser,
  NotOurScript,
} from './files-stream.js';
import type { SshConnection } from './ssh-connection.js';

/**
 * The largest stream taken: a listing line and a few hundred bytes of text per account leave room
 * for several million accounts, and the stream is parsed as it comes, never held whole.
 */
const MAX_STREAM_BYTES = 4 * 1024 ** 3;

export interface CommandStorageFs extends StorageFs {
  prepare(since: number | null): Promise<void>;
  /** How the last count got its files, for `fetch.method`. */
  readonly method: string;
}

function storageEntry(e: ListedEntry): StorageEntry {
  const type =
    e.type === 'f' ? 'file' : e.type === 'l' ? 'link' : e.type === 'd' ? undefined : 'special';
  return { name: e.name, isDir: e.type === 'd', size: e.size, mtime: e.mtime, type };
}

/**
 * Internal storage from one command's stream (files-by-command.ts) where the account may run a
 * command, with SFTP for everything the stream does not settle: a link, a file the stream held
 * back or did not send, a folder it did not list. An account that runs only sftp-server (a
 * `restrict,command=…sftp-server` key) never prints the banner: everything then goes by SFTP.
 */
export function commandStorageFs(
  conn: SshConnection,
  dataDir: string,
  sftp: DiscoveryFs,
  stepSeconds: number,
): CommandStorageFs {
  const root = posix.normalize(dataDir).replace(/(.)\/+$/, '$1');
  let stream: FilesStreamResult | null = null;
  let method = 'SFTP files';

  /** `path` relative to the data folder, split; null when it is outside it. */
  const relative = (path: string): string[] | null => {
    const p = posix.normalize(path);
    if (p === root) return [];
    const prefix = root.endsWith('/') ? root : `${root}/`;
    return p.startsWith(prefix) ? p.slice(prefix.length).split('/') : null;
  };

  /** A store folder (host/store) the stream answers for: listed as a folder, or surely absent. */
  const storeFolder = (parts: string[] | null): 'listed' | 'absent' | null => {
    if (stream === null || parts === null || parts.length !== 2) return null;
    const host = stream.entries.get(parts[0]!);
    if (host?.type !== 'd') return null;
    const store = stream.entries.get(parts.join('/'));
    if (store === undefined) return 'absent';
    return store.type === 'd' ? 'listed' : null;
  };

  return {
    join: (...parts) => posix.join(...parts),

    get method() {
      return method;
    },

    async prepare(since) {
      stream = null;
      method = 'SFTP files';
      const command = filesCommand(root, since === null ? 0 : Math.max(0, Math.floor(since)));
      if (command === null || !conn.isOpen) return;
      const parser = new FilesStreamParser();
      let received = 0;
      let notOurs = false;
      const ran = await conn.execStream(
        command,
        FILES_SCRIPT,
        'listing the Prosody data folder',
        stepSeconds,
        (chunk) => {
          if (notOurs) return null;
          received += chunk.length;
          if (received > MAX_STREAM_BYTES) return `more than ${MAX_STREAM_BYTES} bytes of listing`;
          try {
            parser.push(chunk);
            return null;
          } catch (e) {
            if (e instanceof NotOurScript) {
              notOurs = true;
              return null;
            }
            return `the listing of the Prosody data folder is not usable (${(e as Error).message})`;
          }
        },
      );
      if (!ran.ok) throw new FailureError(ran.failure);
      if (notOurs || ran.value.refused) return;
      let result: FilesStreamResult;
      try {
        result = parser.end();
      } catch (e) {
        if (e instanceof NotOurScript) return;
        throw new FailureError({
          kind: 'remote-protocol',
          host: conn.host,
          detail: `the listing of the Prosody data folder is not usable (${(e as Error).message})`,
        });
      }
      if (result.fallback) return;
      stream = result;
      method = 'files by command';
    },

    release() {
      stream = null;
    },

    async list(path) {
      const parts = relative(path);
      if (stream !== null && parts !== null && parts.length === 0) {
        return (stream.folders.get('') ?? []).map(storageEntry);
      }
      const known = storeFolder(parts);
      if (known === 'absent') return null;
      if (known === 'listed')
        return (stream!.folders.get(parts!.join('/')) ?? []).map(storageEntry);
      return sftp.list(path);
    },

    async folderMtime(path) {
      const parts = relative(path);
      const known = storeFolder(parts);
      if (known === 'absent') return null;
      if (known === 'listed') return stream!.entries.get(parts!.join('/'))!.mtime;
      return sftp.folderMtime ? sftp.folderMtime(path) : null;
    },

    async readCapped(path, maxBytes, listedSize, listedPlain): Promise<ReadCapped> {
      const parts = relative(path);
      if (stream !== null && parts !== null && parts.length === 3) {
        const key = parts.join('/');
        const entry = stream.entries.get(key);
        const sent = stream.files.get(key);
        if (entry?.type === 'f' && entry.size > maxBytes) return { tooLarge: true };
        if (entry?.type === 'f' && sent && !sent.heldBack && sent.bytes === entry.size) {
          stream.files.delete(key); // read once per count: let it go
          return { text: sent.text };
        }
      }
      return sftp.readCapped(path, maxBytes, listedSize, listedPlain);
    },
  };
}
