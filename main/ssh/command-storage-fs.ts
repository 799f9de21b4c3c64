import { posix } from 'node:path';
import { FailureError } from '../core/failure.js';
import type { DiscoveryFs } from '../sources/discover-sources.js';
import type {
  AccountsWanted,
  FileDigest,
  ReadCapped,
  StorageEntry,
  StorageFs,
} from '../sources/storage-fs.js';
import { FILES_SCRIPT, filesCommand } from './files-by-command.js';
import {
  type FilesStreamResult,
  type ListedEntry,
  FilesStreamParser,
  NotOurScript,
} from './files-stream.js';
import type { SshConnection } from './ssh-connection.js';
import { StoreListing, entryType } from './store-listing.js';
import { posixJoin } from './posix-join.js';
import { StreamHold } from './stream-hold.js';

/**
 * The largest stream taken: a listing line and a few hundred bytes of text per account leave room
 * for several million accounts, and the stream is parsed as it comes, never held whole.
 */
const MAX_STREAM_BYTES = 4 * 1024 ** 3;

export interface CommandStorageFs extends StorageFs {
  prepare(since: number | null, accounts?: AccountsWanted): Promise<void>;
  /** How the last count got its files, for `fetch.method`. */
  readonly method: string;
}

/**
 * An accounts file as Prosody would have written what the server said of it, for the same parser
 * as every other file.
 */
function asLuaData(sent: { disabled: boolean }): string {
  return sent.disabled ? 'return { disabled = true };' : 'return {};';
}

