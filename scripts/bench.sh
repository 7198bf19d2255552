#!/usr/bin/env bash
# `make bench`: run every benchmark against a release build, side by side in one run, and write
# docs/bench.md with the machine, versions, exact commands and results, plus docs/bench.svg (the
# chart of the broker part). Benchmarks are never tests: nothing here passes or fails on speed.
#   scripts/bench.sh [BUILD_DIR]
# Env: BENCH_REPS (repetitions, default 3), BENCH_FULL=1 (adds the slow parts: recovery of 1 GiB),
# BENCH_ONLY=glob (run only matching scripts/bench.d parts, e.g. '10-*'; docs are then not written
# unless BENCH_WRITE=1). How to read the numbers: docs/benchmarks.md.
#
# Each scripts/bench.d/*.sh part appends its own Markdown section to stdout and gets SAMSA,
# BUILD_DIR, BENCH_REPS and BENCH_RESULTS_DIR (a directory for machine-readable results, e.g. the
# broker part's broker.json, which feeds the chart). Parts run one after another, never in
# parallel, so they do not measure each other.
set -euo pipefail
build=${1:-build-release}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$root/$build" ;; esac
out="$root/docs/bench.md"
chart="$root/docs/bench.svg"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export BENCH_REPS=${BENCH_REPS:-3} BENCH_RESULTS_DIR="$tmp/results"
mkdir -p "$BENCH_RESULTS_DIR"
only=${BENCH_ONLY:-*}
write=1
[ "$only" = "*" ] || write=${BENCH_WRITE:-0}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
t_start=$SECONDS
load_start=$(loadavg)
kafka_v=$("$root/scripts/kafka/real-kafka.sh" versions 2>/dev/null | head -1 || echo "?")

{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (\`scripts/bench.sh $(basename "$build")\`, BENCH_REPS=$BENCH_REPS${BENCH_FULL:+, BENCH_FULL=$BENCH_FULL}) on $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "at commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet 2>/dev/null || echo ' (with uncommitted changes in the tree)')."
  echo "How to read these numbers, and where samsa falls short and why: [benchmarks.md](benchmarks.md)."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| machine | $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(free -m | awk '/Mem:/{printf "%.1f", $2/1024}') GiB RAM, $(uname -sr) |"
  echo "| disk | $(df -hT "$build" | awk 'NR==2{print $2" on "$1", "$3}') |"
  echo "| samsa | $("$build/samsa" --version 2>&1 | head -1), $(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" | cut -d= -f2) build, $(gcc --version | head -1) |"
  echo "| librdkafka | $(pkg-config --modversion rdkafka 2>/dev/null || echo '?') (Debian) |"
  echo "| Apache Kafka | $kafka_v from Maven Central (scripts/kafka/real-kafka.sh), $(java -version 2>&1 | head -1) |"
  echo "| Python | $(/usr/bin/python3 --version 2>&1) (/usr/bin/python3) |"
  echo "| load average at start | $load_start (other engineers' builds and tests share these cores: compare ratios within one table, not across runs) |"
  echo
} >"$tmp/bench.md"

# Each part appends its own section; they run in name order.
declare -a timings
for part in "$root"/scripts/bench.d/*.sh; do
  [ -e "$part" ] || continue
  name=$(basename "$part")
  # shellcheck disable=SC2254
  case "$name" in $only) ;; *) continue ;; esac
  echo "=== $name (load average $(loadavg))" >&2
  t0=$SECONDS
  status=ok
  SAMSA="$build/samsa" BUILD_DIR="$build" bash "$part" >>"$tmp/bench.md" || {
    status="failed (exit $?)"
    echo "(benchmark $name failed in this run)" >>"$tmp/bench.md"
  }
  echo >>"$tmp/bench.md"
  timings+=("| $name | $((SECONDS - t0)) s | $status |")
done

if [ -f "$BENCH_RESULTS_DIR/broker.json" ]; then
  /usr/bin/python3 "$root/scripts/bench_chart.py" "$BENCH_RESULTS_DIR/broker.json" "$tmp/bench.svg" &&
    echo "![throughput and latency](bench.svg)" >>"$tmp/bench.md"
  echo >>"$tmp/bench.md"
fi
{
  echo "## This run"
  echo
  echo "| part | time | status |"
  echo "|---|---|---|"
  printf '%s\n' "${timings[@]}"
  echo
  echo "Whole suite: $(((SECONDS - t_start) / 60)) min $(((SECONDS - t_start) % 60)) s; load average at start $load_start, at the end $(loadavg)."
} >>"$tmp/bench.md"

if [ "$write" = 1 ]; then
  cp "$tmp/bench.md" "$out"
  if [ -f "$tmp/bench.svg" ]; then cp "$tmp/bench.svg" "$chart"; fi
  echo "bench: wrote $out" >&2
fi
cat "$tmp/bench.md"
