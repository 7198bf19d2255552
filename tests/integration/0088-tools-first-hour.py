"""The tools' first hour: a refused broker is said at once (each tool exits 1 in well under its
10 s --timeout, naming the address and how to start a broker; web and worker say it in one line
and fold the repeats instead of librdkafka's line per retry); logstat's rates are the log's own
(from the records' timestamps, not from how fast they are read back); loggen warns before a topic
is auto-created with one partition."""
import os
import shutil
import subprocess
import tempfile
import threading
import time

from tools_env import (SAMSA, check, cluster, die_with_parent, free_port,
                       make_topic, ok, ok_json, samsa, scaled, unique, wait_until)


class Service:
    """`samsa web|worker ...` in the background with its stderr collected line by line."""

    def __init__(self, *args):
        self.p = subprocess.Popen([SAMSA, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, preexec_fn=die_with_parent)
        self.lines = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stderr:
            self.lines.append(line.rstrip("\n"))

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(scaled(30))
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.t.join(scaled(5))
        return self.lines


def refused_broker():
    nowhere = f"127.0.0.1:{free_port()}"
    for args in (["topics", "--list"], ["groups", "--list"], ["loggen", "--count", "1"],
                 ["logstat", "--exit-at-end", "--errors-file", ""]):
        rc, out, err, secs = samsa(*args, "-b", nowhere, timeout=60)  # the default --timeout: 10 s
        lines = err.strip().splitlines()
        check(rc == 1 and len(lines) == 1 and f"cannot reach the Kafka cluster at {nowhere}: Connection refused" in err
              and f"`samsa broker --listen {nowhere}`" in err and "samsa up" in err,
              f"{args[0]}: a refused broker is one line naming it and how to start one: {err.strip()!r}")
        check(secs < scaled(1.0), f"{args[0]}: ... at once ({secs:.2f} s, not the 10 s --timeout)")

    # web and worker keep retrying: one line, not librdkafka's FAIL/ERROR line per retry
    tmp = tempfile.mkdtemp(prefix="samsa-0088-")  # the store and the worker's results log
    db = "sqlite:" + os.path.join(tmp, "blog.db")
    web = Service("web", "-b", nowhere, "--http", f"127.0.0.1:{free_port()}", "--db", db)
    worker = Service("worker", "-b", nowhere, "--results-log", os.path.join(tmp, "results.jsonl"),
                     "--group", unique("g"), "--db", db)
    t0 = time.monotonic()
    wait_until(lambda: any("serving http" in l for l in web.lines), scaled(30), "the web server to serve")
    # Absence of repeats is what is checked, so the processes are watched for a while: librdkafka
    # retries a refused connection every 0.1-1 s at first, so 4 s hold several retries.
    time.sleep(max(0.0, 4.0 - (time.monotonic() - t0)))
    for name, svc in (("web", web), ("worker", worker)):
        lines = svc.stop()
        down = [l for l in lines if "cannot connect to the Kafka broker at" in l]
        raw = [l for l in lines if ": FAIL: " in l or ": ERROR: " in l or "brokers are down" in l]
        check(len(down) == 1 and nowhere in down[0] and "samsa up" in down[0] and "repeats folded" in down[0],
              f"{name}: one line for the refused broker ({down})")
        check(not raw, f"{name}: no raw librdkafka FAIL/ERROR lines ({raw[:3]})")
    shutil.rmtree(tmp, ignore_errors=True)


def log_rates(b):
    t = unique("rates")
    make_topic(b, t, 3)
    # 60 records written at 20 a second: 1200 a minute, whenever they are read
    s = ok_json("loggen", "-b", b, "--topic", t, "--count", 60, "--rate", 20, "--seed", 5, "--json", "-q")
    check(s["delivered"] == 60, "loggen wrote 60 records at 20/s")
    r = ok_json("logstat", "-b", b, "--topic", t, "--group", unique("g"), "--exit-at-end", "--json",
                "--errors-file", "")
    check(r["total"] == 60, "logstat read them")
    check(2.6 < r["log_span_s"] < 3.3, f"the log spans 59 intervals of 50 ms ({r['log_span_s']:.2f} s)")
    check(1100 <= r["messages_per_minute"] <= 1300,
          f"messages per minute is the log's own rate, ~1200 ({r['messages_per_minute']:.0f})")
    check(sum(r["service_errors"].values()) == r["levels"].get("ERROR", 0), "errors per service add up")


def loggen_warns_before_autocreate(b):
    t = unique("nosuch")
    rc, out, err, _ = samsa("loggen", "-b", b, "--topic", t, "--count", 3, "--delay", 0, "-q")
    check(f"warning: topic {t} does not exist" in err and f"samsa topics -b {b} --create --topic {t} --partitions"
          in err, f"loggen warns that {t} does not exist and how to create it: {err.strip()!r}")
    rc, out, err, _ = samsa("loggen", "-b", b, "--topic", t, "--count", 3, "--delay", 0, "-q")
    check(rc == 0 and "warning" not in err, "no warning once the topic exists")


def main():
    refused_broker()
    with cluster() as b:
        log_rates(b)
        loggen_warns_before_autocreate(b)


if __name__ == "__main__":
    main()
