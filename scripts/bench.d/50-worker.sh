#!/usr/bin/env bash
# Benchmark part (run by scripts/bench.sh): the blog's scoring worker, scoring alone and end to end.
set -euo pipefail
echo "## Scoring worker (bench_worker)"
echo
echo "\`$BUILD_DIR/tests/bench_worker 20000 5000\`: scoring in memory on one core; then 5,000 posts through"
echo "\`samsa worker --work-ms 0\` against \`samsa broker\` (results log fdatasync'd per batch, acks=all, sync commits)."
echo
"$BUILD_DIR/tests/bench_worker" 20000 5000
echo
