#!/usr/bin/env bash
# Builds a soft-float MIPS32r2 C library for the mips/mipsel builds:
#   .cache/musl-sf-<arch>/{include,lib}  musl (Debian's `musl` source), -msoft-float
#   .cache/musl-sf-<arch>/lib/libsoftfp.a the IEEE double/float arithmetic that
#                                           gcc calls under -msoft-float
#   .cache/musl-sf-<arch>/kernel-include  linux/ asm/ asm-generic/ from Debian's cross headers
#
# Why: OpenWrt's mips_24kc/mipsel_24kc CPUs have no FPU. Debian's mips cross
# toolchain is hard-float glibc, and its libgcc.a implements __adddf3 & co.
# with FPU instructions, so a plain -msoft-float link still traps on a 24Kc.
# The soft-float routines come from glibc's soft-fp/ (the generic code that
# libgcc's soft-fp also uses), compiled here with -msoft-float.
#
#   build/musl-softfloat.sh mips|mipsel
set -euo pipefail
cd "$(dirname "$0")/.."
arch="${1:?usage: build/musl-softfloat.sh mips|mipsel}"
case "$arch" in mips|mipsel) ;; *) echo "musl-softfloat: no soft-float build for $arch" >&2; exit 1 ;; esac
cross="$arch-linux-gnu"
out="$PWD/.cache/musl-sf-$arch"
ready() { [ -f "$out/lib/libsoftfp.a" ] && grep -q -- "$out/lib" "$out/lib/musl-gcc.specs" 2>/dev/null; }
# The specs file holds absolute paths: rebuild when the checkout moved.
if ready; then exit 0; fi
# One build at a time (apt's lists lock; parallel test runs build both arches).
mkdir -p .cache
exec 9>.cache/musl-softfloat.lock
flock 9
if ready; then exit 0; fi
command -v "$cross-gcc" >/dev/null || { echo "musl-softfloat: $cross-gcc not found: apt-get install gcc-$cross" >&2; exit 1; }

# --- Sources, through a private apt configuration (the machine's own sources stay untouched).
src="$PWD/.cache/softfloat-src"
apt_root="$PWD/.cache/apt-trixie-softfloat"
fetch_sources() {
  . build/debian-archive.sh
  debian_archive || exit 1
  local uri="$DEBIAN_ARCHIVE_URI"
  mkdir -p "$apt_root/lists/partial" "$apt_root/etc"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" > "$apt_root/etc/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt_root/etc/sources.list" -o "Dir::Etc::SourceParts=-"
              -o "Dir::State::Lists=$apt_root/lists" -o "Dir::Cache=$apt_root/cache" -o "APT::Sandbox::User=root")
  apt-get "${opts[@]}" update -qq
  local work="$src.tmp-$$"
  rm -rf "$work" && mkdir -p "$work"
  (cd "$work" && apt-get "${opts[@]}" source -qq musl >/dev/null)
  # Only glibc's upstream tarball is needed; the Debian part of the newest
  # version may be missing from a snapshot mirror, so its failure is ignored.
  (cd "$work" && apt-get "${opts[@]}" source --download-only -qq glibc >/dev/null 2>&1 || true)
  local glibc_tar musl_dir
  glibc_tar=$(ls "$work"/glibc_*.orig.tar.xz 2>/dev/null | head -n 1)
  musl_dir=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'musl-*' | head -n 1)
  [ -n "$glibc_tar" ] && [ -f "$musl_dir/configure" ] || { echo "musl-softfloat: could not fetch musl and glibc sources" >&2; exit 1; }
  mkdir -p "$work/glibc"
  tar -xJf "$glibc_tar" -C "$work/glibc" --strip-components=1 --wildcards \
    '*/soft-fp/*' '*/stdlib/longlong.h' '*/sysdeps/mips/mips32/sfp-machine.h'
  mv "$musl_dir" "$work/musl"
  rm -f "$work"/*.tar.* "$work"/*.dsc "$work"/*.asc
  rm -rf "$src" && mv "$work" "$src"
}
[ -f "$src/musl/configure" ] && [ -f "$src/glibc/soft-fp/adddf3.c" ] || fetch_sources

cflags="-msoft-float -march=mips32r2 -O2"
build="$out.tmp-$$"
trap 'rm -rf "$build"' EXIT
rm -rf "$build" && mkdir -p "$build"

# --- musl (configure picks the soft-float "-sf" subarch from __mips_soft_float).
cp -r "$src/musl" "$build/musl-src"
(cd "$build/musl-src" &&
  CC="$cross-gcc" CFLAGS="$cflags" ./configure --prefix="$out" --target="$arch-linux-musl" --disable-shared &&
  make -j"$(nproc)" AR="$cross-ar" RANLIB="$cross-ranlib" &&
  make install DESTDIR="$build/root" AR="$cross-ar" RANLIB="$cross-ranlib") > "$build/musl.log" 2>&1 ||
  { tail -n 30 "$build/musl.log" >&2; echo "musl-softfloat: musl build failed" >&2; exit 1; }
grep -q '^SUBARCH = .*sf' "$build/musl-src/config.mak" || { echo "musl-softfloat: musl did not configure soft-float" >&2; exit 1; }

# --- Soft-float arithmetic: single and double precision, SI/DI conversions.
shim="$build/softfp-shim"
mkdir -p "$shim" "$build/softfp-obj"
cp "$src/glibc/stdlib/longlong.h" "$shim/"
cat > "$shim/sfp-machine.h" <<EOF
/* glibc's MIPS32 soft-fp parameters, plus what libgcc's build would add. */
#include <endian.h>
#include "$src/glibc/sysdeps/mips/mips32/sfp-machine.h"
#define strong_alias(name, aliasname) extern __typeof (name) aliasname __attribute__ ((alias (#name)));
EOF
routines="addsf3 subsf3 mulsf3 divsf3 negsf2 eqsf2 gesf2 lesf2 unordsf2
  adddf3 subdf3 muldf3 divdf3 negdf2 eqdf2 gedf2 ledf2 unorddf2
  extendsfdf2 truncdfsf2
  fixsfsi fixsfdi fixunssfsi fixunssfdi fixdfsi fixdfdi fixunsdfsi fixunsdfdi
  floatsisf floatdisf floatunsisf floatundisf floatsidf floatdidf floatunsidf floatundidf"
for r in $routines; do
  # shellcheck disable=SC2086
  "$cross-gcc" $cflags -nostdinc -isystem "$build/root$out/include" -isystem "$("$cross-gcc" -print-file-name=include)" \
    -I"$shim" -I"$src/glibc/soft-fp" -c "$src/glibc/soft-fp/$r.c" -o "$build/softfp-obj/$r.o" &
done
wait
"$cross-ar" rcs "$build/root$out/lib/libsoftfp.a" "$build"/softfp-obj/*.o

# --- Kernel headers (linux/if_tun.h etc.), which musl does not ship.
mkdir -p "$build/root$out/kernel-include"
for d in linux asm asm-generic; do ln -s "/usr/$cross/include/$d" "$build/root$out/kernel-include/$d"; done

rm -rf "$out"
mv -T "$build/root$out" "$out"
echo "soft-float musl for $arch in $out"
