"""Compat client: Apache Kafka's own CLI tools (kafka-topics, kafka-console-producer/consumer,
kafka-consumer-groups, kafka-configs, kafka-get-offsets, kafka-broker-api-versions), run from the
Maven Central jars by scripts/kafka/real-kafka.sh cli. The admin scenarios use the lab's exact
kafka-topics commands (3 partitions, --replication-factor 1, --config retention.ms=604800000), only
the topic name differs. Each tool is a JVM start (~1 s), so steps are few. Protocol and
scenarios: compat_common.py and README.md."""

import argparse
import os
import re
import subprocess
import sys
import time

from compat_common import WARM, Fail, Skip, check_values, main, noacl_scenario, parse_produce, secure_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
REAL_KAFKA = os.path.join(ROOT, "scripts", "kafka", "real-kafka.sh")
VERSION = "4.3.1"


def describe():
    return "Kafka CLI tools %s" % VERSION


# The Java client's exception when the broker's authorizer refuses a request (Topic-, Group-,
# Cluster-, TransactionalIdAuthorizationException), as the tools log it.
AUTHZ = re.compile(r"\b\w+AuthorizationException\b.*")


def tool(ctx, name, args, stdin=None, ok_rc=(0,)):
    """Runs one Kafka CLI tool; returns (stdout, stderr); a bad exit code is a Fail with its error,
    and so is an authorization refusal whatever the exit code (the console producer logs a refused
    send and exits 0; the console consumer's exit 1 is also its timeout's)."""
    try:
        r = subprocess.run([REAL_KAFKA, "cli", VERSION, name, "--bootstrap-server", ctx.bootstrap] + args,
                           input=stdin, text=True, timeout=max(1, ctx.left()) + 5,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired as e:
        raise Fail("%s timed out; stderr: %s" % (name, first_error(e.stderr)))
    refused = AUTHZ.search(r.stderr + r.stdout)
    if refused:
        raise Fail("%s refused: %s" % (name, refused.group(0).strip()[:300]))
    if r.returncode not in ok_rc:
        raise Fail("%s %s exit %d: %s" % (name, " ".join(args[:2]), r.returncode, first_error(r.stderr + r.stdout)))
    return r.stdout, r.stderr


def first_error(s):
    if isinstance(s, bytes):
        s = s.decode(errors="replace")
    lines = [x.strip() for x in (s or "").splitlines() if x.strip()]
    for x in lines:
        if "ERROR" in x or "Exception" in x or "Error" in x:
            return re.sub(r"^\[[-0-9 :,]+\] ", "", x)[:300]  # drop log4j's timestamp
    return lines[-1][:300] if lines else "no output"


def produce(ctx, topic, values, props=()):
    """Console producer; every value under one key, so they land in one partition, in order."""
    args = ["--topic", topic, "--property", "parse.key=true", "--property", "key.separator=:",
            "--producer-property", "delivery.timeout.ms=12000", "--producer-property", "request.timeout.ms=5000",
            "--producer-property", "linger.ms=5"]
    for p in props:
        args += ["--producer-property", p]
    _, err = tool(ctx, "kafka-console-producer", args, "".join("k:%s\n" % v for v in values))
    if "Error when sending" in err or " ERROR " in err:
        raise Fail("console producer: %s" % first_error(err))


def end_offsets(ctx, topic):
    out, _ = tool(ctx, "kafka-get-offsets", ["--topic", topic])
    res = {}
    for line in out.splitlines():
        m = re.match(r"^(.*):(\d+):(\d+)$", line.strip())
        if m and m.group(1) == topic:
            res[int(m.group(2))] = int(m.group(3))
    return res


def consume(ctx, topic, n, partition=None, offset="earliest", group=None, timeout_ms=8000, props=()):
    args = ["--topic", topic, "--max-messages", str(n), "--timeout-ms", str(timeout_ms)]
    for p in props:
        args += ["--consumer-property", p]
    if partition is not None:
        args += ["--partition", str(partition), "--offset", str(offset)]
    elif group is not None:
        args += ["--group", group, "--consumer-property", "auto.offset.reset=earliest"]
    # A timeout with fewer messages is exit 0 in 4.x (and 1 in some 3.x): judge by what arrived.
    out, _ = tool(ctx, "kafka-console-consumer", args, ok_rc=(0, 1))
    # Only our values (one word each): 4.x prints a KIP-848 notice on stdout when a group is used.
    return [x for x in out.splitlines() if re.fullmatch(r"[a-z][\w-]*", x)]


def the_partition(ctx, topic, n):
    """The one partition holding the n produced messages (all under one key)."""
    def find():
        offs = end_offsets(ctx, topic)
        full = [p for p, o in offs.items() if o >= n]
        return full[:1]
    return ctx.wait_until("%d messages in one partition of %s (kafka-get-offsets)" % (n, topic), find, 0.5)[0]


def sc_metadata(ctx):
    out, _ = tool(ctx, "kafka-broker-api-versions", [])
    if not re.search(r"\(id: \d+ rack", out):
        raise Fail("kafka-broker-api-versions lists no broker: %s" % out[:200])
    tool(ctx, "kafka-topics", ["--list"])


def sc_produce(ctx, acks, codec):
    topic = ctx.name()
    values = ["v%d-%s" % (i, codec) for i in range(20)]
    if acks == 0:
        produce(ctx, topic, [WARM], ["acks=all"])  # see compat_common.WARM
        values = [WARM] + values
    produce(ctx, topic, values[-20:], ["acks=%s" % ("all" if acks == -1 else acks), "compression.type=%s" % codec])
    p = the_partition(ctx, topic, len(values))
    check_values(consume(ctx, topic, len(values), partition=p), values, "read back")


def sc_fetch(ctx):
    topic = ctx.name()
    values = ["f%d" % i for i in range(50)]
    produce(ctx, topic, values, ["acks=all"])
    p = the_partition(ctx, topic, 50)
    got = consume(ctx, topic, 50, partition=p)
    if got != values:
        raise Fail("from offset 0: got %r..., want f0..f49 in order" % got[:5])
    got = consume(ctx, topic, 25, partition=p, offset=25)
    if got != values[25:]:
        raise Fail("from offset 25 (inside a batch): got %r..., want f25.." % got[:3])


def sc_group_join(ctx):
    topic = ctx.name()
    values = ["g%d" % i for i in range(30)]
    produce(ctx, topic, values, ["acks=all"])
    check_values(consume(ctx, topic, 30, group=ctx.name("group")), values, "group consume")


def group_offsets(ctx, group):
    """{partition: (current, log_end)} from kafka-consumer-groups --describe."""
    out, _ = tool(ctx, "kafka-consumer-groups", ["--describe", "--group", group], ok_rc=(0,))
    res = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5 and f[0] == group and f[2].isdigit():
            res[int(f[2])] = (int(f[3]) if f[3].isdigit() else -1, int(f[4]) if f[4].isdigit() else -1)
    return res


def sc_group_commit(ctx, more=False):
    topic, group = ctx.name(), ctx.name("group")
    first = ["c%d" % i for i in range(30)]
    produce(ctx, topic, first, ["acks=all"])
    check_values(consume(ctx, topic, 30, group=group), first, "group consume")
    offs = group_offsets(ctx, group)
    total = sum(c for c, _ in offs.values() if c > 0)
    if total != 30:
        raise Fail("kafka-consumer-groups shows committed offsets summing to %d, want 30: %r" % (total, offs))
    if more:
        second = ["b%d" % i for i in range(10)]
        produce(ctx, topic, second, ["acks=all"])
        got = consume(ctx, topic, 11, group=group, timeout_ms=5000)
        check_values(got, second, "resumed consume (only the 10 new messages)")


def sc_group_rebalance(ctx):
    topic, group = ctx.name(), ctx.name("group")
    produce(ctx, topic, ["r%d" % i for i in range(6)], ["acks=all"])  # auto-creates it
    nparts = len(end_offsets(ctx, topic))
    if nparts < 2:
        raise Skip("auto-created topic has %d partition(s); rebalance needs 2+" % nparts)
    procs = []
    try:
        for _ in range(2):
            procs.append(subprocess.Popen(
                [REAL_KAFKA, "cli", VERSION, "kafka-console-consumer", "--bootstrap-server", ctx.bootstrap,
                 "--topic", topic, "--group", group], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True))

        def balanced():
            for p in procs:
                if p.poll() is not None:
                    raise Fail("a console consumer exited with %d" % p.returncode)
            out, _ = tool(ctx, "kafka-consumer-groups", ["--describe", "--group", group, "--members", "--verbose"])
            # GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS ...: the assignment column's format
            # differs between 3.x and 4.x, the count does not.
            counts = [int(f[4]) for f in (x.split() for x in out.splitlines())
                      if len(f) > 4 and f[0] == group and f[4].isdigit()]
            return len(counts) == 2 and min(counts) >= 1 and sum(counts) == nparts
        ctx.wait_until("2 members sharing all %d partitions in kafka-consumer-groups --members" % nparts,
                       balanced, 1)
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, 15)
            except ProcessLookupError:
                pass
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()


