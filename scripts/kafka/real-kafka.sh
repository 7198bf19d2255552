#!/usr/bin/env bash
# A real Apache Kafka (KRaft, single node) for tests, built from Maven Central's jars alone:
# no Apache download mirror, no Docker, no ZooKeeper.
#
#   real-kafka.sh fetch [VERSION]                        jars into $SAMSA_CACHE/kafka/VERSION/libs
#   real-kafka.sh start --dir DIR [--port P] [--version V] [--prop key=value]... [--secure]
#                                                        format + start in the background, wait
#                                                        until it answers Metadata, print
#                                                        BOOTSTRAP=127.0.0.1:P (pid in DIR/kafka.pid)
#                                                        --secure: SSL, SASL_SSL and SASL_PLAINTEXT
#                                                        listeners too (TLS material below), SCRAM
#                                                        users admin and noacl, PLAIN users admin
#                                                        and alice; StandardAuthorizer with super
#                                                        users ANONYMOUS, admin, alice (noacl has
#                                                        no ACL); prints SSL=, SASL_SSL=, SASL_PLAINTEXT=
#                                                        ports (also in DIR/kafka.ports)
#   real-kafka.sh tls                                    make (once) and print the directory of the
#                                                        test TLS material: ca.pem, server.pem/.key,
#                                                        server-keystore.pem (PEM key + chain),
#                                                        server.jks and truststore.jks (keytool,
#                                                        password samsa-test), client.pem/.key
#   real-kafka.sh stop --dir DIR                         SIGTERM, wait, SIGKILL after 30 s
#   real-kafka.sh cli VERSION TOOL [ARGS...]             one of Kafka's own CLI tools from the jars,
#                                                        TOOL as in bin/ (kafka-topics[.sh], ...)
#   real-kafka.sh classpath [VERSION]                    print the classpath (for javac/java)
#   real-kafka.sh versions                               print the default versions (newest first)
#
# Design: the jar set is what Maven resolves for the server (kafka_2.13), the tools (kafka-tools)
# and the log binding that Kafka's own distribution ships for that major version (reload4j for 3.x,
# log4j2 for 4.x). Downloads go to a cache outside the repo ($SAMSA_CACHE, default
# ~/.cache/samsa) under a lock, so parallel callers fetch once. The controller quorum is static
# (controller.quorum.voters), which both 3.9 and 4.x format without --standalone. Everything
# listens on 127.0.0.1 only.
set -euo pipefail

KAFKA_VERSIONS=(4.3.1 3.9.2) # newest 4.x and 3.9.x with every artifact on Maven Central (4.4.0 lacks kafka-tools)
DEFAULT_VERSION=${KAFKA_VERSION:-${KAFKA_VERSIONS[0]}}
CACHE=${SAMSA_CACHE:-$HOME/.cache/samsa}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}

die() { echo "real-kafka: $*" >&2; exit 1; }
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

vdir() { echo "$CACHE/kafka/$1"; }

# pom.xml whose runtime dependency closure is a runnable Kafka server + tools.
write_pom() {
  local v=$1 major=${1%%.*} logdeps
  if [ "$major" -ge 4 ]; then
    logdeps='
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.25.4</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.25.4</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-1.2-api</artifactId><version>2.25.4</version></dependency>'
  else
    logdeps='
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>'
  fi
  local a deps=""
  for a in kafka_2.13 kafka-server kafka-tools kafka-clients kafka-storage kafka-metadata \
           kafka-raft kafka-server-common kafka-group-coordinator; do
    deps+="
    <dependency><groupId>org.apache.kafka</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
  done
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>samsa.compat</groupId>
  <artifactId>real-kafka-$v</artifactId>
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
    echo "real-kafka: fetching Apache Kafka $v jars from Maven Central into $d" >&2
    write_pom "$v" >"$d/pom.xml"
    rm -rf "$d/libs.tmp"
    mvn -q -B -Dstyle.color=never -f "$d/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$d/libs.tmp" >&2 \
      || die "maven could not resolve Kafka $v (see output above)"
    # Class index of Kafka's own jars: `cli` picks each tool's main class from it, since tools
    # moved between kafka_2.13 (Scala) and kafka-tools (Java) across versions.
    local j
    for j in "$d"/libs.tmp/kafka*.jar; do
      unzip -Z1 "$j" 2>/dev/null | grep -E '\.class$' | grep -v '\$' | sed 's/\.class$//; s#/#.#g'
    done >"$d/classes.txt"
    rm -rf "$d/libs" && mv "$d/libs.tmp" "$d/libs"
    write_log_configs "$d"
    touch "$d/.complete"
  ) 9>"$d/.lock"
}

