"""The broker benchmark of `make bench`: samsa side by side with Apache Kafka (its defaults, and
with log.flush.interval.messages=1, the same durability as samsa) and librdkafka's in-memory mock
cluster (the ceiling of the client), all driven by one client of our own (bench_kafka), in one
run on one machine.

  produce throughput   100 B and 1 KB x acks=1 and all x 1 and 3 partitions, max rate, 2 s a run
  consume throughput   100 B and 1 KB, one consumer from the beginning
  latency              acks=all, 100 B, fixed-rate schedules, p50/p99/p99.9 of the acknowledgement
                       and end to end, measured from each record's due time (no coordinated omission)
  memory               the broker's RSS and peak RSS (VmHWM) after the runs
  start-up             process start to accepting TCP connections (empty data dir)
  fdatasync            the disk's own sync latency, the floor of acknowledged latency
  recovery             (BENCH_FULL=1) kill -9 with ~1 GiB on disk, then start-up to accepting connections

Method: a warm-up run per target first; then BENCH_REPS repetitions (default 3) where each
configuration is run on every target in turn (interleaved, so the machine's load drifts over all
targets alike); the tables show the median and the min-max spread. Payloads come from a fixed
seed. Brokers keep their data under the build dir (a real disk, not tmpfs) and only one target
is driven at a time; the others idle.

Prints a Markdown section on stdout; writes every raw result (JSON, with each run's exact
command) to $BENCH_RESULTS, or $BENCH_RESULTS_DIR/broker.json, for the chart (scripts/bench_chart.py).

Env: SAMSA, BUILD_DIR (set by scripts/bench.sh), BENCH_REPS, BENCH_FULL=1, BENCH_TARGETS
(comma list of samsa,kafka,kafka-flush1,mock), BENCH_KAFKA_VERSION, BENCH_PRODUCE_SECONDS,
BENCH_RATES (comma list, default 1000,10000,100000).
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD_DIR = os.environ.get("BUILD_DIR", os.path.join(ROOT, "build-release"))
SAMSA = os.environ.get("SAMSA", os.path.join(BUILD_DIR, "samsa"))
CLIENT = os.path.join(BUILD_DIR, "tests", "bench_kafka")
FSYNC = os.path.join(BUILD_DIR, "tests", "bench_fsync")
REAL_KAFKA = os.path.join(ROOT, "scripts", "kafka", "real-kafka.sh")
REPS = max(1, int(os.environ.get("BENCH_REPS", "3")))
FULL = os.environ.get("BENCH_FULL") == "1"
TARGETS = os.environ.get("BENCH_TARGETS", "samsa,kafka,kafka-flush1,mock").split(",")
PRODUCE_SECONDS = os.environ.get("BENCH_PRODUCE_SECONDS", "1.5")
RATES = [int(r) for r in os.environ.get("BENCH_RATES", "1000,10000,100000").split(",")]
LATENCY_SECONDS = "3"
LATENCY_X = ["-X", "linger.ms=1"]  # same for every target: the numbers are the broker's, not batching
SIZES = [100, 1024]
CONSUME_RECORDS = {100: 1000000, 1024: 200000}
LABEL = {"samsa": "samsa", "kafka": "Kafka (defaults)", "kafka-flush1": "Kafka (flush every message)",
         "mock": "librdkafka mock"}


def log(msg):
    print(f"bench_broker: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_accepting(port, t0, deadline_s, proc=None):
    """Seconds from t0 until port accepts a TCP connection (polled every ms)."""
    deadline = t0 + deadline_s
    while not accepts(port):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}) before accepting connections")
        if time.monotonic() > deadline:
            raise RuntimeError(f"port {port} not accepting after {deadline_s} s")
        time.sleep(0.001)
    return time.monotonic() - t0


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def rss_kb(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return out


class Samsa:
    def __init__(self, name, root):
        self.name, self.dir, self.proc, self.port = name, os.path.join(root, name), None, None

    def start(self, wipe=True):
        """Starts the broker; returns seconds from spawn to accepting connections."""
        if wipe:
            shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir, exist_ok=True)
        self.port = self.port or free_port()
        errf = open(os.path.join(self.dir, "broker.log"), "a")
        t0 = time.monotonic()
        self.proc = subprocess.Popen([SAMSA, "broker", "--listen", f"127.0.0.1:{self.port}", "--data-dir",
                                      os.path.join(self.dir, "data"), "--log-level", "warn"],
                                     stdout=subprocess.DEVNULL, stderr=errf)
        errf.close()
        return wait_accepting(self.port, t0, 120, self.proc)

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Kafka:
    """A real Apache Kafka from scripts/kafka/real-kafka.sh (KRaft, one node)."""

    def __init__(self, name, root, props):
        self.name, self.dir, self.props, self.port, self.version = name, os.path.join(root, name), props, None, None
        self.java = None  # a JVM we re-spawned ourselves (recovery), else real-kafka.sh owns it
        self.ready_s = None

    def start(self):
        """Returns seconds from the JVM's spawn (its pid file appears) to accepting connections;
        self.ready_s is the time until it lists itself in Metadata (registered, unfenced)."""
        os.makedirs(self.dir, exist_ok=True)
        pidfile = os.path.join(self.dir, "kafka.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        self.port = free_port()
        args = [REAL_KAFKA, "start", "--dir", self.dir, "--port", str(self.port)]
        if os.environ.get("BENCH_KAFKA_VERSION"):
            args += ["--version", os.environ["BENCH_KAFKA_VERSION"]]
        for p in self.props:
            args += ["--prop", p]
        starter = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while not os.path.exists(pidfile):  # written right after the JVM is spawned (after format)
            if starter.poll() is not None or time.monotonic() > deadline:
                out, err = starter.communicate()
                raise RuntimeError(f"real-kafka.sh start failed: {err.strip()[-800:]}")
            time.sleep(0.002)
        t0 = time.monotonic()
        accept = wait_accepting(self.port, t0, 180)
        out, err = starter.communicate(timeout=300)
        self.ready_s = time.monotonic() - t0
        if starter.returncode != 0:
            raise RuntimeError(f"real-kafka.sh start failed: {err.strip()[-800:]}")
        with open(os.path.join(self.dir, "kafka.version")) as f:
            self.version = f.read().strip()
        return accept

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self):
        if self.java:
            return self.java.pid
        try:
            with open(os.path.join(self.dir, "kafka.pid")) as f:
                return int(f.read())
        except OSError:
            return None

    def kill9_and_restart(self):
        """kill -9 the JVM, spawn it again with the same command line and data; returns (seconds to
        accepting connections, monotonic time of the spawn)."""
        pid = self.pid
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = [a.decode() for a in f.read().split(b"\0") if a]
        os.kill(pid, signal.SIGKILL)
        # A JVM's main thread shows as a zombie while its other threads still hold the sockets:
        # wait until the port is closed too, or the "restart" would be the dying process.
        deadline = time.monotonic() + 60
        while (alive(pid) or accepts(self.port)) and time.monotonic() < deadline:
            time.sleep(0.005)
        out = open(os.path.join(self.dir, "logs", "restart.log"), "a")
        t0 = time.monotonic()
        self.java = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        return wait_accepting(self.port, t0, 300, self.java), t0

    def stop(self):
        if self.java:
            self.java.terminate()
            try:
                self.java.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.java.kill()
                self.java.wait()
            self.java = None
            pidfile = os.path.join(self.dir, "kafka.pid")
            if os.path.exists(pidfile):
                os.unlink(pidfile)
            return
        subprocess.run([REAL_KAFKA, "stop", "--dir", self.dir], capture_output=True, timeout=120)


class Mock:
    """librdkafka's mock cluster, created inside each bench_kafka process (no broker process)."""
    name, bootstrap, pid, version = "mock", "mock", None, None

    def start(self):
        return None

    def stop(self):
        pass


