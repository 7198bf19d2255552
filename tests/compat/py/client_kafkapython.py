"""Compat client: kafka-python (pure Python, its own protocol code). Under Debian's
/usr/bin/python3 it is 2.0.2, which does not negotiate versions (see DESIGN.md's pitfalls); under
the cache venv it is PyPI's newest. Protocol and scenarios: compat_common.py, README.md."""

import logging
import sys
import threading
import time

import kafka
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic

from compat_common import WARM, Fail, Skip, check_values, main, noacl_scenario, parse_produce, secure_scenario

logging.basicConfig(level=logging.CRITICAL)

CODEC_MODULES = {"snappy": ("snappy", "cramjam"), "lz4": ("lz4",), "zstd": ("zstandard",)}


def describe():
    return "kafka-python %s" % kafka.__version__


def version_tuple():
    return tuple(int(x) for x in kafka.__version__.split(".")[:2] if x.isdigit())


def producer(ctx, **extra):
    # retries: 2.0.2 defaults to 0, so a new topic's first NotLeader (normal, Kafka says it too
    # while the partition is being created) would fail the send; 2.1+ and every other client retry.
    return KafkaProducer(bootstrap_servers=ctx.bootstrap, linger_ms=5, request_timeout_ms=10000,
                         max_block_ms=15000, retries=5, retry_backoff_ms=200, **extra)


def consumer(ctx, group=None, **extra):
    return KafkaConsumer(bootstrap_servers=ctx.bootstrap, group_id=group, auto_offset_reset="earliest",
                         enable_auto_commit=False, consumer_timeout_ms=500,
                         session_timeout_ms=10000, heartbeat_interval_ms=1000, **extra)


def produce(ctx, p, topic, values, partition=None):
    futs = [p.send(topic, value=v.encode(), key=v.encode(), partition=partition) for v in values]
    p.flush(timeout=ctx.left())
    for f in futs:
        try:
            f.get(timeout=max(0.1, ctx.left()))
        except Exception as e:
            raise Fail("delivery failed: %r" % e)


def partitions(ctx, p, topic):
    def get():
        parts = p.partitions_for(topic)
        return sorted(parts) if parts else None
    return ctx.wait_until("metadata for topic %s" % topic, get)


def drain(ctx, c, n, extra_wait=0.0):
    got = []
    end = None
    while not ctx.expired():
        if len(got) >= n and end is None:
            end = time.monotonic() + extra_wait
        if end is not None and time.monotonic() >= end:
            break
        for recs in c.poll(timeout_ms=300).values():
            got.extend((r.partition, r.offset, r.value.decode()) for r in recs)
    return got


def read(ctx, topic, n, parts, start=0, **extra):
    c = consumer(ctx, **extra)
    try:
        tps = [TopicPartition(topic, p) for p in parts]
        c.assign(tps)
        for tp in tps:
            c.seek(tp, start)
        return drain(ctx, c, n)
    finally:
        c.close()


def sc_metadata(ctx):
    c = consumer(ctx)
    try:
        c.topics()
        brokers = c._client.cluster.brokers()  # no public accessor in kafka-python 2.0.2
        if not brokers:
            raise Fail("metadata lists no brokers")
    finally:
        c.close()


def sc_produce(ctx, acks, codec):
    for mod in CODEC_MODULES.get(codec, ()):
        try:
            __import__(mod)
            break
        except ImportError:
            pass
    else:
        if codec in CODEC_MODULES:
            raise Skip("no Python %s library for this interpreter (%s)" % (codec, "/".join(CODEC_MODULES[codec])))
    topic = ctx.name()
    values = ["v%d-%s" % (i, codec) for i in range(20)]
    if acks == 0:
        fill(ctx, topic, [WARM])  # see compat_common.WARM
        values = [WARM] + values
    p = producer(ctx, acks="all" if acks == -1 else acks,
                 compression_type=None if codec == "none" else codec)
    try:
        produce(ctx, p, topic, values[-20:])
        got = read(ctx, topic, len(values), partitions(ctx, p, topic))
        check_values([g[2] for g in got], values, "read back")
    finally:
        p.close(timeout=2)


