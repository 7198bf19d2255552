"""Hostile bytes over raw sockets: random bytes, a 2 GB length, negative lengths, truncated
frames, unknown api keys and versions, garbage after a valid header. The broker never crashes
(another connection still gets answers), never allocates for a frame it refuses (RSS stays
bounded), closes only the offending connection, and answers unknown ApiVersions versions the
Kafka way (v0 response, UNSUPPORTED_VERSION, the supported list)."""
import os
import random
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled  # noqa: E402


def frame(api_key, version, corr, body=b"", client_id=b"raw-test", flexible_header=False):
    hdr = struct.pack(">hhi", api_key, version, corr) + struct.pack(">h", len(client_id)) + client_id
    if flexible_header:
        hdr += b"\x00"  # empty tagged fields
    payload = hdr + body
    return struct.pack(">i", len(payload)) + payload


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def read_response(s):
    (size,) = struct.unpack(">i", recv_exact(s, 4))
    assert 4 <= size < 1 << 20, size
    return recv_exact(s, size)


def connect(b):
    s = socket.create_connection(("127.0.0.1", b.port), timeout=scaled(10))
    return s


def closed_by_broker(s):
    """True once the broker closed (EOF or reset); waits for it with the socket timeout."""
    try:
        return s.recv(1 << 16) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def api_versions_v0(s, corr=7):
    s.sendall(frame(18, 0, corr))
    resp = read_response(s)
    got_corr, err, n = struct.unpack(">ihi", resp[:10])
    assert got_corr == corr and err == 0, (got_corr, err)
    keys = {struct.unpack(">hhh", resp[10 + 6 * i:16 + 6 * i])[0] for i in range(n)}
    assert {0, 1, 2, 3, 18} <= keys, keys
    return keys


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_kb(pid):
    return status_kb(pid, "VmRSS")


