"""queued.max.request.bytes against 100 connections that pipeline acks=all Produce requests of
256 KB and never read an answer: the broker's resident memory stays within the budget (plus
limits_env.RSS_MARGIN_MB), a well-behaved librdkafka producer and consumer keep completing round
trips throughout, and nothing is lost: once the hostile connections read, each gets every answer,
in order and without error, and the topic holds exactly their records."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from limits_env import RSS_MARGIN_MB, GoodClient, asan_env, hostile, produce_frame, record_batch, rss_kb  # noqa: E402
from harness import Broker, run, scaled, wait_until  # noqa: E402

BUDGET_MB = 16
CONNS, PIPELINE, RECORDS = 100, 8, 250  # 8 x 256 KB per connection: 200 MB offered


def produce_answer(f):
    """(correlation id, error code, base offset) of a Produce v3 answer to one partition."""
    size, corr = struct.unpack(">ii", f.read(8))
    resp = f.read(size - 4)
    name_len = struct.unpack(">h", resp[4:6])[0]
    off = 6 + name_len
    _, _, err, base = struct.unpack(">iihq", resp[off:off + 18])
    return corr, err, base


def main():
    with Broker(extra=["-o", f"queued.max.request.bytes={BUDGET_MB}m"], env=asan_env()) as b:
        for topic in ("flood", "good"):
            run(["topics", "-b", b.addr, "--create", "--topic", topic, "--partitions", "1"])
        good = GoodClient(b.addr, "good")
        good.warm()
        base = rss_kb(b.p.pid)

        batch = record_batch(RECORDS, 1000)
        frames = b"".join(produce_frame(c, "flood", batch) for c in range(PIPELINE))
        socks = [hostile(b.port) for _ in range(CONNS)]
        for s in socks:
            s.setblocking(False)
        sent = [0] * CONNS
        peak = base
        # Push every pipeline as far as the broker takes it, with good round trips in between.
        while not all(n == len(frames) for n in sent) and good.rounds < 200:
            for i, s in enumerate(socks):
                if sent[i] < len(frames):
                    try:
                        sent[i] += s.send(frames[sent[i]:sent[i] + (1 << 20)])
                    except BlockingIOError:
                        pass
            good.round_trip()
            peak = max(peak, rss_kb(b.p.pid))
        for _ in range(5):
            good.round_trip()
            peak = max(peak, rss_kb(b.p.pid))
        grew_mb = (peak - base) / 1024
        print(f"RSS {base // 1024} MB before, peak {peak // 1024} MB with {CONNS} x {PIPELINE} pipelined "
              f"256 KB produces (+{grew_mb:.1f} MB, budget {BUDGET_MB} MB), {sum(sent) >> 20} MB sent so far; "
              f"good round trips {good.rounds}, worst {good.worst * 1000:.0f} ms")
        assert grew_mb < BUDGET_MB + RSS_MARGIN_MB, f"broker grew by {grew_mb:.1f} MB"

        # Nothing lost: every connection sends the rest and reads all its answers, in order.
        bases = set()
        for i, s in enumerate(socks):
            s.setblocking(True)
            s.settimeout(scaled(60))
            s.sendall(frames[sent[i]:])
            f = s.makefile("rb")
            for c in range(PIPELINE):
                corr, err, base_offset = produce_answer(f)
                assert (corr, err) == (c, 0), (i, c, corr, err)
                bases.add(base_offset)
            s.close()
        assert bases == {n * RECORDS for n in range(CONNS * PIPELINE)}, "offsets missing or doubled"
        out = wait_until(lambda: run(["topics", "-b", b.addr, "--describe", "--topic", "flood"]).stdout, 10)
        print(out.strip().splitlines()[-1])
        good.round_trip()
        good.close()
    print("ok")


if __name__ == "__main__":
    main()
