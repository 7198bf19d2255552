#!/usr/bin/env bash
# Benchmark part (run by scripts/bench.sh): the console's page times on a big cluster.
set -euo pipefail
echo "## Console pages (bench_console)"
echo
echo "\`$BUILD_DIR/tests/bench_console --topics 1000 --partitions 10 --groups 20 --requests 50\`: each page"
echo "of \`samsa console\` asked 50 times over one kept-alive connection against \`samsa broker\` holding 1,000"
echo "topics of 10 partitions; time from the request's first byte to the answer's last. The target is every"
echo "page under 50 ms (docs/console.md)."
echo
"$BUILD_DIR/tests/bench_console" --topics 1000 --partitions 10 --groups 20 --requests 50 2>/dev/null
echo