def main():
    # Under ASan, freed memory sits in a quarantine (256 MB by default), which would read as
    # growth; keep it small so the RSS bound means the same in both builds.
    asan = (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4:thread_local_quarantine_size_kb=64").lstrip(":")
    with Broker(env={"ASAN_OPTIONS": asan}) as b:
        pid = b.p.pid
        healthy = connect(b)
        api_versions_v0(healthy)
        rss0, vm0 = rss_kb(pid), status_kb(pid, "VmPeak")

        # 1. Sizes refused before any allocation: 2 GB, negative, too short for a header. Even
        # an untouched 2 GB malloc would show in the peak virtual size.
        for size in (0x7FFFFFFF, 2_000_000_000, -1, -2_000_000_000, 0, 3):
            s = connect(b)
            s.sendall(struct.pack(">i", size) + b"\x00" * 16)
            assert closed_by_broker(s), f"size {size} not refused"
            s.close()
        vm1 = status_kb(pid, "VmPeak")
        assert vm1 < vm0 + 256 * 1024, f"VmPeak grew from {vm0} kB to {vm1} kB on refused frames"

        # 2. A frame claiming 90 MB (under socket.request.max.bytes) then nothing: no harm.
        s = connect(b)
        s.sendall(struct.pack(">i", 90 << 20) + b"\x00\x12\x00\x00")
        s.close()

        # 3. Truncated frames: the peer goes away mid-frame.
        for cut in (1, 3, 5, 9, 12):
            s = connect(b)
            s.sendall(frame(18, 0, 1)[:cut])
            s.close()

        # 4. Random garbage.
        rnd = random.Random(1234)
        for _ in range(200):
            s = connect(b)
            try:
                s.sendall(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300))))
            except OSError:
                pass
            s.close()

        # 5. Unknown api key and unsupported versions: the connection is closed (Kafka does the same).
        for key, ver in ((999, 0), (-5, 0), (3, 99), (0, 42), (1, 0)):
            s = connect(b)
            s.sendall(frame(key, ver, 11))
            assert closed_by_broker(s), f"ApiKey {key} v{ver} not refused"
            s.close()

        # 6. ApiVersions of a version from the future: v0 response, UNSUPPORTED_VERSION, our list.
        s = connect(b)
        s.sendall(frame(18, 77, 42, body=b"\x00\x00\x00", flexible_header=True))
        resp = read_response(s)
        corr, err, n = struct.unpack(">ihi", resp[:10])
        assert corr == 42 and err == 35 and n >= 5, (corr, err, n)
        s.close()

        # 7. Garbage after a valid header: a Metadata v1 whose body is nonsense.
        s = connect(b)
        s.sendall(frame(3, 1, 5, body=b"\x7f\xff\xff\xff" + b"\x01" * 10))
        assert closed_by_broker(s), "malformed Metadata body not refused"
        s.close()
        # Produce v7 with a topic array claiming 2^30 entries in 20 bytes.
        s = connect(b)
        s.sendall(frame(0, 7, 6, body=b"\xff\xff" + b"\x00\x01" + b"\x00\x00\x75\x30" + b"\x40\x00\x00\x00" + b"\x00" * 8))
        assert closed_by_broker(s), "Produce with a huge array count not refused"
        s.close()

        # 8. Pipelined requests on one socket come back in order.
        s = connect(b)
        s.sendall(b"".join(frame(18, v, 100 + v, body=b"\x00\x00\x00" if v >= 3 else b"", flexible_header=v >= 3)
                           for v in range(5)))
        for v in range(5):
            resp = read_response(s)
            assert struct.unpack(">i", resp[:4])[0] == 100 + v, f"response {v} out of order"
        s.close()

        # 9. Produce: acks=2 is INVALID_REQUIRED_ACKS (21), for the old versions (0-2, served by
        # converting their message sets) too; null records are refused per partition
        # (UNKNOWN_TOPIC_OR_PARTITION for a missing topic, else CORRUPT_MESSAGE), with the
        # connection kept open.
        def produce_error(version, acks):
            body = b""
            if version >= 3:
                body += struct.pack(">h", -1)  # TransactionalId null
            body += struct.pack(">hi", acks, 1000) + struct.pack(">i", 1) + struct.pack(">h", 1) + b"t"
            body += struct.pack(">i", 1) + struct.pack(">ii", 0, -1)  # partition 0, null records
            s = connect(b)
            s.sendall(frame(0, version, 9, body=body))
            resp = read_response(s)
            # corr, [topics: count, name "t", [partitions: count, index, ErrorCode ...]]
            corr, nt, nlen = struct.unpack(">iih", resp[:10])
            assert corr == 9 and nt == 1 and resp[10:10 + nlen] == b"t", resp
            np_, index, err = struct.unpack(">iih", resp[10 + nlen:20 + nlen])
            assert np_ == 1 and index == 0, resp
            s.sendall(frame(18, 0, 10))  # still open and serving
            assert struct.unpack(">i", read_response(s)[:4])[0] == 10
            s.close()
            return err

        assert produce_error(7, 2) == 21, "acks=2 not refused with INVALID_REQUIRED_ACKS"
        assert produce_error(3, -5) == 21
        assert produce_error(2, 2) == 21, "Produce v2 with acks=2 not refused with INVALID_REQUIRED_ACKS"
        assert produce_error(0, 1) == 3, "Produce v0 of null records to a missing topic"

        # 10. A client that sends 20,000 pipelined requests before reading anything: the broker
        # pauses reading at its queue limit, resumes as responses drain, and answers all of
        # them in order (exercises short writes and the paused-read resume path).
        s = connect(b)
        n = 20000
        s.sendall(b"".join(frame(18, 0, i) for i in range(n)))
        for i in range(n):
            resp = read_response(s)
            assert struct.unpack(">i", resp[:4])[0] == i, f"response {i} out of order"
        s.close()

        # The broker is alive and the first connection still works.
        assert b.alive(), "broker died"
        api_versions_v0(healthy, corr=8)
        healthy.close()
        rss1 = rss_kb(pid)
        print(f"RSS before {rss0} kB, after {rss1} kB; VmPeak {vm0} kB -> {vm1} kB")
        assert rss1 < rss0 + 64 * 1024, f"RSS grew from {rss0} kB to {rss1} kB"
    print("ok")


if __name__ == "__main__":
    main()
