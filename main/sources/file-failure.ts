import type { Failure } from '../core/failure.js';

/** Maps Node's and SQLite's error codes for a file to a failure with a kind. */
export function fileFailure(e: unknown, path: string, what: string): Failure {
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'SQLITE_CANTOPEN':
      if (code === 'SQLITE_CANTOPEN' && /permission|access/i.test(message)) {
        return { kind: 'permission-denied', path, what };
      }
      return { kind: 'not-found', path, what };
    case 'ELOOP':
      return { kind: 'symlink-loop', path, what };
    case 'EACCES':
    case 'EPERM':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
      return { kind: 'permission-denied', path, what };
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return { kind: 'busy', path };
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
    case 'SQLITE_CORRUPT_VTAB':
      return { kind: 'corrupt', path, detail: message };
    default:
      if (typeof code === 'string' && code.startsWith('SQLITE_')) {
        return { kind: 'corrupt', path, detail: message };
      }
      throw e;
  }
}