def client(mode, target, *args):
    cmd = [CLIENT, mode, "-b", target.bootstrap, "-S", "42"] + [str(a) for a in args]
    cp = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(cmd)}: exit {cp.returncode}: {cp.stderr.strip()[-600:]}")
    res = json.loads(lines[-1])
    res["ok"] = cp.returncode == 0
    res["cmd"] = " ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd))
    return res


# ---- statistics and formatting ---------------------------------------------------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_rate(x):
    if x is None:
        return "-"
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def fmt_ms(x):
    if x is None:
        return "-"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def cell(xs, fmt):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "failed"
    m = statistics.median(xs)
    if len(xs) == 1:
        return fmt(m)
    return f"{fmt(m)} ({fmt(min(xs))}-{fmt(max(xs))})"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


# ---- the suite --------------------------------------------------------------------------------

def main():
    t_suite = time.monotonic()
    root = tempfile.mkdtemp(prefix="bench-data-", dir=BUILD_DIR)  # on the build dir's disk, not tmpfs
    targets = []
    for name in TARGETS:
        if name == "samsa":
            targets.append(Samsa("samsa", root))
        elif name == "kafka":
            targets.append(Kafka("kafka", root, []))
        elif name == "kafka-flush1":
            targets.append(Kafka("kafka-flush1", root, ["log.flush.interval.messages=1"]))
        elif name == "mock":
            targets.append(Mock())
    results = {"reps": REPS, "targets": [t.name for t in targets], "labels": LABEL, "produce": [],
               "consume": [], "latency": [], "startup": {}, "memory": {}, "fsync": [], "recovery": {},
               "notes": []}
    try:
        run_suite(targets, results, root)
    finally:
        for t in targets:
            try:
                t.stop()
            except Exception as e:  # keep stopping the others
                log(f"stopping {t.name}: {e}")
        shutil.rmtree(root, ignore_errors=True)
    results["seconds"] = time.monotonic() - t_suite
    out = os.environ.get("BENCH_RESULTS") or (os.environ.get("BENCH_RESULTS_DIR") and
                                               os.path.join(os.environ["BENCH_RESULTS_DIR"], "broker.json"))
    if out:
        with open(out, "w") as f:
            json.dump(results, f, indent=1)
    report(results, targets)


