"""Compat client: confluent-kafka (librdkafka). Run under Debian's /usr/bin/python3 it is
confluent-kafka 1.7.0 on Debian's librdkafka 2.0.2; under the cache venv it is PyPI's newest with
its bundled librdkafka. Protocol and scenarios: compat_common.py and tests/compat/README.md."""

import sys
import time

import confluent_kafka as ck
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

from compat_common import WARM, Fail, Skip, check_values, main, noacl_scenario, parse_produce, secure_scenario

QUIET = {"log_level": 3}  # librdkafka errors only; the runner keeps stderr for the report


def describe():
    v = ck.version()  # a (str, int) tuple in 1.x, a plain string in 2.x
    return "confluent-kafka %s / librdkafka %s" % (v[0] if isinstance(v, tuple) else v, ck.libversion()[0])


def producer(ctx, **extra):
    conf = {"bootstrap.servers": ctx.bootstrap, "linger.ms": 5, "message.timeout.ms": 15000}
    conf.update(QUIET)
    conf.update(extra)
    return Producer(conf)


def consumer(ctx, group=None, **extra):
    conf = {"bootstrap.servers": ctx.bootstrap, "group.id": group or ctx.name("reader"),
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "session.timeout.ms": 10000, "heartbeat.interval.ms": 1000}
    conf.update(QUIET)
    conf.update(extra)
    return Consumer(conf)


def produce(ctx, p, topic, values, partition=None):
    """Produces values (key = value) and waits for every delivery report; returns the errors."""
    errors = []

    def dr(err, msg):
        if err is not None:
            errors.append(str(err))

    for v in values:
        kw = {"partition": partition} if partition is not None else {}
        p.produce(topic, value=v.encode(), key=v.encode(), on_delivery=dr, **kw)
        p.poll(0)
    left = p.flush(ctx.left())
    if left:
        raise Fail("%d messages not delivered before the deadline" % left)
    return errors


def partitions(ctx, client, topic):
    def get():
        md = client.list_topics(topic, timeout=min(5, ctx.left() + 0.1))
        t = md.topics.get(topic)
        if t is None or t.error is not None or not t.partitions:
            return None
        return sorted(t.partitions)
    return ctx.wait_until("metadata for topic %s" % topic, get)


def read(ctx, topic, n, parts, start=0, **extra):
    """Reads n messages from the given partitions starting at offset start (no group); extra:
    consumer settings."""
    c = consumer(ctx, **extra)
    got = []
    try:
        c.assign([TopicPartition(topic, p, start) for p in parts])
        while len(got) < n and not ctx.expired():
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == ck.KafkaError._PARTITION_EOF:
                    continue
                raise Fail("fetch error: %s" % m.error())
            got.append((m.partition(), m.offset(), m.value().decode()))
    finally:
        c.close()
    return got


def sc_metadata(ctx):
    p = producer(ctx)
    md = p.list_topics(timeout=10)
    if not md.brokers:
        raise Fail("metadata lists no brokers")
    for b in md.brokers.values():
        if not b.host or not b.port:
            raise Fail("broker without host/port: %r" % b)


def sc_produce(ctx, acks, codec):
    topic = ctx.name()
    values = ["v%d-%s" % (i, codec) for i in range(20)]
    if acks == 0:
        fill(ctx, topic, [WARM])  # see compat_common.WARM
        values = [WARM] + values
    p = producer(ctx, **{"acks": str(acks), "compression.type": codec})
    errs = produce(ctx, p, topic, values[-20:])
    if errs:
        raise Fail("delivery failed: %s" % errs[0])
    got = read(ctx, topic, len(values), partitions(ctx, p, topic))
    check_values([g[2] for g in got], values, "read back")


def sc_fetch(ctx):
    topic = ctx.name()
    p = producer(ctx, acks="all")
    values = ["f%d" % i for i in range(50)]
    errs = produce(ctx, p, topic, values, partition=0)
    if errs:
        raise Fail("delivery failed: %s" % errs[0])
    got = read(ctx, topic, 50, [0])
    if [g[2] for g in got] != values:
        raise Fail("from offset 0: got %r..., want f0..f49 in order" % [g[2] for g in got][:5])
    got = read(ctx, topic, 25, [0], start=25)
    if [g[2] for g in got] != values[25:]:
        raise Fail("from offset 25 (inside a batch): got %r..., want f25.." % [g[2] for g in got][:3])


