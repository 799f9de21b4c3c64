import { ruleNeedsAccounts } from '../core/account-rule.js';
import { SKIP_REASONS, type SourceRecord } from '../core/activity-record.js';
import type { ActivitySource } from '../core/activity-source.js';
import { AccountFolder, type ActivityTally } from '../core/count-active.js';
import { type Result, FailureError, fail, ok } from '../core/failure.js';
import {
  MAX_ACTIVITY_FILE_BYTES,
  MAX_ACCOUNT_FILE_BYTES,
  accountDigestStatus,
  accountFileStatus,
  lastlog2Records,
} from './internal-storage-records.js';
import { localStorageFs } from './local-storage-fs.js';
import { decodeProsodyName } from './prosody-name-encoding.js';
import type { AccountsWanted, ReadCapped, StorageFs } from './storage-fs.js';
import { type ListedFile, ListedFiles, ListedFilesBuilder } from './listed-files.js';
import {
  type AccountCache,
  type CachedFolder,
  type FolderWriter,
  FULL_RECHECK_SECONDS,
} from './account-cache.js';
import {
  type AccountSummary,
  type FileRow,
  type FileSummary,
  SKIP_SLOTS,
  summarizeActivity,
} from './file-table.js';

/**
 * The stores read: lastlog2's records, and, where the host's rule needs it (Prosody 13 with
 * internal_hashed), the accounts: a missing file is a missing account, and the file is read only
 * for its `disabled` flag. mod_account_activity's store is not read: Prosody 13's
 * mod_measure_active_users never looks at it (see activity-query.ts).
 */
type Store = 'lastlog2' | 'accounts';

/** How many files are read at once: enough to hide latency, few enough to spare the server's disk. */
const READ_CONCURRENCY = 64;
const YIELD_EVERY = 2048;

export interface InternalStorageOptions {
  fs?: StorageFs;
  /**
   * Remembers each file's size, mtime and records between counts, so that an unchanged file is
   * not read again (used where the file system gives sizes and mtimes with the listing: SFTP).
   */
  cache?: { store: AccountCache; key: string; clock: () => number };
  includeHost?: (host: string) => boolean;
  /** Says where the data is, for messages; defaults to "Prosody data folder DIR". */
  label?: string;
}

/**
 * Prosody's internal storage: `<data>/<host>/lastlog2/<user>.dat` and, on Prosody 13,
 * `<data>/<host>/accounts/<user>.dat`. Files are parsed as data, never executed.
 *
 * What crosses the wire over SFTP: an accounts file holds the password's salt and SCRAM keys
 * besides the flag, and SFTP can only send it whole (inside the encrypted SSH connection). It is
 * read only for hosts counted by Prosody 13's rule, parsed in memory, reduced at once to
 * enabled/disabled (see accountFileStatus), and the text is dropped: nothing else of it is kept,
 * logged or cached (the cache holds the flag). Where that is not acceptable, the remote query
 * (SQL storage) selects the two facts on the server.
 */
export class InternalStorageSource implements ActivitySource {
  readonly label: string;
  private readonly fs: StorageFs;
  private readonly includeHost: (host: string) => boolean;

  constructor(
    private readonly dataDir: string,
    options: InternalStorageOptions = {},
  ) {
    this.fs = options.fs ?? localStorageFs;
    this.includeHost = options.includeHost ?? (() => true);
    this.label = options.label ?? `Prosody data folder ${dataDir}`;
    this.cache = options.cache;
  }

  private readonly cache: InternalStorageOptions['cache'];

  /** What the last count did: files read, and files taken from the cache unread. */
  readonly lastCount = { read: 0, fromCache: 0 };
  /** Files this count could open, and the first it was not allowed to. */
  private opened = 0;
  private denied: string | null = null;

  async feed(tally: ActivityTally): Promise<Result<void>> {
    try {
      await this.feedOrThrow(tally);
      return ok(undefined);
    } catch (e) {
      if (e instanceof FailureError) return fail(e.failure);
      throw e;
    }
  }

