"""kcat -L (librdkafka's Metadata) lists the one broker at its advertised address, the
auto-created topics with their partitions, and the cluster id stays the same across a restart."""
import os
import re
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled  # noqa: E402


def kcat(*args, timeout=30):
    cp = subprocess.run(["kcat", *args], capture_output=True, text=True, timeout=scaled(timeout))
    assert cp.returncode == 0, f"kcat {' '.join(args)} exited {cp.returncode}: {cp.stderr}"
    return cp.stdout


def metadata_v1_topic_count(port, names):
    """Send Metadata v1 for @names (None = all topics); return the topic count of the answer,
    checking every topic has error 0 and 3 partitions."""
    body = struct.pack(">i", -1) if names is None else struct.pack(">i", len(names)) + b"".join(
        struct.pack(">h", len(n)) + n.encode() for n in names)
    hdr = struct.pack(">hhih", 3, 1, 77, 4) + b"test"
    with socket.create_connection(("127.0.0.1", port), timeout=scaled(30)) as s:
        s.sendall(struct.pack(">i", len(hdr) + len(body)) + hdr + body)
        size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
        r = s.recv(size, socket.MSG_WAITALL)
    assert len(r) == size and struct.unpack(">i", r[:4])[0] == 77
    pos = 4
    (nb,) = struct.unpack_from(">i", r, pos)
    pos += 4
    for _ in range(nb):  # node_id, host, port, rack
        pos += 4
        (hl,) = struct.unpack_from(">h", r, pos)
        pos += 2 + hl + 4
        (rl,) = struct.unpack_from(">h", r, pos)
        pos += 2 + max(rl, 0)
    pos += 4  # controller id
    (nt,) = struct.unpack_from(">i", r, pos)
    pos += 4
    for _ in range(nt):
        err, nl = struct.unpack_from(">hh", r, pos)
        pos += 4 + nl + 1  # name, is_internal
        assert err == 0, err
        (np_,) = struct.unpack_from(">i", r, pos)
        pos += 4
        assert np_ == 3, np_
        for _ in range(np_):  # error, index, leader, replicas[], isr[]
            pos += 2 + 4 + 4
            for _arr in range(2):
                (n,) = struct.unpack_from(">i", r, pos)
                pos += 4 + 4 * n
    assert pos == len(r), (pos, len(r))
    return nt


def main():
    with Broker(extra=["--num-partitions", "3"]) as b:
        out = kcat("-b", b.addr, "-L")
        assert re.search(rf"1 brokers:\s+broker 0 at 127\.0\.0\.1:{b.port}", out), out
        assert "0 topics" in out, out

        # Metadata for a named topic auto-creates it with num.partitions.
        out = kcat("-b", b.addr, "-L", "-t", "auto_created")
        assert 'topic "auto_created" with 3 partitions' in out, out
        for p in range(3):
            assert re.search(rf"partition {p}, leader 0, replicas: 0, isrs: 0", out), out

        out = kcat("-b", b.addr, "-L", "-J")
        import json
        md = json.loads(out)
        assert md["brokers"] == [{"id": 0, "name": f"127.0.0.1:{b.port}"}], md["brokers"]
        assert [t["topic"] for t in md["topics"]] == ["auto_created"], md["topics"]

        # A bad topic name is refused, not created.
        cp = subprocess.run(["kcat", "-b", b.addr, "-L", "-t", "bad/name"], capture_output=True, text=True,
                            timeout=scaled(30))
        assert "bad/name" not in kcat("-b", b.addr, "-L"), "invalid topic name was created"
        del cp

        # Many topics: one Metadata v1 naming 300 new topics creates them all, and the
        # all-topics answer (900 partitions) comes back whole.
        names = [f"many_{i:04d}" for i in range(300)]
        assert metadata_v1_topic_count(b.port, names) == 300
        assert metadata_v1_topic_count(b.port, None) == 301

        cluster_id = open(os.path.join(b.data_dir, "meta.properties")).read()
        b.restart()
        out = kcat("-b", b.addr, "-L")
        assert 'topic "auto_created" with 3 partitions' in out, out
        assert open(os.path.join(b.data_dir, "meta.properties")).read() == cluster_id
    print("ok")


if __name__ == "__main__":
    main()
