#!/bin/sh
# Builds the libFuzzer harnesses in fuzz/ (clang, with ASan and UBSan) and
# runs each for a bounded time and count, corpus in .cache/fuzz-corpus/<name>
# (kept between runs), crashes in .cache/fuzz-artifacts/<name>/. First replays
# fuzz/regressions/<name>/*, the inputs that once crashed.
#   fuzz/run.sh [NAME...]          default: every harness
#   FUZZ_SECONDS=60 FUZZ_RUNS=-1   per harness (defaults: 20 s, no count limit)
# Prints one line per harness: "fuzz NAME runs=N seconds=S result=ok|crash|build-failed".
# Needs Debian's clang and libclang-rt-14-dev (libFuzzer); libssl-dev adds the
# OpenSSL comparison to the AEAD harness. Exit status 1 if any harness failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cache="$root/.cache"
seconds=${FUZZ_SECONDS:-20}
runs=${FUZZ_RUNS:--1}
names=${*:-aead udp names}
cc=${FUZZ_CC:-clang}
status=0

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "fuzz: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi
# Binaries per run, so two runs (npm test and the reliability run) never replace each other's.
bindir="$cache/fuzz-bin/run-$$"
mkdir -p "$bindir"
trap 'rm -rf "$bindir"' EXIT

for name in $names; do
  bin="$bindir/$name"
  extra=""
  sources="$here/$name.c"
  case $name in
    aead)
      sources="$sources $root/native/chacha20poly1305.c"
      if [ -f /usr/include/openssl/evp.h ]; then extra="-DWGTS_FUZZ_OPENSSL -lcrypto"; fi ;;
  esac
  # shellcheck disable=SC2086 # word splitting of the source and flag lists is wanted
  if ! "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
      -o "$bin" $sources $extra >"$bindir/$name.log" 2>&1; then
    cat "$bindir/$name.log" >&2
    echo "fuzz $name runs=0 seconds=0 result=build-failed"
    status=1
    continue
  fi
  corpus="$cache/fuzz-corpus/$name"
  artifacts="$cache/fuzz-artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  log="$bindir/$name.run.log"
  result=ok
  if [ -d "$here/regressions/$name" ] && [ -n "$(ls "$here/regressions/$name")" ]; then
    if ! "$bin" "$here/regressions/$name"/* >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      result=crash
    fi
  fi
  start=$(date +%s)
  if [ $result = ok ] && ! "$bin" -max_total_time="$seconds" -runs="$runs" -timeout=10 -rss_limit_mb=1024 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    result=crash
  fi
  took=$(( $(date +%s) - start ))
  done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  echo "fuzz $name runs=${done_runs:-0} seconds=$took result=$result"
  [ $result = ok ] || status=1
done
exit $status
