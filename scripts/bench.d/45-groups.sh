#!/usr/bin/env bash
# Benchmark part (run by scripts/bench.sh): group coordinator and idempotent producer.
set -euo pipefail
echo "## Groups and idempotence (bench_groups)"
echo
echo "\`$BUILD_DIR/tests/bench_groups 5 1000000\`: a 3-member librdkafka group rebalancing after a member"
echo "leaves (heartbeat.interval.ms=100); OffsetCommit rate (each acknowledged after its fsync; one fsync"
echo "per loop turn); 1,000,000 records of 100 bytes with acks=all, idempotence off vs on."
echo
"$BUILD_DIR/tests/bench_groups" 5 1000000
echo