def sc_fetch(ctx):
    topic = ctx.name()
    p = producer(ctx, acks="all")
    try:
        values = ["f%d" % i for i in range(50)]
        produce(ctx, p, topic, values, partition=0)
    finally:
        p.close(timeout=2)
    got = [g[2] for g in read(ctx, topic, 50, [0])]
    if got != values:
        raise Fail("from offset 0: got %r..., want f0..f49 in order" % got[:5])
    got = [g[2] for g in read(ctx, topic, 25, [0], start=25)]
    if got != values[25:]:
        raise Fail("from offset 25 (inside a batch): got %r..., want f25.." % got[:3])


def fill(ctx, topic, values):
    p = producer(ctx, acks="all")
    try:
        produce(ctx, p, topic, values)
        return partitions(ctx, p, topic)
    finally:
        p.close(timeout=2)


def sc_group_join(ctx):
    topic = ctx.name()
    values = ["g%d" % i for i in range(30)]
    fill(ctx, topic, values)
    c = consumer(ctx, group=ctx.name("group"))
    try:
        c.subscribe([topic])
        check_values([g[2] for g in drain(ctx, c, 30)], values, "group consume")
    finally:
        c.close()


class Member(threading.Thread):
    """A group member polling in its own thread: kafka-python joins synchronously inside poll(),
    so two members polled from one thread would wait on each other for a whole rebalance."""

    def __init__(self, ctx, group, topic):
        super().__init__(daemon=True)
        self.c = consumer(ctx, group=group)
        self.topic = topic
        self.stop = threading.Event()
        self.parts = set()
        self.error = None

    def run(self):
        try:
            self.c.subscribe([self.topic])
            while not self.stop.is_set():
                self.c.poll(timeout_ms=100)
                self.parts = {tp.partition for tp in self.c.assignment()}
        except Exception as e:
            self.error = e
        finally:
            self.c.close()


def sc_group_rebalance(ctx):
    topic = ctx.name()
    parts = fill(ctx, topic, ["r%d" % i for i in range(6)])
    if len(parts) < 2:
        raise Skip("auto-created topic has %d partition(s); rebalance needs 2+" % len(parts))
    group = ctx.name("group")
    a = Member(ctx, group, topic)
    b = Member(ctx, group, topic)
    try:
        a.start()
        ctx.wait_until("first member's assignment", lambda: a.parts or a.error)
        b.start()

        def balanced():
            if a.error or b.error:
                raise Fail("member error: %r" % (a.error or b.error))
            pa, pb = a.parts, b.parts
            return pa and pb and not (pa & pb) and (pa | pb) == set(parts)
        ctx.wait_until("both members assigned disjoint partitions covering all %d" % len(parts), balanced)
    finally:
        for m in (a, b):
            m.stop.set()
        for m in (a, b):
            if m.is_alive():
                m.join(timeout=10)


def commit_round(ctx, topic, group, values):
    c = consumer(ctx, group=group)
    try:
        c.subscribe([topic])
        check_values([g[2] for g in drain(ctx, c, len(values))], values, "group consume")
        c.commit()
        total = 0
        for tp in c.assignment():
            off = c.committed(tp)
            total += off or 0
        if total != len(values):
            raise Fail("committed offsets sum to %d, want %d" % (total, len(values)))
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
        got = [g[2] for g in drain(ctx, c, 10, extra_wait=1.0)]
        check_values(got, second, "resumed consume (only the 10 new messages)")
    finally:
        c.close()


def admin(ctx):
    return KafkaAdminClient(bootstrap_servers=ctx.bootstrap, request_timeout_ms=10000)


