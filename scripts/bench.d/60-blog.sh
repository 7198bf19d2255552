#!/usr/bin/env bash
# Benchmark part (run by scripts/bench.sh): the blog's web server and pipeline, beside the labs'
# approach (one synchronous produce per request).
set -euo pipefail
/usr/bin/python3 "$(dirname "$0")/../../tests/bench/bench_blog.py"
