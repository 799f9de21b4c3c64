/**
 * The little of a file system that reading internal storage needs, so that the same reader serves
 * the local disk and SFTP. Expected failures (permission denied, …) are thrown as FailureError.
 */
export interface StorageFs {
  /** Joins path parts the way this file system does (POSIX over SFTP). */
  join(...parts: string[]): string;
  /** A folder's entries, or null when the folder does not exist (or is not a folder). */
  list(path: string): Promise<Array<{ name: string; isDir: boolean }> | null>;
  /** A file's text when at most maxBytes long; null when it vanished since it was listed. */
  readCapped(path: string, maxBytes: number): Promise<{ text: string } | { tooLarge: true } | null>;
}
