#!/usr/bin/env bash
# Benchmark part (run by scripts/bench.sh): the Kafka codec on the broker's hot path.
set -euo pipefail
echo "## Kafka codec (bench_proto)"
echo
echo "\`$BUILD_DIR/tests/bench_proto 1\`: one core, frames built in memory, no I/O."
echo
"$BUILD_DIR/tests/bench_proto" 1
echo
