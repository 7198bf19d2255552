"""ListOffsets: earliest (-2), latest (-1 = HWM) and by timestamp, through kafka-python (v1,
fixed) and confluent-kafka/librdkafka (negotiated), on records with known timestamps."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from kafka import KafkaConsumer  # noqa: E402
from kafka import TopicPartition as KTP  # noqa: E402

BASE_TS = 1_700_000_000_000  # ms


def main():
    with Broker() as b:
        p = Producer({"bootstrap.servers": b.addr, "acks": "all", "linger.ms": 0})
        # 100 records, timestamps BASE_TS + 1000*i, sent one by one so they are separate batches.
        for i in range(100):
            p.produce("lo", value=str(i).encode(), timestamp=BASE_TS + 1000 * i)
            p.flush(scaled(10))
        assert p.flush(scaled(10)) == 0

        c = Consumer({"bootstrap.servers": b.addr, "group.id": "lo"})
        lo, hi = c.get_watermark_offsets(TopicPartition("lo", 0), timeout=scaled(10))
        assert (lo, hi) == (0, 100), (lo, hi)
        for ts, want in ((BASE_TS - 5, 0), (BASE_TS, 0), (BASE_TS + 1, 1), (BASE_TS + 42_000, 42),
                         (BASE_TS + 99_000, 99), (BASE_TS + 99_001, -1)):
            got = c.offsets_for_times([TopicPartition("lo", 0, ts)], timeout=scaled(10))[0]
            assert got.error is None and got.offset == want, (ts, got.offset, want, got.error)
        c.close()

        k = KafkaConsumer(bootstrap_servers=b.addr)
        tp = KTP("lo", 0)
        assert k.beginning_offsets([tp]) == {tp: 0}
        assert k.end_offsets([tp]) == {tp: 100}
        r = k.offsets_for_times({tp: BASE_TS + 10_500})[tp]
        assert r.offset == 11 and r.timestamp == BASE_TS + 11_000, r
        k.close()
    print("ok")


if __name__ == "__main__":
    main()