LAB_CREATE = ["--partitions", "3", "--replication-factor", "1", "--config", "retention.ms=604800000"]


def describe_topic(ctx, topic):
    out, _ = tool(ctx, "kafka-topics", ["--describe", "--topic", topic])
    m = re.search(r"PartitionCount:\s*(\d+)", out)
    return int(m.group(1)) if m else 0


def topic_config(ctx, topic, key):
    out, _ = tool(ctx, "kafka-configs", ["--entity-type", "topics", "--entity-name", topic, "--describe"])
    m = re.search(r"\b%s=(\S+)" % re.escape(key), out)
    return m.group(1) if m else None


def create(ctx, topic):
    # The lab's command: kafka-topics.sh --create --topic T --bootstrap-server B --partitions 3
    #   --replication-factor 1 --config retention.ms=604800000
    tool(ctx, "kafka-topics", ["--create", "--topic", topic] + LAB_CREATE)
    n = ctx.wait_until("topic in kafka-topics --describe", lambda: describe_topic(ctx, topic), 0.5)
    if n != 3:
        raise Fail("kafka-topics --describe shows PartitionCount %d, want 3" % n)


def sc_admin_create(ctx):
    create(ctx, ctx.name())


def sc_admin_describe(ctx):
    topic = ctx.name()
    create(ctx, topic)
    out, _ = tool(ctx, "kafka-topics", ["--list"])
    if topic not in out.split():
        raise Fail("kafka-topics --list does not show %s" % topic)
    v = topic_config(ctx, topic, "retention.ms")
    if v != "604800000":
        raise Fail("kafka-configs --describe: retention.ms=%r, want 604800000" % v)