def run_suite(targets, results, root):
    # fdatasync anchor, before any broker loads the disk.
    fsync_anchor(results, root, "start")

    # Start-up: samsa three times on an empty data dir; Kafka once per configuration started
    # below plus one extra start, so it has as many samples as samsa.
    live = []
    for t in targets:
        if isinstance(t, Samsa):
            samples = []
            for _ in range(REPS):
                samples.append(t.start())
                t.stop()
            results["startup"][t.name] = {"accept_s": samples}
    kafkas = [t for t in targets if isinstance(t, Kafka)]
    if kafkas:
        extra = []
        for _ in range(max(0, REPS - len(kafkas))):
            k = Kafka("kafka-startup", root, [])
            try:
                extra.append((k.start(), k.ready_s))
            except Exception as e:
                results["notes"].append(f"Kafka start-up sample failed: {e}")
            finally:
                k.stop()
    for t in list(targets):
        try:
            log(f"starting {t.name}")
            s = t.start()
            if isinstance(t, Kafka):
                st = results["startup"].setdefault("kafka", {"accept_s": [], "ready_s": []})
                st["accept_s"].append(s)
                st["ready_s"].append(t.ready_s)
                results["kafka_version"] = t.version
            live.append(t)
        except Exception as e:
            results["notes"].append(f"{LABEL[t.name]} did not start, left out: {e}")
            log(f"{t.name} did not start: {e}")
    if kafkas:
        st = results["startup"].setdefault("kafka", {"accept_s": [], "ready_s": []})
        for a, r in extra:
            st["accept_s"].append(a)
            st["ready_s"].append(r)
    results["targets"] = [t.name for t in live]

    def each(fn):
        for t in live:
            try:
                fn(t)
            except Exception as e:
                results["notes"].append(f"{LABEL[t.name]}: {e}")
                log(f"{t.name}: {e}")

    log("warm-up")
    each(lambda t: client("produce", t, "-t", "warmup", "-s", 100, "-d", 1, "-a", "all"))

    produce_cfgs = [(s, a, p) for s in SIZES for a in ("1", "all") for p in (1, 3)]
    for rep in range(REPS):
        log(f"repetition {rep + 1}/{REPS}: produce")
        for size, acks, parts in produce_cfgs:
            def prod(t, size=size, acks=acks, parts=parts):
                r = client("produce", t, "-t", f"p-{size}-{acks}-{parts}", "-s", size, "-d", PRODUCE_SECONDS,
                           "-a", acks, "-P", parts)
                r.update(target=t.name, rep=rep)
                results["produce"].append(r)
            each(prod)
        log(f"repetition {rep + 1}/{REPS}: consume")
        for size in SIZES:
            def cons(t, size=size):
                r = client("consume", t, "-t", f"c-{size}", "-s", size, "-n", CONSUME_RECORDS[size], "-P", 1)
                r.update(target=t.name, rep=rep)
                results["consume"].append(r)
            each(cons)
        log(f"repetition {rep + 1}/{REPS}: latency")
        for rate in RATES:
            def lat(t, rate=rate):
                r = client("e2e", t, "-t", f"e-{rate}-{rep}", "-s", 100, "-r", rate, "-d", LATENCY_SECONDS,
                           "-a", "all", *LATENCY_X)
                r.update(target=t.name, rep=rep)
                results["latency"].append(r)
            each(lat)

    for t in live:
        if t.pid:
            results["memory"][t.name] = rss_kb(t.pid)
    fsync_anchor(results, root, "end")  # the disk's load moves during a run: bracket it

    if FULL:
        recovery(live, results, root)


