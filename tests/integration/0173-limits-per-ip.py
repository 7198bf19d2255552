"""max.connections.per.ip and max.connections.per.ip.overrides: 100 connections from one address
against a cap of 5 - five are served, the rest closed at accept without an answer, with one
warning for the whole burst (counted, and the count reported at shutdown); an address listed in
the overrides (127.0.0.2, 127/8 is all loopback on Linux) may have its own 20; a slot freed is
usable again; other addresses are not affected by a full one."""
import os
import socket
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from limits_env import api_versions_frame, closed_by_broker, hostile  # noqa: E402
from harness import Broker, scaled, wait_until  # noqa: E402

CAP, OVERRIDE, TRIES = 5, 20, 100


def served(port, source):
    """A connection from @p source answered an ApiVersions, or None if it was refused."""
    try:
        s = hostile(port, source=source)
        s.sendall(api_versions_frame(3))
        size, corr = struct.unpack(">ii", s.recv(8, socket.MSG_WAITALL))
        if corr == 3:
            s.recv(size - 4, socket.MSG_WAITALL)
            return s
        s.close()
    except (OSError, struct.error):
        pass
    return None


def fill(port, source, n):
    """Open connections from @p source until @p n are served (the harness's probe may hold one
    for a moment), then check that TRIES more are all refused."""
    socks = []
    for i in range(n):
        socks.append(wait_until(lambda: served(port, source), 10, f"connection {i + 1} from {source}"))
    extra = [hostile(port, source=source) for _ in range(TRIES)]
    assert all(closed_by_broker(s, 5) for s in extra), f"{source}: a connection beyond {n} stayed open"
    for s in extra:
        s.close()
    return socks


def main():
    log = tempfile.TemporaryFile(mode="w+")
    extra = ["-o", f"max.connections.per.ip={CAP}", "-o", f"max.connections.per.ip.overrides=127.0.0.2:{OVERRIDE}"]
    with Broker(extra=extra, stderr=log) as b:
        one = fill(b.port, "127.0.0.1", CAP)
        two = fill(b.port, "127.0.0.2", OVERRIDE)
        three = wait_until(lambda: served(b.port, "127.0.0.3"), 10, "127.0.0.3 served while the others are full")
        one.pop().close()  # a freed slot is usable again once the broker saw the close
        one.append(wait_until(lambda: served(b.port, "127.0.0.1"), 10, "a freed slot reused"))
        for s in one + two + [three]:  # every served connection still works
            s.sendall(api_versions_frame(4))
            assert struct.unpack(">ii", s.recv(8, socket.MSG_WAITALL))[1] == 4
            s.close()
    log.seek(0)
    text = log.read()
    warnings = [line for line in text.splitlines() if "refused: max.connections.per.ip" in line]
    print(f"{len(warnings)} warning(s) for {2 * TRIES}+ refusals:", *warnings, sep="\n  ")
    assert 1 <= len(warnings) <= 2, "refusals were not rate-limited in the log"
    summary = [line for line in text.splitlines() if "were refused at accept" in line]
    assert summary and int(summary[0].split(" connection(s)")[0].split()[-1]) >= 2 * TRIES, summary
    print("ok")


if __name__ == "__main__":
    main()
