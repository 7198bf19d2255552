#!/usr/bin/env bash
# The blog's, the lab tools' and the console's end-to-end tests against a real Apache Kafka, with only the
# bootstrap address changed (issue 7: samsa's programs run unchanged on real Kafka).
#   tests/compat/e2e-real-kafka.sh BUILD_DIR [KAFKA_VERSION]
# Starts a single-node KRaft Kafka (scripts/kafka/real-kafka.sh), runs the web (0060, 0063),
# worker (0050-0053), tools (0080-0086), console (0140 over HTTP, 0141 in Chromium) and
# transactions (0120 the tool, 0121-0122 the worker's txn mode) integration tests with
# SAMSA_TEST_BOOTSTRAP and
# SAMSA_WORKER_TEST_BOOTSTRAP pointing at it, then stops it. Tests that must kill or restart the
# broker itself (web broker-down/restart, the browser test) stay samsa-only, and so does 0054
# (two workers on one log file): it kills worker A once both workers hold partitions, and on
# Kafka A can keep all three for the whole short run, so the test's own precondition fails.
set -euo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR [KAFKA_VERSION]}" && pwd)
version=${2:-4.3.1}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/samsa-e2e-kafka-XXXXXX)
trap '"$root/scripts/kafka/real-kafka.sh" stop --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

"$root/scripts/kafka/real-kafka.sh" start --dir "$dir" --version "$version" \
  --prop num.partitions=3 >/dev/null
bootstrap=127.0.0.1:$(cat "$dir/kafka.port")
echo "=== blog, tools and console end-to-end tests against Apache Kafka $version at $bootstrap"
cd "$build"
SAMSA_TEST_BOOTSTRAP=$bootstrap SAMSA_WORKER_TEST_BOOTSTRAP=$bootstrap \
  ctest --output-on-failure -R 'integration\.(0050|0051|0052|0053|0060|0063|0080|0081|0082|0083|0084|0085|0086|0120|0121|0122|0140|0141)-'
