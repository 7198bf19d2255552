#!/usr/bin/env bash
# Kafka Connect (distributed mode) from Maven Central's jars alone, for tests: no Docker, no
# Apache download mirror.
#
#   connect.sh fetch [VERSION]                    jars into $SAMSA_CACHE/connect/VERSION/libs
#   connect.sh start --dir DIR --bootstrap HOST:PORT [--version V] [--port P]
#                                                 a distributed worker in the background (its
#                                                 config, offset and status topics are compacted
#                                                 topics it creates), wait until its REST API
#                                                 answers, print REST=http://127.0.0.1:P
#   connect.sh stop --dir DIR                     SIGTERM, wait, SIGKILL after 30 s
#
# Design: the jar set is what Maven resolves for connect-runtime, connect-file (the FileStream
# connectors) and connect-json (JsonConverter), plus the log binding Kafka ships for that major
# version, as scripts/kafka/real-kafka.sh does for the broker. The cache ($SAMSA_CACHE, default
# ~/.cache/samsa) is shared with real-kafka.sh's Maven repository; fetches are under a lock. The
# REST API listens on 127.0.0.1 only.
set -euo pipefail

DEFAULT_VERSION=${CONNECT_VERSION:-4.3.1}
CACHE=${SAMSA_CACHE:-$HOME/.cache/samsa}
START_TIMEOUT=${CONNECT_START_TIMEOUT:-180}

die() { echo "connect: $*" >&2; exit 1; }
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
vdir() { echo "$CACHE/connect/$1"; }

write_pom() {
  local v=$1 major=${1%%.*} logdeps a deps=""
  if [ "$major" -ge 4 ]; then
    logdeps='
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>2.25.4</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.25.4</version></dependency>'
  else
    logdeps='
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>'
  fi
  for a in connect-runtime connect-file connect-json; do
    deps+="
    <dependency><groupId>org.apache.kafka</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
  done
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>samsa.compat</groupId>
  <artifactId>kafka-connect-$v</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>$deps$logdeps
  </dependencies>
</project>
EOF
}

cmd_fetch() {
  local v=${1:-$DEFAULT_VERSION} d
  d=$(vdir "$v")
  [ -f "$d/.complete" ] && return 0
  mkdir -p "$d"
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  (
    flock -w 900 9 || die "timed out waiting for another fetch of $v"
    [ -f "$d/.complete" ] && exit 0
    echo "connect: fetching Kafka Connect $v jars from Maven Central into $d" >&2
    write_pom "$v" >"$d/pom.xml"
    rm -rf "$d/libs.tmp"
    mvn -q -B -Dstyle.color=never -f "$d/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$d/libs.tmp" >&2 \
      || die "maven could not resolve Kafka Connect $v (see output above)"
    rm -rf "$d/libs" && mv "$d/libs.tmp" "$d/libs"
    cat >"$d/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${connect.logs.dir}/connect.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.reflections=ERROR
EOF
    cat >"$d/log4j2.properties" <<'EOF'
appender.file.type=File
appender.file.name=file
appender.file.fileName=${sys:connect.logs.dir}/connect.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
logger.reflections.name=org.reflections
logger.reflections.level=ERROR
EOF
    touch "$d/.complete"
  ) 9>"$d/.lock"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

cmd_start() {
  local dir="" bootstrap="" port="" v=$DEFAULT_VERSION
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) dir=$2; shift 2 ;;
      --bootstrap) bootstrap=$2; shift 2 ;;
      --port) port=$2; shift 2 ;;
      --version) v=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  [ -n "$dir" ] && [ -n "$bootstrap" ] || usage
  cmd_fetch "$v"
  mkdir -p "$dir/logs"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/connect.pid" ] && kill -0 "$(cat "$dir/connect.pid")" 2>/dev/null; then
    die "a Connect worker already runs from $dir; stop it first"
  fi
  [ -n "$port" ] || port=$(free_port)
  local d
  d=$(vdir "$v")
  cat >"$dir/worker.properties" <<EOF
# Written by scripts/kafka/connect.sh: one distributed Kafka Connect $v worker for tests.
bootstrap.servers=$bootstrap
group.id=samsa-connect
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
config.storage.topic=connect-configs
config.storage.replication.factor=1
offset.storage.topic=connect-offsets
offset.storage.replication.factor=1
offset.storage.partitions=5
status.storage.topic=connect-status
status.storage.replication.factor=1
status.storage.partitions=1
offset.flush.interval.ms=1000
listeners=http://127.0.0.1:$port
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$port
EOF
  setsid java -Xms128m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dconnect.logs.dir="$dir/logs" \
    -Dlog4j.configuration="file:$d/log4j.properties" \
    -Dlog4j2.configurationFile="$d/log4j2.properties" \
    -cp "$d/libs/*" org.apache.kafka.connect.cli.ConnectDistributed "$dir/worker.properties" \
    >"$dir/logs/stdout.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/connect.pid"
  local deadline=$((SECONDS + START_TIMEOUT))
  # Ready = the REST API lists the connector plugins (the herder has joined its group).
  until curl -fsS "http://127.0.0.1:$port/connector-plugins" 2>/dev/null | grep -q FileStreamSource; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$dir/logs/stdout.log" "$dir/logs/connect.log" >&2 2>/dev/null || true
      rm -f "$dir/connect.pid"
      die "Kafka Connect exited during start-up (logs in $dir/logs)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      cmd_stop --dir "$dir" || true
      die "Kafka Connect did not answer on 127.0.0.1:$port within ${START_TIMEOUT}s (logs in $dir/logs)"
    fi
    sleep 0.5
  done
  echo "$port" >"$dir/connect.port"
  echo "REST=http://127.0.0.1:$port"
}

cmd_stop() {
  local dir=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) dir=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  [ -n "$dir" ] || usage
  [ -f "$dir/connect.pid" ] || return 0
  local pid i
  pid=$(cat "$dir/connect.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/connect.pid"
}

[ $# -ge 1 ] || usage
sub=$1
shift
case "$sub" in
  fetch) cmd_fetch "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
