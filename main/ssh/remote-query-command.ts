import { PROSODY_VERSION_FILES } from '../sources/discover-sources.js';
import { ACTIVITY_ROWS } from '../sources/activity-query.js';
import {
  DIGESTED_ACTIVITY_QUERY,
  ROW_DIGEST_P,
  changesScan,
  digestOf,
  isRowid,
} from '../sources/row-digest.js';
import { FILE_STATE_FIELDS, isFileState } from '../sources/file-state.js';
import { FORMAT_VERSION } from './remote-query-reader.js';

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

/**
 * What the server sends back: one compact JSON array a line, made by SQLite itself so that every
 * name is escaped. An account is `[host, user, last_active, registered, account, has_role,
 * digest]` (account: 0 none, 1 enabled, 2 disabled: all that leaves the server of the accounts
 * store; digest: the account's digest of its rows, row-digest.ts), with the three skip counts
 * appended only when one is not zero. About 15 bytes an account once ssh's zlib has it.
 *
 * Everything (SINCE is NULL): every account, then `[1, rest, rowid]`: the digest of the rows of
 * accounts without lastlog2 rows (which no count reads, but whose rows the sum covers), and the
 * table's highest rowid (0 when empty), read in the same statement, so from the same snapshot.
 *
 * Changes only (SINCE is the digits of a time, AFTER_ROWID the highest rowid of the last read or
 * NULL): one scan of the table gives the digest of all its rows and the accounts with a row above
 * AFTER_ROWID, an event, or whose account was updated (created, disabled, enabled), at or after
 * SINCE (row-digest.ts changesScan); only those are read again whole, through Prosody's index:
 * their account lines, a `[2, host, user, rest_digest, fresh]` line each (fresh: registered or
 * updated since, or none of its rows read last time), and `[1, digest, rowid]`, the whole table's.
 * The client then checks that sum against its cache's. `LIMIT -1` keeps each account's number
 * computed once.
 */
const ACCOUNT_LINE = `CASE WHEN not_an_event + malformed + no_timestamp = 0
  THEN json_array(host, user, last_active, registered, account, has_role, row_digest)
  ELSE json_array(host, user, last_active, registered, account, has_role, row_digest,
    not_an_event, malformed, no_timestamp) END`;

/** The table's highest rowid: a walk down the b-tree's right edge, not a scan. */
const HIGHEST_ROWID = '(SELECT coalesce(max(rowid), 0) FROM main.prosody)';

/** Whether none of an account's rows that a count reads was there at the last read. */
const NONE_READ_BEFORE = `CASE WHEN AFTER_ROWID IS NULL THEN 0 ELSE NOT EXISTS (SELECT 1
  FROM main.prosody o WHERE o.host = a.host AND o.user = a.user AND o.rowid <= AFTER_ROWID
  AND (${ACTIVITY_ROWS})) END`;

export const EVERYTHING = `WITH a AS MATERIALIZED (${DIGESTED_ACTIVITY_QUERY})
SELECT ${ACCOUNT_LINE} FROM a WHERE counted
UNION ALL
SELECT json_array(1, coalesce(sum(row_digest), 0) % ${ROW_DIGEST_P}, ${HIGHEST_ROWID}) FROM a WHERE NOT counted`;

const changesFrom = (scan: string) => `WITH g AS MATERIALIZED (${scan}),
c AS MATERIALIZED (SELECT DISTINCT json_extract(j.value, '$[0]') AS host,
  json_extract(j.value, '$[1]') AS user FROM g, json_each('[' || coalesce(g.c, '') || ']') j),
prosody AS (SELECT p.rowid AS rowid, p.host AS host, p.user AS user, p.store AS store,
  p.key AS key, p.type AS type, p.value AS value
  FROM c JOIN main.prosody p ON p.host = c.host AND p.user = c.user),
a AS MATERIALIZED (${DIGESTED_ACTIVITY_QUERY})
SELECT ${ACCOUNT_LINE} FROM a WHERE counted
UNION ALL
SELECT json_array(2, host, user, rest_digest,
  coalesce(max(coalesce(registered, -1), coalesce(account_updated, -1)) >= SINCE, 0)
    OR ${NONE_READ_BEFORE}) FROM a
UNION ALL
SELECT json_array(1, d, ${HIGHEST_ROWID}) FROM g`;

