/**
 * The little of a file system that reading internal storage needs, so that the same reader serves
 * the local disk and SFTP. Expected failures (permission denied, …) are thrown as FailureError.
 */
import type { FileSummary } from './file-table.js';
import type { ListedFiles } from './listed-files.js';

export interface StorageEntry {
  name: string;
  isDir: boolean;
  /**
   * What the listing says the entry is, where it says (a symlink is not followed): a plain file, a
   * symlink, or something else (FIFO, socket, device) that is never opened.
   */
  type?: 'file' | 'link' | 'special';
  size?: number;
  mtime?: number;
}

/**
 * Which hosts' accounts folders a count needs: every host's, only where some host has an
 * account_roles folder (Prosody 13's data; then the rule may need them), or none.
 */
export type AccountsWanted = 'all' | 'roles' | 'none';

export interface StorageFs {
  /** Joins path parts the way this file system does (POSIX over SFTP). */
  join(...parts: string[]): string;
  /**
   * A folder's entries, or null when the folder does not exist (or is not a folder). Size and
   * mtime (whole seconds) come along where the listing gives them for free (SFTP).
   */
  list(path: string): Promise<StorageEntry[] | null>;
  /**
   * As list(), entry by entry, for a file system that holds a listing packed already: a folder
   * of a million files need then never be a million objects at once (issue 14, row 6). False when
   * the folder does not exist. Optional: the reader calls list() where it is absent.
   */
  listEach?(path: string, visit: (entry: StorageEntry) => void): Promise<boolean>;
  /**
   * A folder's `.dat` files as the reader keeps them, where the file system holds them so
   * already (the command stream): no entry is visited and no name copied. Undefined when it
   * cannot (the reader then calls listEach or list).
   */
  listPacked?(path: string): Promise<ListedFiles | undefined>;
  /**
   * A folder's mtime in whole seconds, or null when it is gone; only where asking is cheaper than
   * listing (SFTP). Prosody replaces a file by renaming a new one over it, so any change to an
   * account's file changes its folder's mtime.
   */
  folderMtime?(path: string): Promise<number | null>;
  /**
   * Called once a count has listed the data folder, before it lists or reads anything in it:
   * where one request can fetch what the count needs (a command over SSH), it does so here, with
   * the contents of files changed since `since` (the server's seconds; null for every file), and
   * of the accounts files `accounts` asks for (every host's when not said).
   */
  prepare?(since: number | null, accounts?: AccountsWanted): Promise<void>;
  /**
   * Called once the count has read every host, before it keeps or reports anything: where what
   * prepare started still runs (the files' lines come host by host), resolves when it ended whole
   * and throws (FailureError) when it did not.
   */
  finish?(): Promise<void>;
  /** The count has read all it needs under `hostDir`: what prepare fetched for it may go. */
  hostDone?(hostDir: string): void;
  /** The count is over: what prepare fetched may go. */
  release?(): void;
  /**
   * A file's text when at most maxBytes long; null when it vanished since it was listed;
   * `unreadable` when it is not a plain file or cannot be opened (a bad file, not a failed count).
   * Only plain files are read: a FIFO is never waited on.
   */
  readCapped(
    path: string,
    maxBytes: number,
    /** The size the listing gave, when it gave one: a read that returns just that is whole. */
    listedSize?: number,
    /** The listing said it is a plain file (not a link): no need to ask again before opening. */
    listedPlain?: boolean,
  ): Promise<ReadCapped>;
  /**
   * What the server already read of a plain file written exactly as Prosody writes it, when it
   * sent that (files-by-command.ts) and the file is still `listedSize` bytes, at most `maxBytes`;
   * null otherwise: then readCapped reads it. Taken once a count.
   */
  readDigest?(path: string, maxBytes: number, listedSize: number): FileDigest | null;
  /**
   * As readDigest(join(folder, name), …), without joining a path to split it again: a million
   * files are asked about a count (issue 14). Optional, where readDigest is.
   */
  readDigestIn?(
    folder: string,
    name: string,
    maxBytes: number,
    listedSize: number,
  ): FileDigest | null;
}

/**
 * What a lastlog2 file's records come to (file-table.ts: the records of its keys and timestamps as
 * written, summarized), or an accounts file's flag.
 */
export type FileDigest = { summary: FileSummary } | { disabled: boolean };

/** Why a file was not read, for the count's skip (a few words, no path). */
export type UnreadableReason =
  'not a plain file' | 'symlink loop' | 'permission denied' | 'cannot be opened';

export type ReadCapped =
  { text: string } | { tooLarge: true } | { unreadable: UnreadableReason } | null;
