"""`samsa up` (what `make run` starts): broker + worker + web from one command.

It prints the URL once the web server listens; a post goes through the whole pipeline; the blog
topics get their real partition counts even though web and worker start at the same moment;
SIGINT stops all three parts cleanly (exit 0) and the results log holds the post once.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("SAMSA_SOURCE_DIR", "."), "tests", "lib"))
from harness import SAMSA, free_port, run, scaled, wait_until  # noqa: E402

data = tempfile.mkdtemp(prefix="samsa-up-")
kafka, http = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
out = open(os.path.join(data, "up.out"), "w+")
up = subprocess.Popen([SAMSA, "up", "--data-dir", data, "--listen", kafka, "--http", http, "--work-ms", "0"],
                      stdout=out, stderr=subprocess.STDOUT)
try:
    def printed():
        out.seek(0)
        return out.read()
    wait_until(lambda: "samsa is up" in printed() or up.poll() is not None, 60, "the 'samsa is up' line")
    assert up.poll() is None, printed()
    assert f"http://{http}/" in printed(), printed()

    body = json.dumps({"title": "Up and running", "content": "One command starts the broker, the web server "
                       "and the worker. This post goes through all three of them."}).encode()
    req = urllib.request.Request(f"http://{http}/api/posts", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=scaled(10)) as r:
        assert r.status == 202, r.status
        post_id = json.load(r)["id"]

    def verdict():
        with urllib.request.urlopen(f"http://{http}/api/posts/{post_id}", timeout=scaled(5)) as r:
            p = json.load(r)
        return p if p["status"] != "queued" else None
    p = wait_until(verdict, 60, "a verdict for the post")
    assert p["status"] in ("published", "review", "rejected") and 0 <= p["score"] <= 100, p

    for topic, want in (("blog_operations", 3), ("blog_results", 3)):
        desc = json.loads(run(["topics", "-b", kafka, "--describe", "--topic", topic, "--output", "json"]).stdout)
        assert len(desc["partitions"]) == want, (topic, desc)

    up.send_signal(signal.SIGINT)
    assert up.wait(scaled(60)) == 0, printed()
    lines = [json.loads(l) for l in open(os.path.join(data, "results.jsonl"))]
    assert [l["id"] for l in lines] == [post_id], lines
    print("0009-up: ok")
finally:
    if up.poll() is None:
        up.kill()
        up.wait()
    out.close()
    shutil.rmtree(data, ignore_errors=True)
