#!/usr/bin/env bash
# Builds the host `qjs` (QuickJS interpreter) from the fetched Debian source
# into .cache/qjs-host. Idempotent; used by tests that run code on QuickJS.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/qjs-host
if [ -x "$out/qjs" ]; then exit 0; fi
./build/fetch-quickjs.sh
rm -rf "$out.tmp" && cp -r .cache/quickjs-src "$out.tmp"
make -C "$out.tmp" -j"$(nproc)" qjs >/dev/null
rm -rf "$out" && mv "$out.tmp" "$out"
echo "built $out/qjs"
