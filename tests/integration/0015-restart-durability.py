"""Stop (SIGTERM) and start again: the broker exits 0, and every topic, partition count and
record is back, with the same offsets; the log end is where it was, so new records continue
the offsets."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled, wait_until  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402


def produce(addr, topic, n, start=0, partitions=1):
    p = Producer({"bootstrap.servers": addr, "acks": "all", "linger.ms": 1})
    for i in range(start, start + n):
        p.produce(topic, key=str(i).encode(), value=f"{topic}:{i}".encode(), partition=i % partitions)
    assert p.flush(scaled(30)) == 0


def read_all(addr, topic, partitions, expect):
    c = Consumer({"bootstrap.servers": addr, "group.id": "g", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got = {}

    def poll():
        for m in c.consume(1000, timeout=0.3):
            assert m.error() is None, m.error()
            got[(m.partition(), m.offset())] = m.value().decode()
        return len(got) >= expect

    wait_until(poll, 30, f"{expect} records of {topic}")
    c.close()
    return got


def main():
    b = Broker(extra=["--num-partitions", "2"]).start()
    try:
        produce(b.addr, "alpha", 1000, partitions=2)
        produce(b.addr, "beta", 300)
        before_a = read_all(b.addr, "alpha", 2, 1000)
        before_b = read_all(b.addr, "beta", 2, 300)
        rc = b.stop()
        assert rc == 0, f"broker exited {rc} on SIGTERM"
        b.start()
        after_a = read_all(b.addr, "alpha", 2, 1000)
        after_b = read_all(b.addr, "beta", 2, 300)
        assert after_a == before_a and after_b == before_b
        produce(b.addr, "beta", 10, start=300)
        again = read_all(b.addr, "beta", 2, 310)
        assert sorted(o for (p, o) in again if p == 0) == list(range(310)), "offsets do not continue"
        # A second clean restart right away works too (marker and lock handled).
        assert b.stop() == 0
        b.start()
        assert len(read_all(b.addr, "alpha", 2, 1000)) == 1000
    finally:
        b.__exit__(None, None, None)
    print("ok")


if __name__ == "__main__":
    main()
