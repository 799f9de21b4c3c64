#!/usr/bin/env bash
# Prosody 13 (Debian bookworm-backports: prosody 13.0.1 and the prosody-modules of its time) beside
# the system's Prosody 0.12, unpacked into one private folder: the parity tests run both.
# Both use the same Lua 5.4 libraries, which the system's prosody package already installed.
# Idempotent. Elsewhere than Debian 12 (no bookworm-backports), set PROSODY13_DEBS to a folder
# holding the two .deb files.
set -euo pipefail
dest=${PROSODY13_DIR:-/opt/prosody-13}
if [ -x "$dest/bin/prosody" ] && [ -d "$dest/lib/modules/mod_measure_active_users" ]; then
  echo "setup-prosody13: $dest ready"
  exit 0
fi
work=$(mktemp -d)
chmod 755 "$work" # apt-get download hands the files to its _apt user
trap 'rm -rf "$work"' EXIT
if [ -n "${PROSODY13_DEBS:-}" ]; then
  cp "$PROSODY13_DEBS"/prosody_13*.deb "$PROSODY13_DEBS"/prosody-modules_*.deb "$work/"
else
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  if ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null || [ ! -f "$keyring" ]; then
    echo "setup-prosody13: this is not Debian 12, so bookworm-backports cannot be added here." >&2
    echo "  Download prosody_13.0.1-1~bpo12+1_amd64.deb and prosody-modules_0.0~hg20250402*.deb from" >&2
    echo "  Debian's bookworm-backports, put both in one folder and run again with PROSODY13_DEBS=FOLDER." >&2
    exit 1
  fi
  list=/etc/apt/sources.list.d/prosody-active-users-backports.sources
  policy=$(apt-cache policy prosody 2>/dev/null || true)
  if [[ $policy != *bookworm-backports* ]]; then
    echo "setup-prosody13: adding bookworm-backports to apt's sources ($list)"
    cat >"$list" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    apt-get update -qq
  fi
  (cd "$work" && apt-get download -qq prosody/bookworm-backports prosody-modules/bookworm-backports)
fi
mkdir -p "$work/root"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
rm -rf "$dest"
mkdir -p "$dest/bin"
# prosody-modules unpacks into the same usr/lib/prosody/modules as Prosody's own modules.
cp -a "$work/root/usr/lib/prosody" "$dest/lib"
for tool in prosody prosodyctl; do
  sed -e "s|^CFG_SOURCEDIR=.*|CFG_SOURCEDIR='$dest/lib';|" \
    -e "s|^CFG_PLUGINDIR=.*|CFG_PLUGINDIR='$dest/lib/modules/';|" \
    "$work/root/usr/bin/$tool" >"$dest/bin/$tool"
  chmod 755 "$dest/bin/$tool"
done
"$dest/bin/prosody" --version 2>/dev/null | head -1 || true
echo "setup-prosody13: Prosody 13 in $dest"
