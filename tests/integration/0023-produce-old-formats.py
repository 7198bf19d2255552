"""Produce v0-v2 (magic v0/v1 message sets) are converted to v2 batches, as Kafka 3.x does, so
clients that cannot negotiate keep working:

- librdkafka with api.version.request=false and broker.version.fallback 0.9.0 (Produce v1,
  message format v0) and 0.10.0 (Produce v2, format v1), each uncompressed and with gzip, snappy
  and lz4 (v0 LZ4 carries the old wrong header checksum);
- kafka-python 2.0.2 with api_version (0, 9) and (0, 10), plain and gzip;
- raw Produce v0 frames: a good one, a CRC-damaged one (CORRUPT_MESSAGE, nothing appended).

Every record is then read back by a modern consumer (Fetch v4+): the keys, values, order and,
for format v1, the producer's timestamps.
"""
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from admin_raw import Raw, s16  # noqa: E402
from harness import Broker, scaled, wait_until  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from kafka import KafkaProducer  # noqa: E402

TS = 1700000000000


def read_all(addr, topic, n):
    c = Consumer({"bootstrap.servers": addr, "group.id": "old", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []

    def poll():
        m = c.poll(0.2)
        if m is not None:
            assert m.error() is None, m.error()
            got.append(m)
        return len(got) >= n

    wait_until(poll, 30, f"{n} records of {topic}")
    extra = c.poll(0.5)
    assert extra is None or extra.error(), f"more than {n} records in {topic}"
    c.close()
    return got


def librdkafka_old(addr, fallback, codec, topic):
    p = Producer({"bootstrap.servers": addr, "api.version.request": False, "broker.version.fallback": fallback,
                  "compression.codec": codec, "linger.ms": 50, "acks": "all"})
    errs = []
    for i in range(20):
        p.produce(topic, key=f"k{i}".encode(), value=f"{codec}-{i}".encode() * (1 + i % 3), partition=0,
                  timestamp=TS + i, on_delivery=lambda e, m: e and errs.append(e))
    assert p.flush(scaled(20)) == 0
    assert not errs, errs
    got = read_all(addr, topic, 20)
    assert [m.key() for m in got] == [f"k{i}".encode() for i in range(20)]
    assert [m.value() for m in got] == [f"{codec}-{i}".encode() * (1 + i % 3) for i in range(20)]
    assert [m.offset() for m in got] == list(range(20))
    if fallback != "0.9.0":  # format v1 carries the producer's timestamps; v0 has none
        assert [m.timestamp()[1] for m in got] == [TS + i for i in range(20)], [m.timestamp() for m in got]


def kafka_python_old(addr, api_version, codec, topic):
    p = KafkaProducer(bootstrap_servers=addr, api_version=api_version, compression_type=codec, linger_ms=20,
                      acks="all")
    futs = [p.send(topic, key=b"kp%d" % i, value=b"v%d" % i, partition=0) for i in range(10)]
    for f in futs:
        f.get(timeout=scaled(20))
    p.close()
    got = read_all(addr, topic, 10)
    assert [(m.key(), m.value()) for m in got] == [(b"kp%d" % i, b"v%d" % i) for i in range(10)]


def v0_message(key, value):
    body = struct.pack(">bb", 0, 0) + struct.pack(">i", len(key)) + key + struct.pack(">i", len(value)) + value
    msg = struct.pack(">I", zlib.crc32(body)) + body
    return struct.pack(">qi", 0, len(msg)) + msg


def raw_v0(addr, topic, records):
    """Produce v0 of one message set; returns (error, base offset)."""
    body = struct.pack(">hi", -1, 5000) + struct.pack(">i", 1) + s16(topic) + struct.pack(">i", 1)
    body += struct.pack(">ii", 0, len(records)) + records
    raw = Raw(addr)
    r = raw.call(0, 0, body, False)
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    assert r.i32() == 0
    err, base = r.i16(), r.i64()
    raw.close()
    return err, base


def main():
    with Broker() as b:
        for fallback in ("0.9.0", "0.10.0"):
            for codec in ("none", "gzip", "snappy", "lz4"):
                librdkafka_old(b.addr, fallback, codec, f"rd-{fallback.replace('.', '_')}-{codec}")
        for api in ((0, 9), (0, 10)):
            for codec in (None, "gzip"):
                kafka_python_old(b.addr, api, codec, f"kp-{api[1]}-{codec}")

        admin = AdminClient({"bootstrap.servers": b.addr})
        for f in admin.create_topics([NewTopic("raw0", 1, 1)]).values():
            f.result(scaled(10))
        good = v0_message(b"a", b"one") + v0_message(b"b", b"two")
        assert raw_v0(b.addr, "raw0", good) == (0, 0)
        bad = bytearray(v0_message(b"c", b"three"))
        bad[-1] ^= 1
        err, _ = raw_v0(b.addr, "raw0", bytes(bad))
        assert err == 2, err  # CORRUPT_MESSAGE
        got = read_all(b.addr, "raw0", 2)
        assert [(m.key(), m.value()) for m in got] == [(b"a", b"one"), (b"b", b"two")]
    print("ok")


if __name__ == "__main__":
    main()
