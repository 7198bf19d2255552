"""A/B of two samsa binaries on the broker benchmark's produce and consume runs (bench_kafka),
interleaved in one run so the machine's load drifts over both alike: what the connection limits
(queued.max.request.bytes and the rest, docs/broker.md "Limits") cost on the ordinary path.
Each repetition starts a fresh broker per binary, on the build dir's disk.

  /usr/bin/python3 tests/bench/bench_limits_ab.py BASE_SAMSA NEW_SAMSA BENCH_KAFKA [REPS]

Prints a Markdown table: median msgs/s per configuration and binary, min-max, and new/base."""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CONFIGS = [  # (label, bench_kafka arguments after -b and -t)
    ("produce 100 B acks=all 3 partitions", ["produce", "-s", "100", "-d", "2", "-a", "all", "-P", "3"]),
    ("produce 1 KB acks=1 1 partition", ["produce", "-s", "1024", "-d", "2", "-a", "1", "-P", "1"]),
    ("consume 100 B (1M records)", ["consume", "-s", "100", "-n", "1000000"]),
    ("consume 1 KB (200k records)", ["consume", "-s", "1024", "-n", "200000"]),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_one(samsa, client, args, topic, workdir):
    port = free_port()
    data = tempfile.mkdtemp(prefix="ab-", dir=workdir)
    p = subprocess.Popen([samsa, "broker", "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--log-level",
                          "warn"])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "broker did not start"
                time.sleep(0.05)
        out = subprocess.run([client, args[0], "-b", f"127.0.0.1:{port}", "-t", topic] + args[1:],
                             capture_output=True, text=True, timeout=300, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])["msgs_per_s"]
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(data, ignore_errors=True)


def main():
    base, new, client = sys.argv[1:4]
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    workdir = os.path.dirname(os.path.abspath(client))
    res = {(c[0], b): [] for c in CONFIGS for b in ("base", "new")}
    for rep in range(reps):
        for label, args in CONFIGS:
            for name, samsa in (("base", base), ("new", new)) if rep % 2 == 0 else (("new", new), ("base", base)):
                v = run_one(samsa, client, args, "ab", workdir)
                res[(label, name)].append(v)
                print(f"rep {rep} {label} {name}: {v:.0f} msgs/s", file=sys.stderr, flush=True)
    print(f"| run ({reps} reps, interleaved) | base msgs/s (min-max) | limits msgs/s (min-max) | limits/base |")
    print("|---|---|---|---|")
    ratios = []
    for label, _ in CONFIGS:
        b, n = res[(label, "base")], res[(label, "new")]
        r = statistics.median(n) / statistics.median(b)
        ratios.append(r)
        print(f"| {label} | {statistics.median(b):,.0f} ({min(b):,.0f}-{max(b):,.0f}) | "
              f"{statistics.median(n):,.0f} ({min(n):,.0f}-{max(n):,.0f}) | {r:.2f} |")
    print(f"| geometric mean | | | {statistics.geometric_mean(ratios):.2f} |")


if __name__ == "__main__":
    main()
