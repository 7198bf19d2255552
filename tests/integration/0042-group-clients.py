"""Consumer groups with the other clients: kafka-python's KafkaConsumer (JoinGroup v2, other group
calls v1, OffsetCommit v2, OffsetFetch v1, FindCoordinator v0), confluent-kafka's Consumer and
`kcat -G` each read a 3-partition topic in a group, commit, and a later member of the same group
resumes after the commit. Then librdkafka's cooperative-sticky assignor rebalances incrementally:
when a second member joins, the first gives up only the partitions that move and keeps the rest."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled, wait_until  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from kafka import KafkaConsumer  # noqa: E402

TOPIC = "pyg"


def produce(addr, start, n):
    p = Producer({"bootstrap.servers": addr, "acks": "all"})
    for i in range(start, start + n):
        p.produce(TOPIC, value=f"r{i}".encode(), partition=i % 3)
    assert p.flush(scaled(30)) == 0


def kafka_python(addr, expect):
    c = KafkaConsumer(TOPIC, bootstrap_servers=addr, group_id="kp", auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=int(scaled(4000)))
    got = sorted(m.value.decode() for m in c)
    c.commit()
    c.close(autocommit=False)
    assert got == sorted(expect), f"kafka-python read {len(got)} records, expected {len(expect)}"


def confluent(addr, group, expect):
    c = Consumer({"bootstrap.servers": addr, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe([TOPIC])
    got = []

    def done():
        for m in c.consume(100, timeout=0.2):
            assert m.error() is None, m.error()
            got.append(m.value().decode())
        return len(got) >= len(expect)
    wait_until(done, 30, f"confluent-kafka group {group} to read {len(expect)} records")
    c.commit(asynchronous=False)
    committed = c.committed([TopicPartition(TOPIC, p) for p in range(3)], timeout=scaled(10))
    c.close()
    assert sorted(got) == sorted(expect), f"confluent read {len(got)}, expected {len(expect)}"
    return {tp.partition: tp.offset for tp in committed}


def kcat(addr, group):
    cp = subprocess.run(["kcat", "-b", addr, "-G", group, TOPIC, "-e", "-q", "-X", "auto.offset.reset=earliest"],
                        capture_output=True, text=True, timeout=scaled(60))
    assert cp.returncode == 0, cp.stderr
    return sorted(cp.stdout.split())


def cooperative(addr):
    events = {1: [], 2: []}

    def mk(n):
        def on_assign(c, parts):
            events[n].append(("assign", sorted(p.partition for p in parts)))

        def on_revoke(c, parts):
            events[n].append(("revoke", sorted(p.partition for p in parts)))
        c = Consumer({"bootstrap.servers": addr, "group.id": "coop", "auto.offset.reset": "earliest",
                      "partition.assignment.strategy": "cooperative-sticky", "session.timeout.ms": 6000})
        c.subscribe([TOPIC], on_assign=on_assign, on_revoke=on_revoke)
        return c

    def owned(n):
        s = set()
        for kind, parts in events[n]:
            s = s | set(parts) if kind == "assign" else s - set(parts)
        return s

    c1 = mk(1)
    wait_until(lambda: (c1.poll(0.1), owned(1) == {0, 1, 2})[1], 30, "first member to own all partitions")
    c2 = mk(2)

    def balanced():
        c1.poll(0.05)
        c2.poll(0.05)
        return owned(1) and owned(2) and owned(1) | owned(2) == {0, 1, 2} and not owned(1) & owned(2)
    wait_until(balanced, 40, "the two cooperative members to share the partitions")
    revoked = [p for kind, parts in events[1] if kind == "revoke" for p in parts]
    # incremental: the first member gave up only what moved, never everything
    assert 0 < len(revoked) < 3, f"first member revoked {revoked}: not incremental ({events[1]})"
    assert set(revoked) == owned(2), f"revoked {revoked} but the second member owns {owned(2)}"
    print(f"cooperative-sticky: member 1 {events[1]}, member 2 {events[2]}")
    c2.close()
    wait_until(lambda: (c1.poll(0.1), owned(1) == {0, 1, 2})[1], 30, "first member to take everything back")
    c1.close()


def main():
    with Broker(extra=["-o", "num.partitions=3", "-o", "auto.create.topics.enable=true"]) as b:
        produce(b.addr, 0, 90)
        first = [f"r{i}" for i in range(90)]
        more = [f"r{i}" for i in range(90, 99)]

        kafka_python(b.addr, first)
        produce(b.addr, 90, 9)
        kafka_python(b.addr, more)  # resumes after its commit
        print("kafka-python: ok")

        committed = confluent(b.addr, "cf", first + more)
        assert committed == {0: 33, 1: 33, 2: 33}, committed
        produce(b.addr, 99, 3)
        confluent(b.addr, "cf", ["r99", "r100", "r101"])
        print("confluent-kafka: ok")

        assert kcat(b.addr, "kc") == sorted(first + more + ["r99", "r100", "r101"])
        produce(b.addr, 102, 3)
        assert kcat(b.addr, "kc") == sorted(["r102", "r103", "r104"])
        print("kcat -G: ok")

        cooperative(b.addr)
        print("ok")


if __name__ == "__main__":
    main()
