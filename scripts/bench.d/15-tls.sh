#!/usr/bin/env bash
# Part of `make bench`: produce and consume throughput over PLAINTEXT, SSL and SASL_SSL (SCRAM),
# samsa side by side with Apache Kafka (scripts/kafka/real-kafka.sh start --secure), one client
# (tests/bench/bench_tls.py, client tests/bench/bench_kafka.c). Markdown on stdout.
# Standalone: BUILD_DIR=build-release SAMSA=build-release/samsa bash scripts/bench.d/15-tls.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec /usr/bin/python3 "$root/tests/bench/bench_tls.py"