def errors_in(x):
    """Non-zero error codes anywhere in an admin result: kafka-python 2.0.2 returns raw response
    structs (tuples whose first int is the error code), 3.x returns dicts and result structs."""
    if isinstance(x, dict):
        if x.get("error_code"):
            yield x
        for v in x.values():
            yield from errors_in(v)
    elif isinstance(x, (list, tuple)):
        ints = [v for v in x if isinstance(v, int)]
        if isinstance(x, tuple) and ints and ints[0] != 0 and not hasattr(x, "error_code"):
            yield x
        for v in x:
            if isinstance(v, (list, tuple, dict)) or hasattr(v, "error_code"):
                yield from errors_in(v)
    elif hasattr(x, "error_code"):
        if x.error_code:
            yield x
    else:
        for attr in ("topic_errors", "topic_error_codes", "resources", "results"):
            yield from errors_in(getattr(x, attr, None) or [])


def call(what, fn, *args, **kw):
    try:
        resp = fn(*args, **kw)
    except Fail:
        raise
    except Exception as e:
        raise Fail("%s: %r" % (what, e))
    for err in errors_in(resp):
        raise Fail("%s: %r" % (what, err))
    return resp


def topic_partitions(a, topic):
    md = a.describe_topics([topic])
    for t in md:
        if t.get("topic", t.get("name")) == topic and not t.get("error_code"):
            return len(t.get("partitions", []))
    return 0


def create(ctx, a, topic):
    call("CreateTopics", a.create_topics, [NewTopic(topic, num_partitions=2, replication_factor=1,
                                                    topic_configs={"retention.ms": "604800000"})])
    n = ctx.wait_until("topic in metadata", lambda: topic_partitions(a, topic))
    if n != 2:
        raise Fail("created topic has %d partitions, want 2" % n)


def config_of(ctx, a, topic, key):
    resp = call("DescribeConfigs", a.describe_configs,
                [ConfigResource(ConfigResourceType.TOPIC, topic)])
    if isinstance(resp, dict):  # kafka-python 3.x: {"topic": {name: {key: value or {"value":..}}}}
        v = resp.get("topic", {}).get(topic, {}).get(key)
        if v is not None:
            return v.get("value") if isinstance(v, dict) else v
    else:
        for r in resp if isinstance(resp, list) else [resp]:
            for res in r.resources:
                for e in res[4]:
                    if e[0] == key:
                        return e[1]
    raise Fail("DescribeConfigs has no %s" % key)


def sc_admin_create(ctx):
    a = admin(ctx)
    try:
        create(ctx, a, ctx.name())
    finally:
        a.close()


def sc_admin_describe(ctx):
    a, topic = admin(ctx), ctx.name()
    try:
        create(ctx, a, topic)
        v = config_of(ctx, a, topic, "retention.ms")
        if v != "604800000":
            raise Fail("retention.ms = %r, want 604800000" % v)
    finally:
        a.close()


def sc_admin_alter(ctx):
    a, topic = admin(ctx), ctx.name()
    try:
        create(ctx, a, topic)
        call("AlterConfigs", a.alter_configs,
             [ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "86400000"})])
        ctx.wait_until("retention.ms=86400000 in DescribeConfigs",
                       lambda: config_of(ctx, a, topic, "retention.ms") == "86400000")
        call("CreatePartitions", a.create_partitions, {topic: NewPartitions(3)})
        ctx.wait_until("3 partitions in metadata", lambda: topic_partitions(a, topic) == 3)
    finally:
        a.close()


def sc_admin_delete(ctx):
    a, topic = admin(ctx), ctx.name()
    try:
        create(ctx, a, topic)
        call("DeleteTopics", a.delete_topics, [topic])
        ctx.wait_until("topic gone from metadata", lambda: topic not in a.list_topics())
    finally:
        a.close()


