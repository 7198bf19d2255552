"""Shared set-up of the console tests (0140-0149): a cluster (a fresh `samsa broker`, or the one
SAMSA_TEST_BOOTSTRAP names, e.g. Apache Kafka in tests/compat/e2e-real-kafka.sh), `samsa console`
on a free port with a fast sample interval, plain HTTP requests and some data made with samsa's own
tools (topics, loggen, logstat), so every number the pages show can be checked."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import EXTERNAL, Broker, Proc, free_port, port_open, run, scaled, wait_until  # noqa: E402,F401

FAILED = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILED.append(what)
    return cond


def finish():
    if FAILED:
        print(f"{len(FAILED)} check(s) failed:\n  " + "\n  ".join(FAILED))
        sys.exit(1)
    print("all checks passed")


def tag():
    """A suffix that makes topic and group names unique on a shared (external) cluster."""
    return f"{os.getpid()}-{int(time.time() * 1000) % 1000000}" if EXTERNAL else "t"


class Console(Proc):
    """`samsa console` on a free port against @bootstrap, sampling every 300 ms."""

    def __init__(self, bootstrap, extra=(), history=None):
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.history = history or os.path.join(tempfile.mkdtemp(prefix="samsa-console-"), "console.db")
        super().__init__(["console", "-b", bootstrap, "--http", self.addr, "--history", self.history,
                          "--sample-interval", "300ms"] + list(extra))

    def start(self, healthy=True):
        super().start()
        wait_until(lambda: port_open(self.port) or not self.alive(), 20, f"console on {self.addr}")
        if not self.alive():
            raise AssertionError(f"samsa console exited with {self.p.returncode}")
        if healthy:
            wait_until(lambda: self.get("/healthz")[0] == 200, 30, "console /healthz 200")
        return self

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Like Proc.stop, but a console that does not stop in time has its threads' stacks printed
        (gdb) before it is killed: a hang at shutdown is a bug to see, not only a timeout."""
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(scaled(timeout))
            except subprocess.TimeoutExpired:
                if shutil.which("gdb"):
                    cp = subprocess.run(["gdb", "-p", str(self.p.pid), "-batch", "-ex", "thread apply all bt 12"],
                                        capture_output=True, text=True, timeout=120)
                    print("console did not stop; its threads:\n" + "\n".join(
                        line for line in cp.stdout.splitlines() if line.startswith(("#", "Thread"))))
        return super().stop(signal.SIGKILL if self.p is not None and self.p.poll() is None else sig, timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=scaled(timeout))
        try:
            conn.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            hdrs = {}
            for k, v in r.getheaders():
                k = k.lower()
                hdrs[k] = hdrs[k] + "\n" + v if k in hdrs else v
            return r.status, hdrs, data.decode("utf-8", "replace")
        finally:
            conn.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def session(self, path="/topics"):
        """GET a page like a browser: @returns (cookie header, csrf value)."""
        st, h, html = self.get(path)
        assert st == 200, (st, html[:300])
        cookie = "; ".join(c.split(";")[0] for c in h.get("set-cookie", "").split("\n") if c)
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
        return cookie, m.group(1) if m else None

    def post_form(self, path, fields, cookie, headers=None):
        body = urllib.parse.urlencode(fields)
        return self.request("POST", path, body=body, headers=dict(
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, **(headers or {})))

    def wait_for(self, path, pattern, timeout=30, what=None):
        """Wait until GET @path matches @pattern (a new sample shows it); @returns the page."""
        last = [""]

        def ok():
            st, _, html = self.get(path)
            last[0] = html
            return st == 200 and re.search(pattern, html)
        wait_until(ok, timeout, what or f"{path} shows {pattern}")
        return last[0]


def make_data(bootstrap, topic, group, records=300, offset=40):
    """A topic with @records log records on 3 partitions, and @group with offset @offset committed on
    each (kept within the partition). @returns the group's total lag as `samsa groups` says it."""
    run(["topics", "-b", bootstrap, "--create", "--topic", topic, "--partitions", "3"])
    run(["loggen", "-b", bootstrap, "--topic", topic, "--count", str(records), "--rate", "5000"], timeout=120)
    errors = os.path.join(tempfile.mkdtemp(prefix="samsa-console-"), "errors.jsonl")
    run(["logstat", "-b", bootstrap, "--topic", topic, "--group", group, "--max-records", "10",
         "--errors-file", errors, "--json"], timeout=120)
    run(["groups", "-b", bootstrap, "--reset-offsets", "--group", group, "--topic", topic, "--to-offset",
         str(offset), "--execute"])
    out = run(["groups", "-b", bootstrap, "--describe", "--group", group, "-o", "json"]).stdout
    return json.loads(out)["total_lag"]
