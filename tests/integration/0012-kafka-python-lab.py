"""The lab's producer, exactly (kafka-python 2.0.2: acks='all', retries=3,
max_in_flight_requests_per_connection=1, gzip, linger_ms=5, batch_size=16384, key = service),
sends 10,000 JSON records to kafka-logs (3 partitions); a KafkaConsumer with assign() reads all
of them back, and every key stayed in one partition.

kafka-python does not negotiate versions: ApiVersions v0 + Metadata v0 pipelined on one socket,
then Metadata v1, Produce v7, Fetch v4, ListOffsets v1 - all of which must really work."""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled, wait_until  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

N = 10000
SERVICES = ["auth", "payments", "search", "orders", "gateway", "email", "billing"]
LEVELS = ["INFO", "WARN", "ERROR", "DEBUG"]


def main():
    with Broker(extra=["--num-partitions", "3"]) as b:
        producer = KafkaProducer(
            bootstrap_servers=b.addr,
            acks="all",
            retries=3,
            max_in_flight_requests_per_connection=1,
            compression_type="gzip",
            linger_ms=5,
            batch_size=16384,
            key_serializer=lambda k: k.encode("utf-8"),
            value_serializer=lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8"),
        )
        futures = []
        for i in range(N):
            svc = SERVICES[i % len(SERVICES)]
            rec = {"timestamp": f"2026-11-22T19:00:{i % 60:02d}Z", "level": LEVELS[i % 4], "service": svc,
                   "message": f"event {i} from {svc} — ok", "seq": i}
            futures.append(producer.send("kafka-logs", key=svc, value=rec))
        producer.flush(timeout=scaled(60))
        metas = [f.get(timeout=scaled(30)) for f in futures]
        producer.close()
        assert all(m.topic == "kafka-logs" for m in metas)
        part_of_key = {}
        for i, m in enumerate(metas):
            svc = SERVICES[i % len(SERVICES)]
            assert part_of_key.setdefault(svc, m.partition) == m.partition, f"{svc} in two partitions"

        consumer = KafkaConsumer(bootstrap_servers=b.addr, enable_auto_commit=False, auto_offset_reset="earliest",
                                 consumer_timeout_ms=int(scaled(2000)))
        parts = [TopicPartition("kafka-logs", p) for p in range(3)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        seen = {}
        by_part = collections.defaultdict(set)

        def poll():
            for recs in consumer.poll(timeout_ms=500).values():
                for r in recs:
                    v = json.loads(r.value.decode("utf-8"))
                    seen[v["seq"]] = (r.key.decode(), r.partition, r.offset)
                    by_part[r.key.decode()].add(r.partition)
            return len(seen) >= N

        wait_until(poll, 60, f"{N} records back")
        consumer.close()
        assert sorted(seen) == list(range(N))
        for key, ps in by_part.items():
            assert len(ps) == 1, f"key {key} in partitions {ps}"
        for i, m in enumerate(metas):
            assert seen[i][1:] == (m.partition, m.offset), f"record {i}: {seen[i]} vs {m}"
        print(f"{N} records, partitions per key: {dict((k, min(v)) for k, v in by_part.items())}")
    print("ok")


if __name__ == "__main__":
    main()