def fill(ctx, topic, values):
    errs = produce(ctx, producer(ctx, acks="all"), topic, values)
    if errs:
        raise Fail("setup produce failed: %s" % errs[0])


def consume_group(ctx, c, n, extra_wait=0.0):
    got = []
    end = None
    while not ctx.expired():
        if len(got) >= n and end is None:
            end = time.monotonic() + extra_wait
        if end is not None and time.monotonic() >= end:
            break
        m = c.poll(0.3)
        if m is None:
            continue
        if m.error():
            if m.error().code() == ck.KafkaError._PARTITION_EOF:
                continue
            raise Fail("consumer error: %s" % m.error())
        got.append(m.value().decode())
    return got


def sc_group_join(ctx):
    topic = ctx.name()
    values = ["g%d" % i for i in range(30)]
    fill(ctx, topic, values)
    c = consumer(ctx, group=ctx.name("group"))
    try:
        c.subscribe([topic])
        got = consume_group(ctx, c, 30)
        check_values(got, values, "group consume")
    finally:
        c.close()


def sc_group_rebalance(ctx):
    topic = ctx.name()
    fill(ctx, topic, ["r%d" % i for i in range(6)])
    parts = partitions(ctx, producer(ctx), topic)
    if len(parts) < 2:
        raise Skip("auto-created topic has %d partition(s); rebalance needs 2+" % len(parts))
    group = ctx.name("group")
    a = consumer(ctx, group=group)
    b = consumer(ctx, group=group)
    try:
        a.subscribe([topic])
        ctx.wait_until("first member's assignment", lambda: (a.poll(0.2), a.assignment())[1])
        b.subscribe([topic])

        def balanced():
            a.poll(0.1)
            b.poll(0.1)
            pa = {tp.partition for tp in a.assignment()}
            pb = {tp.partition for tp in b.assignment()}
            return pa and pb and not (pa & pb) and (pa | pb) == set(parts)
        ctx.wait_until("both members assigned disjoint partitions covering all %d" % len(parts), balanced, 0)
    finally:
        b.close()
        a.close()


def commit_round(ctx, topic, group, values):
    c = consumer(ctx, group=group)
    try:
        c.subscribe([topic])
        got = consume_group(ctx, c, len(values))
        check_values(got, values, "group consume")
        c.commit(asynchronous=False)
        tps = c.committed(c.assignment(), timeout=10)
        total = sum(tp.offset for tp in tps if tp.offset >= 0)
        if total != len(values):
            raise Fail("committed offsets sum to %d, want %d: %r" %
                       (total, len(values), [(tp.partition, tp.offset) for tp in tps]))
    finally:
        c.close()


def sc_group_commit(ctx):
    topic = ctx.name()
    values = ["c%d" % i for i in range(30)]
    fill(ctx, topic, values)
    commit_round(ctx, topic, ctx.name("group"), values)


def sc_group_resume(ctx):
    topic, group = ctx.name(), ctx.name("group")
    first = ["a%d" % i for i in range(20)]
    fill(ctx, topic, first)
    commit_round(ctx, topic, group, first)
    second = ["b%d" % i for i in range(10)]
    fill(ctx, topic, second)
    c = consumer(ctx, group=group)
    try:
        c.subscribe([topic])
        got = consume_group(ctx, c, 10, extra_wait=1.0)
        check_values(got, second, "resumed consume (only the 10 new messages)")
    finally:
        c.close()


def admin(ctx):
    return AdminClient({"bootstrap.servers": ctx.bootstrap, **QUIET})


def wait_futures(ctx, fs, what):
    for k, f in fs.items():
        try:
            f.result(timeout=max(1, ctx.left()))
        except KafkaException as e:
            raise Fail("%s %s: %s" % (what, k, e.args[0]))
        except Exception as e:
            raise Fail("%s %s: %r" % (what, k, e))


def create(ctx, a, topic):
    fs = a.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1,
                                   config={"retention.ms": "604800000"})], operation_timeout=10)
    wait_futures(ctx, fs, "CreateTopics")
    got = partitions(ctx, a, topic)
    if len(got) != 2:
        raise Fail("created topic has %d partitions, want 2" % len(got))


def config_of(ctx, a, topic, key):
    fs = a.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
    for f in fs.values():
        try:
            entries = f.result(timeout=max(1, ctx.left()))
        except KafkaException as e:
            raise Fail("DescribeConfigs: %s" % e.args[0])
        if key not in entries:
            raise Fail("DescribeConfigs has no %s (got %d entries)" % (key, len(entries)))
        return entries[key].value