def sc_idempotent(ctx):
    if version_tuple() < (2, 1):
        raise Skip("kafka-python %s has no idempotent producer (2.1+)" % kafka.__version__)
    topic = ctx.name()
    p = producer(ctx, acks="all", enable_idempotence=True)
    try:
        values = ["i%d" % i for i in range(50)]
        produce(ctx, p, topic, values, partition=0)
    finally:
        p.close(timeout=2)
    got = [g[2] for g in read(ctx, topic, 50, [0])]
    if got != values:
        raise Fail("read back %d values, want i0..i49 once each in order (first: %r)" % (len(got), got[:3]))


# ---- transactions (KIP-98): kafka-python 2.1+ ------------------------------------------------------


def txn_producer(ctx, txid):
    if not hasattr(KafkaProducer, "init_transactions"):
        raise Skip("kafka-python %s has no transactional producer (2.1+)" % kafka.__version__)
    p = producer(ctx, acks="all", enable_idempotence=True, transactional_id=txid)
    p.init_transactions()
    return p


def txn_topic(ctx):
    """A topic that exists before a transaction adds its partitions: one plain 'seed' record."""
    if not hasattr(KafkaProducer, "init_transactions"):
        raise Skip("kafka-python %s has no transactional producer (2.1+)" % kafka.__version__)
    topic = ctx.name()
    fill(ctx, topic, ["seed"])
    p = producer(ctx)
    try:
        return topic, partitions(ctx, p, topic)
    finally:
        p.close(timeout=2)


def read_values(ctx, topic, parts, n, isolation, settle=0.5):
    c = consumer(ctx, isolation_level=isolation)
    try:
        tps = [TopicPartition(topic, p) for p in parts]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        return [g[2] for g in drain(ctx, c, n, extra_wait=settle)]
    finally:
        c.close()


def txn_send(p, topic, values):
    return [p.send(topic, value=v.encode(), key=v.encode()) for v in values]


def sc_txn_commit(ctx):
    topic, parts = txn_topic(ctx)
    p = txn_producer(ctx, ctx.name("tx"))
    try:
        values = ["t%d" % i for i in range(20)]
        p.begin_transaction()
        txn_send(p, topic, values)
        p.commit_transaction()
    finally:
        p.close(timeout=2)
    check_values(read_values(ctx, topic, parts, 21, "read_committed"), ["seed"] + values,
                 "read_committed after the commit")


def sc_txn_abort(ctx):
    topic, parts = txn_topic(ctx)
    p = txn_producer(ctx, ctx.name("tx"))
    aborted, committed = ["a%d" % i for i in range(10)], ["c%d" % i for i in range(10)]
    try:
        p.begin_transaction()
        futs = txn_send(p, topic, aborted)
        p.flush(timeout=ctx.left())
        for f in futs:
            f.get(timeout=max(0.1, ctx.left()))
        p.abort_transaction()
        p.begin_transaction()
        txn_send(p, topic, committed)
        p.commit_transaction()
    finally:
        p.close(timeout=2)
    check_values(read_values(ctx, topic, parts, 11, "read_committed"), ["seed"] + committed,
                 "read_committed: only the committed transaction")
    check_values(read_values(ctx, topic, parts, 21, "read_uncommitted"), ["seed"] + aborted + committed,
                 "read_uncommitted: both transactions")


def sc_txn_fence(ctx):
    topic, parts = txn_topic(ctx)
    txid = ctx.name("tx")
    a = txn_producer(ctx, txid)
    b = None
    winners = ["winner%d" % i for i in range(5)]
    try:
        a.begin_transaction()
        txn_send(a, topic, ["zombie%d" % i for i in range(5)])
        a.flush(timeout=ctx.left())
        b = txn_producer(ctx, txid)  # fences a
        b.begin_transaction()
        txn_send(b, topic, winners)
        b.commit_transaction()
        try:
            a.commit_transaction()
        except Exception as e:  # ProducerFencedError, or a KafkaError wrapping it
            if "fenc" not in repr(e).lower() and "epoch" not in repr(e).lower():
                raise Fail("the fenced producer's commit failed, but not as fenced: %r" % e)
        else:
            raise Fail("the fenced producer's commit succeeded")
    finally:
        for x in (a, b):
            if x is not None:
                x.close(timeout=2)
    check_values(read_values(ctx, topic, parts, 6, "read_committed"), ["seed"] + winners,
                 "read_committed: only the new instance's records")