def sc_admin_alter(ctx):
    topic = ctx.name()
    create(ctx, topic)
    tool(ctx, "kafka-configs", ["--entity-type", "topics", "--entity-name", topic, "--alter",
                                "--add-config", "retention.ms=86400000"])
    ctx.wait_until("retention.ms=86400000 in kafka-configs --describe",
                   lambda: topic_config(ctx, topic, "retention.ms") == "86400000", 0.5)
    tool(ctx, "kafka-topics", ["--alter", "--topic", topic, "--partitions", "4"])
    ctx.wait_until("PartitionCount 4", lambda: describe_topic(ctx, topic) == 4, 0.5)


def sc_admin_delete(ctx):
    topic = ctx.name()
    create(ctx, topic)
    tool(ctx, "kafka-topics", ["--delete", "--topic", topic])
    ctx.wait_until("topic gone from kafka-topics --list",
                   lambda: topic not in tool(ctx, "kafka-topics", ["--list"])[0].split(), 0.5)


def sc_idempotent(ctx):
    topic = ctx.name()
    values = ["i%d" % i for i in range(50)]
    produce(ctx, topic, values, ["enable.idempotence=true", "acks=all"])
    p = the_partition(ctx, topic, 50)
    got = consume(ctx, topic, 51, partition=p, timeout_ms=3000)
    if got != values:
        raise Fail("read back %d values, want i0..i49 once each in order (first: %r)" % (len(got), got[:3]))