def sc_admin_create(ctx):
    create(ctx, admin(ctx), ctx.name())


def sc_admin_describe(ctx):
    a, topic = admin(ctx), ctx.name()
    create(ctx, a, topic)
    v = config_of(ctx, a, topic, "retention.ms")
    if v != "604800000":
        raise Fail("retention.ms = %r, want 604800000" % v)


def sc_admin_alter(ctx):
    a, topic = admin(ctx), ctx.name()
    create(ctx, a, topic)
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    if hasattr(a, "incremental_alter_configs"):
        from confluent_kafka.admin import AlterConfigOpType, ConfigEntry
        res = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[
            ConfigEntry("retention.ms", "86400000", incremental_operation=AlterConfigOpType.SET)])
        wait_futures(ctx, a.incremental_alter_configs([res]), "IncrementalAlterConfigs")
    else:
        res.set_config("retention.ms", "86400000")
        wait_futures(ctx, a.alter_configs([res]), "AlterConfigs")
    ctx.wait_until("retention.ms=86400000 in DescribeConfigs",
                   lambda: config_of(ctx, a, topic, "retention.ms") == "86400000")
    wait_futures(ctx, a.create_partitions([NewPartitions(topic, 3)]), "CreatePartitions")
    ctx.wait_until("3 partitions in metadata", lambda: len(partitions(ctx, a, topic)) == 3)


def sc_admin_delete(ctx):
    a, topic = admin(ctx), ctx.name()
    create(ctx, a, topic)
    wait_futures(ctx, a.delete_topics([topic], operation_timeout=10), "DeleteTopics")
    ctx.wait_until("topic gone from metadata",
                   lambda: topic not in a.list_topics(timeout=5).topics)


def sc_idempotent(ctx):
    topic = ctx.name()
    p = producer(ctx, **{"enable.idempotence": True, "acks": "all"})
    values = ["i%d" % i for i in range(50)]
    errs = produce(ctx, p, topic, values, partition=0)
    if errs:
        raise Fail("delivery failed: %s" % errs[0])
    got = [g[2] for g in read(ctx, topic, 50, [0])]
    if got != values:
        raise Fail("read back %d values, want i0..i49 once each in order (first: %r)" % (len(got), got[:3]))


def sc_fetch_maxbytes(ctx):
    """Three partitions of ~400 KB batches read with fetch.max.bytes 1 MB: a broker that answers
    more than MaxBytes (one batch per partition) makes librdkafka drop the response."""
    topic = ctx.name()
    fill(ctx, topic, ["seed"])
    parts = partitions(ctx, producer(ctx), topic)
    if len(parts) < 3:
        raise Skip("auto-created topic has %d partition(s); this needs 3" % len(parts))
    p = producer(ctx, acks="all", **{"linger.ms": 0, "message.max.bytes": 2000000, "compression.type": "none"})
    big = {}
    for part in parts[:3]:
        for i in range(2):
            v = ("m%d-%d-" % (part, i)) + "x" * 400000
            big[v[:8]] = v
            if produce(ctx, p, topic, [v], partition=part):
                raise Fail("delivery of a 400 KB record failed")
    limits = {"fetch.max.bytes": 1000000, "max.partition.fetch.bytes": 1000000,
              "receive.message.max.bytes": 1000000 + 512}
    got = [g[2] for g in read(ctx, topic, 7, parts, **limits)]  # the 6 and the seed
    got = [g[:8] if len(g) > 1000 else g for g in got]
    check_values([g for g in got if g != "seed"], sorted(big), "1 MB fetches of 400 KB batches")


