"""queued.max.request.bytes against 100 connections that pipeline large Fetches and never read
an answer: the broker's resident memory stays within the budget (plus limits_env.RSS_MARGIN_MB),
a well-behaved librdkafka producer and consumer keep completing round trips throughout, and the
hostile connections were paused, not dropped: once they read, every answer arrives, in order."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from limits_env import (RSS_MARGIN_MB, GoodClient, asan_env, fetch_frame, hostile, produce_frame,  # noqa: E402
                        record_batch, rss_kb)
from harness import Broker, run, scaled  # noqa: E402

BUDGET_MB = 16
CONNS, PIPELINE = 100, 8
DATA_BATCHES = 32  # of 256 KB: 8 MB in the topic, so one answer may be 8 MB


def read_answer(f):
    size, corr = struct.unpack(">ii", f.read(8))
    f.read(size - 4)
    return corr


def main():
    extra = ["-o", f"queued.max.request.bytes={BUDGET_MB}m"]
    with Broker(extra=extra, env=asan_env()) as b:
        for topic in ("big", "good"):
            run(["topics", "-b", b.addr, "--create", "--topic", topic, "--partitions", "1"])
        filler = hostile(b.port, rcvbuf=1 << 20)
        batch = record_batch(250, 1000)
        fr = filler.makefile("rb")
        for i in range(DATA_BATCHES):
            filler.sendall(produce_frame(i, "big", batch))
            assert read_answer(fr) == i
        filler.close()

        good = GoodClient(b.addr, "good")
        good.warm()
        base = rss_kb(b.p.pid)

        socks = [hostile(b.port) for _ in range(CONNS)]
        for s in socks:
            s.sendall(b"".join(fetch_frame(c, "big", 64 << 20) for c in range(PIPELINE)))
        peak = base
        for _ in range(20):  # the hostile pipelines are all in; the good client goes on
            good.round_trip()
            peak = max(peak, rss_kb(b.p.pid))
        grew_mb = (peak - base) / 1024
        print(f"RSS {base // 1024} MB before, peak {peak // 1024} MB with {CONNS} x {PIPELINE} unread "
              f"64 MB Fetches (+{grew_mb:.1f} MB, budget {BUDGET_MB} MB); good round trips {good.rounds}, "
              f"worst {good.worst * 1000:.0f} ms")
        assert grew_mb < BUDGET_MB + RSS_MARGIN_MB, f"broker grew by {grew_mb:.1f} MB"

        # Paused, not dropped: the first ten read now and get every answer in order.
        for s in socks[:10]:
            s.settimeout(scaled(30))
            f = s.makefile("rb")
            assert [read_answer(f) for _ in range(PIPELINE)] == list(range(PIPELINE))
        for s in socks:
            s.close()
        good.round_trip()
        good.close()
    print("ok")


if __name__ == "__main__":
    main()