  /**
   * One store folder's `.dat` files. With a cache, a folder whose mtime has not moved since a
   * listing made well after its last change is not listed again: the cached listing stands.
   */
  private async listStore(hostDir: string, store: Store): Promise<StoreFolder> {
    const path = this.fs.join(hostDir, store);
    const cache = this.cache;
    const now = cache?.clock() ?? 0;
    let held = cache ? cache.store.folder(cache.key, path) : null;
    if (held && (now < held.fullAt || now - held.fullAt >= FULL_RECHECK_SECONDS)) held = null;
    const mtime = cache && this.fs.folderMtime ? await this.fs.folderMtime(path) : null;
    if (held && mtime !== null && held.mtime === mtime && settled(held.listedAt, mtime)) {
      // The cached listing stands: its rows are looked up one by one, never copied out.
      const table = held.files;
      const files: FileLookup = {
        size: table.size,
        get: (name) => table.listed(name),
        has: (name) => table.has(name),
        *users() {
          for (const i of table.sortedBy(DAT.length)) yield table.nameAt(i, DAT.length);
        },
      };
      return { path, files, held, fresh: false, next: null };
    }
    // No folder, nothing to list (a host without accounts).
    const gone = cache !== undefined && this.fs.folderMtime !== undefined && mtime === null;
    const files = gone ? ListedFiles.gather([]) : await this.listFiles(path);
    const fresh = cache !== undefined && mtime !== null;
    // Its rows go to the cache as they are read: a million files' are never all held.
    const next =
      fresh && !this.cacheFailed
        ? cache.store.writeFolder(cache.key, path, {
            mtime,
            listedAt: now,
            fullAt: held?.fullAt ?? now,
          })
        : null;
    return { path, files, held, fresh, next };
  }

  /** A folder's `.dat` files, packed as they are listed. */
  private async listFiles(path: string): Promise<ListedFiles> {
    const packed = this.fs.listPacked ? await this.fs.listPacked(path) : undefined;
    if (packed !== undefined) return packed;
    if (this.fs.listEach === undefined) return ListedFiles.gather((await this.fs.list(path)) ?? []);
    const files = new ListedFilesBuilder();
    await this.fs.listEach(path, (e) => files.add(e));
    return files.done();
  }

  /**
   * One account's records in one store: from the cache when the file is as it was. Without a
   * promise where nothing is to be read (the cache, or what the command stream sent): a million
   * accounts made three promises each, a fifth of what a first read by command allocated.
   */
  private storeRecords(
    folder: StoreFolder,
    store: Store,
    host: string,
    user: string,
    fileName: string,
  ): SourceRecord[] | Promise<SourceRecord[]> {
    const entry = folder.files.get(fileName);
    if (entry === undefined) return [];
    const before = folder.held?.files.get(fileName);
    const summary = before?.summary ?? null;
    const unchanged =
      before !== undefined &&
      summary !== null &&
      before.size === entry.size &&
      before.mtime === entry.mtime &&
      (!folder.fresh || settled(before.readAt, before.mtime)) &&
      (store === 'accounts') === (typeof summary === 'number');
    if (unchanged) {
      this.lastCount.fromCache++;
      const records = expandSummary(host, user, store, summary);
      return this.kept(folder, fileName, entry, before.readAt, records);
    }
    this.lastCount.read++;
    const readAt = this.cache?.clock() ?? 0;
    const maxBytes = store === 'accounts' ? MAX_ACCOUNT_FILE_BYTES : MAX_ACTIVITY_FILE_BYTES;
    // A cached listing says no type: the file system's own listing says whether it is plain.
    // By folder and name where the file system can: a million paths joined only to be split
    // again cost about a second at 1 M.
    const digest =
      entry.type === 'special' || entry.size === undefined
        ? null
        : this.fs.readDigestIn
          ? this.fs.readDigestIn(folder.path, fileName, maxBytes, entry.size)
          : (this.fs.readDigest?.(this.fs.join(folder.path, fileName), maxBytes, entry.size) ??
            null);
    if (digest !== null) {
      this.opened++;
      const records: SourceRecord[] =
        store === 'accounts'
          ? [
              {
                host,
                user,
                status: 'disabled' in digest ? accountDigestStatus(digest) : 'missing',
              },
            ]
          : 'summary' in digest
            ? expandSummary(host, user, store, digest.summary)
            : [{ host, user, skipped: 'malformed', where: store }];
      return this.kept(folder, fileName, entry, readAt, records);
    }
    const fromFile = (file: ReadCapped): SourceRecord[] => {
      const records = this.fileRecords(folder, store, host, user, fileName, file);
      return records === null ? [] : this.kept(folder, fileName, entry, readAt, records);
    };
    // A FIFO, socket or device is never opened: the listing said what it is.
    if (entry.type === 'special') return fromFile({ unreadable: 'not a plain file' });
    return this.fs
      .readCapped(this.fs.join(folder.path, fileName), maxBytes, entry.size, entry.type === 'file')
      .then(fromFile);
  }

