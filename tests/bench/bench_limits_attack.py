"""The broker's resident memory under two attacks, for docs/broker.md "Limits" (not a test: tests
0170/0171 assert the bound with a small budget; this measures a binary with its defaults):
  fetch N    64 MB in a topic, then N connections each pipeline 16 Fetches of 64 MB, never reading
  produce N  N connections pipeline 1 MB acks=all batches of 1 KB records, never reading
for 8 s, while a well-behaved librdkafka producer and consumer do round trips (limits_env.py).

  SAMSA=build-release/samsa /usr/bin/python3 tests/bench/bench_limits_attack.py fetch|produce N [BROKER ARGS]
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from limits_env import GoodClient, fetch_frame, hostile, produce_frame, record_batch, rss_kb  # noqa: E402
from harness import Broker, run  # noqa: E402

SECONDS = 8


def fill(port, batch, n):
    s = hostile(port, rcvbuf=1 << 20)
    f = s.makefile("rb")
    for i in range(n):
        s.sendall(produce_frame(i, "t", batch))
        f.read(struct.unpack(">i", f.read(4))[0])
    s.close()


def main():
    kind, conns, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with Broker(extra=extra) as b:
        for topic in ("t", "good"):
            run(["topics", "-b", b.addr, "--create", "--topic", topic, "--partitions", "1"])
        good = GoodClient(b.addr, "good")
        good.warm()
        base = peak = rss_kb(b.p.pid)
        batch = record_batch(250 if kind == "fetch" else 1000, 1000)
        if kind == "fetch":
            fill(b.port, batch, 256)  # 64 MB
        socks = [hostile(b.port) for _ in range(conns)]
        if kind == "fetch":
            for s in socks:
                s.sendall(b"".join(fetch_frame(c, "t", 64 << 20) for c in range(16)))
        else:
            frame = produce_frame(0, "t", batch)
            pos = [0] * conns
            for s in socks:
                s.setblocking(False)
        t0 = time.monotonic()
        while time.monotonic() - t0 < SECONDS:
            if kind != "fetch":  # keep every pipeline full, a frame never cut
                for i, s in enumerate(socks):
                    for _ in range(4):
                        try:
                            pos[i] = (pos[i] + s.send(frame[pos[i]:])) % len(frame)
                        except BlockingIOError:
                            break
            good.round_trip()
            peak = max(peak, rss_kb(b.p.pid))
        print(f"{kind} x{conns} {' '.join(extra)}: RSS {base // 1024} MB before, peak {peak // 1024} MB; "
              f"good round trips {good.rounds}, worst {good.worst * 1000:.0f} ms")
        for s in socks:
            s.close()
        good.close()


if __name__ == "__main__":
    main()
