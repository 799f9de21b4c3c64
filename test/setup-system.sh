#!/usr/bin/env bash
# Installs the real components the tests run against, from Debian's/Ubuntu's packages.
# Idempotent; uses sudo only when not already root.
set -euo pipefail
packages=(
  prosody prosody-modules lua-dbi-sqlite3 # the reference server and its mod_measure_active_users
  sqlite3                                 # the sqlite3 command
  mawk gawk                               # internal storage by command runs on both awks
  openssh-server openssh-client           # a real sshd on loopback, ssh-keygen for test keys
  putty-tools                             # puttygen, for PPK keys the app must name and refuse
  xvfb dbus dbus-x11 dunst libnotify-bin  # a real notification daemon for node-notifier
  chromium                                # the window's tests run in real headless Chromium
  libglib2.0-bin                          # gio, which launches the XDG autostart entry in a test
  iproute2 time                           # npm run bench: its SSH host (ip netns, tc) and peak RSS
  postgresql mariadb-server               # Prosody's SQL storage on PostgreSQL and MariaDB
  lua-dbi-postgresql lua-dbi-mysql        # ... as Prosody itself reads them, for parity
  python3 make g++                        # node-gyp, where better-sqlite3 has no prebuilt binary
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all test packages present"
else
  echo "setup-system: installing ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
"${as_root[@]}" bash "$(dirname "$0")/setup-prosody13.sh"