  /** A file's records from what reading it gave; null for a lastlog2 file gone since listed. */
  private fileRecords(
    folder: StoreFolder,
    store: Store,
    host: string,
    user: string,
    fileName: string,
    file: ReadCapped,
  ): SourceRecord[] | null {
    if (file !== null && 'unreadable' in file) {
      // One bad file is one skipped record, like a malformed row; for an accounts file the
      // account's status stays unknown (Prosody itself may well read it).
      if (file.unreadable === 'permission denied') {
        this.denied ??= this.fs.join(folder.path, fileName);
      }
      return [{ host, user, skipped: 'malformed', where: `${store}/${fileName}` }];
    }
    if (store === 'accounts') {
      this.opened++;
      // Gone since the listing: deleted just now.
      return [{ host, user, status: file === null ? 'missing' : accountFileStatus(file) }];
    }
    if (file === null) return null;
    this.opened++;
    if ('tooLarge' in file) return [{ host, user, skipped: 'malformed', where: store }];
    return lastlog2Records(host, user, file.text);
  }

  /** `records` of a listed file, its row kept for the next count. */
  private kept(
    folder: StoreFolder,
    fileName: string,
    entry: ListedFile,
    readAt: number,
    records: SourceRecord[],
  ): SourceRecord[] {
    if (entry.size !== undefined && entry.mtime !== undefined) {
      this.keepRow(folder, fileName, {
        size: entry.size,
        mtime: entry.mtime,
        readAt,
        summary: summarize(records),
      });
    }
    return records;
  }

  /** An account's records: its lastlog2 file's, then its account's where the rule asks. */
  private accountRecords(
    host: string,
    encodedUser: string,
    folders: { lastlog2: StoreFolder; accounts: StoreFolder | null },
  ): SourceRecord[] | Promise<SourceRecord[]> {
    const user = decodeProsodyName(encodedUser);
    const file = `${encodedUser}.dat`;
    if (user === null) {
      // Kept in the folder's next listing all the same: a listing taken from the cache must
      // still hold the name, or the skip would vanish from later counts.
      const entry = folders.lastlog2.files.get(file);
      if (entry?.size !== undefined && entry.mtime !== undefined) {
        this.keepRow(folders.lastlog2, file, {
          size: entry.size,
          mtime: entry.mtime,
          readAt: 0,
          summary: [null, null, 0, 1, 0],
        });
      }
      return [{ host, user: encodedUser, skipped: 'malformed', where: 'file name' }];
    }
    const accounts = folders.accounts;
    const activity = this.storeRecords(folders.lastlog2, 'lastlog2', host, user, file);
    if (accounts === null) return activity;
    const withStatus = (out: SourceRecord[]): SourceRecord[] | Promise<SourceRecord[]> => {
      if (!accounts.files.has(file)) {
        out.push({ host, user, status: 'missing' });
        return out;
      }
      const status = this.storeRecords(accounts, 'accounts', host, user, file);
      if (Array.isArray(status)) {
        out.push(...status);
        return out;
      }
      return status.then((s) => {
        out.push(...s);
        return out;
      });
    };
    return Array.isArray(activity) ? withStatus(activity) : activity.then(withStatus);
  }

  /** Whether `<host>/account_roles` exists: Prosody 13 makes it with the first role it stores. */
  private async hasRolesFolder(hostDir: string): Promise<boolean> {
    const path = this.fs.join(hostDir, 'account_roles');
    if (this.fs.folderMtime) return (await this.fs.folderMtime(path)) !== null;
    return (await this.fs.list(path)) !== null;
  }

  private async feedOrThrow(tally: ActivityTally): Promise<void> {
    this.lastCount.read = 0;
    this.lastCount.fromCache = 0;
    this.opened = 0;
    this.denied = null;
    const top = await this.fs.list(this.dataDir);
    if (top === null) {
      throw new FailureError({
        kind: 'not-found',
        path: this.dataDir,
        what: 'Prosody data folder',
      });
    }
    const hostDirs = top
      .filter((e) => e.isDir)
      .map((e) => e.name)
      .sort();
    try {
      await this.fs.prepare?.(this.changedSince(hostDirs), this.accountsWanted(tally, hostDirs));
      await this.feedHosts(tally, hostDirs);
    } finally {
      this.fs.release?.();
    }
  }

  /**
   * Which accounts folders this count may read, by what the rules know before any is listed: a
   * server of Prosody 0.12 (nothing but lastlog2 to read) is not asked for files that hold
   * password hashes. Before the listing nobody knows yet whether account_roles is there.
   */
  private accountsWanted(tally: ActivityTally, hostDirs: readonly string[]): AccountsWanted {
    let withRoles = false;
    for (const encodedHost of hostDirs) {
      const host = decodeProsodyName(encodedHost);
      if (host === null || !this.includeHost(host)) continue;
      if (ruleNeedsAccounts(tally.ruleFor(host).rule)) return 'all';
      withRoles ||= ruleNeedsAccounts(tally.ruleWithRoles(host).rule);
    }
    return withRoles ? 'roles' : 'none';
  }

