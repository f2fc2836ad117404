#!/usr/bin/env bash
# Downloads the Debian packages a full-system guest is made of (the kernel
# behind the flavour's metapackage, and busybox-static) for one Debian
# architecture, and unpacks them into .cache/qemu/<debarch>/root.
# A private apt configuration lists the foreign architectures; its archive
# URI and suite are read from the machine's own deb822 sources, whose
# configuration stays untouched.
#   test-qemu/fetch-debs.sh DEBARCH KERNEL-METAPACKAGE
set -euo pipefail
cd "$(dirname "$0")/.."
debarch="$1"
meta="$2"
cache="$PWD/.cache/qemu"
apt_root="$cache/apt"
out="$cache/$debarch"
if [ -f "$out/.done" ]; then cat "$out/.done"; exit 0; fi

. build/debian-archive.sh
debian_archive || exit 1
uri="$DEBIAN_ARCHIVE_URI" suite="$DEBIAN_ARCHIVE_SUITE"
suite="${WGTS_QEMU_SUITE:-$suite}"

# One lists directory for all architectures, refreshed at most once a day.
arches=(mipsel armhf arm64)
mkdir -p "$apt_root/lists/partial" "$apt_root/archives/partial" "$apt_root/etc" "$apt_root/cache"
cat > "$apt_root/etc/sources.list" <<SRC
deb [arch=$(IFS=,; echo "${arches[*]}") signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main
SRC
: > "$apt_root/status"
opts=(-o "Dir::Etc::SourceList=$apt_root/etc/sources.list" -o "Dir::Etc::SourceParts=-"
      -o "Dir::State::Lists=$apt_root/lists" -o "Dir::Cache=$apt_root/cache"
      -o "Dir::State::status=$apt_root/status" -o "APT::Sandbox::User=root"
      -o "Dir::Cache::archives=$apt_root/archives")
for a in "${arches[@]}"; do opts+=(-o "APT::Architectures::=$a"); done
stamp="$apt_root/lists/.updated"
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
  apt-get "${opts[@]}" update -qq
  touch "$stamp"
fi

# The metapackage names the kernel of the current point release.
kernel=$(apt-cache "${opts[@]}" show "$meta:$debarch" | awk -F': ' '/^Depends:/ { print $2; exit }' \
  | tr ',' '\n' | sed -E 's/^ *//; s/ .*//' | grep '^linux-image-' | head -n 1)
[ -n "$kernel" ] || { echo "fetch-debs: cannot resolve $meta:$debarch" >&2; exit 1; }

work="$cache/download-$debarch.$$"
rm -rf "$work" && mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get "${opts[@]}" download -qq "$kernel:$debarch" "busybox-static:$debarch" >/dev/null)
rm -rf "$out.tmp" && mkdir -p "$out.tmp/root"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$out.tmp/root"; done
version=$(ls "$out.tmp/root/lib/modules" | head -n 1)
[ -n "$version" ] || { echo "fetch-debs: $kernel has no /lib/modules" >&2; exit 1; }
# The kernel .debs ship no modules.dep.
depmod -b "$out.tmp/root" "$version"
echo "$kernel $version" > "$out.tmp/.done"
rm -rf "$out" && mv "$out.tmp" "$out"
cat "$out/.done"