export const CHANGES = changesFrom(changesScan('SINCE', 'AFTER_ROWID'));

/**
 * The scan in CHUNKS parts by rowid, each its own sqlite3 process, two at a time, so that a server
 * with two cores scans in half the time, however unevenly the costly rows (lastlog2's, which
 * Prosody writes last) spread; no more than two, on someone's production machine. Only for a
 * rollback-journal file, which the script reads `immutable=1` and whose change counter, read
 * before the first and after the last, proves that every process read the same file (a WAL commit
 * leaves that counter alone: there one statement, one snapshot, does it all). Part CHUNK (1 to
 * CHUNKS) holds the rows between CHUNK - 1 and CHUNK CHUNKSths of the highest rowid; the first and
 * the last are open-ended, so that every rowid, negative ones too, falls in exactly one. Each prints
 * `[d, c]`, its changesScan answer, as a term of an SQL list (changesChunk) into a file of a
 * private folder; changesFromChunks, given on sqlite3's input with every answer in place of
 * CHUNK_ANSWERS, sums them (a part missing leaves the digest NULL, which the client refuses) and
 * goes on as CHANGES. Through the input, not the command line: the answers have no length limit
 * there, and no sqlite3 extension is needed to read a file.
 */
export const CHUNKS = 8;
/**
 * Below this size a file is scanned by one statement: the parts cost about nine sqlite3 starts
 * (tens of milliseconds), which a small file's whole scan does not, and every millisecond between
 * the change counter read before and after is one in which a commit makes the read worthless and
 * asks for it again (on a busy small server, every read). Near here, at about 0.8 GB/s, the parts
 * start to save more than they cost.
 */
export const CHUNK_FROM_BYTES = 64 * 1024 * 1024;
const bound = (chunks: number, part: string) =>
  `max((SELECT max(rowid) FROM main.prosody), 0) / ${chunks} * (${part})`;
/**
 * Part CHUNK's answer as the next term of changesFromChunks' list: ` UNION ALL SELECT '…'`, its
 * `[d, c]` quoted by SQLite itself (every quote doubled), so that the answers need only be put
 * one after the other.
 */
export const changesChunk = (chunks: number) =>
  `SELECT ' UNION ALL SELECT ' || quote(json_array(d, c)) FROM (${changesScan(
    'SINCE',
    'AFTER_ROWID',
    `rowid >= CASE WHEN CHUNK = 1 THEN -9223372036854775808 ELSE ${bound(chunks, 'CHUNK - 1')} + 1 END
    AND rowid <= CASE WHEN CHUNK = ${chunks} THEN 9223372036854775807 ELSE ${bound(chunks, 'CHUNK')} END`,
  )})`;
export const changesFromChunks = (chunks: number) =>
  changesFrom(`SELECT
  CASE WHEN count(x ->> 0) = ${chunks} THEN ${digestOf('coalesce(sum(x ->> 0), 0)')} END AS d,
  group_concat(x ->> 1) AS c
FROM (SELECT NULL AS x WHERE 0 CHUNK_ANSWERS)`);

const sqlText = (sql: string) => sql.replace(/\s+/g, ' ').trim();

/**
 * Header bytes 18..27: the write version (2 = WAL) and, at 24..27, the file change counter, as
 * `od` spaces them (one line): both lines are printed alike, and the shell splits them itself.
 */
const HEADER = `od -An -tu1 -j18 -N10 "$f"`;

const FORMAT = `PAU:v${FORMAT_VERSION}`;

/**
 * One shell word: `text` quoted, with each SINCE replaced by the value of the shell's $s and each
 * AFTER_ROWID by $r's, each CHUNK by $i's.
 */
const SHELL_VALUES: Record<string, string> = {
  SINCE: '"$s"',
  AFTER_ROWID: '"$r"',
  CHUNK: '"$i"',
};
const word = (sql: string) =>
  sql
    .split(/(SINCE|AFTER_ROWID|CHUNK)/)
    .map((part, i) => (i % 2 === 0 ? shellQuote(part) : SHELL_VALUES[part]!))
    .join('');
