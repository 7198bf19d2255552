"""Benchmark of the lab tools against the lab's own Python programs, in one run on one broker:

  produce  samsa loggen --delay 0      vs  the lab's KafkaLogProducer (kafka-python), delay=0
  consume  samsa logstat --exit-at-end vs  a kafka-python consumer doing the same work

Both producers use the lab's settings (acks=all, retries=3, max.in.flight=1, gzip, linger 5 ms,
batch 16384). loggen is also run with a throughput profile (-X overrides) to show what the
settings cost. Prints a Markdown table with records/s and the ratios.

    /usr/bin/python3 tests/bench/bench_tools.py            # starts its own `samsa broker`
    SAMSA_BENCH_BOOTSTRAP=host:port ... bench_tools.py     # or uses an external broker
Env: SAMSA (binary), BENCH_N (samsa records, default 500000), BENCH_PY_N (Python, default 30000).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from harness import SAMSA, Broker  # noqa: E402

N = int(os.environ.get("BENCH_N", "500000"))
PY_N = int(os.environ.get("BENCH_PY_N", "30000"))
FAST = ["-X", "batch.size=1048576", "-X", "linger.ms=20", "-X", "max.in.flight.requests.per.connection=5",
        "-X", "compression.type=lz4"]


def samsa_json(*args):
    cp = subprocess.run([SAMSA] + [str(a) for a in args], capture_output=True, text=True, timeout=600)
    if cp.returncode != 0:
        raise RuntimeError(f"samsa {' '.join(map(str, args))}: exit {cp.returncode}: {cp.stderr.strip()[-500:]}")
    return json.loads(cp.stdout)


def lab6(*args):
    cp = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "bench_tools_lab6.py")] + [str(a) for a in args],
                        capture_output=True, text=True, timeout=900)
    if cp.returncode != 0:
        raise RuntimeError(f"lab6 {args[0]}: exit {cp.returncode}: {cp.stderr.strip()[-500:]}")
    return json.loads(cp.stdout.strip().splitlines()[-1])


def topic(b, name):
    subprocess.run([SAMSA, "topics", "-b", b, "--create", "--topic", name, "--partitions", "3",
                    "--replication-factor", "1", "--if-not-exists"], capture_output=True, timeout=60)
    return name  # a broker without CreateTopics auto-creates it on first use


def run(b):
    tag = f"{os.getpid()}"
    tmp = tempfile.mkdtemp(prefix="samsa-bench-tools-")
    rows = []
    # producers
    py = lab6("produce", b, topic(b, f"bench-py-{tag}"), PY_N)
    py_rate = py["records"] / py["seconds"]
    sa = samsa_json("loggen", "-b", b, "--topic", topic(b, f"bench-sa-{tag}"), "--count", N, "--delay", 0,
                    "--json", "-q")
    sa_fast = samsa_json("loggen", "-b", b, "--topic", topic(b, f"bench-fast-{tag}"), "--count", N, "--delay", 0,
                         "--json", "-q", *FAST)
    rows.append(("produce, lab settings", f"lab KafkaLogProducer ({py['records']:,})", py_rate,
                 f"samsa loggen ({sa['delivered']:,})", sa["records_per_s"]))
    rows.append(("produce, loggen throughput -X", f"lab KafkaLogProducer ({py['records']:,})", py_rate,
                 f"samsa loggen ({sa_fast['delivered']:,})", sa_fast["records_per_s"]))
    # consumers: both read the same samsa-produced topic of N records
    pyc = lab6("consume", b, f"bench-sa-{tag}", f"py-{tag}", N, os.path.join(tmp, "py-errors.jsonl"))
    pyc_rate = pyc["records"] / pyc["seconds"] if pyc["seconds"] else 0
    sac = samsa_json("logstat", "-b", b, "--topic", f"bench-sa-{tag}", "--group", f"sa-{tag}", "--exit-at-end",
                     "--json", "--errors-file", os.path.join(tmp, "sa-errors.jsonl"))
    rows.append(("consume + statistics, gzip topic", f"kafka-python consumer ({pyc['records']:,})", pyc_rate,
                 f"samsa logstat ({sac['total']:,})", sac["records_per_s"]))
    # The same work on the lz4 topic of the throughput run: librdkafka inflates gzip on its one
    # thread per broker, which bounds the gzip row. (kafka-python here has no lz4 module.)
    sal = samsa_json("logstat", "-b", b, "--topic", f"bench-fast-{tag}", "--group", f"sal-{tag}", "--exit-at-end",
                     "--json", "--errors-file", os.path.join(tmp, "sal-errors.jsonl"))
    rows.append(("consume + statistics, lz4 topic", "(no lz4 in kafka-python)", 0,
                 f"samsa logstat ({sal['total']:,})", sal["records_per_s"]))
    return rows


def main():
    ext = os.environ.get("SAMSA_BENCH_BOOTSTRAP")
    if ext:
        rows, where = run(ext), f"external broker {ext}"
    else:
        with Broker() as br:
            rows, where = run(br.addr), "samsa broker"
    print(f"## Lab tools vs the lab's Python programs ({where})\n")
    print(f"samsa: {N:,} records per run; Python: {PY_N:,} (it is slower; rates are per second).\n")
    print("| what | Python anchor | records/s | samsa | records/s | ratio |")
    print("|---|---|---:|---|---:|---:|")
    for what, pa, pr, sn, sr in rows:
        ratio = f"{sr / pr:.1f}x" if pr else "-"
        print(f"| {what} | {pa} | {pr:,.0f} | {sn} | {sr:,.0f} | {ratio} |")
    print(f"\nThroughput -X: `{' '.join(FAST)}`. Rates count confirmed deliveries (loggen) and records "
          "from first to last (consumers).\n")


if __name__ == "__main__":
    main()
