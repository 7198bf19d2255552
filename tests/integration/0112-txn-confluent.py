"""confluent-kafka (Debian's, librdkafka 2.0.2) transactions against a real samsa broker.

- commit and abort: read_committed gets exactly the committed records, read_uncommitted all;
  the read_committed end offset (get_watermark_offsets) stops at an open transaction;
- consume-transform-produce: the offsets sent to the transaction are not the group's committed
  offsets until it commits (a read_committed consumer asks with RequireStable and is told to wait),
  and are afterwards; an aborted transaction's offsets never show;
- fencing: a second producer with the same transactional.id makes the first one's commit fail
  fatally;
- restart: a committed transaction survives a broker restart; a transaction left open across a
  restart stays invisible and is aborted by the broker when its transaction.timeout.ms ends,
  counted from before the restart.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled, wait_until  # noqa: E402
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402

NPART = 3


def producer(addr, txid, **extra):
    conf = {"bootstrap.servers": addr, "transactional.id": txid, "linger.ms": 2}
    conf.update(extra)
    p = Producer(conf)
    p.init_transactions(scaled(30))
    return p


def read_all(addr, topic, isolation, min_end=None):
    """Every record of topic's partitions from the beginning to their end (the LSO for
    read_committed), as (partition, value)."""
    c = Consumer({"bootstrap.servers": addr, "group.id": "reader", "isolation.level": isolation,
                  "enable.auto.commit": False, "enable.partition.eof": True})
    c.assign([TopicPartition(topic, p, 0) for p in range(NPART)])
    got, ends = [], {}
    deadline = time.monotonic() + scaled(30)
    while len(ends) < NPART or any(min_end and ends.get(p, -1) < min_end.get(p, 0) for p in range(NPART)):
        assert time.monotonic() < deadline, f"reading {topic} ({isolation}) did not reach the end: {ends}"
        for m in c.consume(500, timeout=0.2):
            if m.error():
                assert m.error().code() == -191, m.error()  # partition EOF
                ends[m.partition()] = m.offset()
            else:
                got.append((m.partition(), m.value().decode()))
                ends.pop(m.partition(), None)
    c.close()
    return got


def end_offset(addr, topic, part, isolation):
    c = Consumer({"bootstrap.servers": addr, "group.id": "wm", "isolation.level": isolation})
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, part), timeout=scaled(10), cached=False)
    c.close()
    return hi


def make_topic(addr, topic):
    p = Producer({"bootstrap.servers": addr})
    p.produce(topic, b"init", partition=0)
    assert p.flush(scaled(30)) == 0


def commit_and_abort(b):
    make_topic(b.addr, "py_ca")
    p = producer(b.addr, "py-ca")
    for t in range(10):
        p.begin_transaction()
        for i in range(9):
            p.produce("py_ca", f"{'c' if t % 2 == 0 else 'a'}{t}-{i}".encode(), partition=i % NPART)
        if t % 2:
            assert p.flush(scaled(30)) == 0
            p.abort_transaction(scaled(30))
        else:
            p.commit_transaction(scaled(30))
    rc = [v for _, v in read_all(b.addr, "py_ca", "read_committed") if v != "init"]
    assert sorted(rc) == sorted(f"c{t}-{i}" for t in range(0, 10, 2) for i in range(9)), rc
    ru = [v for _, v in read_all(b.addr, "py_ca", "read_uncommitted") if v != "init"]
    assert len(ru) == 90, len(ru)
    # An open transaction holds the read_committed end.
    p.begin_transaction()
    p.produce("py_ca", b"open", partition=1)
    assert p.flush(scaled(30)) == 0
    hwm = end_offset(b.addr, "py_ca", 1, "read_uncommitted")
    lso = end_offset(b.addr, "py_ca", 1, "read_committed")
    assert lso == hwm - 1, (lso, hwm)
    p.commit_transaction(scaled(30))
    assert end_offset(b.addr, "py_ca", 1, "read_committed") == hwm + 1  # past the COMMIT marker
    print("commit and abort: ok")


def consume_transform_produce(b):
    src = Producer({"bootstrap.servers": b.addr})
    for i in range(30):
        src.produce("py_in", f"in{i}".encode(), partition=i % NPART)
    assert src.flush(scaled(30)) == 0
    make_topic(b.addr, "py_out")
    c = Consumer({"bootstrap.servers": b.addr, "group.id": "py-ctp", "isolation.level": "read_committed",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe(["py_in"])
    p = producer(b.addr, "py-ctp")
    msgs = []
    wait_until(lambda: msgs.extend(m for m in c.consume(30, timeout=0.5) if not m.error()) or len(msgs) >= 30,
               30, "30 input records")
    parts = [TopicPartition("py_in", i) for i in range(NPART)]

    def committed_sum():
        """The group's committed offsets as a read_committed consumer sees them, or None while a
        transaction holds them (UNSTABLE_OFFSET_COMMIT: librdkafka retries until the timeout)."""
        probe = Consumer({"bootstrap.servers": b.addr, "group.id": "py-ctp", "isolation.level": "read_committed"})
        try:
            return sum(max(tp.offset, 0) for tp in probe.committed(parts, timeout=2))
        except KafkaException:
            return None
        finally:
            probe.close()

    # An aborted transaction: its offsets never become the group's.
    p.begin_transaction()
    for m in msgs[:10]:
        p.produce("py_out", b"out-" + m.value())
    p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), scaled(30))
    assert committed_sum() is None, "offsets of an open transaction must not be stable"
    assert p.flush(scaled(30)) == 0
    p.abort_transaction(scaled(30))
    assert committed_sum() == 0, committed_sum()
    # The same again, committed.
    p.begin_transaction()
    for m in msgs:
        p.produce("py_out", b"out-" + m.value())
    p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), scaled(30))
    p.commit_transaction(scaled(30))
    assert committed_sum() == 30, committed_sum()
    out = sorted(v for _, v in read_all(b.addr, "py_out", "read_committed") if v != "init")
    assert out == sorted(f"out-in{i}" for i in range(30)), out
    c.close()
    print("consume-transform-produce: ok")


def fencing(b):
    make_topic(b.addr, "py_fe")
    a = producer(b.addr, "py-fe")
    a.begin_transaction()
    a.produce("py_fe", b"zombie", partition=0)
    assert a.flush(scaled(30)) == 0
    z = producer(b.addr, "py-fe")
    z.begin_transaction()
    z.produce("py_fe", b"winner", partition=0)
    try:
        a.commit_transaction(scaled(30))
        raise AssertionError("the fenced producer committed")
    except KafkaException as e:
        assert e.args[0].fatal(), e
    z.commit_transaction(scaled(30))
    vals = [v for _, v in read_all(b.addr, "py_fe", "read_committed")]
    assert "winner" in vals and "zombie" not in vals, vals
    print("fencing: ok")


def restart(b):
    make_topic(b.addr, "py_rs")
    p = producer(b.addr, "py-rs")
    p.begin_transaction()
    p.produce("py_rs", b"kept", partition=0)
    p.commit_transaction(scaled(30))
    q = producer(b.addr, "py-rs-open", **{"transaction.timeout.ms": 4000})
    q.begin_transaction()
    q.produce("py_rs", b"left-open", partition=0)
    assert q.flush(scaled(30)) == 0
    started = time.monotonic()
    b.stop()
    b.start()
    vals = [v for _, v in read_all(b.addr, "py_rs", "read_committed")]
    assert "kept" in vals and "left-open" not in vals, vals
    hwm = end_offset(b.addr, "py_rs", 0, "read_uncommitted")
    assert end_offset(b.addr, "py_rs", 0, "read_committed") == hwm - 1  # held by the open one
    # Aborted by the broker once its 4 s are up (the clock started before the restart).
    wait_until(lambda: end_offset(b.addr, "py_rs", 0, "read_committed") == hwm + 1, 20,
               "the broker to abort the transaction left open")
    assert time.monotonic() - started < scaled(15), "the timeout was not counted across the restart"
    vals = [v for _, v in read_all(b.addr, "py_rs", "read_committed")]
    assert vals.count("kept") == 1 and "left-open" not in vals, vals
    print("restart: ok")


def main():
    with Broker(extra=["--num-partitions", str(NPART)]) as b:
        commit_and_abort(b)
        consume_transform_produce(b)
        fencing(b)
        restart(b)
    print("ok")


if __name__ == "__main__":
    main()