const CHANGES_WORD = word(sqlText(CHANGES));
const SQLITE = 'sqlite3 -readonly -batch -bail -list "$u"';
const EVERYTHING_WORD = shellQuote(sqlText(EVERYTHING));

function script(path: string, chunks: number, chunkFromBytes: number): string {
  return [
    // The time to start from, the file state last seen and the highest rowid then (`since`,
    // `since_state` or `since_state_rowid`, see file-state.ts): the last word of the command. A
    // forced command finds it in the command the client asked for; anything else means
    // "everything".
    `w=\${1:-}`,
    `[ -n "\${SSH_ORIGINAL_COMMAND:-}" ] && w=\${SSH_ORIGINAL_COMMAND##* }`,
    `case $w in *[!0-9_.]*) w=;; esac`,
    `s=\${w%%_*}`,
    `p=\${w#*_}`,
    `[ "$p" = "$w" ] && p=`,
    `r=\${p#*_}`,
    `[ "$r" = "$p" ] && r=`,
    `p=\${p%%_*}`,
    `case $s in ''|*[!0-9]*) s=NULL;; esac`,
    `case $r in ''|*[!0-9]*|????????????????????*) r=NULL;; esac`,
    `f=${shellQuote(path)}`,
    `command -v sqlite3 >/dev/null 2>&1 || { echo PAU:no-sqlite3; exit 0; }`,
    `[ -e "$f" ] || { echo PAU:not-found; exit 0; }`,
    `[ -r "$f" ] || { echo PAU:permission-denied; exit 0; }`,
    // The installed Prosody's version (see PROSODY_VERSION_FILES), as plain version characters, and
    // the server's clock (taken early, it only widens the margin of the next changes-only read),
    // both before the header: from the header read to the one after the rows, a commit makes the
    // read worthless, so that span starts no process but sqlite3.
    `v=$(cat ${PROSODY_VERSION_FILES.join(' ')} 2>/dev/null | head -n 1 | tr -cd '0-9A-Za-z.+~-' | cut -c1-40)`,
    `d=$(date +%s)`,
    // The file's state (file-state.ts) before its header, and so before any row is read: what the
    // client keeps is never newer than the rows it gets. A commit in between leaves it older, which
    // costs one changes-only read next time; a commit after the header moves the after line.
    `t=$(stat -L -c '%i %s %.9Y %.9Z' "$f" 2>/dev/null | tr -d .)`,
    `h=$(${HEADER})`,
    `z=\${t#* }`,
    `z=\${z%% *}`,
    `case $z in ''|*[!0-9]*|???????????????????*) z=0;; esac`,
    `echo "PAU:before:$h"`,
    `echo "${FORMAT}:$d:$v"`,
    `k=`,
    `set -- $h $t`,
    `[ $# = ${FILE_STATE_FIELDS} ] && { o=$IFS; IFS=.; k="$*"; IFS=$o; }`,
    `case $k in *[!0-9.]*) k=;; esac`,
    `echo "PAU:state:$k"`,
    `set -- $h`,
    `if [ "$1" = 2 ]; then u="$f"; else u="file:$f?immutable=1"; fi`,
    // Unchanged: a rollback-journal file (versions 1 1; a WAL commit leaves the main file's counter
    // alone) with no live journal (a hot one would be rolled back by the next reader), whose state
    // is byte for byte the one the client sent. Then sqlite3 does not run at all.
    `if [ -n "$p" ] && [ "$s" != NULL ] && [ -n "$k" ] && [ "$k" = "$p" ] && [ "$1" = 1 ] && [ "$2" = 1 ] && [ ! -e "$f-journal" ]; then echo PAU:unchanged; elif [ "$s" = NULL ]; then sqlite3 -readonly -batch -bail -list "$u" ${EVERYTHING_WORD} || exit $?; else ${changesInChunks(chunks, chunkFromBytes)}; fi`,
    `echo "PAU:after:$(${HEADER})"`,
    // One line: it must also fit in an authorized_keys command="…" option.
  ].join('; ');
}

