#!/usr/bin/env bash
# Part of `make bench`: transactions - transactional produce (transactions of 100 and 10,000
# records) and read_committed end-to-end latency, samsa side by side with Apache Kafka flushing
# every message (tests/bench/bench_txn.py, client tests/bench/bench_txn.c). Markdown on stdout.
# Standalone: BUILD_DIR=build-release SAMSA=build-release/samsa bash scripts/bench.d/15-txn.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec /usr/bin/python3 "$root/tests/bench/bench_txn.py"
