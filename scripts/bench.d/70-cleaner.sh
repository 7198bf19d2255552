#!/usr/bin/env bash
# Benchmark part (run by scripts/bench.sh): the log cleaner's throughput and the produce path's
# latency while it runs, unthrottled and throttled, against no cleaning (tests/bench/bench_cleaner.c).
set -euo pipefail
mb=${BENCH_CLEANER_MB:-64}
echo "## Log cleaner (bench_cleaner)"
echo
echo "\`$BUILD_DIR/tests/bench_cleaner $mb 20\`: a compacted topic of $mb MB (100-byte values, keys from"
echo "100 000) cleaned by the store's cleaner thread while the loop thread appends and group-commits one"
echo "batch at a time to another topic; the same disk. See docs/compaction.md."
echo
"$BUILD_DIR/tests/bench_cleaner" "$mb" 20
echo
