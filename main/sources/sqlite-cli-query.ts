import { spawn } from 'node:child_process';
import { devNull } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Runs one read-only statement on a SQLite file through the `sqlite3` command, with the file
 * opened `immutable=1`: SQLite then takes no lock at all, so the read can never make a writer
 * without a busy timeout (Prosody 0.12) fail. better-sqlite3 cannot do this: it is built with
 * SQLITE_USE_URI=0 and has no other way to ask for immutable or nolock (WiseLibs/better-sqlite3
 * #483, #640). The caller must check the file did not change meanwhile (sqlite-file-state.ts).
 */
export interface CliQueryOutcome {
  /** The command is not installed here. */
  missing: boolean;
  code: number | null;
  /** The start of stderr (bounded): sqlite3's error message. */
  stderr: string;
}

/** A `file:` URI for `path` that SQLite reads as that path and nothing else. */
export function immutableUri(path: string): string {
  const encoded = resolve(path).replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return `file://${encoded}?immutable=1`;
}

const STDERR_LIMIT = 4096;

/**
 * Sends `sql` on stdin (never through a shell) and hands each line of output to `onLine`, as it
 * comes, so that a million lines are never held at once. `onLine` may throw: the command is
 * stopped and the error rethrown.
 */
export function runSqliteCli(
  command: string,
  path: string,
  sql: string,
  onLine: (line: string) => void,
): Promise<CliQueryOutcome> {
  return new Promise((done, failed) => {
    const child = spawn(
      command,
      // -init: never a user's ~/.sqliterc, which could change the output mode.
      ['-init', devNull, '-readonly', '-batch', '-bail', '-list', immutableUri(path)],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let thrown: unknown;
    let missing = false;
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') missing = true;
      else thrown ??= e;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += d.slice(0, STDERR_LIMIT - stderr.length);
    });
    // A command that exits before reading all of stdin is answered by its exit code.
    child.stdin.on('error', () => {});
    child.stdin.end(`${sql};\n`);
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (thrown !== undefined) return;
      try {
        onLine(line);
      } catch (e) {
        thrown = e;
        child.kill();
      }
    });
    child.on('close', (code) => {
      if (thrown !== undefined) failed(thrown);
      else done({ missing, code, stderr });
    });
  });
}
