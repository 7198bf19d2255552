"""Blog benchmark (a part of `make bench`, not a test): prints a Markdown section.

1. Acknowledged `POST /api/posts` per second and latency under closed-loop load (bench_web, keep-alive
   connections; a 202 means the broker acknowledged the post with acks=all).
2. Submit-to-verdict latency with `samsa worker --work-ms 0`: posts sent at a fixed rate, the
   verdict seen on the SSE stream (`/api/events`); measured from the moment the POST was sent.
3. Peak memory (VmHWM) of the web server and the worker.
Beside it, the labs' approach: an HTTP endpoint doing one synchronous kafka-python produce per
request (lab 7's send.php produced and waited per request), under the same load.

Env: SAMSA, BUILD_DIR (for bench_web), BENCH_REPS (default 3), BENCH_SECONDS (default 8).
"""
import http.client
import http.server
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Broker, Proc, free_port, port_open, wait_until  # noqa: E402

BUILD = os.environ.get("BUILD_DIR", "build")
REPS = int(os.environ.get("BENCH_REPS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = 32
VERDICT_RATE, VERDICT_POSTS = 50, 300


def bench_web(addr):
    """Run bench_web against addr; return (posts/s, p50 ms, p99 ms)."""
    out = subprocess.run([os.path.join(BUILD, "tests", "bench_web"), "--url", addr, "--connections",
                          str(CONNECTIONS), "--seconds", str(SECONDS)], capture_output=True, text=True,
                         timeout=SECONDS * 4 + 60).stdout
    m = re.search(r"([\d.]+) posts/s\s+latency ms p50 ([\d.]+)\s+p90 [\d.]+\s+p99 ([\d.]+)", out)
    if not m:
        raise RuntimeError("bench_web printed no result:\n" + out)
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


def peak_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmHWM:")).split()[1]) / 1024


def submit_to_verdict(http_port):
    """Posts at VERDICT_RATE/s; @returns the latencies (ms) from POST to the verdict on SSE."""
    verdict_at, lock = {}, threading.Lock()
    sse = http.client.HTTPConnection("127.0.0.1", http_port, timeout=60)
    sse.request("GET", "/api/events", headers={"Accept": "text/event-stream"})
    stream = sse.getresponse()

    def read_events():
        try:
            follow_events()
        except (OSError, ValueError, AttributeError):
            pass  # the stream is closed under us at the end

    def follow_events():
        event = None
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "status":
                data = json.loads(line[6:])
                if data.get("status") in ("published", "review", "rejected"):
                    with lock:
                        verdict_at.setdefault(data["id"], time.monotonic())
    threading.Thread(target=read_events, daemon=True).start()

    sent = {}
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
    start = time.monotonic()
    for i in range(VERDICT_POSTS):
        due = start + i / VERDICT_RATE
        time.sleep(max(0.0, due - time.monotonic()))
        body = json.dumps({"title": f"Latency post {i}", "content": f"Post number {i} measures how long "
                           "it takes from the form to the verdict. It has two sentences."})
        t0 = time.monotonic()
        conn.request("POST", "/api/posts", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        post = json.loads(resp.read())
        if resp.status == 202:
            sent[post["id"]] = t0
    wait_until(lambda: all(i in verdict_at for i in sent), 60, "every verdict on the SSE stream")
    sse.close()
    return [(verdict_at[i] - t0) * 1000 for i, t0 in sent.items()]


class LabHandler(http.server.BaseHTTPRequestHandler):
    """The labs' way: parse, produce, wait for the broker, answer; one request at a time per thread."""
    producer = None
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        post = json.loads(body)
        post["type"] = "create_post"
        self.producer.send("lab_blog_operations", json.dumps(post).encode()).get(timeout=10)
        out = b'{"status":"queued"}'
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):  # /healthz: bench_web waits for it before it starts
        out = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def lab_server(bootstrap):
    from kafka import KafkaProducer  # Debian's python3-kafka (kafka-python), as the lab used
    LabHandler.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    port = free_port()
    http.server.ThreadingHTTPServer.request_queue_size = 128  # the default backlog of 5 drops connects
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), LabHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, port


def fmt(values, unit=""):
    med = statistics.median(values)
    return f"{med:,.1f}{unit} ({min(values):,.1f}-{max(values):,.1f})"


def main():
    data = os.path.join(BUILD, "bench-blog-data")
    subprocess.run(["rm", "-rf", data])
    os.makedirs(data)
    with Broker(data_dir=os.path.join(data, "broker")) as broker:
        http_port = free_port()
        worker = Proc(["worker", "-b", broker.addr, "--work-ms", "0", "--results-log",
                       os.path.join(data, "results.jsonl"), "--log-level", "warn"]).start()
        web = Proc(["web", "-b", broker.addr, "--http", f"127.0.0.1:{http_port}", "--log-level", "warn"]).start()
        wait_until(lambda: port_open(http_port), 30, "samsa web")
        lab, lab_port = lab_server(broker.addr)
        samsa_runs, lab_runs = [], []
        for _ in range(REPS):  # interleaved, so both see the same machine
            samsa_runs.append(bench_web(f"127.0.0.1:{http_port}"))
            lab_runs.append(bench_web(f"127.0.0.1:{lab_port}"))
        latencies = submit_to_verdict(http_port)
        web_mb, worker_mb = peak_mb(web.p.pid), peak_mb(worker.p.pid)
        lab.shutdown()
        web.stop()
        worker.stop()
    subprocess.run(["rm", "-rf", data])

    q = statistics.quantiles(latencies, n=100)
    print("## The blog: acknowledged posts and submit-to-verdict (bench_blog.py)\n")
    print(f"`/usr/bin/python3 tests/bench/bench_blog.py` (BENCH_REPS={REPS}): `samsa broker` + `samsa worker "
          f"--work-ms 0` + `samsa web` on this machine; `bench_web --connections {CONNECTIONS} --seconds "
          f"{SECONDS}` sends closed-loop `POST /api/posts` over keep-alive connections; a 202 means the broker "
          "acknowledged the post (acks=all, fdatasync'd). The labs' approach is an HTTP endpoint "
          "(Python's ThreadingHTTPServer) doing one synchronous kafka-python produce (acks=all) per "
          "request, as lab 7's send.php did, under the same load against the same broker. Cells: median "
          "(min-max) over the runs, interleaved.\n")
    print("| server | acknowledged posts/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for name, runs in (("samsa web", samsa_runs), ("labs' approach (sync produce per request)", lab_runs)):
        print(f"| {name} | {fmt([r[0] for r in runs])} | {fmt([r[1] for r in runs])} | {fmt([r[2] for r in runs])} |")
    ratio = statistics.median([r[0] for r in samsa_runs]) / max(1e-9, statistics.median([r[0] for r in lab_runs]))
    print(f"\nsamsa web / labs' approach: **{ratio:.1f}x** the acknowledged posts per second.\n")
    print(f"Submit-to-verdict, {len(latencies)} posts at {VERDICT_RATE}/s (POST sent -> verdict event on "
          f"`/api/events`; web, broker, worker and SSE included): p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, "
          f"max {max(latencies):.1f} ms.\n")
    print(f"Peak memory (VmHWM) after all runs: web {web_mb:.0f} MB, worker {worker_mb:.0f} MB.\n")


if __name__ == "__main__":
    main()
