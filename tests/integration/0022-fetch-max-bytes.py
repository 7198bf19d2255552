"""A Fetch never exceeds MaxBytes / PartitionMaxBytes except by the first batch of the first
non-empty partition (KIP-74, Kafka's ReplicaManager.readFromLocalLog).

1. Raw Fetch v4 frames over three partitions holding ~400 KB batches: a 1 MB MaxBytes gets two
   batches (the third does not fit and comes back empty, no error); a batch larger than MaxBytes
   comes back alone when it is first; an empty or failing partition before it keeps the grace;
   PartitionMaxBytes below a batch skips that partition unless it is the first non-empty one.
2. librdkafka (confluent-kafka) with fetch.max.bytes 1 MB and receive.message.max.bytes just
   above it consumes every record of three partitions of ~450 KB batches; before the fix a
   response carried one batch per partition (1.35 MB) and the client rejected it.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from admin_raw import Raw, s16  # noqa: E402
from harness import Broker, scaled, wait_until  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

BATCH = 400_000
MB = 1_000_000


def fetch(raw, topic, parts, max_bytes):
    """Fetch v4 of [(partition, offset, partition_max_bytes)]; returns [(partition, error, bytes)]."""
    body = struct.pack(">iiiib", -1, 0, 0, max_bytes, 0) + struct.pack(">i", 1) + s16(topic)
    body += struct.pack(">i", len(parts))
    for p, off, pmax in parts:
        body += struct.pack(">iqi", p, off, pmax)
    r = raw.call(1, 4, body, False)
    r.i32()  # throttle
    out = []
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            p, err = r.i32(), r.i16()
            r.i64(), r.i64()
            for _ in range(max(r.i32(), 0)):
                r.i64(), r.i64()
            n = r.i32()
            r.p += max(n, 0)
            out.append((p, err, max(n, 0)))
    return out


def produce(addr, topic, sizes_per_partition):
    p = Producer({"bootstrap.servers": addr, "acks": "all", "linger.ms": 0, "message.max.bytes": 2 * MB,
                  "compression.type": "none"})
    for part, sizes in sizes_per_partition.items():
        for size in sizes:  # one record per batch: flush between them
            p.produce(topic, value=b"x" * size, partition=part)
            assert p.flush(scaled(20)) == 0


def raw_limits(addr):
    produce(addr, "big3", {0: [BATCH], 1: [BATCH], 2: [BATCH], 3: [int(1.5 * MB)]})
    raw = Raw(addr)
    got = fetch(raw, "big3", [(0, 0, MB), (1, 0, MB), (2, 0, MB)], MB)
    assert [(p, e) for p, e, _ in got] == [(0, 0), (1, 0), (2, 0)], got
    sizes = [n for _, _, n in got]
    assert sizes[0] > BATCH and sizes[1] > BATCH and sizes[2] == 0, sizes
    assert sum(sizes) <= MB, sizes

    # A first batch larger than MaxBytes comes back whole, and alone.
    got = fetch(raw, "big3", [(3, 0, MB), (0, 0, MB)], MB)
    assert got[0][2] > MB and got[1][2] == 0, got

    # An empty partition (offset at the HWM) and an unknown one do not end the grace.
    got = fetch(raw, "big3", [(0, 1, MB), (9, 0, MB), (3, 0, MB)], MB)
    assert got[0][1:] == (0, 0) and got[1][1] == 3 and got[2][2] > MB, got

    # PartitionMaxBytes: the first non-empty partition may exceed it, later ones may not.
    got = fetch(raw, "big3", [(0, 0, 1000), (1, 0, 1000), (2, 0, MB)], MB)
    assert got[0][2] > BATCH and got[1][2] == 0 and got[2][2] > BATCH, got
    assert got[0][2] + got[2][2] <= MB, got
    raw.close()


def client_consumes(addr):
    a = AdminClient({"bootstrap.servers": addr})
    for f in a.create_topics([NewTopic("c3", 3, 1)]).values():
        f.result(scaled(10))
    n = 2
    produce(addr, "c3", {p: [450_000] * n for p in range(3)})
    c = Consumer({"bootstrap.servers": addr, "group.id": "fmb", "enable.auto.commit": False,
                  "fetch.max.bytes": MB, "max.partition.fetch.bytes": MB,
                  "receive.message.max.bytes": MB + 512, "fetch.wait.max.ms": 100})
    c.assign([TopicPartition("c3", p, 0) for p in range(3)])
    got, errors = {}, []

    def poll():
        m = c.poll(0.2)
        if m is not None:
            if m.error():
                errors.append(m.error())
            else:
                got.setdefault(m.partition(), []).append(m.offset())
        return errors or sum(len(v) for v in got.values()) >= 3 * n

    wait_until(poll, 60, f"{3 * n} records of c3")
    c.close()
    assert not errors, errors
    assert {p: sorted(v) for p, v in got.items()} == {p: list(range(n)) for p in range(3)}, got


def main():
    with Broker(extra=["-o", "message.max.bytes=2000000", "-o", "num.partitions=4"]) as b:
        raw_limits(b.addr)
        client_consumes(b.addr)
    print("ok")


if __name__ == "__main__":
    main()