def sc_admin_broker(ctx):
    """kafka-configs on the brokers' cluster-wide default (--entity-default): set log.retention.ms
    (to its default value, harmless for the other clients running at once), see it as the
    DYNAMIC_DEFAULT_BROKER_CONFIG of a topic that does not set its own, delete it again."""
    topic = ctx.name()
    produce(ctx, topic, ["b0"])
    broker = ["--entity-type", "brokers", "--entity-default"]
    tool(ctx, "kafka-configs", broker + ["--alter", "--add-config", "log.retention.ms=604800000"])
    try:
        def described():
            out, _ = tool(ctx, "kafka-configs", ["--entity-type", "topics", "--entity-name", topic,
                                                 "--describe", "--all"])
            m = re.search(r"^\s*retention\.ms=(\S+) .*synonyms=\{([^}]*)\}", out, re.M)
            return m and m.group(1) == "604800000" and m.group(2).startswith(
                "DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=604800000")
        ctx.wait_until("retention.ms from DYNAMIC_DEFAULT_BROKER_CONFIG in kafka-configs --describe --all",
                       described, 0.5)
        out, _ = tool(ctx, "kafka-configs", broker + ["--describe"])
        if "log.retention.ms=604800000" not in out:
            raise Fail("kafka-configs --entity-default --describe does not list it: %s" % first_error(out))
    finally:
        tool(ctx, "kafka-configs", broker + ["--alter", "--delete-config", "log.retention.ms"])


# ---- transactions: kafka-producer-perf-test --transactional-id (the CLI's only transactional
# producer: it commits, it never aborts), the console consumer's --isolation-level, and
# kafka-transactions -------------------------------------------------------------------------------


def perf_args(topic, n, txid, throughput, duration_ms):
    return ["--topic", topic, "--num-records", str(n), "--payload-monotonic", "--throughput", str(throughput),
            "--transactional-id", txid, "--transaction-duration-ms", str(duration_ms),
            "--command-property", "acks=all", "linger.ms=5", "transaction.timeout.ms=60000"]


def consume_numbers(ctx, topic, n, isolation, timeout_ms):
    """The console consumer from the beginning at isolation; the monotonic payloads it printed."""
    args = ["--topic", topic, "--from-beginning", "--isolation-level", isolation, "--max-messages", str(n),
            "--timeout-ms", str(timeout_ms)]
    out, _ = tool(ctx, "kafka-console-consumer", args, ok_rc=(0, 1))
    return [x for x in out.splitlines() if re.fullmatch(r"\d+", x)]


def sc_txn_commit(ctx):
    topic, txid = ctx.name(), ctx.name("tx")
    _, err = tool(ctx, "kafka-producer-perf-test", perf_args(topic, 20, txid, -1, 100))
    if "ERROR" in err:
        raise Fail("kafka-producer-perf-test: %s" % first_error(err))
    got = consume_numbers(ctx, topic, 20, "read_committed", 8000)
    check_values(got, [str(i) for i in range(20)], "read_committed after the commits")
    out, _ = tool(ctx, "kafka-transactions", ["list"])
    if not any(line.split()[:1] == [txid] and "CompleteCommit" in line for line in out.splitlines()):
        raise Fail("kafka-transactions list does not show %s in CompleteCommit: %s" % (txid, out[-300:]))
    out, _ = tool(ctx, "kafka-transactions", ["describe", "--transactional-id", txid])
    if "CompleteCommit" not in out:
        raise Fail("kafka-transactions describe: %s" % out[-300:])
    # DescribeProducers of every partition of the topic: nothing left open
    out, _ = tool(ctx, "kafka-transactions", ["find-hanging", "--topic", topic])
    rows = [x for x in out.splitlines() if x.strip()]
    if not rows or not rows[0].startswith("Topic") or len(rows) > 1:
        raise Fail("kafka-transactions find-hanging: %s" % out[-300:])


