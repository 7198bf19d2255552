#!/usr/bin/env bash
# Part of `make bench`: samsa loggen/logstat vs the lab's Python producer and a kafka-python
# consumer, one run, one broker (tests/bench/bench_tools.py). Markdown on stdout.
# Standalone: SAMSA=build/samsa bash scripts/bench.d/40-tools.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec /usr/bin/python3 "$root/tests/bench/bench_tools.py"
