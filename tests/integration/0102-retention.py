"""Retention through the admin APIs: a topic whose retention.ms is lowered to 1000 (small
segment.bytes, broker retention check every 100 ms) loses its old segments; ListOffsets
earliest moves forward; a reader at a deleted offset gets OFFSET_OUT_OF_RANGE (kafka-python with
no reset policy raises it, confluent-kafka with auto.offset.reset=error reports it) and one with
auto.offset.reset=earliest recovers at the new log start, which survives a broker restart.
(DeleteRecords moving the earliest offset is in 0100: no installed Python client sends it.)"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled, wait_until  # noqa: E402
from confluent_kafka import Consumer, KafkaError, TopicPartition as CTP  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka import errors as kerr  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic  # noqa: E402

TOPIC = "ret"
N = 60


def segments(b, topic, p=0):
    d = os.path.join(b.data_dir, f"{topic}-{p}")
    return sorted(n for n in os.listdir(d) if n.endswith(".log"))


def earliest(c, tp):
    return c.beginning_offsets([tp])[tp]


def main():
    with Broker(extra=["--retention-check-ms", "100"]) as b:
        admin = KafkaAdminClient(bootstrap_servers=b.addr, request_timeout_ms=int(scaled(20000)))
        admin.create_topics([NewTopic(TOPIC, 1, 1, topic_configs={"retention.ms": "3600000", "segment.bytes": "1024"})])
        p = KafkaProducer(bootstrap_servers=b.addr, acks="all", linger_ms=0)
        for i in range(N):
            p.send(TOPIC, b"%03d" % i + b"." * 97).get(timeout=scaled(20))  # one batch each
        segs = segments(b, TOPIC)
        assert len(segs) >= 4, f"only {len(segs)} segments"
        tp = TopicPartition(TOPIC, 0)
        k = KafkaConsumer(bootstrap_servers=b.addr)
        assert earliest(k, tp) == 0 and k.end_offsets([tp])[tp] == N

        # lower retention (AlterConfigs replaces all, so segment.bytes is listed again)
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC,
                                            configs={"retention.ms": "1000", "segment.bytes": "1024"})])
        wait_until(lambda: earliest(k, tp) == N, 30, "retention to delete every expired segment")
        assert len(segments(b, TOPIC)) <= 1, segments(b, TOPIC)
        assert k.end_offsets([tp])[tp] == N
        # keep what comes next: retention back to a week, then 5 new records N..N+4
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC,
                                            configs={"retention.ms": "604800000", "segment.bytes": "1024"})])
        for i in range(5):
            p.send(TOPIC, b"new-%d" % i).get(timeout=scaled(20))
        p.close()

        # no reset policy: kafka-python raises OffsetOutOfRangeError for offset 0
        c = KafkaConsumer(bootstrap_servers=b.addr, auto_offset_reset="none", enable_auto_commit=False)
        c.assign([tp])
        c.seek(tp, 0)
        deadline = time.monotonic() + scaled(20)
        raised = False
        while time.monotonic() < deadline and not raised:
            try:
                c.poll(timeout_ms=200)
            except kerr.OffsetOutOfRangeError:
                raised = True
        assert raised, "no OffsetOutOfRangeError for a deleted offset"
        c.close()

        # earliest: kafka-python resets to the new log start and reads the new records
        c = KafkaConsumer(bootstrap_servers=b.addr, auto_offset_reset="earliest", enable_auto_commit=False,
                          consumer_timeout_ms=int(scaled(10000)))
        c.assign([tp])
        c.seek(tp, 0)
        got = []
        for m in c:
            got.append((m.offset, m.value))
            if len(got) == 5:
                break
        assert got == [(N + i, b"new-%d" % i) for i in range(5)], got
        c.close()

        # librdkafka: auto.offset.reset=error reports the out-of-range offset; earliest recovers
        cc = Consumer({"bootstrap.servers": b.addr, "group.id": "g-err", "auto.offset.reset": "error",
                       "enable.auto.commit": False})
        cc.assign([CTP(TOPIC, 0, 0)])
        err = wait_until(lambda: (lambda m: m.error() if m is not None and m.error() else None)(cc.poll(0.2)), 20,
                         "librdkafka to report the reset error")
        assert err.code() == KafkaError._AUTO_OFFSET_RESET, err
        cc.close()
        cc = Consumer({"bootstrap.servers": b.addr, "group.id": "g-earliest", "auto.offset.reset": "earliest",
                       "enable.auto.commit": False})
        cc.assign([CTP(TOPIC, 0, 0)])
        m = wait_until(lambda: (lambda m: m if m is not None and not m.error() else None)(cc.poll(0.2)), 20,
                       "librdkafka to recover at earliest")
        assert m.offset() == N and m.value() == b"new-0", (m.offset(), m.value())
        cc.close()

        # the new log start is persisted
        b.restart()
        k2 = KafkaConsumer(bootstrap_servers=b.addr)
        assert earliest(k2, tp) == N and k2.end_offsets([tp])[tp] == N + 5
        k2.close()
        k.close()
        admin.close()
    print("ok")


if __name__ == "__main__":
    main()
