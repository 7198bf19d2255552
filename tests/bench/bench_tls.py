"""The TLS/SASL part of `make bench`: what encryption and authentication cost, samsa side by side
with Apache Kafka in one run, both driven by the same client (bench_kafka, librdkafka 2.0.2).

  targets      samsa (PLAINTEXT, SSL, SASL_SSL listeners of one broker) and Apache Kafka
               (scripts/kafka/real-kafka.sh start --secure: the same three listeners, the same
               CA and server certificate, JKS keystore)
  protocols    PLAINTEXT; SSL; SASL_SSL with PLAIN (TLS 1.3, the client's default suite). PLAIN, not
               SCRAM: Debian's librdkafka 2.0.2 cannot authenticate with SCRAM to Kafka 4.x (it sends
               its client nonce twice in client-final, which Kafka 3.x and samsa accept and 4.x
               refuses); authentication happens once per connection, so the mechanism does not
               show in throughput
  produce      1 KB records, acks=all, 1 partition, max rate, BENCH_PRODUCE_SECONDS (1.5 s) a run
  consume      1 KB records, 200000 from the beginning of one partition

Every configuration runs on every target and protocol in turn, BENCH_REPS times (default 3,
interleaved so the machine's load drifts over all alike); tables show medians and min-max.
Ratios: each protocol against the same broker's PLAINTEXT (the goal: TLS >= 0.70), and samsa
against Kafka on the same protocol. Brokers keep data under the build dir (a real disk).

Env: SAMSA, BUILD_DIR, BENCH_REPS, BENCH_PRODUCE_SECONDS, BENCH_TLS_TARGETS (samsa,kafka),
BENCH_KAFKA_VERSION. Markdown on stdout.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_broker import (BUILD_DIR, CLIENT, REAL_KAFKA, REPS, SAMSA, cell, fmt_rate,  # noqa: E402
                          free_port, log, med, wait_accepting)

PRODUCE_SECONDS = os.environ.get("BENCH_PRODUCE_SECONDS", "1.5")
TARGETS = os.environ.get("BENCH_TLS_TARGETS", "samsa,kafka").split(",")
PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_SSL"]
SIZE, CONSUME_N = 1024, 200000
USER, PASSWORD = "admin", "admin-secret"


def tls_dir():
    return subprocess.run([REAL_KAFKA, "tls"], capture_output=True, text=True, check=True).stdout.strip()


class SecureSamsa:
    name = "samsa"

    def __init__(self, root, tls):
        self.dir, self.tls, self.proc, self.ports = os.path.join(root, "samsa"), tls, None, {}

    def start(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.ports = {p: free_port() for p in PROTOCOLS}
        listeners = ",".join(f"{p}://127.0.0.1:{self.ports[p]}" for p in PROTOCOLS)
        err = open(os.path.join(self.dir, "broker.log"), "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [SAMSA, "broker", "-l", listeners, "-d", os.path.join(self.dir, "data"), "--log-level", "warn",
             "-o", f"ssl.keystore.location={self.tls}/server-keystore.pem",
             "-o", "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512",
             "-o", "listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule "
                   f'required user_{USER}="{PASSWORD}";',
             "--add-scram", f"SCRAM-SHA-512=[name={USER},password={PASSWORD}]"],
            stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        for p in PROTOCOLS:
            wait_accepting(self.ports[p], t0, 60, self.proc)

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(60)
            self.proc = None


class SecureKafka:
    name = "kafka"

    def __init__(self, root):
        self.dir, self.ports, self.version = os.path.join(root, "kafka"), {}, None

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        args = [REAL_KAFKA, "start", "--dir", self.dir, "--secure"]
        if os.environ.get("BENCH_KAFKA_VERSION"):
            args += ["--version", os.environ["BENCH_KAFKA_VERSION"]]
        out = subprocess.run(args, capture_output=True, text=True, timeout=400)
        if out.returncode != 0:
            raise RuntimeError(f"real-kafka.sh start --secure: {out.stderr.strip()[-800:]}")
        kv = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        self.ports = {"PLAINTEXT": int(kv["BOOTSTRAP"].rsplit(":", 1)[1]), "SSL": int(kv["SSL"]),
                      "SASL_SSL": int(kv["SASL_SSL"])}
        with open(os.path.join(self.dir, "kafka.version")) as f:
            self.version = f.read().strip()

    def stop(self):
        subprocess.run([REAL_KAFKA, "stop", "--dir", self.dir], capture_output=True, timeout=120)


def security_x(proto, tls):
    x = ["-X", f"security.protocol={proto}"]
    if "SSL" in proto:
        x += ["-X", f"ssl.ca.location={tls}/ca.pem"]
    if proto.startswith("SASL"):
        x += ["-X", "sasl.mechanisms=PLAIN", "-X", f"sasl.username={USER}", "-X", f"sasl.password={PASSWORD}"]
    return x


def client(mode, target, proto, tls, *args):
    cmd = [CLIENT, mode, "-b", f"127.0.0.1:{target.ports[proto]}", "-S", "42"] + security_x(proto, tls) + \
        [str(a) for a in args]
    cp = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(cmd)}: exit {cp.returncode}: {cp.stderr.strip()[-600:]}")
    res = json.loads(lines[-1])
    res["cmd"] = " ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd)).replace(PASSWORD, "***")
    return res


def main():
    root = tempfile.mkdtemp(prefix="bench-tls-", dir=BUILD_DIR)
    tls = tls_dir()
    targets = []
    for name in TARGETS:
        targets.append(SecureSamsa(root, tls) if name == "samsa" else SecureKafka(root))
    rows = {"produce": [], "consume": []}
    try:
        for t in targets:
            log(f"tls: starting {t.name}")
            t.start()
        for t in targets:  # warm-up (JIT, page cache, the first SCRAM user lookup)
            for proto in PROTOCOLS:
                client("produce", t, proto, tls, "-t", f"warm-{proto}", "-s", SIZE, "-d", "0.5", "-a", "-1")
        for rep in range(REPS):
            for proto in PROTOCOLS:
                for t in targets:
                    log(f"tls: rep {rep + 1}/{REPS} {t.name} {proto}")
                    r = client("produce", t, proto, tls, "-t", f"p-{proto}-{rep}", "-s", SIZE, "-d", PRODUCE_SECONDS,
                               "-a", "-1")
                    rows["produce"].append({"target": t.name, "proto": proto, **r})
                    r = client("consume", t, proto, tls, "-t", f"c-{proto}", "-s", SIZE, "-n", CONSUME_N)
                    rows["consume"].append({"target": t.name, "proto": proto, **r})
    finally:
        for t in targets:
            try:
                t.stop()
            except Exception as e:
                log(f"stopping {t.name}: {e}")
        shutil.rmtree(root, ignore_errors=True)
    report(rows, targets)


def rates(rows, target, proto):
    return [r["msgs_per_s"] for r in rows if r["target"] == target and r["proto"] == proto]


def report(rows, targets):
    names = [t.name for t in targets]
    label = {"samsa": "samsa", "kafka": f"Kafka {next((t.version for t in targets if t.name == 'kafka'), '')}"}
    print("## TLS and SASL: what encryption and authentication cost\n")
    print(f"`tests/bench/bench_tls.py` (scripts/bench.d/15-tls.sh): {SIZE} B records, one partition, the same "
          f"client (bench_kafka, librdkafka 2.0.2) against each broker's PLAINTEXT, SSL and SASL_SSL (PLAIN) "
          f"listeners; produce with acks=all for {PRODUCE_SECONDS} s at full speed, consume {CONSUME_N} records "
          f"from the beginning; medians of {REPS} interleaved runs (min-max). TLS is OpenSSL 3 on both sides "
          f"(samsa: libssl in the broker; Kafka: the JDK's), TLS 1.3 with the client's default cipher suite.\n")
    for kind in ("produce", "consume"):
        print(f"### {kind.capitalize()}, records/s\n")
        print("| protocol | " + " | ".join(label[n] for n in names) + " | samsa / Kafka |")
        print("|---|" + "---|" * (len(names) + 1))
        for proto in PROTOCOLS:
            cells = [cell(rates(rows[kind], n, proto), fmt_rate) for n in names]
            ratio = ""
            if "samsa" in names and "kafka" in names:
                a, b = med(rates(rows[kind], "samsa", proto)), med(rates(rows[kind], "kafka", proto))
                ratio = f"{a / b:.2f}x" if a and b else "-"
            print(f"| {proto} | " + " | ".join(cells) + f" | {ratio} |")
        print()
        print(f"{kind.capitalize()} over TLS as a share of the same broker's PLAINTEXT (goal: >= 0.70):\n")
        print("| broker | SSL / PLAINTEXT | SASL_SSL / PLAINTEXT |")
        print("|---|---|---|")
        for n in names:
            base = med(rates(rows[kind], n, "PLAINTEXT"))
            share = [med(rates(rows[kind], n, p)) / base if base else 0 for p in ("SSL", "SASL_SSL")]
            print(f"| {label[n]} | {share[0]:.2f} | {share[1]:.2f} |")
        print()
    ex = next((r for r in rows["produce"] if r["proto"] == "SASL_SSL"), None)
    if ex:
        print(f"Example command: `{ex['cmd']}`\n")


if __name__ == "__main__":
    main()
