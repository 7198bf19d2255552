#!/usr/bin/env bash
# `make bench`: run every benchmark against a release build, side by side in one run, and write
# docs/bench.md with the machine, versions, exact commands and results. Benchmarks are never
# tests: nothing here passes or fails on speed.
#   scripts/bench.sh BUILD_DIR
set -euo pipefail
build=${1:-build-release}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/docs/bench.md"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` ($(date -u +%Y-%m-%dT%H:%MZ)). Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB,"
  echo "$(uname -sr); $("$root/$build/samsa" --version). Numbers from one run on a shared, noisy machine:"
  echo "compare the ratios within a table, not across runs."
  echo
} >"$tmp/bench.md"

# Each bench/*.sh part appends its own section; they are run in name order.
for part in "$root"/scripts/bench.d/*.sh; do
  [ -e "$part" ] || continue
  echo "=== $(basename "$part")" >&2
  SAMSA="$root/$build/samsa" BUILD_DIR="$root/$build" bash "$part" >>"$tmp/bench.md" ||
    echo "(benchmark $(basename "$part") failed in this run)" >>"$tmp/bench.md"
done
cp "$tmp/bench.md" "$out"
cat "$out"