def sc_read_committed(ctx):
    topic, parts = txn_topic(ctx)
    p = txn_producer(ctx, ctx.name("tx"))
    values = ["o%d" % i for i in range(10)]
    c = consumer(ctx, isolation_level="read_committed")
    try:
        p.begin_transaction()
        futs = txn_send(p, topic, values)
        p.flush(timeout=ctx.left())
        for f in futs:
            f.get(timeout=max(0.1, ctx.left()))
        tps = [TopicPartition(topic, part) for part in parts]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        got = []
        end = time.monotonic() + 2
        while time.monotonic() < end:
            for recs in c.poll(timeout_ms=200).values():
                got.extend(r.value.decode() for r in recs)
        if got != ["seed"]:
            raise Fail("read_committed saw %r before the commit" % got[:3])
        p.commit_transaction()
        got += [g[2] for g in drain(ctx, c, 10, extra_wait=0.5)]
    finally:
        c.close()
        p.close(timeout=2)
    check_values(got, ["seed"] + values, "read_committed after the commit")


SCENARIOS = {
    "txn.commit": sc_txn_commit, "txn.abort": sc_txn_abort, "txn.fence": sc_txn_fence,
    "read_committed": sc_read_committed,
    "metadata": sc_metadata, "fetch": sc_fetch, "idempotent": sc_idempotent,
    "group.join": sc_group_join, "group.rebalance": sc_group_rebalance,
    "group.commit": sc_group_commit, "group.resume": sc_group_resume,
    "admin.create": sc_admin_create, "admin.describe": sc_admin_describe,
    "admin.alter": sc_admin_alter, "admin.delete": sc_admin_delete,
}


def sc_secure(ctx):
    def settings(sec):
        ctx.bootstrap = sec.bootstrap
        kw = {"security_protocol": sec.proto}
        if "SSL" in sec.proto:
            kw.update(ssl_cafile=sec.ca)
        if sec.mechanism:
            kw.update(sasl_mechanism=sec.mechanism, sasl_plain_username=sec.user, sasl_plain_password=sec.password)
        return kw

    def roundtrip(sec, topic, values):
        kw = settings(sec)
        p = producer(ctx, **kw)
        try:
            produce(ctx, p, topic, values)
            return [g[2] for g in read(ctx, topic, len(values), partitions(ctx, p, topic), **kw)]
        finally:
            p.close()

    def auth_error(e):
        # kafka-python 2.0 raises an authentication error; 3.x retries the refused connection and
        # reports that it could not bootstrap (against Kafka as against samsa).
        text = type(e).__name__ + str(e)
        return "Authentication" in text or "NoBrokersAvailable" in text or "Unable to bootstrap" in text

    def read_group(sec, topic, group, n, extra_wait):
        c = consumer(ctx, group=group, **settings(sec))
        try:
            c.subscribe([topic])
            return [g[2] for g in drain(ctx, c, n, extra_wait)]
        finally:
            c.close()

    if ctx.scenario == "secure.noacl":
        if version_tuple() < (3,):
            raise Skip("kafka-python %s reports a produce to a topic it may not describe as a metadata timeout "
                       "(KafkaTimeoutError), not as an authorization error (against Kafka as against samsa)"
                       % kafka.__version__)
        return noacl_scenario(ctx, roundtrip, read_group, lambda e: "AuthorizationFailed" in type(e).__name__ + str(e))
    secure_scenario(ctx, roundtrip, auth_error)


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
