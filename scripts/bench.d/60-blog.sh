#!/usr/bin/env bash
# Benchmark part (run by scripts/bench.sh): the blog's web server and pipeline, beside the labs'
# approach (one synchronous produce per request).
set -euo pipefail
/usr/bin/python3 "$(dirname "$0")/../../tests/bench/bench_blog.py"
# The store: SQLite and PostgreSQL beside the in-memory store of the version before it, built once
# from BENCH_BASELINE_REF into $BUILD_DIR/../build-baseline (skip with BENCH_BASELINE=none).
root=$(cd "$(dirname "$0")/../.." && pwd)
ref=${BENCH_BASELINE_REF:-e3b8484}
if [ -z "${BENCH_BASELINE:-}" ]; then
  base="$root/build-baseline"
  if [ ! -x "$base/build-release/samsa" ] && git -C "$root" cat-file -e "$ref^{commit}" 2>/dev/null; then
    rm -rf "$base" && mkdir -p "$base"
    git -C "$root" archive "$ref" | tar -x -C "$base"
    (cd "$base" && cmake --preset release >/dev/null && cmake --build build-release --target samsa >/dev/null) || true
  fi
  export BENCH_BASELINE="$base/build-release/samsa"
fi
/usr/bin/python3 "$(dirname "$0")/../../tests/bench/bench_store.py"
