"""Shared set-up of the web tests (0060-0079): a broker, `samsa web` on a free port, plain HTTP
requests (http.client: no redirect following, every header visible), an SSE reader and a look at
what really is in the topics.

Each test starts its own `samsa broker` (tests/lib/harness.py). With SAMSA_TEST_BOOTSTRAP set, the
tests run against that broker instead, with topic names unique per run.
"""
import http.client
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import EXTERNAL, SAMSA, Broker, Proc, cluster, free_port, port_open, scaled, wait_until  # noqa: E402,F401

FAILED = []

# The store of this test's web servers and workers (one machine: one SQLite file, shared).
STORE_DIR = tempfile.mkdtemp(prefix="samsa-web-store-")
DB = f"sqlite:{STORE_DIR}/blog.db"


def check(cond, what):
    """Record one assertion; the test fails at the end if any failed (all are printed)."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILED.append(what)
    return cond


def finish():
    shutil.rmtree(STORE_DIR, ignore_errors=True)
    if FAILED:
        print(f"{len(FAILED)} check(s) failed:\n  " + "\n  ".join(FAILED))
        sys.exit(1)
    print("all checks passed")


def topics():
    """(operations, results) topic names: the defaults, or unique ones on an external broker."""
    if not EXTERNAL:
        return "blog_operations", "blog_results"
    tag = f"{os.getpid()}-{int(time.time() * 1000) % 1000000}"
    return f"blog_operations-{tag}", f"blog_results-{tag}"


class Web(Proc):
    """`samsa web` on a free port against @bootstrap."""

    def __init__(self, bootstrap, ops="blog_operations", results="blog_results", extra=(), port=None, db=None):
        self.port = port or free_port()
        self.addr = f"127.0.0.1:{self.port}"
        super().__init__(["web", "-b", bootstrap, "--http", self.addr, "--topic", ops,
                          "--results-topic", results, "--db", db or DB] + list(extra))

    def start(self, healthy=True):
        super().start()
        wait_until(lambda: port_open(self.port) or not self.alive(), 20, f"web on {self.addr}")
        if not self.alive():
            raise AssertionError(f"samsa web exited with {self.p.returncode}")
        if healthy:
            wait_until(lambda: self.get("/healthz")[0] == 200, 20, "web /healthz 200")
        return self

    def request(self, method, path, body=None, headers=None, timeout=20):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=scaled(timeout))
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                headers = dict({"Content-Type": "application/json"}, **(headers or {}))
            elif isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            headers = {}
            for k, v in r.getheaders():  # several Set-Cookie headers: one per line
                k = k.lower()
                headers[k] = headers[k] + "\n" + v if k in headers and k == "set-cookie" else v
            return r.status, headers, data
        finally:
            conn.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def get_json(self, path):
        st, _, data = self.get(path)
        return st, (json.loads(data) if data else None)

    def post_json(self, doc, headers=None, path="/api/posts"):
        st, h, data = self.request("POST", path, body=doc, headers=headers)
        try:
            j = json.loads(data)
        except ValueError:
            j = None
        return st, h, j

    def form_session(self, lang=None):
        """GET / like a browser: @returns (cookie header, token, csrf)."""
        st, h, page = self.get("/" + (f"?lang={lang}" if lang else ""))
        assert st == 200, st
        cookie = "; ".join(c.split(";")[0] for c in h.get("set-cookie", "").split("\n") if c)
        html = page.decode()
        token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)
        return cookie, token, csrf

    def post_form(self, fields, cookie, path="/posts"):
        body = urllib.parse.urlencode(fields)
        return self.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})


class Sse:
    """Read /api/events in a thread; .events is a list of (event, data, id) as they arrive.
    HTTP/1.0, so the stream is not chunked: the body is the event stream as is."""

    def __init__(self, port, last_event_id=None):
        self.events = []
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=scaled(60))
        hdr = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id is not None else ""
        self.sock.sendall(f"GET /api/events HTTP/1.0\r\nAccept: text/event-stream\r\n{hdr}\r\n".encode())
        self.head = None
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        buf = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
                if self.head is None:
                    if b"\r\n\r\n" not in buf:
                        continue
                    self.head, buf = buf.split(b"\r\n\r\n", 1)
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    ev = {}
                    for line in block.decode("utf-8", "replace").split("\n"):
                        if ":" in line and not line.startswith(":"):
                            k, v = line.split(":", 1)
                            ev[k] = v[1:] if v.startswith(" ") else v
                    if "data" in ev:
                        self.events.append((ev.get("event", "message"), json.loads(ev["data"]), ev.get("id")))
        except OSError:
            return

    def find(self, name, pred=lambda d: True):
        return [d for (e, d, _) in list(self.events) if e == name and pred(d)]

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
        except OSError:
            pass


def read_topic(bootstrap, topic, timeout=15):
    """Every record of @topic from the beginning (all partitions), as (key, value dict)."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"webtest-{os.getpid()}-{time.time()}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        md = c.list_topics(topic, timeout=scaled(10))
        parts = md.topics[topic].partitions if topic in md.topics and not md.topics[topic].error else {}
        ends = {}
        for p in parts:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=scaled(10))
            ends[p] = hi
        want = {p: hi for p, hi in ends.items() if hi > 0}
        if not want:
            return []
        c.assign([TopicPartition(topic, p, 0) for p in want])
        out, pos = [], {p: 0 for p in want}
        deadline = time.monotonic() + scaled(timeout)
        while any(pos[p] < want[p] for p in want) and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            pos[m.partition()] = m.offset() + 1
            out.append((m.key().decode() if m.key() else None, json.loads(m.value())))
        return out
    finally:
        c.close()


def produce(bootstrap, topic, key, value):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    p.produce(topic, key=key.encode(), value=json.dumps(value).encode())
    assert p.flush(scaled(10)) == 0
