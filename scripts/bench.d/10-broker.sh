#!/usr/bin/env bash
# Part of `make bench`: samsa's broker side by side with Apache Kafka (defaults, and flushing every
# message) and librdkafka's mock cluster: produce/consume throughput, latency at fixed rates without
# coordinated omission, memory, start-up, fdatasync; recovery after kill -9 with BENCH_FULL=1
# (tests/bench/bench_broker.py, client tests/bench/bench_kafka.c). Markdown on stdout.
# Standalone: BUILD_DIR=build-release SAMSA=build-release/samsa bash scripts/bench.d/10-broker.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec /usr/bin/python3 "$root/tests/bench/bench_broker.py"
