import { ACTIVITY_QUERY, type ActivityQueryRow } from '../sources/activity-query.js';

/**
 * The one command sent to the server for the remote query. It is a constant around one value, the
 * database path, which must pass an allowlist and is quoted besides: nothing from a config file or
 * from the server reaches a shell unquoted.
 *
 * Kind to the server: Prosody 0.12 sets no busy timeout, so in rollback-journal mode any reader's
 * lock can make Prosody's own write fail. There the query opens the file `immutable=1`, which takes
 * no lock at all, and the file's change counter is read before and after: when it moved, the read
 * may be torn and the caller asks again. In WAL mode readers never block writers; it reads normally.
 */

/** Absolute paths of letters, digits and `._/+@,=-` only: no quoting, URI or glob characters. */
const SAFE_PATH = /^\/[A-Za-z0-9._/+@,=-]+$/;

export function isSafeRemotePath(path: string): boolean {
  return SAFE_PATH.test(path) && !path.split('/').includes('..');
}

/** POSIX shell single-quoting: safe for any string. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const SQL = ACTIVITY_QUERY.replace(/\s+/g, ' ').trim();

/** Header bytes 18..27: the write version (2 = WAL) and, at 24..27, the file change counter. */
const HEADER = `od -An -tu1 -j18 -N10 "$f" | tr -s ' \\n' ' '`;

function script(path: string): string {
  return [
    `f=${shellQuote(path)}`,
    `command -v sqlite3 >/dev/null 2>&1 || { echo PAU:no-sqlite3; exit 0; }`,
    `[ -e "$f" ] || { echo PAU:not-found; exit 0; }`,
    `[ -r "$f" ] || { echo PAU:permission-denied; exit 0; }`,
    `h=$(${HEADER})`,
    `echo "PAU:before:$h"`,
    `set -- $h`,
    `if [ "$1" = 2 ]; then u="$f"; else u="file:$f?immutable=1"; fi`,
    `sqlite3 -readonly -batch -bail -json "$u" ${shellQuote(SQL)} || exit $?`,
    `echo "PAU:after:$(${HEADER})"`,
    // One line: it must also fit in an authorized_keys command="…" option.
  ].join('; ');
}

/** The command line for one database, or null when the path is not on the allowlist. */
export function remoteQueryCommand(dbPath: string): string | null {
  if (!isSafeRemotePath(dbPath)) return null;
  return `sh -c ${shellQuote(script(dbPath))}`;
}

/**
 * An authorized_keys line that lets `publicKey` run that one command and nothing else: no shell,
 * no forwarding, no pty, no SFTP.
 */
export function forcedCommandLine(dbPath: string, publicKey: string): string | null {
  const command = remoteQueryCommand(dbPath);
  if (command === null) return null;
  // sshd unescapes only \" inside the option; every other backslash stays as it is.
  return `restrict,command="${command.replace(/"/g, '\\"')}" ${publicKey.trim()}`;
}

export type RemoteQueryOutput =
  | { kind: 'rows'; rows: ActivityQueryRow[]; wal: boolean; consistent: boolean }
  | { kind: 'no-sqlite3' }
  | { kind: 'not-found' }
  | { kind: 'permission-denied' }
  | { kind: 'garbage'; detail: string };

function isRow(v: unknown): v is ActivityQueryRow {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const numOrNull = (x: unknown) => x === null || (typeof x === 'number' && Number.isFinite(x));
  const count = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  return (
    typeof r.host === 'string' &&
    typeof r.user === 'string' &&
    numOrNull(r.last_active) &&
    numOrNull(r.registered) &&
    count(r.not_an_event) &&
    count(r.malformed) &&
    count(r.no_timestamp)
  );
}

/** Reads what the command printed; anything that does not fit is garbage, never half-used. */
export function parseRemoteQueryOutput(stdout: string): RemoteQueryOutput {
  const text = stdout.trim();
  for (const kind of ['no-sqlite3', 'not-found', 'permission-denied'] as const) {
    if (text === `PAU:${kind}`) return { kind };
  }
  const m = /^PAU:before:([0-9 ]*)\n([\s\S]*?)\n?PAU:after:([0-9 ]*)$/.exec(text);
  if (!m) return { kind: 'garbage', detail: 'the output is not in the expected form' };
  const [, before = '', body = '', after = ''] = m;
  let rows: unknown;
  try {
    rows = body.trim() === '' ? [] : JSON.parse(body);
  } catch {
    return { kind: 'garbage', detail: 'the rows are not valid JSON' };
  }
  if (!Array.isArray(rows) || !rows.every(isRow)) {
    return { kind: 'garbage', detail: 'a row does not have the expected fields' };
  }
  const header = before.trim().split(' ');
  return {
    kind: 'rows',
    rows,
    wal: header[0] === '2',
    consistent: before.trim() === after.trim(),
  };
}
