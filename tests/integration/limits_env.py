"""Shared parts of the broker limits tests (0170-0173): hostile raw connections, the broker's
resident memory, and a well-behaved librdkafka client (confluent-kafka) whose produce and fetch
round trips must keep succeeding while the hostile connections do their worst.

Hostile connections speak raw Kafka (request header v1) so they can do what no client library
does: pipeline without ever reading, or send one byte a second. Their receive buffers are kept
small so the kernel does not hold hundreds of MB of unread answers for them."""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import scaled  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from kafka.record.default_records import DefaultRecordBatchBuilder  # noqa: E402

# What the broker may hold beyond queued.max.request.bytes, measured as VmRSS growth over the
# broker before the attack (docs/broker.md, "Limits"): malloc's own pages and fragmentation, a
# Fetch response built once as records and once encoded, the store's index and page tables.
RSS_MARGIN_MB = 24


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1])


def asan_env():
    """Under ASan freed memory sits in a quarantine (256 MB by default) that reads as RSS."""
    opts = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
    return {"ASAN_OPTIONS": opts.lstrip(":")}


def hostile(port, rcvbuf=16384, source=None):
    """A raw connection with a small receive buffer (set before connect, so the window is small)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source:
        s.bind((source, 0))
    s.settimeout(scaled(10))
    s.connect(("127.0.0.1", port))
    return s


def header(api_key, version, corr):
    return struct.pack(">hhih", api_key, version, corr, 7) + b"hostile"


def fetch_frame(corr, topic, max_bytes):
    """Fetch v4 from offset 0 of partition 0, answered at once (MaxWaitMs 0)."""
    t = topic.encode()
    body = header(1, 4, corr) + struct.pack(">iiiib", -1, 0, 1, max_bytes, 0)
    body += struct.pack(">ih", 1, len(t)) + t + struct.pack(">iiqi", 1, 0, 0, max_bytes)
    return struct.pack(">i", len(body)) + body


def record_batch(records, value_size):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0, producer_id=-1,
                                  producer_epoch=-1, base_sequence=-1, batch_size=1 << 30)
    value = b"v" * value_size
    for i in range(records):
        b.append(i, timestamp=None, key=None, value=value, headers=[])
    return bytes(b.build())


def produce_frame(corr, topic, batch):
    """Produce v3, acks=all, one batch to partition 0."""
    t = topic.encode()
    body = header(0, 3, corr) + struct.pack(">hhi", -1, -1, 30000)
    body += struct.pack(">ih", 1, len(t)) + t + struct.pack(">ii", 1, 0) + struct.pack(">i", len(batch)) + batch
    return struct.pack(">i", len(body)) + body


def api_versions_frame(corr):
    body = header(18, 0, corr)
    return struct.pack(">i", len(body)) + body


def closed_by_broker(s, timeout):
    """True if the broker closes @p s (EOF or reset) within @p timeout seconds (scaled)."""
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not data:
            return True
    return False


class GoodClient:
    """A well-behaved producer (acks=all) and consumer on one topic; round_trip() produces one
    record and fetches it back, and fails the test if either does not finish in time."""

    def __init__(self, addr, topic):
        self.topic = topic
        self.producer = Producer({"bootstrap.servers": addr, "acks": "all", "linger.ms": 0,
                                  "message.timeout.ms": int(scaled(30000))})
        self.consumer = Consumer({"bootstrap.servers": addr, "group.id": "good", "enable.auto.commit": False,
                                  "fetch.wait.max.ms": 50})
        self.next_offset = None
        self.rounds = 0
        self.worst = 0.0
        self.times = []

    def round_trip(self, timeout=15):
        t0 = time.monotonic()
        value = f"good-{self.rounds}".encode()
        acked = []
        self.producer.produce(self.topic, value, partition=0, on_delivery=lambda err, msg: acked.append((err, msg)))
        left = self.producer.flush(scaled(timeout))
        assert left == 0 and acked and acked[0][0] is None, f"good produce {self.rounds} failed: {acked}"
        offset = acked[0][1].offset()
        if self.next_offset is None:
            self.consumer.assign([TopicPartition(self.topic, 0, offset)])
        self.next_offset = offset + 1
        deadline = t0 + scaled(timeout)
        while True:
            assert time.monotonic() < deadline, f"good fetch of offset {offset} timed out"
            msg = self.consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            if msg.offset() == offset:
                assert msg.value() == value, (msg.offset(), msg.value(), value)
                break
        self.rounds += 1
        self.times.append(time.monotonic() - t0)
        self.worst = max(self.worst, self.times[-1])

    def warm(self, rounds=3):
        """Round trips before the attack (connections, the first fetch); not counted."""
        for _ in range(rounds):
            self.round_trip()
        self.rounds, self.worst, self.times = 0, 0.0, []

    def close(self):
        self.consumer.close()
        self.producer.flush(1)
