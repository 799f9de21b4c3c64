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
 *    lastlog2 / accounts / account_roles folders and the files in the first two (a lastlog2 or
 *    accounts folder unchanged since `since` is type U and its files are not listed: the reader
 *    has them from its cache, or asks SFTP); then an empty
 *    record. A path is anything but NUL (newlines included). When the folder cannot be entered or
 *    listed whole, `PAU-FALLBACK\n` follows the empty record instead, and the reader uses SFTP
 *    (whose messages say what is wrong).
 * 3. One line a file changed since `since` (server time; every file when 0), a host's files before
 *    the next host's (both stores), whose name Prosody
 *    could have written (letters, digits, %) and that is written exactly as Prosody writes it,
 *    line by line: `L <path> <bytes> <key>=<timestamp>…` for lastlog2 (the timestamp's numeral
 *    as written, or nothing), `A <path> <bytes> <0|1>` for accounts (1: `disabled` set to
 *    anything but false). Nothing else of a file leaves the server: no IP address, salt or key.
 *    A file in any other shape (or a size that does not add up) gets no line, and the reader
 *    reads it by SFTP, so odd files are classified by the same parser either way.
 * 4. `PAU-END\n`: the stream is whole.
 */
const SCRIPT = String.raw`
export LC_ALL=C
# Each find walks only the folders it needs: other stores (roster, …) and folders unchanged since
# $2 are pruned, not walked.
# mawk's regular expressions stop at a NUL byte where its strings do not: every pattern must match
# the whole line (whole()), or a line with a NUL in it could pass for one Prosody writes.
# mawk where there is one (Debian's default awk): it reads these files in half gawk's time. $3
# names another, for tests.
awk="$3"
if [ -z "$awk" ]; then if command -v mawk >/dev/null 2>&1; then awk=mawk; else awk=awk; fi; fi
printf 'PAU-FILES 1 %s\n' "$(date +%s)"
cd "$1" 2>/dev/null || { printf '\0PAU-FALLBACK\n'; exit 0; }
if [ "$2" -gt 0 ]; then newer="-newermt @$2"; old="! $newer"; else newer=""; old="-false"; fi
find . -mindepth 1 -maxdepth 3 \( -path './*/*/*' -printf '%y %s %T@ %P\0' \) -o \
  \( -path './*/*' \( -name lastlog2 -o -name accounts \) -type d $old \
     -printf 'U %s %T@ %P\0' -prune \) -o \
  \( -path './*/*' \( -name lastlog2 -o -name accounts \) -printf '%y %s %T@ %P\0' \) -o \
  \( -path './*/*' -name account_roles -printf '%y %s %T@ %P\0' -prune \) -o \
  \( -path './*/*' -prune \) -o -printf '%y %s %T@ %P\0' 2>/dev/null ||
  { printf '\0PAU-FALLBACK\n'; exit 0; }
printf '\0'
# One find and one awk for both stores: find walks a host's folders before the next host's, so the
# lines come host by host and the reader can count a host while the next one is read.
find . -mindepth 1 -maxdepth 3 \( -path './*/*/*' -type f $newer ! -path '*[!A-Za-z0-9%./]*' \
  \( -path './*/lastlog2/*.dat' -size -65537c -o -path './*/accounts/*.dat' -size -16385c \) \
  -readable -print0 \) -o \( -path './*/*' ! -name lastlog2 ! -name accounts -prune \) -o \
  \( -path './*/*' $old -prune \) 2>/dev/null | xargs -0 -r "$awk" '
  function whole(matched) { return matched && RLENGTH == length($0) }
  function done() {
    if (name != "" && ok && acct && state == 2) print "A " name " " bytes " " disabled
    else if (name != "" && ok && !acct && state == 3) print "L " name " " bytes out
    name = ""
  }
  FNR == 1 {
    done(); name = FILENAME; split(FILENAME, part, "/"); acct = part[3] == "accounts"
    bytes = 0; ok = 1; state = 0; out = ""; disabled = 0; split("", seen)
  }
  {
    bytes += length($0) + 1
    if (!ok) next
    if (state == 0) { if ($0 == "return {") state = 1; else ok = 0 }
    else if (acct) {
      if (state == 1 && $0 == "};") state = 2
      else if (state == 1 && whole(match($0, /^\t\["[A-Za-z0-9_]+"\] = (true|false|-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|"[^"\\]*");$/))) {
        key = substr($0, 4, index($0, "\"]") - 4)
        if (key in seen) ok = 0
        seen[key] = 1
        if (key == "disabled" && $0 !~ /= false;$/) disabled = 1
      } else ok = 0
    } else if (state == 1) {
      if ($0 == "};") state = 3
      else if (whole(match($0, /^\t\["[A-Za-z0-9_]+"\] = \{$/))) {
        key = substr($0, 4, index($0, "\"]") - 4)
        if (key in seen) ok = 0
        seen[key] = 1; ts = ""; ips = 0; state = 2
      } else ok = 0
    } else if (state == 2) {
      if ($0 == "\t};") { out = out " " key "=" ts; state = 1 }
      else if (whole(match($0, /^\t\t\["timestamp"\] = -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?;$/)) && ts == "")
        ts = substr($0, 19, length($0) - 19)
      else if (whole(match($0, /^\t\t\["ip"\] = "[^"\\]*";$/)) && ips == 0) ips = 1
      else ok = 0
    } else ok = 0
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
