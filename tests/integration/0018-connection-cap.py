"""max.connections: connections beyond the cap are closed at once; the ones inside it keep
working, and a slot freed by a client that leaves is usable again."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled, wait_until  # noqa: E402

CAP = 5


def api_versions(s, corr):
    hdr = struct.pack(">hhih", 18, 0, corr, 3) + b"cap"
    s.sendall(struct.pack(">i", len(hdr)) + hdr)
    size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
    body = s.recv(size, socket.MSG_WAITALL)
    assert struct.unpack(">ih", body[:6]) == (corr, 0)


def refused(b):
    s = socket.create_connection(("127.0.0.1", b.port), timeout=scaled(5))
    try:
        api_versions(s, 99)
        return False
    except (ConnectionError, struct.error, OSError):
        return True
    finally:
        s.close()


def served(b, corr):
    s = socket.create_connection(("127.0.0.1", b.port), timeout=scaled(5))
    try:
        api_versions(s, corr)
        return s
    except (ConnectionError, struct.error, OSError):
        s.close()
        return None


def main():
    with Broker(extra=["--max-connections", str(CAP)]) as b:
        # The harness's own readiness probes may hold slots for a moment: fill the cap one
        # served connection at a time.
        socks = []
        for i in range(CAP):
            socks.append(wait_until(lambda: served(b, i), 10, f"connection {i + 1} served"))
        assert refused(b), f"connection {CAP + 1} was served"
        socks.pop().close()
        # The broker notices the close on its next turn; then a new client fits again.
        wait_until(lambda: not refused(b), 10, "a freed connection slot")
        for i, s in enumerate(socks):
            api_versions(s, 100 + i)
            s.close()
    print("ok")


if __name__ == "__main__":
    main()
