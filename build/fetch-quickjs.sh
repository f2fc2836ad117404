#!/usr/bin/env bash
# Fetches Bellard's QuickJS source from Debian trixie's `quickjs` source
# package into .cache/quickjs-src, without touching the machine's own apt
# sources: a private apt configuration whose archive URI is read from the
# machine's own deb822 sources.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/.cache/apt-trixie"
dest="$PWD/.cache/quickjs-src"
version="${QUICKJS_DEBIAN_VERSION:-2025.04.26-1}"
if [ -f "$dest/quickjs.c" ]; then exit 0; fi

. build/debian-archive.sh
debian_archive || exit 1
uri="$DEBIAN_ARCHIVE_URI"

mkdir -p "$root/lists/partial" "$root/archives/partial" "$root/etc"
cat > "$root/etc/sources.list" <<SRC
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main
SRC
opts=(-o "Dir::Etc::SourceList=$root/etc/sources.list" -o "Dir::Etc::SourceParts=-"
      -o "Dir::State::Lists=$root/lists" -o "Dir::Cache=$root/cache" -o "APT::Sandbox::User=root")
apt-get "${opts[@]}" update -qq
work="$root/src"
rm -rf "$work" && mkdir -p "$work"
(cd "$work" && apt-get "${opts[@]}" source -qq "quickjs=$version" >/dev/null)
srcdir=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'quickjs-*' | head -n 1)
[ -f "$srcdir/quickjs.c" ] || { echo "fetch-quickjs: unpacked source has no quickjs.c" >&2; exit 1; }
rm -rf "$dest"
mv "$srcdir" "$dest"
echo "QuickJS $version source in $dest"