# Logging for the server (to a file) and for the CLI tools (warnings to stderr), in both the
# log4j 1 (3.x) and log4j2 (4.x) formats, so one start line works for either.
write_log_configs() {
  local d=$1
  cat >"$d/server-log4j.properties" <<'EOF'
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka.clients=WARN
EOF
  cat >"$d/server-log4j2.properties" <<'EOF'
appender.file.type=File
appender.file.name=file
appender.file.fileName=${sys:kafka.logs.dir}/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
logger.clients.name=org.apache.kafka.clients
logger.clients.level=WARN
EOF
  cat >"$d/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  cat >"$d/tools-log4j2.properties" <<'EOF'
appender.stderr.type=Console
appender.stderr.name=stderr
appender.stderr.target=SYSTEM_ERR
appender.stderr.layout.type=PatternLayout
appender.stderr.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.stderr.ref=stderr
EOF
}

classpath() { echo "$(vdir "$1")/libs/*"; }

# Test TLS material, made once under a lock in $CACHE/tls with openssl and the JDK's keytool: a CA,
# a server certificate for localhost/127.0.0.1 (PEM, PEM keystore, JKS keystore) and a client
# certificate. The same files serve samsa (PEM) and Kafka (JKS), so one client config fits both.
TLS_PASSWORD=samsa-test
cmd_tls() {
  local t="$CACHE/tls"
  mkdir -p "$t"
  (
    flock -w 120 9 || die "timed out waiting for another tls set-up"
    [ -f "$t/.complete" ] && exit 0
    cd "$t"
    command -v keytool >/dev/null || die "keytool not found (apt-get install openjdk-17-jdk-headless)"
    rm -f ./*.pem ./*.key ./*.jks ./*.p12 ./*.csr ./*.srl
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=samsa test CA" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.cnf
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 3650 \
      -extfile san.cnf 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/O=samsa/CN=client" 2>/dev/null
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 3650 2>/dev/null
    cat server.key server.pem >server-keystore.pem
    openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -name server \
      -passout "pass:$TLS_PASSWORD" -out server.p12
    keytool -importkeystore -noprompt -srckeystore server.p12 -srcstoretype PKCS12 -srcstorepass "$TLS_PASSWORD" \
      -destkeystore server.jks -deststoretype JKS -deststorepass "$TLS_PASSWORD" >/dev/null 2>&1
    keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.jks -storetype JKS \
      -storepass "$TLS_PASSWORD" >/dev/null 2>&1
    touch .complete
  ) 9>"$t/.lock" || exit 1
  echo "$t"
}

# java for a tool (main class first in "$@"): small heap, tool logging to stderr. Class-data
# sharing makes each later start ~3x quicker (a JVM start is most of a CLI call): the first run of
# a main class dumps the classes it loaded to DIR/cds/<class>.jsa (kept only after a clean exit);
# an archive that does not match is ignored silently (-Xlog:cds=off).
java_tool() {
  local v=$1 d jsa rc=0 cds
  shift
  d=$(vdir "$v")
  mkdir -p "$d/cds"
  jsa="$d/cds/$1.jsa"
  if [ -s "$jsa" ]; then
    cds=(-XX:SharedArchiveFile="$jsa")
  else
    cds=(-XX:ArchiveClassesAtExit="$jsa.$$")
  fi
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "${cds[@]}" -Xlog:cds=off -Xlog:cds+dynamic=off \
    -Dlog4j.configuration="file:$d/tools-log4j.properties" \
    -Dlog4j2.configurationFile="$d/tools-log4j2.properties" \
    -cp "$(classpath "$v")" "$@" || rc=$?
  if [ -f "$jsa.$$" ]; then
    if [ $rc -eq 0 ] && [ -s "$jsa.$$" ]; then mv -f "$jsa.$$" "$jsa"; else rm -f "$jsa.$$"; fi
  fi
  return $rc
}

# The main class behind a bin/ script name, first candidate present in this version's jars.
tool_class() {
  local v=$1 tool=${2%.sh} c candidates
  case "$tool" in
    kafka-topics) candidates="org.apache.kafka.tools.TopicCommand kafka.admin.TopicCommand" ;;
    kafka-console-producer) candidates="org.apache.kafka.tools.ConsoleProducer kafka.tools.ConsoleProducer" ;;
    kafka-console-consumer) candidates="org.apache.kafka.tools.consumer.ConsoleConsumer kafka.tools.ConsoleConsumer" ;;
    kafka-consumer-groups) candidates="org.apache.kafka.tools.consumer.group.ConsumerGroupCommand kafka.admin.ConsumerGroupCommand" ;;
    kafka-configs) candidates="org.apache.kafka.tools.ConfigCommand kafka.admin.ConfigCommand" ;;
    kafka-storage) candidates="org.apache.kafka.tools.StorageTool kafka.tools.StorageTool" ;;
    kafka-metadata-quorum) candidates="org.apache.kafka.tools.MetadataQuorumCommand" ;;
    kafka-broker-api-versions) candidates="org.apache.kafka.tools.BrokerApiVersionsCommand kafka.admin.BrokerApiVersionsCommand" ;;
    kafka-get-offsets) candidates="org.apache.kafka.tools.GetOffsetShell kafka.tools.GetOffsetShell" ;;
    kafka-delete-records) candidates="org.apache.kafka.tools.DeleteRecordsCommand kafka.admin.DeleteRecordsCommand" ;;
    kafka-producer-perf-test) candidates="org.apache.kafka.tools.ProducerPerformance" ;;
    kafka-consumer-perf-test) candidates="org.apache.kafka.tools.ConsumerPerformance kafka.tools.ConsumerPerformance" ;;
    kafka-leader-election) candidates="org.apache.kafka.tools.LeaderElectionCommand" ;;
    kafka-transactions) candidates="org.apache.kafka.tools.TransactionsCommand" ;;
    kafka-features) candidates="org.apache.kafka.tools.FeatureCommand kafka.admin.FeatureCommand" ;;
    kafka-acls) candidates="org.apache.kafka.tools.AclCommand kafka.admin.AclCommand" ;;
    *) die "unknown tool '$2' (kafka-topics, kafka-console-producer, kafka-console-consumer, kafka-consumer-groups, kafka-configs, kafka-storage, ...)" ;;
  esac
  for c in $candidates; do
    if grep -qxF "$c" "$(vdir "$v")/classes.txt"; then echo "$c"; return 0; fi
  done
  die "no main class for $tool in Kafka $v (tried: $candidates)"
}

cmd_cli() {
  [ $# -ge 2 ] || usage
  local v=$1 tool=$2 cls
  shift 2
  cmd_fetch "$v"
  cls=$(tool_class "$v" "$tool")
  java_tool "$v" "$cls" "$@"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding (22 characters).
random_cluster_id() {
  head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

cmd_start() {
  local dir="" port="" v=$DEFAULT_VERSION props=() secure=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) dir=$2; shift 2 ;;
      --port) port=$2; shift 2 ;;
      --version) v=$2; shift 2 ;;
      --prop) [[ "$2" == *=* ]] || die "--prop wants key=value"; props+=("$2"); shift 2 ;;
      --secure) secure=1; shift ;;
      *) usage ;;
    esac
  done
  [ -n "$dir" ] || usage
  cmd_fetch "$v"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
    die "a Kafka already runs from $dir (pid $(cat "$dir/kafka.pid")); stop it first"
  fi
  [ -n "$port" ] || port=$(free_port)
  local cport d
  cport=$(free_port)
  while [ "$cport" = "$port" ]; do cport=$(free_port); done
  d=$(vdir "$v")
  rm -rf "$dir/data" "$dir/logs"
  mkdir -p "$dir/data" "$dir/logs"
  local listeners="PLAINTEXT://127.0.0.1:$port" sslp="" saslsslp="" saslp="" tls="" format_extra=()
  if [ $secure = 1 ]; then
    tls=$(cmd_tls)
    sslp=$(free_port) saslsslp=$(free_port) saslp=$(free_port)
    listeners+=",SSL://127.0.0.1:$sslp,SASL_SSL://127.0.0.1:$saslsslp,SASL_PLAINTEXT://127.0.0.1:$saslp"
    # The password quoted: Kafka's parser keeps the value's text as it is between the quotes.
    format_extra=(--add-scram 'SCRAM-SHA-256=[name=admin,password="admin-secret"]'
                  --add-scram 'SCRAM-SHA-512=[name=admin,password="admin-secret"]'
                  --add-scram 'SCRAM-SHA-256=[name=noacl,password="noacl-secret"]'
                  --add-scram 'SCRAM-SHA-512=[name=noacl,password="noacl-secret"]')
  fi
  cat >"$dir/server.properties" <<EOF
# Written by scripts/kafka/real-kafka.sh: single-node KRaft Apache Kafka $v for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=$listeners,CONTROLLER://127.0.0.1:$cport
advertised.listeners=$listeners
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
group.initial.rebalance.delay.ms=0
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
EOF
  if [ $secure = 1 ]; then
    local plain='org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";'
    local scram='org.apache.kafka.common.security.scram.ScramLoginModule required;' l
    {
      echo "ssl.keystore.type=JKS"
      echo "ssl.keystore.location=$tls/server.jks"
      echo "ssl.keystore.password=$TLS_PASSWORD"
      echo "ssl.key.password=$TLS_PASSWORD"
      echo "ssl.truststore.type=JKS"
      echo "ssl.truststore.location=$tls/truststore.jks"
      echo "ssl.truststore.password=$TLS_PASSWORD"
      echo "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
      # ACLs on, every principal but noacl (and users made later) a super user
      echo "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
      echo "super.users=User:ANONYMOUS;User:admin;User:alice"
      for l in sasl_ssl sasl_plaintext; do
        echo "listener.name.$l.plain.sasl.jaas.config=$plain"
        echo "listener.name.$l.scram-sha-256.sasl.jaas.config=$scram"
        echo "listener.name.$l.scram-sha-512.sasl.jaas.config=$scram"
      done
    } >>"$dir/server.properties"
  fi
  # --prop overrides: a later key wins in a Java properties file.
  [ ${#props[@]} -eq 0 ] || printf '%s\n' "${props[@]}" >>"$dir/server.properties"
  local cid
  cid=$(random_cluster_id)
  java_tool "$v" "$(tool_class "$v" kafka-storage)" format -t "$cid" -c "$dir/server.properties" "${format_extra[@]}" \
    >"$dir/logs/format.log" 2>&1 || { cat "$dir/logs/format.log" >&2; die "kafka-storage format failed"; }

  # setsid: the broker outlives this script and is not hit by the caller's Ctrl-C / job control.
  setsid java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$dir/logs" \
    -Dlog4j.configuration="file:$d/server-log4j.properties" \
    -Dlog4j2.configurationFile="$d/server-log4j2.properties" \
    -cp "$(classpath "$v")" kafka.Kafka "$dir/server.properties" \
    >"$dir/logs/stdout.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/kafka.pid"
  echo "$v" >"$dir/kafka.version"

  # Ready = the broker answers Metadata and lists itself (it is registered and unfenced).
  local deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$dir/logs/stdout.log" "$dir/logs/server.log" >&2 2>/dev/null || true
      rm -f "$dir/kafka.pid"
      die "Kafka $v exited during start-up (logs in $dir/logs)"
    fi
    if kcat -L -b "127.0.0.1:$port" -m 3 2>/dev/null | grep -q '^ *1 brokers:'; then
      break
    fi
    if [ $SECONDS -ge $deadline ]; then
      cmd_stop --dir "$dir" || true
      die "Kafka $v did not answer Metadata on 127.0.0.1:$port within ${START_TIMEOUT}s (logs in $dir/logs)"
    fi
    sleep 0.5
  done
  echo "$port" >"$dir/kafka.port"
  echo "BOOTSTRAP=127.0.0.1:$port"
  if [ $secure = 1 ]; then
    printf 'SSL=%s\nSASL_SSL=%s\nSASL_PLAINTEXT=%s\nTLS_DIR=%s\n' "$sslp" "$saslsslp" "$saslp" "$tls" | tee "$dir/kafka.ports"
  fi
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
  [ -f "$dir/kafka.pid" ] || { echo "real-kafka: nothing running from $dir" >&2; return 0; }
  local pid i
  pid=$(cat "$dir/kafka.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "real-kafka: pid $pid still up after 30 s, killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/kafka.pid"
}

[ $# -ge 1 ] || usage
sub=$1
shift
case "$sub" in
  fetch) cmd_fetch "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  cli) cmd_cli "$@" ;;
  tls) cmd_tls ;;
  classpath) cmd_fetch "${1:-$DEFAULT_VERSION}"; classpath "${1:-$DEFAULT_VERSION}" ;;
  versions) printf '%s\n' "${KAFKA_VERSIONS[@]}" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
