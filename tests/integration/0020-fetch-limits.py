"""Fetch edge cases through librdkafka: limits far below a batch still make progress (a whole
batch always comes back), a fetch from the middle of a batch starts at the asked offset (the
client skips the batch's earlier records), and an offset beyond the end is OFFSET_OUT_OF_RANGE."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled, wait_until  # noqa: E402
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402


def consume(addr, topic, offset, n, **extra):
    conf = {"bootstrap.servers": addr, "group.id": "fl", "enable.auto.commit": False}
    conf.update(extra)
    c = Consumer(conf)
    c.assign([TopicPartition(topic, 0, offset)])
    got = []

    def poll():
        m = c.poll(0.2)
        if m is not None:
            assert m.error() is None, m.error()
            got.append((m.offset(), m.value()))
        return len(got) >= n

    wait_until(poll, 30, f"{n} records of {topic} from {offset}")
    c.close()
    return got


def main():
    with Broker() as b:
        p = Producer({"bootstrap.servers": b.addr, "acks": "all", "linger.ms": 0})
        for i in range(20):  # 20 separate batches of one 10 KB record
            p.produce("big", value=bytes([65 + i % 26]) * 10_000)
            assert p.flush(scaled(10)) == 0
        # One batch of 10 records.
        p2 = Producer({"bootstrap.servers": b.addr, "acks": "all", "linger.ms": 500, "batch.num.messages": 100})
        for i in range(10):
            p2.produce("batched", value=f"r{i}".encode())
        assert p2.flush(scaled(10)) == 0

        got = consume(b.addr, "big", 0, 20, **{"fetch.max.bytes": 1024, "message.max.bytes": 1000, "max.partition.fetch.bytes": 1024,
                                                "receive.message.max.bytes": 1_000_000})
        assert [o for o, _ in got] == list(range(20))
        assert all(len(v) == 10_000 for _, v in got)

        got = consume(b.addr, "batched", 5, 5)
        assert got == [(5 + i, f"r{5 + i}".encode()) for i in range(5)], got

        c = Consumer({"bootstrap.servers": b.addr, "group.id": "fl", "auto.offset.reset": "error"})
        c.assign([TopicPartition("big", 0, 1000)])
        errs = []

        def poll_err():
            m = c.poll(0.2)
            if m is not None and m.error():
                errs.append(m.error())
            return errs

        wait_until(poll_err, 20, "an offset-out-of-range error")
        c.close()
        assert errs[0].code() == KafkaError._AUTO_OFFSET_RESET, errs[0]
        assert "out of range" in errs[0].str().lower(), errs[0].str()
    print("ok")


if __name__ == "__main__":
    main()