def fsync_anchor(results, root, when):
    cp = subprocess.run([FSYNC, root, "300"], capture_output=True, text=True, timeout=300)
    for ln in cp.stdout.splitlines():
        if ln.startswith("{"):
            results["fsync"].append(dict(json.loads(ln), when=when, load=open("/proc/loadavg").read().split()[0]))


def fill_to(t, nbytes, du_dir):
    """Produces 1 KB records with acks=1 until du_dir holds nbytes."""
    deadline = time.monotonic() + 600
    while dir_bytes(du_dir) < nbytes and time.monotonic() < deadline:
        client("produce", t, "-t", "recovery", "-s", 1024, "-d", 2, "-a", "1", "-P", 3)
    return dir_bytes(du_dir)


def dir_bytes(d):
    total = 0
    for dp, _, fns in os.walk(d):
        for fn in fns:
            try:
                total += os.path.getsize(os.path.join(dp, fn))
            except OSError:
                pass
    return total


def wait_metadata(port, t0, deadline_s):
    """Seconds from t0 until the broker answers Metadata listing itself (kcat -L)."""
    deadline = t0 + deadline_s
    while True:
        cp = subprocess.run(["kcat", "-L", "-b", f"127.0.0.1:{port}", "-m", "2"], capture_output=True, text=True)
        if cp.returncode == 0 and " 1 brokers:" in cp.stdout:
            return time.monotonic() - t0
        if time.monotonic() > deadline:
            raise RuntimeError(f"no Metadata from port {port} after {deadline_s} s")
        time.sleep(0.01)


def recovery(live, results, root):
    """kill -9 with ~1 GiB on disk, then the time to accepting connections and to answering
    Metadata (BENCH_FULL=1). Kafka gets a fresh broker (flush=1) filled the same way."""
    for t in live:
        if not isinstance(t, Samsa):
            continue
        try:
            log(f"recovery: filling {t.name}")
            t.stop()
            t.start(wipe=True)
            size = fill_to(t, 1 << 30, t.dir)
            t.stop()
            clean = t.start(wipe=False)
            t.kill9()
            t0 = time.monotonic()
            s = t.start(wipe=False)
            ready = wait_metadata(t.port, t0, 300)
            results["recovery"][t.name] = {"bytes": size, "after_kill9_s": s, "ready_s": ready,
                                           "after_clean_s": [clean]}
        except Exception as e:
            results["notes"].append(f"recovery of {LABEL[t.name]}: {e}")
            log(f"recovery {t.name}: {e}")
    if any(isinstance(t, Kafka) for t in live):
        k = Kafka("kafka-recovery", root, ["log.flush.interval.messages=1"])
        try:
            log("recovery: filling a fresh Kafka (flush=1)")
            k.start()
            data = os.path.join(k.dir, "data")
            size = fill_to(k, 1 << 30, data)
            s, t0 = k.kill9_and_restart()
            ready = wait_metadata(k.port, t0, 300)
            results["recovery"]["kafka-flush1"] = {"bytes": size, "after_kill9_s": s, "ready_s": ready,
                                                   "after_clean_s": []}
        except Exception as e:
            results["notes"].append(f"recovery of Kafka: {e}")
            log(f"recovery kafka: {e}")
        finally:
            k.stop()


