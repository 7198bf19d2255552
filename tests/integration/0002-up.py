"""`samsa up`: the supervisor of broker + worker + web + console (DESIGN.md §1).

1. It starts all three on the given addresses, prints the URL, and a post sent to the web API
   reaches the results log through the worker; SIGINT stops every part and exits 0, leaving no
   port open.
2. A part that dies while `up` waits for it to listen (here the broker: its data dir cannot be
   made) stops `up` at once with exit 1, instead of after the 15 s start-up deadline.
3. Every flag is checked before anything starts: a bad address or store URL is one line on
   stderr and exit 2, with no port opened and no data dir made.
4. "samsa is up" comes only once all three parts answer (a worker is in the group by then). A
   second `up` on the same data dir, or on a port the first holds, exits 1 before starting
   anything and names the pid (and addresses) that hold it.
5. kill -9 of `up` leaves no part behind (each dies with its parent).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from web_env import FAILED, SAMSA, Web, check, finish, free_port, port_open, scaled, wait_until


def start_up(data_dir, listen_port, http_port, extra=(), console_port=None):
    args = [SAMSA, "up", "--data-dir", data_dir, "--listen", f"127.0.0.1:{listen_port}",
            "--http", f"127.0.0.1:{http_port}", "--console-http", f"127.0.0.1:{console_port or free_port()}",
            "--work-ms", "0", "--log-level", "warn"] + list(extra)
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def drain(stream, sink):
    for line in stream:
        sink.append(line)


def pipeline(tmp):
    data_dir = os.path.join(tmp, "data")
    listen_port, http_port = free_port(), free_port()
    up = start_up(data_dir, listen_port, http_port)
    out, err = [], []
    readers = [threading.Thread(target=drain, args=(up.stdout, out), daemon=True),
               threading.Thread(target=drain, args=(up.stderr, err), daemon=True)]
    for t in readers:
        t.start()
    try:
        wait_until(lambda: any("samsa is up" in line for line in out) or up.poll() is not None, 30,
                   "the 'samsa is up' line")
        check(up.poll() is None, "samsa up is running")
        check(any(f"http://127.0.0.1:{http_port}/" in line for line in out), "it prints the URL")

        web = Web("unused", port=http_port)  # only its HTTP helpers: `up` runs the web server
        wait_until(lambda: web.get("/healthz")[0] == 200, 20, "web /healthz 200")
        st, _, j = web.post_json({"title": "Through samsa up", "author": "Ann",
                                  "content": "The supervisor starts the broker, the worker and the web. "
                                             "This post goes all the way through them."})
        check(st == 202 and j and j.get("id"), f"API post accepted (status {st})")
        results = os.path.join(data_dir, "results.jsonl")

        def logged():
            try:
                with open(results, encoding="utf-8") as f:
                    return any(json.loads(line).get("id") == j["id"] for line in f if line.endswith("\n"))
            except FileNotFoundError:
                return False
        wait_until(logged, 30, "the post in DATA/results.jsonl")
        check(True, "the worker wrote the post to the results log")
        # Web and worker start at the same moment and both create the blog topics: whichever
        # asks first, the topics get their real partition counts, not the broker's default of 1.
        for topic in ("blog_operations", "blog_results"):
            cp = subprocess.run([SAMSA, "topics", "-b", f"127.0.0.1:{listen_port}", "--describe", "--topic", topic,
                                 "--output", "json"], capture_output=True, text=True, timeout=scaled(30))
            parts = json.loads(cp.stdout)["partitions"] if cp.returncode == 0 else []
            check(len(parts) == 3, f"{topic} has 3 partitions (got {len(parts)})")

        up.send_signal(signal.SIGINT)
        try:
            rc = up.wait(scaled(40))
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, f"SIGINT: samsa up exits 0 (got {rc})")
        check(not port_open(listen_port) and not port_open(http_port), "no part is left listening")
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        for t in readers:
            t.join(5)
    if FAILED:
        print("samsa up stderr (last lines):\n" + "".join(err[-40:]))


def broker_dies_at_start(tmp):
    data_dir = os.path.join(tmp, "broken")
    os.makedirs(data_dir)
    with open(os.path.join(data_dir, "broker"), "w") as f:  # a file where the broker wants a directory
        f.write("not a directory\n")
    listen_port, http_port = free_port(), free_port()
    t0 = time.monotonic()
    up = start_up(data_dir, listen_port, http_port)
    try:
        _, err = up.communicate(timeout=scaled(30))
    except subprocess.TimeoutExpired:
        up.kill()
        _, err = up.communicate()
    took = time.monotonic() - t0
    check(up.returncode == 1, f"a broker that cannot start: samsa up exits 1 (got {up.returncode})")
    check(took < scaled(8), f"... at once, not after the start-up deadline ({took:.1f} s)")
    check("broker" in err, "... and stderr names the broker")
    check(not port_open(http_port), "... and the web server was not left running")


def bad_flags(tmp):
    listen_port, http_port = free_port(), free_port()
    for extra, flag in [(["--http", "nonsense"], "--http"), (["--http", "127.0.0.1:99999"], "--http"),
                        (["--listen", "no-such-host.invalid:9092"], "--listen"), (["--db", "mysql://x"], "--db"),
                        (["--console-http", "nonsense"], "--console-http"),
                        (["--console-http", f"127.0.0.1:{http_port}"], "--console-http")]:
        data_dir = os.path.join(tmp, "never")
        args = [SAMSA, "up", "--data-dir", data_dir, "--listen", f"127.0.0.1:{listen_port}",
                "--http", f"127.0.0.1:{http_port}", "--console-http", f"127.0.0.1:{free_port()}",
                "--work-ms", "0"] + extra
        cp = subprocess.run(args, capture_output=True, text=True, timeout=scaled(30))
        lines = cp.stderr.strip().splitlines()
        check(cp.returncode == 2, f"{' '.join(extra)}: exit 2 (got {cp.returncode})")
        check(len(lines) == 1 and flag in lines[0], f"... one line on stderr naming {flag}: {cp.stderr.strip()!r}")
        check(not os.path.exists(data_dir) and not port_open(listen_port) and "is up" not in cp.stdout,
              "... nothing started, no data dir made")


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")  # a zombie is dead, waiting for init
    except OSError:
        return True


def busy_and_kill9(tmp):
    data_dir = os.path.join(tmp, "busy")
    listen_port, http_port, console_port = free_port(), free_port(), free_port()
    first = start_up(data_dir, listen_port, http_port, console_port=console_port)
    out = []
    reader = threading.Thread(target=drain, args=(first.stdout, out), daemon=True)
    reader.start()
    threading.Thread(target=drain, args=(first.stderr, []), daemon=True).start()
    try:
        wait_until(lambda: any("samsa is up" in line for line in out) or first.poll() is not None, 60,
                   "the 'samsa is up' line")
        web = Web("unused", port=http_port)
        st, stats = web.get_json("/api/stats")
        check(st == 200 and (stats.get("workers") or 0) >= 1,
              f"at 'is up' all three answer: /api/stats 200 with a worker in the group ({st}, {stats})")
        console = Web("unused", port=console_port)
        check(console.get("/healthz")[0] == 200 and any(f"127.0.0.1:{console_port}/" in line for line in out),
              "... and the console answers (/healthz 200, its URL printed)")

        for what, args in [
            ("the same data dir", start_up(data_dir, free_port(), free_port())),
            ("its broker port", start_up(os.path.join(tmp, "other1"), listen_port, free_port())),
            ("its web port", start_up(os.path.join(tmp, "other2"), free_port(), http_port)),
            ("its console port", start_up(os.path.join(tmp, "other3"), free_port(), free_port(),
                                          console_port=console_port)),
        ]:
            try:
                so, se = args.communicate(timeout=scaled(30))
            except subprocess.TimeoutExpired:
                args.kill()
                so, se = args.communicate()
            check(args.returncode == 1, f"a second up on {what}: exit 1 (got {args.returncode})")
            check("is up" not in so, "... it never says 'is up'")
            holders = [first.pid] + children(first.pid)
            check(any(re.search(rf"pid {p}\b", se) for p in holders),
                  f"... and names the pid that holds it: {se.strip()[:200]!r}")
            if what == "the same data dir":
                check(f"pid {first.pid}" in se and f"127.0.0.1:{http_port}" in se,
                      "... the first up's pid and address")
        check(first.poll() is None, "the first up is still running")

        parts = children(first.pid)
        check(len(parts) == 4, f"up has four parts ({parts})")
        first.send_signal(signal.SIGKILL)
        first.wait()
        wait_until(lambda: all(gone(p) for p in parts), 30, "the parts to die with up")
        check(True, "kill -9 of up: broker, worker, web and console are gone")
        wait_until(lambda: not port_open(listen_port) and not port_open(http_port) and not port_open(console_port),
                   10, "the ports to close")
        check(True, "... and their ports are closed")
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


def main():
    tmp = tempfile.mkdtemp(prefix="samsa-0002-")
    try:
        bad_flags(tmp)
        pipeline(tmp)
        broker_dies_at_start(tmp)
        busy_and_kill9(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
