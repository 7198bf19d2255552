#!/usr/bin/env bash
# ACLs across tools and brokers: Kafka's own kafka-acls (the Java admin client) and `samsa acls`
# (librdkafka's), each against samsa and against a real Apache Kafka with StandardAuthorizer.
#   tests/compat/acls.sh BUILD_DIR [KAFKA_VERSION]
# Both brokers run an authorizer with super.users=User:ANONYMOUS (PLAINTEXT's principal), and
# the same sequence of --add / --list / --remove runs four ways. Each output is normalized (the
# ACLs of a resource and the resources are sets: sorted) and the four must be equal: samsa answers
# as Kafka does, and samsa acls prints what kafka-acls prints.
set -euo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR [KAFKA_VERSION]}" && pwd)
version=${2:-4.3.1}
root=$(cd "$(dirname "$0")/../.." && pwd)
rk="$root/scripts/kafka/real-kafka.sh"
dir=$(mktemp -d /tmp/samsa-compat-acls-XXXXXX)
samsa_pid=
cleanup() {
  [ -n "$samsa_pid" ] && kill "$samsa_pid" 2>/dev/null && wait "$samsa_pid" 2>/dev/null
  "$rk" stop --dir "$dir/kafka" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/samsa" broker --listen "127.0.0.1:$port" --data-dir "$dir/samsa" \
  -o authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer \
  -o super.users=User:ANONYMOUS >"$dir/samsa.log" 2>&1 &
samsa_pid=$!
mkdir -p "$dir/kafka"
"$rk" start --dir "$dir/kafka" --version "$version" \
  --prop authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer \
  --prop super.users=User:ANONYMOUS >/dev/null
kafka=127.0.0.1:$(cat "$dir/kafka/kafka.port")
samsa=127.0.0.1:$port

# The sequence: one kafka-acls argument list per line.
steps=(
  "--add --allow-principal User:alice --operation Read --operation Describe --topic orders"
  "--add --allow-principal User:bob --producer --topic logs- --resource-pattern-type prefixed"
  "--add --allow-principal User:app --consumer --topic orders --group billing"
  "--add --deny-principal User:mallory --deny-host 10.0.0.9 --operation All --topic *"
  "--add --allow-principal User:ops --operation Alter --operation Describe --cluster"
  "--list"
  "--list --topic orders"
  "--list --topic logs-app --resource-pattern-type match"
  "--remove --force --allow-principal User:alice --operation Read --topic orders"
  "--remove --force --topic logs- --resource-pattern-type prefixed"
  "--list"
)

# Sort the ACL lines of each block and the blocks; drop the tools' log lines. After --add and
# --remove only what the tool says it adds is compared: the listing kafka-acls prints right after
# may not show the change yet on Kafka (KRaft applies ACLs asynchronously).
normalize() { # STEP
  /usr/bin/python3 -c '
import sys
changing = sys.argv[1].startswith(("--add", "--remove"))
blocks, cur = [], []
for line in sys.stdin.read().splitlines():
    line = line.strip(" \t")
    if not line:
        if cur: blocks.append(cur); cur = []
        continue
    if line.startswith(("Adding ACLs", "Current ACLs", "(principal=")):
        cur.append(line)
if cur: blocks.append(cur)
if changing:
    blocks = [b for b in blocks if b[0].startswith("Adding")]
for b in sorted([b[0]] + sorted(b[1:]) for b in blocks):
    print("\n".join(b)); print()
' "$1"
}

run_steps() { # TOOL BOOTSTRAP OUT
  local tool=$1 bs=$2 out=$3 i=0
  for s in "${steps[@]}"; do
    i=$((i + 1))
    set -f # the topic "*" stays a word
    # shellcheck disable=SC2086
    if [ "$tool" = kafka-acls ]; then
      "$rk" cli "$version" kafka-acls --bootstrap-server "$bs" $s </dev/null >"$out.$i.raw" 2>"$out.$i.err"
    else
      "$build/samsa" acls -b "$bs" $s </dev/null >"$out.$i.raw" 2>"$out.$i.err"
    fi
    set +f
    normalize "$s" <"$out.$i.raw" >"$out.$i"
  done
}

fail=0
for tool in kafka-acls samsa; do
  for broker in kafka samsa; do
    bs=$kafka; [ "$broker" = samsa ] && bs=$samsa
    echo "=== $tool against $broker ($bs)"
    run_steps "$tool" "$bs" "$dir/$tool-$broker"
    # start the next run from nothing
    "$build/samsa" acls -b "$bs" --remove --force --topic '*' --resource-pattern-type any >/dev/null 2>&1 || true
    for t in orders; do "$build/samsa" acls -b "$bs" --remove --force --topic "$t" >/dev/null 2>&1 || true; done
    "$build/samsa" acls -b "$bs" --remove --force --group billing >/dev/null 2>&1 || true
    "$build/samsa" acls -b "$bs" --remove --force --cluster >/dev/null 2>&1 || true
  done
done
for i in $(seq 1 ${#steps[@]}); do
  ref="$dir/kafka-acls-kafka.$i"
  case "${steps[$((i - 1))]}" in --remove*) ;; *) [ -s "$ref" ] || {
    echo "FAIL step $i: kafka-acls printed nothing on Kafka"
    cat "$ref.err"
    fail=1
  } ;; esac
  for other in kafka-acls-samsa samsa-kafka samsa-samsa; do
    if ! diff -u "$ref" "$dir/$other.$i" >"$dir/diff"; then
      echo "FAIL step $i (${steps[$((i - 1))]}): $other differs from kafka-acls on Kafka"
      cat "$dir/diff" "$dir/$other.$i.err"
      fail=1
    fi
  done
done
[ "$fail" = 0 ] && echo "acls compat: kafka-acls and samsa acls, against samsa and Kafka $version: ${#steps[@]} steps equal"
exit "$fail"