/**
 * The changes-only read: in `chunks` parts (changesChunk) for a rollback-journal file of `fromBytes`
 * or more ($z, its size) when a private folder can be made for their answers; else one statement.
 * Workers (`x`: half the server's cores, two to four) take the parts, the highest rowids first
 * (lastlog2's rows, the costliest, are there), each part claimed by the one that makes its folder
 * first (mkdir is atomic). Either way a failing sqlite3 ends the script with its status, before
 * `PAU:after:`.
 */
function changesInChunks(chunks: number, fromBytes: number): string {
  const [before, after] = sqlText(changesFromChunks(chunks)).split('CHUNK_ANSWERS');
  const ascending = Array.from({ length: chunks }, (_, i) => i + 1);
  const parts = [...ascending].reverse().join(' ');
  return [
    `q=`,
    // The folder goes when the script ends, however it ends, and after the header is read again:
    // removing it is no part of the span a commit must miss.
    `if [ "$1" = 1 ] && [ "$z" -ge ${fromBytes} ]; then q=$(mktemp -d 2>/dev/null) || q=; case $q in /?*) trap 'rm -rf "$q"' EXIT;; *) q=;; esac; fi`,
    `if [ -n "$q" ]; then x() { for i in ${parts}; do mkdir "$q/$i.c" 2>/dev/null || continue; ${SQLITE} ${word(sqlText(changesChunk(chunks)))} > "$q/$i" || return; done; }`,
    // Half the server's cores, two to four: the rest stay Prosody's.
    `w=$(nproc 2>/dev/null); case $w in ''|*[!0-9]*|?????*) w=2;; esac; w=$((w / 2)); [ $w -ge 2 ] || w=2; [ $w -le 4 ] || w=4`,
    `js=; while [ $w -gt 1 ]; do x & js="$js $!"; w=$((w - 1)); done`,
    `x; e=$?`,
    `for j in $js; do wait $j || e=$?; done`,
    // One cat for every answer, in order: a part missing makes cat fail and the sum NULL.
    `[ $e = 0 ] && { { printf %s ${word(before!)}; cat ${ascending.map((i) => `"$q/${i}"`).join(' ')}; printf %s ${word(after!)}; } | ${SQLITE}; e=$?; }`,
    `[ $e = 0 ] || exit $e`,
    `else ${SQLITE} ${CHANGES_WORD} || exit $?; fi`,
  ].join('; ');
}

/**
 * The command line for one database, or null when the path is not on the allowlist. With `since`,
 * only accounts active or registered at or after it come back (and every host's totals); with
 * `state` too (file-state.ts, as the server printed it last time), nothing but `PAU:unchanged` when
 * the file is still in that state; with `afterRowid` too (the highest rowid it printed), also the
 * accounts with a row written since, whatever their times. `chunks`: the parts of a changes-only
 * scan (CHUNKS), for a file of `chunkFromBytes` or more (CHUNK_FROM_BYTES; other values for the
 * tests).
 */
export function remoteQueryCommand(
  dbPath: string,
  since?: number,
  state?: string,
  afterRowid?: number,
  chunks = CHUNKS,
  chunkFromBytes = CHUNK_FROM_BYTES,
): string | null {
  if (!isSafeRemotePath(dbPath)) return null;
  if (!Number.isSafeInteger(chunks) || chunks < 1 || chunks > 99) {
    throw new RangeError(`bad chunk count: ${chunks}`);
  }
  if (!Number.isSafeInteger(chunkFromBytes) || chunkFromBytes < 0) {
    throw new RangeError(`bad chunk size: ${chunkFromBytes}`);
  }
  const base = `sh -c ${shellQuote(script(dbPath, chunks, chunkFromBytes))}`;
  if (since === undefined) return base;
  if (!Number.isSafeInteger(since) || since < 0) throw new RangeError(`bad since: ${since}`);
  if (state !== undefined && !isFileState(state)) throw new RangeError(`bad file state: ${state}`);
  if (afterRowid !== undefined && (!isRowid(afterRowid) || state === undefined)) {
    throw new RangeError(`bad rowid: ${afterRowid}`);
  }
  if (state === undefined) return `${base} pau ${since}`;
  return afterRowid === undefined
    ? `${base} pau ${since}_${state}`
    : `${base} pau ${since}_${state}_${afterRowid}`;
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