# ---- the report ---------------------------------------------------------------------------------

def by(rows, **kw):
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]


def report(res, targets):
    names = res["targets"]
    kv = res.get("kafka_version", "?")
    print("## Broker: samsa, Apache Kafka and librdkafka's mock cluster (bench_broker.py)")
    print()
    print(f"`tests/bench/bench_broker.py` drives every target with `bench_kafka` (librdkafka "
          f"{rdkafka_version()}). Targets: samsa (acknowledges only fdatasync'd data); Apache Kafka {kv} "
          f"(`scripts/kafka/real-kafka.sh`, heap 256-512 MB) with its defaults (acknowledges data in the page "
          f"cache, flushes later) and with `log.flush.interval.messages=1` (fsync before the acknowledgement: "
          f"samsa's durability); librdkafka's in-memory mock cluster, the ceiling of the client. {res['reps']} "
          f"repetitions after a warm-up, targets interleaved; cells are **median (min-max)**; ratios are "
          f"medians over medians. Took {res['seconds'] / 60:.1f} min.")
    print()
    for n in res["notes"]:
        print(f"- note: {n}")
    if res["notes"]:
        print()

    print("### Produce throughput (records/s; one producer, librdkafka defaults, no compression)")
    print()
    print("| size | acks | partitions | " + " | ".join(LABEL[n] for n in names) + " | samsa / Kafka flush=1 | samsa / mock |")
    print("|---|---|---|" + "---|" * len(names) + "---|---|")
    for size in SIZES:
        for acks in ("1", "all"):
            for parts in (1, 3):
                rows = by(res["produce"], size=size, acks=acks, partitions=parts)
                cells, meds = [], {}
                for n in names:
                    xs = [r["msgs_per_s"] for r in by(rows, target=n) if r["ok"]]
                    meds[n] = med(xs)
                    cells.append(cell(xs, fmt_rate))
                print(f"| {size} B | {acks} | {parts} | " + " | ".join(cells) + " | "
                      f"{fmt_ratio(ratio(meds.get('samsa'), meds.get('kafka-flush1')))} | "
                      f"{fmt_ratio(ratio(meds.get('samsa'), meds.get('mock')))} |")
    print()
    print("### Consume throughput (records/s; one consumer, one partition, from the beginning)")
    print()
    kref = "kafka" if "kafka" in names else "kafka-flush1"
    print("| size | " + " | ".join(LABEL[n] for n in names) + f" | samsa / {LABEL[kref]} |")
    print("|---|" + "---|" * len(names) + "---|")
    for size in SIZES:
        cells, meds = [], {}
        for n in names:
            xs = [r["msgs_per_s"] for r in by(res["consume"], size=size, target=n) if r["ok"]]
            meds[n] = med(xs)
            cells.append(cell(xs, fmt_rate))
        print(f"| {size} B | " + " | ".join(cells) + f" | {fmt_ratio(ratio(meds.get('samsa'), meds.get(kref)))} |")
    mock_recs = [r["records"] for r in by(res["consume"], target="mock")]
    if mock_recs:
        print()
        print(f"The mock cluster keeps only the last few MB of a partition, so it reads {min(mock_recs)}-"
              f"{max(mock_recs)} records per run where the brokers read "
              f"{CONSUME_RECORDS[100]} (100 B) and {CONSUME_RECORDS[1024]} (1 KB).")
    print()
    print("### Latency at fixed rates (ms; 100 B, acks=all, one partition, linger.ms=1)")
    print()
    print("Measured from each record's due time on the fixed-rate schedule, not from the actual send, so a")
    print("stall counts against every record it delays (no coordinated omission). *ack* = delivery report,")
    print("*e2e* = a consumer in the same process received it.")
    print()
    print("| rate/s | target | ack p50 | ack p99 | ack p99.9 | e2e p50 | e2e p99 | e2e p99.9 | achieved rate |")
    print("|---|---|---|---|---|---|---|---|---|")
    for rate in RATES:
        for n in names:
            rows = [r for r in by(res["latency"], rate=rate, target=n)]
            if not rows:
                continue
            c = [cell([r["ack_ms"][q] for r in rows if r["ack_ms"][q] >= 0], fmt_ms) for q in ("p50", "p99", "p999")]
            if n == "mock":
                c += ["n/a"] * 3  # its Fetch does not wake on new data: it waits out fetch.wait.max.ms
            else:
                c += [cell([r["e2e_ms"][q] for r in rows if r["e2e_ms"][q] >= 0], fmt_ms) for q in ("p50", "p99", "p999")]
            bad = sum(1 for r in rows if not r["ok"] or (n != "mock" and r["e2e_ms"]["missing"]))
            ach = cell([r["achieved_rate"] for r in rows], fmt_rate) + (f" ({bad} runs lost records)" if bad else "")
            print(f"| {rate} | {LABEL[n]} | " + " | ".join(c) + f" | {ach} |")
    print()
    print("The mock cluster's e2e is not shown: its Fetch does not wake on new data, it waits out")
    print("`fetch.wait.max.ms` (500 ms).")
    print()
    print("### Disk: fdatasync after an append (bench_fsync, 300 syncs each, on the brokers' file system)")
    print()
    print("| when | append | p50 ms | p99 ms | p99.9 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for f in res["fsync"]:
        print(f"| {f['when']} of the part (load {f['load']}) | {f['append_bytes'] // 1024} KiB | {f['p50']:.2f} | "
              f"{f['p99']:.2f} | {f['p999']:.2f} | {f['max']:.2f} |")
    print()
    print("### Memory and start-up")
    print()
    print("| target | RSS after the runs | peak RSS (VmHWM) | start-up to accepting connections |")
    print("|---|---|---|---|")
    st = res["startup"]
    for n in names:
        if n == "mock":
            continue
        m = res["memory"].get(n, {})
        s = st.get("samsa" if n == "samsa" else "kafka", {})
        su = cell([x * 1000 for x in s.get("accept_s", [])], fmt_ms) + " ms" if s else "-"
        if n != "samsa" and s.get("ready_s"):
            su += f"; listed in Metadata after {cell([x * 1000 for x in s['ready_s']], fmt_ms)} ms"
        print(f"| {LABEL[n]} | {m.get('VmRSS', 0) / 1024:.1f} MB | {m.get('VmHWM', 0) / 1024:.1f} MB | {su} |")
    print()
    print("Kafka's start-up is timed from the JVM's spawn (after `kafka-storage format`) to its port")
    print("accepting connections; samsa's from its spawn on an empty data dir.")
    print()
    if res["recovery"]:
        print("### Recovery after kill -9 (BENCH_FULL=1)")
        print()
        print("| target | data on disk | start-up after clean shutdown | after kill -9: accepting | after kill -9: answers Metadata |")
        print("|---|---|---|---|---|")
        for n, r in res["recovery"].items():
            clean = ", ".join(f"{x * 1000:.0f} ms" for x in r["after_clean_s"]) or "-"
            print(f"| {LABEL[n]} | {r['bytes'] / 2**30:.2f} GiB | {clean} | {r['after_kill9_s'] * 1000:.0f} ms | "
                  f"{r['ready_s'] * 1000:.0f} ms |")
        print()
        print("Metadata is polled with `kcat -L` every 10 ms (each poll costs a process start, ~10 ms).")
        print()
    goals(res, names)


def geomean(xs):
    xs = [x for x in xs if x]
    if not xs:
        return None
    p = 1.0
    for x in xs:
        p *= x
    return p ** (1 / len(xs))


def goals(res, names):
    def med_of(rows, key):
        return med([r[key] for r in rows if r["ok"]])

    cfgs = [(s, a, p) for s in SIZES for a in ("1", "all") for p in (1, 3)]

    def tput_ratios(other):
        out = []
        for s, a, p in cfgs:
            rows = by(res["produce"], size=s, acks=a, partitions=p)
            out.append(ratio(med_of(by(rows, target="samsa"), "msgs_per_s"), med_of(by(rows, target=other), "msgs_per_s")))
        return [x for x in out if x]

    def p99(n, rate):
        return med([r["ack_ms"]["p99"] for r in by(res["latency"], rate=rate, target=n) if r["ack_ms"]["p99"] >= 0])

    rows = []
    rk = tput_ratios("kafka-flush1")
    if rk:
        rows.append(("produce throughput vs Kafka at equal durability (flush=1)", ">= 2x",
                     f"{fmt_ratio(geomean(rk))} geomean over 8 configs ({fmt_ratio(min(rk))}-{fmt_ratio(max(rk))})",
                     geomean(rk) >= 2))
    rd = tput_ratios("kafka")
    if rd:
        rows.append(("produce throughput vs Kafka with its defaults (less durable)", "(for reference)",
                     f"{fmt_ratio(geomean(rd))} geomean ({fmt_ratio(min(rd))}-{fmt_ratio(max(rd))})", None))
    for rate in RATES:
        a, b = p99("kafka-flush1", rate), p99("samsa", rate)
        if a and b:
            rows.append((f"ack p99 at {rate}/s: Kafka flush=1 / samsa", ">= 5x lower",
                         f"{fmt_ratio(a / b)} ({fmt_ms(b)} vs {fmt_ms(a)} ms)", a / b >= 5))
    mem = res["memory"]
    if "samsa" in mem:
        for k in ("kafka-flush1", "kafka"):
            if k in mem and mem[k].get("VmHWM"):
                r = mem["samsa"]["VmHWM"] / mem[k]["VmHWM"]
                r2 = mem["samsa"]["VmRSS"] / mem[k]["VmRSS"]
                rows.append((f"peak RSS: samsa / {LABEL[k]}", "<= 1/20", f"1/{1 / r:.0f} ({mem['samsa']['VmHWM'] / 1024:.0f} "
                             f"vs {mem[k]['VmHWM'] / 1024:.0f} MB); RSS after the runs 1/{1 / r2:.0f} "
                             f"({mem['samsa']['VmRSS'] / 1024:.0f} vs {mem[k]['VmRSS'] / 1024:.0f} MB)", r <= 1 / 20))
                break
    st = res["startup"]
    if st.get("samsa") and st.get("kafka") and st["kafka"]["accept_s"]:
        s, k = med(st["samsa"]["accept_s"]), med(st["kafka"]["accept_s"])
        rows.append(("start-up to accepting connections: Kafka / samsa", ">= 100x",
                     f"{fmt_ratio(k / s)} ({s * 1000:.1f} vs {k * 1000:.0f} ms)", k / s >= 100))
    rm = tput_ratios("mock")
    if rm:
        rows.append(("produce throughput: samsa / mock cluster", ">= 0.70",
                     f"{geomean(rm):.2f} geomean ({min(rm):.2f}-{max(rm):.2f})", geomean(rm) >= 0.7))
    print("### Against the goals (issue 8)")
    print()
    print("| goal | target | measured | met |")
    print("|---|---|---|---|")
    for g, t, m, ok in rows:
        print(f"| {g} | {t} | {m} | {'-' if ok is None else 'yes' if ok else '**no**'} |")
    print()
    print("Why the shortfalls are what they are: docs/benchmarks.md.")
    print()


def rdkafka_version():
    try:
        cp = subprocess.run(["pkg-config", "--modversion", "rdkafka"], capture_output=True, text=True, timeout=10)
        return cp.stdout.strip() or "?"
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
