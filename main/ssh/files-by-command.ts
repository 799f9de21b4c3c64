import type { AccountsWanted } from '../sources/storage-fs.js';
import { isSafeRemotePath } from './remote-query-command.js';

/**
 * Internal storage in one stream from the server, instead of an SFTP round trip per file: a POSIX
 * sh script (fed on stdin, so no login shell ever parses it) using only what a Debian server has
 * by default (GNU find, perl or else awk: mawk or gawk, date, cat; nice and ionice where they
 * work). After the banner every record ends in a NUL byte, so a name may hold anything but NUL
 * (newlines included).
 *
 * 1. `PAU-FILES 2 <server time>\n`: the banner. Anything else first means the account did not run
 *    our script (an sftp-only key runs sftp-server, which sees our script as garbage on stdin and
 *    says nothing): the caller falls back to SFTP.
 * 2. The data folder's entries and each host folder's, `<type> <size> <mtime> <path>` (find's %y,
 *    seconds, with a fraction here only), a lastlog2 or accounts folder unchanged since `since` as
 *    type U; then an empty record. When the data folder cannot be entered or listed whole, the
 *    record `PAU-FALLBACK` follows instead and the reader uses SFTP (whose messages say what is
 *    wrong).
 * 3. Host by host, each changed lastlog2 folder, and each changed accounts folder the third
 *    argument asks for: `S <host>/<store>` (once a half), then a record a file. A file changed
 *    since `since` (server time; every file when 0) whose name Prosody could have written
 *    (letters, digits, %) and that is written exactly as Prosody writes it comes as
 *    `L <size> <mtime> <name> <key>=<timestamp>…` (lastlog2: the timestamp's numeral as written,
 *    or nothing) or `A <size> <mtime> <name> <0|1>` (accounts; 1: `disabled` set to anything but
 *    false). Nothing else of a file leaves the server: no IP address, salt or key. Any other
 *    entry comes as `l|a <type> <size> <mtime> <name>` (lastlog2 or accounts) and the reader reads
 *    it by SFTP when it needs it, so odd files are classified by the same parser either way. Each
 *    folder's walk ends with `Z <0, or 1 when it could not be listed whole>`, and the host with
 *    `E <host>`.
 * 4. `PAU-END`: the stream is whole.
 *
 * A host's two folders are read at once, each in two halves by name, by four processes: on a
 * cold disk the reads overlap (issue 14: a million accounts are two million small files, and four
 * readers took a cold first read at 1 M from about 112 s to 98 s, a warm one from 28 s to 22 s).
 * Their records interleave on one pipe, so each says its folder (L/l or A/a; each half starts
 * with its folder's S) and each process writes whole records, under PIPE_BUF bytes a write: a
 * pipe never splits such a write.
 */