def sc_group_static(ctx):
    """Two static members (group.instance.id), a (the first, so the leader) then b; a dies without
    leaving and a new process with its instance id comes back within the session timeout: same
    partitions, and b sees no rebalance (KIP-345)."""
    topic = ctx.name()
    fill(ctx, topic, ["s%d" % i for i in range(6)])
    parts = partitions(ctx, producer(ctx), topic)
    if len(parts) < 2:
        raise Skip("auto-created topic has %d partition(s); this needs 2+" % len(parts))
    group = ctx.name("group")
    events = {"b": 0}

    def count(c, tps):
        events["b"] += 1

    def member(inst, **cb):
        c = consumer(ctx, group=group, **{"group.instance.id": inst, "session.timeout.ms": 15000,
                                          "partition.assignment.strategy": "range"})
        c.subscribe([topic], **cb)
        return c

    a = member("a")
    b = a2 = None
    try:
        ctx.wait_until("the first static member's assignment", lambda: (a.poll(0.2), a.assignment())[1])
        b = member("b", on_assign=count, on_revoke=count)

        def settled(x, y):
            x.poll(0.1)
            y.poll(0.1)
            px = {tp.partition for tp in x.assignment()}
            py = {tp.partition for tp in y.assignment()}
            return px and py and not (px & py) and (px | py) == set(parts) and px
        a_parts = ctx.wait_until("two static members with disjoint assignments", lambda: settled(a, b), 0)
        end = time.monotonic() + 1  # a few heartbeats in Stable
        while time.monotonic() < end:
            a.poll(0.1)
            b.poll(0.1)
        before = events["b"]
        a.close()  # a static member sends no LeaveGroup
        a = None
        a2 = member("a")
        got = ctx.wait_until("the restarted static leader's assignment", lambda: settled(a2, b), 0)
        if got != a_parts:
            raise Fail("restarted static leader got partitions %s, had %s" % (sorted(got), sorted(a_parts)))
        end = time.monotonic() + 2
        while time.monotonic() < end:
            a2.poll(0.1)
            b.poll(0.1)
        if events["b"] != before:
            raise Fail("the other member went through %d rebalance callbacks" % (events["b"] - before))
    finally:
        for c in (a2, b, a):
            if c is not None:
                c.close()


# ---- transactions (KIP-98) ------------------------------------------------------------------------


def txn_producer(ctx, txid):
    p = producer(ctx, **{"transactional.id": txid})
    p.init_transactions(max(1, ctx.left()))
    return p


def txn_topic(ctx):
    """A topic that exists before a transaction adds its partitions: one plain 'seed' record."""
    topic = ctx.name()
    fill(ctx, topic, ["seed"])
    return topic, partitions(ctx, producer(ctx), topic)


def read_values(ctx, topic, parts, n, isolation, settle=0.5):
    """n values read from the beginning at isolation, then settle seconds more for extras."""
    c = consumer(ctx, **{"isolation.level": isolation})
    got = []
    try:
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        end = None
        while not ctx.expired():
            if len(got) >= n and end is None:
                end = time.monotonic() + settle
            if end is not None and time.monotonic() >= end:
                break
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                if m.error().code() == ck.KafkaError._PARTITION_EOF:
                    continue
                raise Fail("fetch error: %s" % m.error())
            got.append(m.value().decode())
    finally:
        c.close()
    return got


def txn_send(ctx, p, topic, values):
    errors = []
    for v in values:
        p.produce(topic, value=v.encode(), key=v.encode(),
                  on_delivery=lambda err, msg: errors.append(str(err)) if err else None)
    return errors


def sc_txn_commit(ctx):
    topic, parts = txn_topic(ctx)
    p = txn_producer(ctx, ctx.name("tx"))
    values = ["t%d" % i for i in range(20)]
    p.begin_transaction()
    txn_send(ctx, p, topic, values)
    p.commit_transaction(max(1, ctx.left()))
    got = read_values(ctx, topic, parts, 21, "read_committed")
    check_values(got, ["seed"] + values, "read_committed after the commit")


def sc_txn_abort(ctx):
    topic, parts = txn_topic(ctx)
    p = txn_producer(ctx, ctx.name("tx"))
    aborted = ["a%d" % i for i in range(10)]
    committed = ["c%d" % i for i in range(10)]
    p.begin_transaction()
    errs = txn_send(ctx, p, topic, aborted)
    if p.flush(ctx.left()) or errs:
        raise Fail("the records to abort were not acknowledged: %s" % errs[:1])
    p.abort_transaction(max(1, ctx.left()))
    p.begin_transaction()
    txn_send(ctx, p, topic, committed)
    p.commit_transaction(max(1, ctx.left()))
    got = read_values(ctx, topic, parts, 11, "read_committed")
    check_values(got, ["seed"] + committed, "read_committed: only the committed transaction")
    got = read_values(ctx, topic, parts, 21, "read_uncommitted")
    check_values(got, ["seed"] + aborted + committed, "read_uncommitted: both transactions")


