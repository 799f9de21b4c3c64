/**
 * Which better-sqlite3 addon to load. Node (the CLI, the tests) uses the one in node_modules; the
 * Electron main process sets the build for Electron's ABI (dist/electron-native, made by
 * main/tools/native-modules.ts) once at start-up, and every database it opens then uses it.
 */
let nativeBinding: string | undefined;

export function useSqliteNativeBinding(path: string): void {
  nativeBinding = path;
}

/** Options to spread into `new Database(path, { …sqliteBindingOptions(), … })`. */
export function sqliteBindingOptions(): { nativeBinding?: string } {
  return nativeBinding === undefined ? {} : { nativeBinding };
}