function storageEntry(e: ListedEntry): StorageEntry {
  const type = entryType(e.type.charCodeAt(0));
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
  /** While the files' lines still come: when they end, and whether a host's are all here. */
  let rest: {
    finished: Promise<void>;
    ended: () => boolean;
    hostComplete: (host: string) => boolean;
  } | null = null;
  let stop = false;
  /**
   * The folders readDigest found last (newest first), once their host was complete: a million
   * files are asked about folder by folder, and finding the folder again each time cost more than
   * the lookup. Two, as the reader asks of an account's lastlog2 file and then its accounts file.
   */
  let last: Array<{ dir: string; store: StoreListing; normal: boolean }> = [];

  /** Woken after every chunk and at the end of the stream, to look again. */
  let waiting: Array<() => void> = [];
  const wake = () => {
    const woken = waiting;
    waiting = [];
    for (const w of woken) w();
  };
  const until = async (ready: () => boolean) => {
    while (!ready()) await new Promise<void>((resolve) => waiting.push(resolve));
  };

  /** Holds the stream back while the count is two hosts behind it (stream-hold.ts). */
  let hold = new StreamHold(new Set());

  /** Waits until what the server sends of `host`'s files is all here; throws when it never is. */
  const hostSent = async (host: string) => {
    const r = rest;
    if (r === null) return;
    const h = hold;
    h.waitStarts(r.ended() || r.hostComplete(host));
    try {
      await until(() => r.ended() || r.hostComplete(host));
    } finally {
      h.waitEnds();
    }
    // Ended: whole (every host complete) or not (the count fails here).
    if (r.ended()) await r.finished;
  };

  /** `path` relative to the data folder, split; null when it is outside it. */
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const relative = (path: string): string[] | null => {
    // The reader's paths come from join() and are normal already; anything else is normalized.
    const p = path.startsWith(prefix) && !path.includes('/.') ? path : posix.normalize(path);
    if (p === root) return [];
    return p.startsWith(prefix) ? p.slice(prefix.length).split('/') : null;
  };

  /**
   * A store folder (host/store) as the stream has it: listed, a folder unchanged since the last
   * count (U: its mtime only), surely absent, or unknown here (a link: SFTP follows it).
   */
  const storeFolder = (parts: string[] | null): 'listed' | 'unlisted' | 'absent' | null => {
    if (stream === null || parts === null || parts.length !== 2) return null;
    const host = stream.entries.get(parts[0]!);
    if (host?.type !== 'd') return null;
    const store = stream.entries.get(parts.join('/'));
    if (store === undefined) return 'absent';
    return store.type === 'd' ? 'listed' : store.type === 'U' ? 'unlisted' : null;
  };

  /**
   * A store folder the stream walked, once its host is all here; undefined for one it did not
   * walk (changed between the listing and the walk, or skipped by the script: SFTP lists it).
   */
  const walkedFolder = async (parts: string[]): Promise<StoreListing | undefined> => {
    await hostSent(parts[0]!);
    return stream?.stores.get(parts.join('/'));
  };

  /** A folder's entries, or the stream's listing of it when it walked it; null when absent. */
  const listed = async (path: string): Promise<StorageEntry[] | StoreListing | null> => {
    const parts = relative(path);
    if (stream !== null && parts !== null && parts.length === 0) {
      return (stream.folders.get('') ?? []).map(storageEntry);
    }
    const known = storeFolder(parts);
    if (known === 'absent') return null;
    const walked = known === 'listed' ? await walkedFolder(parts!) : undefined;
    return walked ?? sftp.list(path);
  };

  /** What the server sent of the file at `path`, found by its folder (StorageFs.readDigest). */
  const readDigest = (path: string, maxBytes: number, listedSize: number): FileDigest | null => {
    if (stream === null) return null;
    // Only host/store/name paths, never with . or .. parts, are sent: no need to normalize.
    const slash = path.lastIndexOf('/');
    let store: StoreListing | undefined;
    for (const l of last) {
      if (slash === l.dir.length && path.startsWith(l.dir)) {
        store = l.store;
        break;
      }
    }
    if (store === undefined) {
      if (!path.startsWith(prefix) || slash < prefix.length) return null;
      const key = path.slice(prefix.length, slash);
      if (rest !== null && !rest.hostComplete(key.slice(0, key.indexOf('/')))) return null;
      store = stream.stores.get(key);
      if (store === undefined) return null;
      const dir = path.slice(0, slash);
      // Whether join(dir, name) is dir/name, for readDigestIn.
      const normal = posixJoin(dir, 'x') === `${dir}/x`;
      last = [{ dir, store, normal }, ...last.slice(0, 1)];
    }
    return store.take(path.slice(slash + 1), maxBytes, listedSize);
  };

  return {
    join: posixJoin,

    get method() {
      return method;
    },

    async prepare(since, accounts = 'all') {
      stream = null;
      last = [];
      method = 'SFTP files';
      rest = null;
      stop = false;
      hold.drain();
      const command = filesCommand(
        root,
        since === null ? 0 : Math.max(0, Math.floor(since)),
        accounts,
      );
      if (command === null || !conn.isOpen) return;
      const parser = new FilesStreamParser();
      hold = new StreamHold(parser.walkedHosts);
      let received = 0;
      let notOurs = false;
      let ended = false;
      const ran = conn
        .execStream(
          command,
          FILES_SCRIPT,
          'listing the Prosody data folder',
          stepSeconds,
          (chunk) => {
            if (notOurs) return null;
            // The count failed or ended without the rest: stop the server's work.
            if (stop) return 'the count ended before the listing';
            received += chunk.length;
            if (received > MAX_STREAM_BYTES)
              return `more than ${MAX_STREAM_BYTES} bytes of listing`;
            try {
              parser.push(chunk);
              return hold.afterChunk();
            } catch (e) {
              if (e instanceof NotOurScript) {
                notOurs = true;
                return null;
              }
              return `the listing of the Prosody data folder is not usable (${(e as Error).message})`;
            } finally {
              wake();
            }
          },
        )
        .finally(() => {
          ended = true;
          wake();
        });
      /** The stream ended: its result when it was whole, null when SFTP is to read everything. */
      const whole = async (): Promise<FilesStreamResult | null> => {
        const r = await ran;
        if (!r.ok) throw new FailureError(r.failure);
        if (notOurs || r.value.refused) return null;
        try {
          const result = parser.end();
          return result.fallback ? null : result;
        } catch (e) {
          if (e instanceof NotOurScript) return null;
          throw new FailureError({
            kind: 'remote-protocol',
            host: conn.host,
            detail: `the listing of the Prosody data folder is not usable (${(e as Error).message})`,
          });
        }
      };
      await until(() => ended || (parser.listed && !notOurs));
      if (ended) {
        stream = await whole();
        if (stream !== null) method = 'files by command';
        return;
      }
      // The listing is whole and what the server sends of the files comes host by host: the
      // count starts on the first host while the server reads the next (issue 14).
      const result = parser.sofar();
      if (result.fallback) {
        await whole();
        return;
      }
      stream = result;
      method = 'files by command';
      const finished = whole().then(() => undefined);
      // Awaited by a host's listing or finish(); never an unhandled rejection.
      finished.catch(() => undefined);
      rest = { finished, ended: () => ended, hostComplete: (host) => parser.hostComplete(host) };
    },

    hostDone(hostDir) {
      const parts = relative(hostDir);
      if (stream === null || parts === null || parts.length !== 1) return;
      last = [];
      hold.hostCounted(parts[0]!);
      for (const key of [...stream.stores.keys()]) {
        if (key.startsWith(`${parts[0]}/`)) stream.stores.delete(key);
      }
    },

    async finish() {
      hold.drain();
      if (rest !== null) await rest.finished;
    },

    release() {
      stream = null;
      last = [];
      hold.drain();
      if (rest !== null) stop = true;
      rest = null;
    },

    async list(path) {
      const found = await listed(path);
      return found instanceof StoreListing ? found.entries() : found;
    },

    async listPacked(path) {
      const parts = relative(path);
      if (storeFolder(parts) !== 'listed') return undefined;
      return (await walkedFolder(parts!))?.listedFiles();
    },

    async listEach(path, visit) {
      // A walked folder's entries go one by one: never all objects at once.
      const found = await listed(path);
      if (found === null) return false;
      if (found instanceof StoreListing) found.each(visit);
      else for (const e of found) visit(e);
      return true;
    },

    async folderMtime(path) {
      const parts = relative(path);
      const known = storeFolder(parts);
      if (known === 'absent') return null;
      if (known === 'listed' || known === 'unlisted') {
        return stream!.entries.get(parts!.join('/'))!.mtime;
      }
      return sftp.folderMtime ? sftp.folderMtime(path) : null;
    },

    readDigest,

    readDigestIn(folder, name, maxBytes, listedSize) {
      if (stream !== null && name !== '' && name !== '.' && name !== '..' && !name.includes('/')) {
        for (const l of last) {
          if (l.dir !== folder || !l.normal) continue;
          // The reader's own string from now on: the next comparisons need not read it.
          l.dir = folder;
          return l.store.take(name, maxBytes, listedSize);
        }
      }
      return readDigest(posixJoin(folder, name), maxBytes, listedSize);
    },

    async readCapped(path, maxBytes, listedSize, listedPlain): Promise<ReadCapped> {
      const parts = relative(path);
      if (stream !== null && parts !== null && parts.length === 3) {
        const complete = rest === null || rest.hostComplete(parts[0]!);
        const store = complete ? stream.stores.get(`${parts[0]}/${parts[1]}`) : undefined;
        // Larger than any file the script sends, and a plain file: as SFTP would find it.
        if (listedPlain && listedSize !== undefined && listedSize > maxBytes) {
          return { tooLarge: true };
        }
        const sent =
          store && listedSize !== undefined ? store.take(parts[2]!, Infinity, listedSize) : null;
        // A lastlog2 file's summary is no text: SFTP reads that one (the reader asks readDigest
        // first, so only a file it would not ask about comes here).
        if (sent !== null && 'disabled' in sent) {
          return listedSize! > maxBytes ? { tooLarge: true } : { text: asLuaData(sent) };
        }
      }
      return sftp.readCapped(path, maxBytes, listedSize, listedPlain);
    },
  };
}
