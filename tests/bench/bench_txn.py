"""The transactions benchmark of `make bench`: samsa side by side with Apache Kafka flushing every
message (log.flush.interval.messages=1: samsa's durability, the broker benchmark's set-up, reused
from bench_broker.py), driven by one client of our own (bench_txn, librdkafka), in one run.

  transactional produce   transactions of 100 and of 10,000 records of 100 B, back to back, one
                          transactional producer, 1 and 3 partitions: records/s, transactions/s and
                          the commit call's p50/p99
  read_committed latency  a fixed-rate schedule produced in transactions (of 1 record at 10/s, of
                          10 at 100/s and of 100 at 1,000/s: ten transactions a second) and a
                          read_committed consumer: p50/p99/p99.9 from each record's due time to its
                          arrival (no coordinated omission)

Goals (docs/benchmarks.md): samsa at least 2x Kafka's transactional throughput and at most 1/5 of
its read_committed p99.

Method: as bench_broker.py - a warm-up per target, then BENCH_REPS repetitions with the targets
interleaved; cells are median (min-max), ratios medians over medians. A target that does not
serve transactions (samsa's broker before its coordinator) is reported as such.

Prints a Markdown section on stdout; writes the raw results (each run's command) to
$BENCH_RESULTS_DIR/txn.json. Env: SAMSA, BUILD_DIR, BENCH_REPS, BENCH_TXN_TARGETS (comma list of
samsa, kafka-flush1, kafka; default samsa,kafka-flush1), BENCH_KAFKA_VERSION, BENCH_TXN_SECONDS.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_broker as bb  # noqa: E402  (the targets, statistics and formatting of the broker part)

CLIENT = os.path.join(bb.BUILD_DIR, "tests", "bench_txn")
TARGETS = os.environ.get("BENCH_TXN_TARGETS", "samsa,kafka-flush1").split(",")
SECONDS = os.environ.get("BENCH_TXN_SECONDS", "2")
PRODUCE = [(n, p) for n in (100, 10000) for p in (1, 3)]  # (records per transaction, partitions)
# (records per transaction, records/s, seconds): ten transactions a second, a pace Kafka flushing
# every message keeps up with (its commit takes ~50-80 ms here; faster, its schedule only falls
# behind). A transaction of one record shows the broker's own path (produce, commit, markers,
# fetch); larger ones add the wait for the transaction to fill (up to 100 ms) to every target alike.
E2E = [(1, 10, 10), (10, 100, 4), (100, 1000, 4)]


def log(msg):
    print(f"bench_txn: {msg}", file=sys.stderr, flush=True)


def client(mode, target, *args):
    cmd = [CLIENT, mode, "-b", target.bootstrap] + [str(a) for a in args]
    cp = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        last = (cp.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{os.path.basename(cmd[0])} {mode}: exit {cp.returncode}: {last[-300:]}")
    res = json.loads(lines[-1])
    res["ok"] = cp.returncode == 0
    res["cmd"] = " ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd))
    return res


def main():
    t_suite = time.monotonic()
    root = tempfile.mkdtemp(prefix="bench-txn-", dir=bb.BUILD_DIR)
    targets = []
    for name in TARGETS:
        if name == "samsa":
            targets.append(bb.Samsa("samsa", root))
        elif name == "kafka-flush1":
            targets.append(bb.Kafka("kafka-flush1", root, ["log.flush.interval.messages=1"]))
        elif name == "kafka":
            targets.append(bb.Kafka("kafka", root, []))
    res = {"reps": bb.REPS, "targets": [], "produce": [], "e2e": [], "notes": [], "unserved": {}}
    try:
        run(targets, res)
    finally:
        for t in targets:
            try:
                t.stop()
            except Exception as e:
                log(f"stopping {t.name}: {e}")
        shutil.rmtree(root, ignore_errors=True)
    res["seconds"] = time.monotonic() - t_suite
    if os.environ.get("BENCH_RESULTS_DIR"):
        with open(os.path.join(os.environ["BENCH_RESULTS_DIR"], "txn.json"), "w") as f:
            json.dump(res, f, indent=1)
    report(res)


def run(targets, res):
    live = []
    for t in targets:
        try:
            log(f"starting {t.name}")
            t.start()
            if isinstance(t, bb.Kafka):
                res["kafka_version"] = t.version
            live.append(t)
        except Exception as e:
            res["notes"].append(f"{bb.LABEL[t.name]} did not start, left out: {e}")
    res["targets"] = [t.name for t in live]

    def each(fn):
        for t in live:
            if t.name in res["unserved"]:
                continue
            try:
                fn(t)
            except Exception as e:
                if "authorization failed" in str(e).lower() or "TRANSACTIONAL_ID" in str(e):
                    res["unserved"][t.name] = str(e)[-200:]  # no transactions: say so once
                else:
                    res["notes"].append(f"{bb.LABEL[t.name]}: {e}")
                log(f"{t.name}: {e}")

    log("warm-up")
    each(lambda t: client("produce", t, "-t", "txn-warmup", "-n", 100, "-d", 1))
    for rep in range(bb.REPS):
        log(f"repetition {rep + 1}/{bb.REPS}: transactional produce")
        for n, parts in PRODUCE:
            def prod(t, n=n, parts=parts):
                r = client("produce", t, "-t", f"txn-p-{n}-{parts}", "-n", n, "-P", parts, "-d", SECONDS)
                r.update(target=t.name, rep=rep)
                res["produce"].append(r)
            each(prod)
        log(f"repetition {rep + 1}/{bb.REPS}: read_committed latency")
        for n, rate, secs in E2E:
            def e2e(t, n=n, rate=rate, secs=secs):
                r = client("e2e", t, "-t", f"txn-e-{n}-{rate}-{rep}", "-n", n, "-r", rate, "-d", secs,
                           "-X", "linger.ms=1")
                r.update(target=t.name, rep=rep)
                res["e2e"].append(r)
            each(e2e)


def report(res):
    names = res["targets"]
    kref = "kafka-flush1" if "kafka-flush1" in names else ("kafka" if "kafka" in names else None)
    print("## Transactions: samsa and Apache Kafka (bench_txn.py)")
    print()
    print(f"`tests/bench/bench_txn.py` drives each target with `bench_txn` (librdkafka {bb.rdkafka_version()}, "
          f"a transactional producer and a read_committed consumer). Targets: samsa and Apache Kafka "
          f"{res.get('kafka_version', '?')} with `log.flush.interval.messages=1` (an fsync per append, samsa's "
          f"durability: the broker part's set-up). {res['reps']} repetitions after a warm-up, targets "
          f"interleaved; cells are **median (min-max)**. Goals: samsa >= 2x Kafka's records/s, samsa's "
          f"read_committed p99 <= 1/5 of Kafka's. Took {res['seconds'] / 60:.1f} min.")
    print()
    for n, why in res["unserved"].items():
        print(f"- {bb.LABEL[n]} does not serve transactions here: `{why.strip()}`")
    for n in res["notes"]:
        print(f"- note: {n}")
    if res["unserved"] or res["notes"]:
        print()
    print("### Transactional produce (100 B records; one transactional producer, transactions back to back)")
    print()
    heads = " | ".join(bb.LABEL[n] for n in names)
    ratio_head = f" | samsa / {bb.LABEL[kref]} | goal >= 2x" if kref and "samsa" in names else ""
    print(f"| records per transaction | partitions | {heads}{ratio_head} | commit p50 / p99 ms ({', '.join(names)}) |")
    print("|---|---|" + "---|" * len(names) + ("---|---|" if ratio_head else "") + "---|")
    for n, parts in PRODUCE:
        rows = bb.by(res["produce"], txn_records=n, partitions=parts)
        cells, meds, commits = [], {}, []
        for t in names:
            mine = [r for r in bb.by(rows, target=t) if r["ok"]]
            xs = [r["msgs_per_s"] for r in mine]
            meds[t] = bb.med(xs)
            cells.append(bb.cell(xs, bb.fmt_rate) if t not in res["unserved"] else "no transactions")
            commits.append(f"{bb.fmt_ms(bb.med([r['commit_ms_p50'] for r in mine]))} / "
                           f"{bb.fmt_ms(bb.med([r['commit_ms_p99'] for r in mine]))}")
        line = f"| {n:,} | {parts} | " + " | ".join(cells)
        if ratio_head:
            r = bb.ratio(meds.get("samsa"), meds.get(kref))
            line += f" | {bb.fmt_ratio(r)} | {'-' if r is None else ('met' if r >= 2 else 'missed')}"
        print(line + " | " + "; ".join(commits) + " |")
    print()
    print("### read_committed end-to-end latency (ms from each record's due time; 100 B, one partition)")
    print()
    ratio_head = f" | p99 samsa / {bb.LABEL[kref]} | goal <= 0.2" if kref and "samsa" in names else ""
    print(f"| schedule | " + " | ".join(f"{bb.LABEL[t]} p50 / p99 / p99.9" for t in names) + ratio_head + " |")
    print("|---|" + "---|" * len(names) + ("---|---|" if ratio_head else ""))
    for n, rate, _ in E2E:
        rows = bb.by(res["e2e"], txn_records=n, rate=rate)
        cells, p99 = [], {}
        for t in names:
            mine = [r for r in bb.by(rows, target=t) if r["missing"] == 0]
            p99[t] = bb.med([r["e2e_ms_p99"] for r in mine])
            if t in res["unserved"]:
                cells.append("no transactions")
            elif not mine:
                cells.append("failed")
            else:
                cells.append(" / ".join(bb.fmt_ms(bb.med([r[k] for r in mine]))
                                        for k in ("e2e_ms_p50", "e2e_ms_p99", "e2e_ms_p999")))
        line = f"| {rate:,}/s in transactions of {n} | " + " | ".join(cells)
        if ratio_head:
            r = bb.ratio(p99.get("samsa"), p99.get(kref))
            line += f" | {'-' if r is None else f'{r:.2f}'} | {'-' if r is None else ('met' if r <= 0.2 else 'missed')}"
        print(line + " |")
    print()
    cmds = sorted({r["cmd"].replace(r["cmd"].split(" -b ")[1].split(" ")[0], "HOST:PORT")
                   for r in res["produce"] + res["e2e"]})[:4]
    if cmds:
        print("Commands (one per configuration and target; see txn.json for all): " +
              "; ".join(f"`{c}`" for c in cmds))
        print()


if __name__ == "__main__":
    main()