def sc_txn_fence(ctx):
    topic, parts = txn_topic(ctx)
    txid = ctx.name("tx")
    a = txn_producer(ctx, txid)
    a.begin_transaction()
    txn_send(ctx, a, topic, ["zombie%d" % i for i in range(5)])
    a.flush(ctx.left())
    b = txn_producer(ctx, txid)  # fences a
    b.begin_transaction()
    winners = ["winner%d" % i for i in range(5)]
    txn_send(ctx, b, topic, winners)
    b.commit_transaction(max(1, ctx.left()))
    try:
        a.commit_transaction(max(1, ctx.left()))
    except KafkaException as e:
        if not (e.args[0].fatal() or "fenced" in str(e).lower()):
            raise Fail("the fenced producer's commit failed, but not as fenced: %s" % e.args[0])
    else:
        raise Fail("the fenced producer's commit succeeded")
    got = read_values(ctx, topic, parts, 6, "read_committed")
    check_values(got, ["seed"] + winners, "read_committed: only the new instance's records")


def sc_read_committed(ctx):
    topic, parts = txn_topic(ctx)
    p = txn_producer(ctx, ctx.name("tx"))
    values = ["o%d" % i for i in range(10)]
    p.begin_transaction()
    errs = txn_send(ctx, p, topic, values)
    if p.flush(ctx.left()) or errs:
        raise Fail("the transaction's records were not acknowledged: %s" % errs[:1])
    c = consumer(ctx, **{"isolation.level": "read_committed"})
    got = []
    try:
        c.assign([TopicPartition(topic, part, 0) for part in parts])

        def poll_for(seconds):
            end = time.monotonic() + seconds
            while time.monotonic() < end and not ctx.expired():
                m = c.poll(0.2)
                if m is not None and not m.error():
                    got.append(m.value().decode())
        poll_for(2)
        if got != ["seed"]:
            raise Fail("read_committed saw %r before the commit" % got[:3])
        p.commit_transaction(max(1, ctx.left()))
        ctx.wait_until("the committed records", lambda: (poll_for(0.3), len(got) >= 11)[1], 0)
        poll_for(0.5)
    finally:
        c.close()
    check_values(got, ["seed"] + values, "read_committed after the commit")


SCENARIOS = {
    "txn.commit": sc_txn_commit, "txn.abort": sc_txn_abort, "txn.fence": sc_txn_fence,
    "read_committed": sc_read_committed,
    "metadata": sc_metadata, "fetch": sc_fetch, "idempotent": sc_idempotent,
    "group.join": sc_group_join, "group.rebalance": sc_group_rebalance,
    "group.commit": sc_group_commit, "group.resume": sc_group_resume,
    "admin.create": sc_admin_create, "admin.describe": sc_admin_describe,
    "admin.alter": sc_admin_alter, "admin.delete": sc_admin_delete,
    "fetch.maxbytes": sc_fetch_maxbytes, "group.static": sc_group_static,
}


def sc_secure(ctx):
    def roundtrip(sec, topic, values):
        sec.old_librdkafka_scram(ck.libversion()[0])
        ctx.bootstrap = sec.bootstrap
        conf = sec.librdkafka()
        errors = []
        p = producer(ctx, error_cb=lambda e: errors.append(e), **conf)
        if sec.bad:
            # An authentication failure is reported through error_cb; nothing is delivered.
            p.produce(topic, b"must-not-land")
            ctx.wait_until("the authentication error", lambda: p.poll(0.2) is not None and errors or errors)
            raise RuntimeError("; ".join(str(e) for e in errors))
        errs = produce(ctx, p, topic, values)
        if errs:
            raise Fail("delivery failed over %s: %s" % (sec.proto, errs[0]))
        return [g[2] for g in read(ctx, topic, len(values), partitions(ctx, p, topic), **conf)]

    def read_group(sec, topic, group, n, extra_wait):
        sec.old_librdkafka_scram(ck.libversion()[0])
        ctx.bootstrap = sec.bootstrap
        c = consumer(ctx, group=group, **sec.librdkafka())
        try:
            c.subscribe([topic])
            return consume_group(ctx, c, n, extra_wait)
        finally:
            c.close()

    if ctx.scenario == "secure.noacl":
        return noacl_scenario(ctx, roundtrip, read_group, lambda e: "AUTHORIZATION_FAILED" in str(e))
    secure_scenario(ctx, roundtrip, lambda e: "Authentication failed" in str(e) or "AUTHENTICATION" in str(e))


def run(ctx):
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
    sys.exit(main(run, describe))
