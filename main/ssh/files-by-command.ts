import { isSafeRemotePath } from './remote-query-command.js';

/**
 * Internal storage in one stream from the server, instead of an SFTP round trip per file: a POSIX
 * sh script (fed on stdin, so no login shell ever parses it) using only what a Debian server has
 * by default (GNU find and xargs, awk: mawk or gawk, date). It prints:
 *
 * 1. `PAU-FILES 1 <server time>\n`: the banner. Anything else first means the account did not run
 *    our script (an sftp-only key runs sftp-server, which sees our script as garbage on stdin and
 *    says nothing): the caller falls back to SFTP.
 * 2. One NUL-terminated record per entry, `<type> <size> <mtime> <path>`: the host folders, their
 *    lastlog2 / accounts / account_roles folders and the files in the first two; then an empty
 *    record. A path is anything but NUL (newlines included). When the folder cannot be entered or
 *    listed whole, `PAU-FALLBACK\n` follows the empty record instead, and the reader uses SFTP
 *    (whose messages say what is wrong).
 * 3. Lines: `F <path>` starts a file, ` <line>` is one of its lines, `E <bytes> <bad>` ends it with
 *    the bytes read and whether a line was held back. Only files changed since `since` (server
 *    time), whose names Prosody could have written (letters, digits, %) and no larger than the
 *    reader's caps are sent. Lastlog2 lines go as they are, but an `ip` value is blanked (the count
 *    has no use for it). An accounts file never leaves the server as it is: only lines of
 *    Prosody's own layout pass, with every string value blanked (salts, keys); a line of any
 *    other shape is held back and the file marked, and the reader then asks for it by SFTP.
 * 4. `PAU-END\n`: the stream is whole.
 */
const SCRIPT = String.raw`
export LC_ALL=C
printf 'PAU-FILES 1 %s\n' "$(date +%s)"
cd "$1" 2>/dev/null || { printf '\0PAU-FALLBACK\n'; exit 0; }
find . -mindepth 1 -maxdepth 3 \( -path './*/*/*' -printf '%y %s %T@ %P\0' \) -o \
  \( -path './*/*' \( -name lastlog2 -o -name accounts \) -printf '%y %s %T@ %P\0' \) -o \
  \( -path './*/*' -name account_roles -printf '%y %s %T@ %P\0' -prune \) -o \
  \( -path './*/*' -prune \) -o -printf '%y %s %T@ %P\0' 2>/dev/null ||
  { printf '\0PAU-FALLBACK\n'; exit 0; }
printf '\0'
if [ "$2" -gt 0 ]; then newer="-newermt @$2"; else newer=""; fi
find . -mindepth 3 -maxdepth 3 -path './*/lastlog2/*.dat' -type f $newer \
  ! -path '*[!A-Za-z0-9%./]*' -size -65537c -readable -print0 2>/dev/null | xargs -0 -r awk '
  function done() { if (name != "") print "E " bytes " 0"; name = "" }
  FNR == 1 { done(); name = FILENAME; bytes = 0; print "F " name }
  {
    bytes += length($0) + 1; line = $0
    if (line ~ /^[\t ]*\["ip"\] = "[0-9A-Fa-f:.]*";$/) sub(/"[0-9A-Fa-f:.]*";$/, "\"\";", line)
    print " " line
  }
  END { done() }' 2>/dev/null
find . -mindepth 3 -maxdepth 3 -path './*/accounts/*.dat' -type f $newer \
  ! -path '*[!A-Za-z0-9%./]*' -size -16385c -readable -print0 2>/dev/null | xargs -0 -r awk '
  function done() { if (name != "") print "E " bytes " " bad; name = "" }
  FNR == 1 { done(); name = FILENAME; bytes = 0; bad = 0; print "F " name }
  {
    bytes += length($0) + 1; line = $0
    if (line ~ /^(return \{|\};|)$/ ||
        line ~ /^\t\["[A-Za-z_][A-Za-z0-9_]*"\] = (true|false|-?[0-9][0-9.eE+-]*);$/) {
      print " " line
    } else if (line ~ /^\t\["[A-Za-z_][A-Za-z0-9_]*"\] = "[^"\\]*";$/) {
      sub(/= ".*";$/, "= \"\";", line); print " " line
    } else bad = 1
  }
  END { done() }' 2>/dev/null
printf 'PAU-END\n'
`;

/** The script, fed to `sh -s` on stdin. */
export const FILES_SCRIPT = SCRIPT;

/**
 * The command line that runs the script on `dataDir`, sending contents of files changed since
 * `since` (server seconds; 0 for all); null when the path is not one we pass to a shell.
 */
export function filesCommand(dataDir: string, since: number): string | null {
  if (!isSafeRemotePath(dataDir)) return null;
  if (!Number.isSafeInteger(since) || since < 0) throw new RangeError(`bad since: ${since}`);
  return `sh -s ${dataDir} ${since}`;
}
