"""kcat -L (librdkafka's Metadata) lists the one broker at its advertised address, the
auto-created topics with their partitions, and the cluster id stays the same across a restart."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled  # noqa: E402


def kcat(*args, timeout=30):
    cp = subprocess.run(["kcat", *args], capture_output=True, text=True, timeout=scaled(timeout))
    assert cp.returncode == 0, f"kcat {' '.join(args)} exited {cp.returncode}: {cp.stderr}"
    return cp.stdout


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

        cluster_id = open(os.path.join(b.data_dir, "meta.properties")).read()
        b.restart()
        out = kcat("-b", b.addr, "-L")
        assert 'topic "auto_created" with 3 partitions' in out, out
        assert open(os.path.join(b.data_dir, "meta.properties")).read() == cluster_id
    print("ok")


if __name__ == "__main__":
    main()
