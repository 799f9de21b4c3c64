import type { ActivityQueryOutput, ActivityQueryTuple, HostTotals } from './activity-query.js';
import type { ChangedAccount, DigestedTuple } from './row-digest.js';
import type { FileRow, FileTable } from './file-table.js';
import type { AccountPack } from './account-packs.js';

/**
 * What a source remembers between refreshes (in the state folder), so that a refresh when little
 * changed fetches little. Keyed by where the data is (`query user@host:port:/path`, …). A cache is
 * only ever a shortcut: losing it costs one full fetch, never a wrong figure.
 */
export interface SnapshotInfo {
  /** What the data looked like when fetched (size and mtime for a copy); '' when unused. */
  stamp: string;
  /** The last full fetch, by this machine's clock (Unix seconds). */
  fullAt: number;
  /** The server's clock at the last fetch, when it told it. */
  serverNow: number | null;
  /** What lets the server answer "unchanged" next time (the remote query only). */
  proof?: UnchangedProof | null;
  /**
   * The remote query's digest of the rows of accounts without lastlog2 rows (row-digest.ts): the
   * part of the server's sum that no cached account holds.
   */
  rest?: number | null;
}

/**
 * The file's state at the last consistent fetch (file-state.ts). Each cached account carries its
 * own has_role, so counting the cache notes the hosts with roles.
 */
export interface UnchangedProof {
  state: string;
  /**
   * The remote query's table's highest rowid at that read: a changes-only read then sends again
   * every account with a row written since (row-digest.ts changesScan).
   */
  rowid?: number;
}

export interface StoredSnapshot extends SnapshotInfo {
  /** The newest last_active or registered time held. */
  newest: number | null;
}

/** One folder of internal storage as last listed, with what each file held. */
export interface CachedFolder {
  /** The folder's mtime (seconds) when listed. */
  mtime: number;
  /** This machine's clock when it was listed. */
  listedAt: number;
  /** When every file in it was last read, whatever the mtimes said. */
  fullAt: number;
  /** Each file's size and mtime when read, when it was read and what it gave, packed. */
  files: FileTable;
}

/** What a folder is kept with besides its files. */
export type FolderDates = Omit<CachedFolder, 'files'>;

/**
 * A folder's files, kept as they are read: nothing of them counts until commit(), and until then
 * what was kept of the folder stands.
 */
export interface FolderWriter {
  /** A file's row, each name once. Throws when the cache cannot be written. */
  add(name: string, row: FileRow): void;
  /** The folder is now the rows added, as listed at the dates it was started with. */
  commit(): void;
}

/** A host's totals as a server sent them, with the digest of its accounts when it computes one. */
export interface CheckedHostTotals extends HostTotals {
  /** account-digest.ts: catches a changed membership whose counts happen to agree. */
  digest?: number;
}

export interface AccountCache {
  snapshot(key: string): StoredSnapshot | null;
  /** Replaces everything held under `key`. */
  replace(
    key: string,
    info: SnapshotInfo,
    accounts: Iterable<ActivityQueryTuple | ActivityQueryOutput>,
  ): void;
  /**
   * Adds or replaces `changed` accounts, but only when every host's totals (and digest, when the
   * server sent one) then equal `expected` (the server's own); otherwise nothing is kept and false
   * comes back, and the caller fetches all.
   */
  merge(
    key: string,
    info: SnapshotInfo,
    changed: readonly ActivityQueryTuple[],
    expected: readonly CheckedHostTotals[],
  ): boolean;
  /** The remote query's full read: every account with its digest, and `info.rest`. */
  replaceDigested(key: string, info: SnapshotInfo, accounts: Iterable<DigestedTuple>): void;
  /**
   * The remote query's changes-only read (row-digest.ts): `changed` names every account sent
   * again, `accounts` those of them that have lastlog2 rows. Kept only when the cache then
   * predicts the server's digest of the whole table, `digest`; otherwise nothing is kept and
   * false comes back, and the caller reads everything.
   */
  mergeDigested(
    key: string,
    info: SnapshotInfo,
    accounts: readonly DigestedTuple[],
    changed: readonly ChangedAccount[],
    digest: number,
  ): boolean;
  /** Every host's accounts as counting reads them (sources/feed-cached-accounts.ts). */
  packs(key: string): Iterable<AccountPack>;
  /** The accounts with a skip count above 0, and their slots in their host's pack. */
  skippedAccounts(key: string): Iterable<HeldAccount>;
  /** One account and its slot, or null when it is not held. */
  account(key: string, host: string, user: string): HeldAccount | null;
  folder(key: string, path: string): CachedFolder | null;
  /**
   * Only when a folder was listed and last read whole, without its files (a million rows need
   * not be decoded to be dated); null when none is kept.
   */
  folderDates?(key: string, path: string): Pick<CachedFolder, 'listedAt' | 'fullAt'> | null;
  /** Starts keeping the folder at `path` anew. */
  writeFolder(key: string, path: string, dates: FolderDates): FolderWriter;
  /** Drops what no longer exists: folders of `key` not in `keep`. */
  pruneFolders(key: string, keep: ReadonlySet<string>): void;
}

/** An account as held, with its slot in its host's pack. */
export interface HeldAccount {
  tuple: ActivityQueryTuple;
  slot: number;
}

/** The cache's file name in the state folder. */
export const ACCOUNT_CACHE_FILE = 'cache.sqlite';

/** How often a cached source is fetched whole, whatever changed: deleted accounts drop out then. */
export const FULL_RECHECK_SECONDS = 24 * 3600;
