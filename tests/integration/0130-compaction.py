"""Compacted topics end to end, with real clients.

- kafka-python creates a topic with cleanup.policy=compact (and the cleaner's topic configs);
  DescribeConfigs shows them with source DYNAMIC_TOPIC_CONFIG;
- librdkafka (confluent-kafka) produces keyed records and tombstones; a record without a key is
  refused with INVALID_RECORD (87), and its batch's keyed records with it, as Kafka does;
- the broker's cleaner thread compacts the log while producers go on (log.cleaner.backoff.ms
  small, min.cleanable.dirty.ratio 0.01, segment.ms 200 so segments roll): a consumer from the
  beginning then sees every key once, with its latest value (tombstones for deleted keys), offsets
  strictly increasing, and fewer records than were produced;
- a fetch from an offset that was cleaned away returns the next surviving record;
- after a restart the compacted log reads the same.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from harness import Broker, scaled, wait_until  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic  # noqa: E402

TOPIC, KEYS, ROUNDS = "compacted", 20, 25
CONFIGS = {
    "cleanup.policy": "compact",
    "segment.ms": "200",
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": "86400000",
}


def produce(addr, records):
    """Produce (key, value) pairs; @returns the delivery errors by key (None = delivered)."""
    errs = {}
    p = Producer({"bootstrap.servers": addr, "linger.ms": 5, "enable.idempotence": True})
    for k, v in records:
        p.produce(TOPIC, key=k, value=v, on_delivery=lambda e, m: errs.__setitem__(m.key(), e))
    assert p.flush(scaled(30)) == 0
    return errs


def read_all(addr, start=0):
    """Everything from @p start to the end: [(offset, key, value)]."""
    c = Consumer({"bootstrap.servers": addr, "group.id": "reader", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    c.assign([TopicPartition(TOPIC, 0, start)])
    out = []
    deadline = time.monotonic() + scaled(30)
    while time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                break
            raise AssertionError(m.error())
        out.append((m.offset(), m.key(), m.value()))
    else:
        raise AssertionError("no end of partition")
    c.close()
    return out


def main():
    extra = ["-o", "log.cleaner.backoff.ms=100"]
    with Broker(extra=extra) as b:
        admin = KafkaAdminClient(bootstrap_servers=b.addr)
        admin.create_topics([NewTopic(TOPIC, 1, 1, topic_configs=CONFIGS)])
        res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
        entries = {e[0]: e for e in res[0].resources[0][4]}
        for k, v in CONFIGS.items():
            assert entries[k][1] == v, (k, entries[k])
        assert entries["cleanup.policy"][1] == "compact"

        # A keyless record is refused, and its batch with it (one batch: linger.ms).
        errs = produce(b.addr, [(b"a", b"1"), (None, b"no key")])
        assert errs[None] is not None and errs[None].code() == KafkaError.INVALID_RECORD, errs
        print("keyless record:", errs[None].code(), errs[None].str())

        latest, produced = {}, 0
        for r in range(ROUNDS):
            batch = []
            for k in range(KEYS):
                key = b"k%02d" % k
                value = None if (k < 4 and r == ROUNDS - 1) else b"v%d-%d" % (k, r)
                batch.append((key, value))
                latest[key] = value
            errs = produce(b.addr, batch)
            assert all(e is None for e in errs.values()), errs
            produced += len(batch)

        # Keep producing a marker (each one may roll the segment: segment.ms) until the cleaner has
        # compacted everything before it: each test key once.
        def compacted():
            produce(b.addr, [(b"marker", b"m")])
            recs = read_all(b.addr)
            keys = [k for _, k, _ in recs if k != b"marker"]
            return len(keys) == len(set(keys)) and recs
        recs = wait_until(compacted, scaled(60), "the cleaner compacting the log", interval=0.2)
        offsets = [o for o, _, _ in recs]
        assert offsets == sorted(set(offsets)), "offsets must strictly increase"
        got = {k: v for _, k, v in recs if k != b"marker"}
        assert got == latest, (got, latest)
        assert len(recs) < produced
        print(f"{produced} produced, {len(recs)} after compaction; first offsets {offsets[:5]}")

        # A fetch from an offset that was cleaned away starts at the next surviving record.
        gone = [o for o in range(offsets[-1]) if o not in set(offsets)]
        assert gone, offsets
        for start in (gone[0], gone[len(gone) // 2], gone[-1]):
            after = read_all(b.addr, start)
            assert after and after[0][0] == min(o for o in offsets if o >= start), (start, after[:2])

        b.restart()
        again = read_all(b.addr)
        assert [r for r in again if r[1] != b"marker"] == [r for r in recs if r[1] != b"marker"]
        admin.close()
    print("ok")


if __name__ == "__main__":
    main()
