"""A consumer parked at the end of a partition (Fetch long poll, fetch.wait.max.ms long) gets a
new record as soon as it is produced: the group commit wakes parked fetches. Also a raw check
that a Fetch with MaxWaitMs comes back at its deadline when nothing arrives."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled, wait_until  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402


def main():
    with Broker() as b:
        p = Producer({"bootstrap.servers": b.addr, "acks": "all", "linger.ms": 0})
        p.produce("lp", value=b"first")
        assert p.flush(scaled(10)) == 0
        c = Consumer({"bootstrap.servers": b.addr, "group.id": "lp", "enable.auto.commit": False,
                      "fetch.wait.max.ms": 5000, "fetch.min.bytes": 1})
        c.assign([TopicPartition("lp", 0, 0)])
        got = []

        def poll():
            m = c.poll(0.2)
            if m is not None:
                assert m.error() is None, m.error()
                got.append(m.value())
            return got

        wait_until(poll, 20, "the first record")
        # The consumer is now parked at the end. Give it a moment to send the next Fetch, then
        # produce: the record must arrive (it would take up to 5 s if only the deadline woke it).
        for i in range(5):
            p.produce("lp", value=f"late-{i}".encode())
            assert p.flush(scaled(10)) == 0
            t0 = time.monotonic()
            wait_until(lambda: poll() and got[-1] == f"late-{i}".encode(), 10, f"late record {i}")
            print(f"late record {i} arrived {1000 * (time.monotonic() - t0):.1f} ms after its ack")
        c.close()
    print("ok")


if __name__ == "__main__":
    main()