def sc_read_committed(ctx):
    """One transaction of 10 records at 1 record/s: while it is open, read_committed reads none of
    them (the records are in the log: kafka-get-offsets counts them); once it commits, all 10."""
    topic, txid = ctx.name(), ctx.name("tx")
    ctx.deadline += 15  # the producer takes 10 s by design
    p = subprocess.Popen([REAL_KAFKA, "cli", VERSION, "kafka-producer-perf-test", "--bootstrap-server",
                          ctx.bootstrap] + perf_args(topic, 10, txid, 1, 60000),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        def in_log():
            try:
                return sum(end_offsets(ctx, topic).values()) >= 2
            except Fail:  # the topic does not exist yet
                return False
        ctx.wait_until("records of the open transaction in the log (kafka-get-offsets)", in_log, 0.5)
        early = consume_numbers(ctx, topic, 10, "read_committed", 1500)
        if early and p.poll() is None:
            raise Fail("read_committed saw %r of a transaction still open" % early[:3])
        try:
            p.wait(timeout=max(1, ctx.left()))
        except subprocess.TimeoutExpired:
            raise Fail("kafka-producer-perf-test did not finish")
        if p.returncode != 0:
            raise Fail("kafka-producer-perf-test exit %d: %s" % (p.returncode, first_error(p.stderr.read())))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    got = consume_numbers(ctx, topic, 10, "read_committed", 8000)
    check_values(got, [str(i) for i in range(10)], "read_committed after the commit")


def no_aborting_producer(ctx):
    raise Skip("Kafka's CLI tools have no transactional producer that aborts or is fenced")


SCENARIOS = {
    "txn.commit": sc_txn_commit, "read_committed": sc_read_committed,
    "txn.abort": no_aborting_producer, "txn.fence": no_aborting_producer,
    "metadata": sc_metadata, "fetch": sc_fetch, "idempotent": sc_idempotent,
    "group.join": sc_group_join, "group.rebalance": sc_group_rebalance,
    "group.commit": sc_group_commit, "group.resume": lambda ctx: sc_group_commit(ctx, more=True),
    "admin.create": sc_admin_create, "admin.describe": sc_admin_describe,
    "admin.alter": sc_admin_alter, "admin.delete": sc_admin_delete,
    "admin.broker": sc_admin_broker,
}


def sc_secure(ctx):
    def roundtrip(sec, topic, values):
        ctx.bootstrap = sec.bootstrap
        props = ["%s=%s" % kv for kv in sec.java().items()]
        produce(ctx, topic, values, props + ["max.block.ms=8000"])
        got = consume(ctx, topic, len(values), group=ctx.name("g"), props=props)
        if sec.bad:
            raise RuntimeError("a wrong password produced and read %d records" % len(got))
        return got

    def read_group(sec, topic, group, n, extra_wait):
        # The console consumer waits --timeout-ms after its last record, so one more than n with
        # a short timeout is the wait for records that should not be there.
        ctx.bootstrap = sec.bootstrap
        props = ["%s=%s" % kv for kv in sec.java().items()]
        if extra_wait:
            return consume(ctx, topic, n + 1, group=group, props=props, timeout_ms=int(max(extra_wait, 4) * 1000))
        return consume(ctx, topic, n, group=group, props=props)

    if ctx.scenario == "secure.noacl":
        ctx.deadline += 15  # eight tool runs, each a JVM start
        return noacl_scenario(ctx, roundtrip, read_group, lambda e: bool(AUTHZ.search(str(e))))
    secure_scenario(ctx, roundtrip, lambda e: "Authentication failed" in str(e) or "SaslAuthentication" in str(e))


def run(ctx):
    ctx.deadline += 15  # every step is a JVM start
    if ctx.scenario.startswith("secure."):
        return sc_secure(ctx)
    pr = parse_produce(ctx.scenario)
    if pr:
        return sc_produce(ctx, *pr)
    fn = SCENARIOS.get(ctx.scenario)
    if fn is None:
        raise Skip("scenario not implemented by this client")
    return fn(ctx)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--kafka-version", default=VERSION)
    known, rest = ap.parse_known_args()
    VERSION = known.kafka_version
    sys.argv = [sys.argv[0]] + rest
    sys.exit(main(run, describe))