const SCRIPT = String.raw`
export LC_ALL=C
# perl where it runs with its core modules (Debian's perl-base is essential): one process that
# stats, reads and judges each file with four system calls where find and awk take six (issue 14:
# 100 k accounts in 2.8 s and 5.3 s of CPU, against 3.5 s and 6.9 s). Else mawk where there is one
# (Debian's default awk): it reads these files in half gawk's time. $4 names either, for tests.
reader="$4"
if [ -z "$reader" ]; then
  if perl -MPOSIX -MFcntl -e 1 >/dev/null 2>&1; then reader=perl
  elif command -v mawk >/dev/null 2>&1; then reader=mawk; else reader=awk; fi
fi
printf 'PAU-FILES 2 %s\n' "$(date +%s)"
# The readers yield to Prosody: a first read of a million accounts keeps the server's cores busy
# for tens of seconds and reads gigabytes of small files on a cold disk. Each tool only where it
# works here (ionice sets no I/O class on a kernel or account that refuses it, and then would not
# run the reader at all). Tried once, at the first host walked: a refresh with nothing changed
# walks none and starts neither (until then low is -).
low=-
lower() {
  low=
  if nice -n 10 true >/dev/null 2>&1; then low="nice -n 10"; fi
  if ionice -c 2 -n 7 true >/dev/null 2>&1; then low="$low ionice -c 2 -n 7"; fi
}
cd "$1" 2>/dev/null || { printf '\0PAU-FALLBACK\0'; exit 0; }
since=$2
if [ "$since" -gt 0 ]; then newer="-newermt @$since"; old="! $newer"; else newer=""; old="-false"; fi
find . -ignore_readdir_race -mindepth 1 -maxdepth 2 \( -path './*/*' \
  \( -name lastlog2 -o -name accounts \) -type d $old -printf 'U %s %T@ %P\0' \) -o \
  -printf '%y %s %T@ %P\0' 2>/dev/null || { printf '\0PAU-FALLBACK\0'; exit 0; }
printf '\0'
# The accounts folders ($3): walked for every host, only when some host has account_roles (then
# the server is Prosody 13, and the reader's rule may need them), or never. A folder the reader
# needs and did not get, it reads by SFTP.
accounts=$3
case $accounts in all|none) ;; roles)
  if [ -n "$(find . -mindepth 2 -maxdepth 2 -name account_roles -type d -print -quit 2>/dev/null)" ]
  then accounts=all; else accounts=none; fi ;;
*) accounts=all ;; esac
# A file is one record up to a NUL byte: a second record means it holds one, and it is not sent
# (mawk's regular expressions would stop at the NUL where its strings do not).
prog='
  function judge(text,   n, i, s, state, key, ts, ips, out, disabled, seen, line) {
    n = split(text, line, "\n")
    if (n < 3 || line[n] != "" || line[1] != "return {") return "!"
    state = 1; out = ""; disabled = 0
    for (i = 2; i < n; i++) {
      s = line[i]
      if (acct) {
        if (state == 1 && s == "};") state = 2
        else if (state == 1 && s ~ /^\t\["[A-Za-z0-9_]+"\] = (true|false|-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|"[^"\\]*");$/) {
          key = substr(s, 4, index(s, "\"]") - 4)
          if (key in seen) return "!"
          seen[key] = 1
          if (key == "disabled" && s !~ /= false;$/) disabled = 1
        } else return "!"
      } else if (state == 1) {
        if (s == "};") state = 3
        else if (s ~ /^\t\["[A-Za-z0-9_]+"\] = \{$/) {
          key = substr(s, 4, index(s, "\"]") - 4)
          if (key in seen) return "!"
          seen[key] = 1; ts = ""; ips = 0; state = 2
        } else return "!"
      } else if (state == 2) {
        if (s == "\t};") { out = out " " key "=" ts; state = 1 }
        else if (ts == "" && s ~ /^\t\t\["timestamp"\] = -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?;$/)
          ts = substr(s, 19, length(s) - 19)
        else if (ips == 0 && s ~ /^\t\t\["ip"\] = "[^"\\]*";$/) ips = 1
        else return "!"
      } else return "!"
    }
    if (acct) return state == 2 ? " " disabled : "!"
    return state == 3 ? out : "!"
  }
  function put(rec) {
    if (pending + length(rec) + 1 > 3072) { fflush(); pending = 0 }
    print rec; pending += length(rec) + 1
  }
  BEGIN { RS = "\0"; ORS = "\0"; acct = store == "accounts"; cap = acct ? 16384 : 65536 }
  NR == 1 { put("S " $0); folder = "./" $0 "/"; next }
  substr($0, 1, 2) == "= " { put("Z " substr($0, 3)); next }
  {
    y = substr($0, 1, 1); rest = substr($0, 3); i = index(rest, " "); size = substr(rest, 1, i - 1)
    rest = substr(rest, i + 1); i = index(rest, " "); mtime = substr(rest, 1, i - 1)
    name = substr(rest, i + 1); i = index(mtime, "."); if (i) mtime = substr(mtime, 1, i - 1)
    v = "!"
    if (y == "f" && size + 0 <= cap && mtime + 0 >= since + 0 && name ~ /^[A-Za-z0-9%.]+\.dat$/) {
      path = folder name; text = ""; r = (getline text < path)
      if (r > 0 && (getline more < path) <= 0 && length(text) == size + 0) v = judge(text)
      close(path)
    }
    rec = (acct ? "A " : "L ") size " " mtime " " name v
    if (v == "!" || length(rec) > 2048) rec = (acct ? "a " : "l ") y " " size " " mtime " " name
    put(rec)
  }'
# The same records as find and awk make, from perl: argument 1 the folder (host/store), 2 the
# half, 3 since, 4 the store. lstat first, so nothing but a regular file is ever opened; the read
# asks one byte more than the size, so a file that grew reads as changed.
walker='
  use POSIX (); use Fcntl qw(O_RDONLY O_NOFOLLOW O_NONBLOCK);
  my ($dir, $half, $since, $store) = @ARGV;
  my $acct = $store eq "accounts"; my $cap = $acct ? 16384 : 65536; my $out = "";
  sub flush {
    my $at = 0;
    while ($at < length $out) {
      my $n = syswrite(STDOUT, $out, length($out) - $at, $at);
      exit 1 unless $n;
      $at += $n;
    }
    $out = "";
  }
  sub put { flush() if length($out) + length($_[0]) + 1 > 3072; $out .= "$_[0]\0" }
  sub judge {
    my @line = split /\n/, $_[0], -1; my $n = @line;
    return "!" if $n < 3 || $line[-1] ne "" || $line[0] ne "return {";
    my ($state, $res, $disabled, $key, $ts, $ips, %seen) = (1, "", 0);
    for my $s (@line[1 .. $n - 2]) {
      if ($acct) {
        if ($state == 1 && $s eq "};") { $state = 2 }
        elsif ($state == 1 && $s =~ /\A\t\["([A-Za-z0-9_]+)"\] = (?:true|false|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|"[^"\\]*");\z/) {
          return "!" if $seen{$1}++;
          $disabled = 1 if $1 eq "disabled" && $s !~ /= false;\z/;
        } else { return "!" }
      } elsif ($state == 1) {
        if ($s eq "};") { $state = 3 }
        elsif ($s =~ /\A\t\["([A-Za-z0-9_]+)"\] = \{\z/) {
          return "!" if $seen{$1}++;
          ($key, $ts, $ips, $state) = ($1, "", 0, 2);
        } else { return "!" }
      } elsif ($state == 2) {
        if ($s eq "\t};") { $res .= " $key=$ts"; $state = 1 }
        elsif ($ts eq "" && $s =~ /\A\t\t\["timestamp"\] = (-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?);\z/) { $ts = $1 }
        elsif (!$ips && $s =~ /\A\t\t\["ip"\] = "[^"\\]*";\z/) { $ips = 1 }
        else { return "!" }
      } else { return "!" }
    }
    return $acct ? ($state == 2 ? " $disabled" : "!") : ($state == 3 ? $res : "!");
  }
  put("S $dir");
  my $status = 0; my $dh;
  if (!chdir($dir) || !opendir($dh, ".")) { put("Z 1"); flush(); exit 0 }
  while (1) {
    $! = 0; my $f = readdir $dh;
    if (!defined $f) { $status = 1 if $!; last }
    next if $f eq "." || $f eq ".." || ($f =~ /[0-4a-mA-M]\.dat\z/ ? $half != 1 : $half == 1);
    my @st = lstat $f;
    if (!@st) { $status = 1 unless $!{ENOENT}; next }
    my $y = -f _ ? "f" : -d _ ? "d" : -l _ ? "l" : -p _ ? "p" : -S _ ? "s" : -b _ ? "b" : -c _ ? "c" : "U";
    my ($size, $mtime, $v) = ($st[7], $st[9], "!");
    if ($y eq "f" && $size <= $cap && $mtime >= $since && $f =~ /\A[A-Za-z0-9%.]+\.dat\z/) {
      my $fd = POSIX::open($f, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
      if (defined $fd) {
        my $text = ""; my $got = POSIX::read($fd, $text, $size + 1); POSIX::close($fd);
        $v = judge($text) if defined $got && $got == $size && index($text, "\0") < 0;
      }
    }
    my $rec = ($acct ? "A " : "L ") . "$size $mtime $f$v";
    $rec = ($acct ? "a " : "l ") . "$y $size $mtime $f" if $v eq "!" || length($rec) > 2048;
    put($rec);
  }
  put("Z $status"); flush();'
# Half of one folder ($3: the names whose last character before .dat is in the first set, or all
# others): the folder's name, then those entries, then find's status.
walk() {
  if [ "$3" = 1 ]; then half=""; else half="!"; fi
  if [ -z "$(find "./$1/$2" -prune -type d $newer -readable -executable -print 2>/dev/null)" ]
  then return
  fi
  if [ "$reader" = perl ]; then $low perl -e "$walker" -- "$1/$2" "$3" "$since" "$2" 2>/dev/null; return; fi
  { printf '%s\0' "$1/$2"
    find "./$1/$2/" -ignore_readdir_race -mindepth 1 -maxdepth 1 $half -name '*[0-4a-mA-M].dat' \
      -printf '%y %s %T@ %f\0' 2>/dev/null
    printf '= %s\0' "$?"
  } | $low "$reader" -v since="$since" -v store="$2" "$prog" 2>/dev/null
}
# Host by host, so the reader counts a host while the next one is read: in the order of their
# names, which is the reader's (it counts them sorted), and only the hosts with a changed folder
# (a server of a thousand hosts starts no process for the others). A name with a newline is not
# walked whole: the reader then lists that host's folders by SFTP. The cat makes the awks' output
# one pipe.
find . -ignore_readdir_race -mindepth 2 -maxdepth 2 \( -name lastlog2 -o -name accounts \) \
  -type d $newer -printf '%h\n' 2>/dev/null | sort -u |
while IFS=/ read -r dot h rest; do
  if [ -n "$h" ] && [ -d "$h" ] && [ ! -L "$h" ]; then
    [ "$low" != - ] || lower
    walk "$h" lastlog2 1 </dev/null & walk "$h" lastlog2 2 </dev/null &
    if [ "$accounts" = all ]; then
      walk "$h" accounts 1 </dev/null & walk "$h" accounts 2 </dev/null &
    fi
    wait
    printf 'E %s\0' "$h"
  fi
done | cat
printf 'PAU-END\0'
`;

/** The script, fed to `sh -s` on stdin. */
export const FILES_SCRIPT = SCRIPT;

/**
 * The command line that runs the script on `dataDir`, sending contents of files changed since
 * `since` (server seconds; 0 for all); null when the path is not one we pass to a shell.
 */
export function filesCommand(
  dataDir: string,
  since: number,
  accounts: AccountsWanted,
): string | null {
  if (!isSafeRemotePath(dataDir)) return null;
  if (!Number.isSafeInteger(since) || since < 0) throw new RangeError(`bad since: ${since}`);
  return `sh -s ${dataDir} ${since} ${accounts}`;
}
