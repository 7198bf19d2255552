"""confluent-kafka (librdkafka via Python) produces with acks=all and idempotence off, and a
consumer with assign() reads everything back with keys, values and headers intact."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled, wait_until  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

N = 5000


def main():
    with Broker() as b:
        p = Producer({"bootstrap.servers": b.addr, "acks": "all", "linger.ms": 2, "compression.type": "lz4"})
        delivered = []

        def dr(err, msg):
            assert err is None, err
            delivered.append((msg.offset(), msg.key()))

        for i in range(N):
            p.produce("cf_topic", key=f"k{i}".encode(), value=f"v{i}".encode() * (1 + i % 7),
                      headers=[("h", str(i).encode())], on_delivery=dr)
            if i % 1000 == 0:
                p.poll(0)
        assert p.flush(scaled(30)) == 0, "records left undelivered"
        assert sorted(o for o, _ in delivered) == list(range(N))

        c = Consumer({"bootstrap.servers": b.addr, "group.id": "unused", "enable.auto.commit": False,
                      "auto.offset.reset": "earliest"})
        c.assign([TopicPartition("cf_topic", 0, 0)])
        got = []

        def poll():
            for m in c.consume(1000, timeout=0.5):
                assert m.error() is None, m.error()
                got.append(m)
            return len(got) >= N

        wait_until(poll, 60, f"{N} records")
        c.close()
        for i, m in enumerate(got):
            assert m.offset() == i and m.key() == f"k{i}".encode(), (i, m.offset(), m.key())
            assert m.value() == f"v{i}".encode() * (1 + i % 7)
            assert m.headers() == [("h", str(i).encode())]
        print(f"{N} records round-tripped")
    print("ok")


if __name__ == "__main__":
    main()
