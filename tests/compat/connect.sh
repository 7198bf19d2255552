#!/usr/bin/env bash
# Compacted topics with Kafka's own tools, against samsa and real Apache Kafka (`make test-compat`):
#   tests/compat/connect.sh BUILD_DIR [TARGET...]     TARGET: samsa, kafka-4.3.1 (default: both)
#
# For each target, a broker whose segments roll every 2 s (log.roll.ms) and whose cleaner looks
# every 200 ms, so Connect's compacted topics really get cleaned while the test runs:
#   1. Kafka's CLI: `kafka-topics --create --config cleanup.policy=compact` is accepted and
#      `kafka-configs --describe` shows it;
#   2. Kafka Connect in distributed mode (scripts/kafka/connect.sh: Maven Central's jars) creates
#      its config/offset/status topics, which must describe cleanup.policy=compact;
#   3. a FileStreamSource -> topic -> FileStreamSink pipeline copies 50 lines, in order;
#   4. the worker is stopped, 30 more lines are written, a new worker starts: it reads its
#      connector configs and source offsets back from the compacted topics and copies exactly the
#      new lines (out.txt = in.txt: none lost, none twice).
# Prints "connect: TARGET pass" per target; exits 1 if any failed.
set -uo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR [TARGET...]}" && pwd)
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(samsa kafka-4.3.1)
root=$(cd "$(dirname "$0")/../.." && pwd)
rk=$root/scripts/kafka/real-kafka.sh
ck=$root/scripts/kafka/connect.sh
cli_version=4.3.1
failed=0

fail() { echo "connect: $target FAIL: $*" >&2; return 1; }

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS WHAT COMMAND...: run COMMAND every 0.5 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || { echo "connect: timed out waiting for $what" >&2; return 1; }
    sleep 0.5
  done
}

post() { curl -fsS -X POST -H 'Content-Type: application/json' "$rest/connectors" -d "$1" >/dev/null; }
same_lines() { [ -f "$dir/out.txt" ] && cmp -s "$dir/in.txt" "$dir/out.txt"; }

describe_compact() {
  "$rk" cli "$cli_version" kafka-configs --bootstrap-server "$bootstrap" --describe \
    --entity-type topics --entity-name "$1" 2>/dev/null | grep -q 'cleanup.policy=compact'
}

run_target() {
  dir=$(mktemp -d /tmp/samsa-connect-XXXXXX)
  local broker_pid=""
  if [ "$target" = samsa ]; then
    local port
    port=$(free_port)
    "$build/samsa" broker --listen "127.0.0.1:$port" --data-dir "$dir/broker" -o log.roll.ms=2000 \
      -o log.cleaner.backoff.ms=200 >"$dir/broker.log" 2>&1 &
    broker_pid=$!
    bootstrap=127.0.0.1:$port
    wait_for 20 "samsa on $bootstrap" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null || return 1
  else
    "$rk" start --dir "$dir/kafka" --version "${target#kafka-}" --prop log.roll.ms=2000 \
      --prop log.cleaner.backoff.ms=200 >/dev/null || return 1
    bootstrap=127.0.0.1:$(cat "$dir/kafka/kafka.port")
  fi
  (
    set -e
    # 1. Kafka's CLI
    "$rk" cli "$cli_version" kafka-topics --bootstrap-server "$bootstrap" --create --topic cli-compacted \
      --partitions 1 --config cleanup.policy=compact --config min.cleanable.dirty.ratio=0.1 >/dev/null
    describe_compact cli-compacted || fail "kafka-configs does not describe cleanup.policy=compact"
    # 2, 3. Connect, its compacted topics, a pipeline
    seq -f 'line %g' 1 50 >"$dir/in.txt"
    rest=$("$ck" start --dir "$dir/connect" --bootstrap "$bootstrap" | sed -n 's/^REST=//p')
    for t in connect-configs connect-offsets connect-status; do
      describe_compact "$t" || fail "$t is not compacted"
    done
    post '{"name":"file-source","config":{"connector.class":"org.apache.kafka.connect.file.FileStreamSourceConnector","tasks.max":"1","file":"'"$dir"'/in.txt","topic":"connect-lines"}}'
    post '{"name":"file-sink","config":{"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector","tasks.max":"1","file":"'"$dir"'/out.txt","topics":"connect-lines"}}'
    wait_for 90 "50 lines through FileStreamSource -> connect-lines -> FileStreamSink" same_lines
    # 4. A new worker resumes from what the compacted topics hold.
    "$ck" stop --dir "$dir/connect"
    seq -f 'line %g' 51 80 >>"$dir/in.txt"
    "$ck" start --dir "$dir/connect" --bootstrap "$bootstrap" >/dev/null
    wait_for 90 "the restarted worker copying lines 51-80" same_lines
    # One line more: a duplicate of an earlier line would reach the sink before it (one partition).
    echo 'line 81' >>"$dir/in.txt"
    wait_for 60 "line 81, and no line twice" same_lines
  )
  local rc=$?
  "$ck" stop --dir "$dir/connect" >/dev/null 2>&1 || true
  if [ -n "$broker_pid" ]; then
    kill "$broker_pid" 2>/dev/null
    wait "$broker_pid" 2>/dev/null
    [ $rc -eq 0 ] && grep -q 'cleaner: .*connect-' "$dir/broker.log" && echo "connect: samsa's cleaner compacted Connect's topics"
  else
    "$rk" stop --dir "$dir/kafka" >/dev/null 2>&1 || true
  fi
  if [ $rc -ne 0 ]; then
    tail -n 20 "$dir/connect/logs/connect.log" "$dir/broker.log" 2>/dev/null >&2
  fi
  rm -rf "$dir"
  return $rc
}

for target in "${targets[@]}"; do
  echo "=== Kafka CLI and Kafka Connect with compacted topics against $target"
  if run_target; then
    echo "connect: $target pass"
  else
    echo "connect: $target FAIL"
    failed=1
  fi
done
exit $failed
