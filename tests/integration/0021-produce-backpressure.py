"""A burst of large pipelined produce requests: 128 valid acks=all requests of 1 MB each, sent
without reading a single answer. Every request is answered, in order, without error and with the
right base offset once the client reads, and the broker's peak memory stays bounded (it stops
reading a connection while its queued requests hold 16 MiB; on a fast disk the group commits
finish before that cap is reached, so this bound is what the test can assert, not the cap itself:
the A/B benchmark in docs/broker.md, "Memory", measures the cap).
"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.environ.get("SAMSA_SOURCE_DIR", "."), "tests", "lib"))
from harness import Broker, run, scaled  # noqa: E402

REQUESTS, RECORDS, VALUE = 128, 1000, 1000  # 128 frames of ~1 MB
PEAK_LIMIT_KB = 80 * 1024  # 128 MB went through

_table = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    _table.append(c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def varint(v):
    v = (v << 1) ^ (v >> 63)  # zigzag
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def record_batch():
    records = bytearray()
    value = b"v" * VALUE
    for i in range(RECORDS):
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(value)) + value + varint(0)
        records += varint(len(body)) + body
    # attributes .. end: what the CRC covers
    after_crc = struct.pack(">hiqqqhii", 0, RECORDS - 1, 0, 0, -1, -1, -1, RECORDS) + records
    head = struct.pack(">qii", 0, 4 + 1 + 4 + len(after_crc), 0)  # base offset, length, leader epoch
    return head + struct.pack(">bI", 2, crc32c(after_crc)) + after_crc


def produce_frame(corr, batch, topic=b"bp"):
    body = struct.pack(">hhi", 0, 3, corr) + struct.pack(">h", 5) + b"bpcli"  # Produce v3, header v1
    body += struct.pack(">hhi", -1, -1, 30000)  # no transactional id, acks=all, timeout
    body += struct.pack(">ih", 1, len(topic)) + topic + struct.pack(">ii", 1, 0)
    body += struct.pack(">i", len(batch)) + batch
    return struct.pack(">i", len(body)) + body


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmHWM:")).split()[1])


# Under ASan, freed frames sit in a quarantine (256 MB by default) that would read as held memory.
asan = (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4:thread_local_quarantine_size_kb=64").lstrip(":")
with Broker(env={"ASAN_OPTIONS": asan}) as b:
    run(["topics", "-b", b.addr, "--create", "--topic", "bp", "--partitions", "1"])
    batch = record_batch()
    s = socket.create_connection(("127.0.0.1", b.port))
    s.settimeout(scaled(60))
    for corr in range(REQUESTS):  # never reading: the broker must push back, not buffer
        s.sendall(produce_frame(corr, batch))
        if corr == 40:  # 40 MB sent: the broker has had time to read far more than its cap
            peak_mid = peak_rss_kb(b.p.pid)
    f = s.makefile("rb")
    for corr in range(REQUESTS):
        size, got = struct.unpack(">ii", f.read(8))
        resp = f.read(size - 4)
        assert got == corr, f"answer {got} where {corr} was expected"
        (ntopics,) = struct.unpack(">i", resp[:4])
        name_len = struct.unpack(">h", resp[4:6])[0]
        off = 6 + name_len
        nparts, index, err, base = struct.unpack(">iihq", resp[off:off + 18])
        assert (ntopics, nparts, index, err) == (1, 1, 0, 0), (corr, ntopics, nparts, index, err)
        assert base == corr * RECORDS, (corr, base)
    peak = peak_rss_kb(b.p.pid)
    print(f"peak RSS {peak // 1024} MB after {REQUESTS} MB pipelined (at 40 MB sent: {peak_mid // 1024} MB)")
    assert peak < PEAK_LIMIT_KB, f"broker peak RSS {peak // 1024} MB: it buffered the pipeline"
    s.close()
print("0021-produce-backpressure: ok")