  /**
   * Since when (the server's seconds) a file may have changed without the cache knowing it: every
   * lastlog2 folder to count was listed by an earlier count, the oldest listing minus a margin for
   * clocks and late renames. Null when any is unknown: then everything is new.
   */
  private changedSince(hostDirs: readonly string[]): number | null {
    const cache = this.cache;
    if (!cache) return null;
    const now = cache.clock();
    let oldest = Infinity;
    for (const encodedHost of hostDirs) {
      const host = decodeProsodyName(encodedHost);
      if (host === null || !this.includeHost(host)) continue;
      const path = this.fs.join(this.dataDir, encodedHost, 'lastlog2');
      const held = cache.store.folderDates
        ? cache.store.folderDates(cache.key, path)
        : cache.store.folder(cache.key, path);
      if (!held || now < held.fullAt || now - held.fullAt >= FULL_RECHECK_SECONDS) return null;
      oldest = Math.min(oldest, held.listedAt);
    }
    return oldest === Infinity ? null : Math.max(0, oldest - SETTLE_SECONDS - SINCE_MARGIN_SECONDS);
  }

  private async feedHosts(tally: ActivityTally, hostDirs: readonly string[]): Promise<void> {
    const folder = new AccountFolder(tally);
    // Only the paths are kept: a host's listings, cached rows and next rows go once it is counted.
    const seen: string[] = [];
    this.cacheFailed = false;
    this.writeFailed = null;
    // Every host first: account_roles on any host makes the whole server Prosody 13, and a host
    // without accounts of its own must know that before it is read.
    for (const encodedHost of hostDirs) {
      const host = decodeProsodyName(encodedHost);
      if (host === null) continue;
      if (await this.hasRolesFolder(this.fs.join(this.dataDir, encodedHost))) {
        tally.noteHasRoles(host);
        break;
      }
    }
    for (const encodedHost of hostDirs) {
      const host = decodeProsodyName(encodedHost);
      if (host === null || !this.includeHost(host)) continue;
      const hostDir = this.fs.join(this.dataDir, encodedHost);
      const lastlog2 = await this.listStore(hostDir, 'lastlog2');
      // Accounts are listed and read only where the host's rule asks whether they are enabled.
      const readAccounts = ruleNeedsAccounts(tally.ruleFor(host).rule);
      const accounts = readAccounts ? await this.listStore(hostDir, 'accounts') : null;
      const folders = { lastlog2, accounts };
      seen.push(lastlog2.path);
      if (accounts) seen.push(accounts.path);
      // mod_measure_active_users walks lastlog2's users: only they can count. Taken one at a
      // time, in order: never a list of them all.
      const users = lastlog2.files.users();
      let next = 0;
      // Files that are at hand already resolve without I/O: now and then every reader waits for
      // the same turn of the event loop, so that the stream that brings the next host's in (and
      // timers) run. One reader waiting alone let the 63 others go on: a host of half a million
      // accounts was counted in one 4-second block.
      let turn: Promise<void> | null = null;
      // A sliding window of reads. Each account's records reach the folder together, so they
      // stay adjacent whatever order the reads finish in.
      const reader = async () => {
        for (let u = users.next(); u.done !== true; u = users.next()) {
          if (++next % YIELD_EVERY === 0) {
            turn ??= new Promise((resolve) =>
              setImmediate(() => {
                turn = null;
                resolve();
              }),
            );
          }
          if (turn !== null) await turn;
          const found = this.accountRecords(host, u.value, folders);
          const records = Array.isArray(found) ? found : await found;
          for (const r of records) folder.add(r);
        }
      };
      const readers = Math.min(READ_CONCURRENCY, lastlog2.files.size);
      await Promise.all(Array.from({ length: readers }, reader));
      this.fs.hostDone?.(hostDir);
      // Kept now, not when every host is counted: a million files' rows are never all held. A
      // count that fails later leaves these rows, each as true as when it was read (but see
      // forget()).
      this.remember(tally, accounts ? [lastlog2, accounts] : [lastlog2]);
    }
    // What the server still sent after the last host counted must have ended whole.
    await this.fs.finish?.();
    // One file we may not read is a bad file; every file is a reader without the right group,
    // which deserves its sentence rather than a count of nothing.
    if (this.denied !== null && this.opened === 0 && this.lastCount.fromCache === 0) {
      // The rows kept host by host hold nothing but files it could not open: as skips from the
      // cache they would hide this from the next count.
      this.forget();
      throw new FailureError({
        kind: 'permission-denied',
        path: this.denied,
        what: 'Prosody data file',
      });
    }
    folder.flush();
    this.remember(tally, [], new Set(seen));
  }

