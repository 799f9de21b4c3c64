/**
 * better-sqlite3 in the Electron main process must load the build for Electron's ABI
 * (dist/electron-native, see main/tools/native-modules.ts), not the one in node_modules that the
 * CLI and the tests use: every database the app opens (history, Prosody's SQLite, SFTP copies)
 * goes through main/store/sqlite-binding.ts, set here once.
 */
import type { Result } from '../core/failure.js';
import { HistoryDb } from '../store/history-db.js';
import { useSqliteNativeBinding } from '../store/sqlite-binding.js';

/** Opens the history with better-sqlite3's Electron build (and sets it for every other database). */
export function openHistoryInElectron(path: string, nativeBinding: string): Result<HistoryDb> {
  useSqliteNativeBinding(nativeBinding);
  return HistoryDb.open(path);
}
