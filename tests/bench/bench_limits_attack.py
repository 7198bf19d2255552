"""The broker's resident memory under two attacks, for docs/broker.md "Limits" (not a test: the
tests 0170/0171 assert the bound with a small budget; this measures a binary with its defaults):
  fetch N    64 MB in a topic, then N connections each pipeline 16 Fetches of 64 MB, never reading
  produce N  N connections pipeline 1 MB acks=all batches of 1 KB records, never reading
for 8 s, while a well-behaved librdkafka producer and consumer do round trips (limits_env.py).

  SAMSA=build-release/samsa /usr/bin/python3 tests/bench/bench_limits_attack.py fetch|produce N [BROKER ARGS]"""
import os, sys, time, struct, socket
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from limits_env import hostile, fetch_frame, produce_frame, record_batch, rss_kb, GoodClient
from harness import Broker, run

kind, conns, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
with Broker(extra=extra) as b:
    run(["topics", "-b", b.addr, "--create", "--topic", "t", "--partitions", "1"])
    run(["topics", "-b", b.addr, "--create", "--topic", "good", "--partitions", "1"])
    good = GoodClient(b.addr, "good"); good.warm()
    base = rss_kb(b.p.pid)
    batch = record_batch(250, 1000) if kind == "fetch" else record_batch(1000, 1000)
    if kind == "fetch":
        s = hostile(b.port, rcvbuf=1 << 20); f = s.makefile("rb")
        for i in range(256):  # 64 MB in the topic
            s.sendall(produce_frame(i, "t", batch)); size = struct.unpack(">i", f.read(4))[0]; f.read(size)
        s.close()
        socks = [hostile(b.port) for _ in range(conns)]
        for s in socks:
            s.sendall(b"".join(fetch_frame(c, "t", 64 << 20) for c in range(16)))
        peak = base
        t0 = time.monotonic()
        while time.monotonic() - t0 < 8:
            good.round_trip(); peak = max(peak, rss_kb(b.p.pid))
    else:  # 1 KB records, acks=all, pipelined without reading, as many producers
        socks = [hostile(b.port) for _ in range(conns)]
        for s in socks: s.setblocking(False)
        frame = produce_frame(0, "t", batch)
        pos = [0] * len(socks)
        peak = base; t0 = time.monotonic()
        while time.monotonic() - t0 < 8:
            for i, s in enumerate(socks):
                for _ in range(4):
                    try: pos[i] = (pos[i] + s.send(frame[pos[i]:])) % len(frame)
                    except BlockingIOError: break
            good.round_trip(); peak = max(peak, rss_kb(b.p.pid))
    print(f"{kind} x{conns} {' '.join(extra)}: RSS base {base//1024} MB peak {peak//1024} MB; good rounds {good.rounds} worst {good.worst*1000:.0f} ms")
    for s in socks: s.close()
    good.close()