  /** Drops every folder kept under this source's key: the next count reads every file. */
  private forget(): void {
    const cache = this.cache;
    if (!cache || this.cacheFailed) return;
    try {
      cache.store.pruneFolders(cache.key, new Set());
    } catch {
      // The count fails with its own sentence; a cache that cannot be written either is moot.
    }
  }

  /** The cache failed this count: it is not asked again, and said once. */
  private cacheFailed = false;
  /** Why keeping a row failed during this count, said when the host's folders are kept. */
  private writeFailed: unknown = null;

  /** Keeps a file's row for the next count, unless the cache failed this one. */
  private keepRow(folder: StoreFolder, name: string, row: FileRow): void {
    if (folder.next === null || this.writeFailed !== null) return;
    try {
      folder.next.add(name, row);
    } catch (e) {
      this.writeFailed = e;
    }
  }

  /**
   * Keeps what this count listed and read of `folders`, for the next one, and with `keep` drops
   * the folders no longer there; a cache failure costs only that.
   */
  private remember(tally: ActivityTally, folders: StoreFolder[], keep?: ReadonlySet<string>): void {
    const cache = this.cache;
    if (!cache || this.cacheFailed) return;
    try {
      if (this.writeFailed !== null) throw this.writeFailed;
      for (const f of folders) {
        f.next?.commit();
        f.next = null;
        // The count is done with it: the cached rows need not wait for the end of the count.
        f.held = null;
      }
      if (keep) cache.store.pruneFolders(cache.key, keep);
    } catch (e) {
      this.cacheFailed = true;
      tally.notices.push(
        `the local cache could not be kept (${e instanceof Error ? e.message : String(e)}); the next count reads every file again`,
      );
    }
  }
}

function summarize(records: readonly SourceRecord[]): FileSummary | AccountSummary {
  const status = records.find((r) => 'status' in r);
  if (status !== undefined && 'status' in status) {
    return status.status === 'enabled' ? 1 : status.status === 'disabled' ? 2 : 0;
  }
  return summarizeActivity(records);
}

/** Records that fold into the same account as the ones summarized. */
function expandSummary(
  host: string,
  user: string,
  where: Store,
  s: FileSummary | AccountSummary,
): SourceRecord[] {
  if (typeof s === 'number') {
    return [{ host, user, status: s === 1 ? 'enabled' : s === 2 ? 'disabled' : 'missing' }];
  }
  const out: SourceRecord[] = [];
  if (s[0] !== null) out.push({ host, user, event: 'login', timestamp: s[0] });
  if (s[1] !== null) out.push({ host, user, event: 'registered', timestamp: s[1] });
  for (const reason of SKIP_REASONS) {
    for (let i = 0; i < s[SKIP_SLOTS[reason]]; i++)
      out.push({ host, user, skipped: reason, where });
  }
  return out;
}

const DAT = '.dat';

/** A folder's files by name: this count's listing, or the cache's when the folder is unchanged. */
interface FileLookup {
  readonly size: number;
  get(name: string): ListedFile | undefined;
  has(name: string): boolean;
  /** The files' names less `.dat`, in the order sorting those strings gives. */
  users(): IterableIterator<string>;
}

/** A store folder as this count sees it: its files, what the cache held, what it will hold. */
interface StoreFolder {
  path: string;
  files: FileLookup;
  held: CachedFolder | null;
  /** Listed by this count, to be kept for the next (false: the cache's listing stands). */
  fresh: boolean;
  /** Where its rows go for next time, while they do. */
  next: FolderWriter | null;
}

/**
 * Whether something seen at `mtime` (the server's whole seconds) was looked at late enough, by
 * this machine's clock, that a change in that same second cannot have come after the look. A
 * minute covers clocks set a little apart; a server whose clock is further behind is caught by
 * the daily full read.
 */
function settled(lookedAt: number, mtime: number): boolean {
  return lookedAt - mtime > SETTLE_SECONDS;
}

const SETTLE_SECONDS = 60;

/** Clocks a little apart, and a rename that lands late: a few more files sent, nothing missed. */
const SINCE_MARGIN_SECONDS = 600;
