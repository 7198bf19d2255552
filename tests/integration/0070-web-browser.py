"""The page in a real browser: headless Debian Chromium (/usr/bin/chromium) driven by
playwright-core from npm (tests/e2e, installed with `npm ci` when missing) against broker +
worker + web, in three phases (tests/e2e/blog.js MODE):

  noworker    the web server runs but no worker: a post says that no worker is running and that it
              waits in the queue; the workers tile stands out;
  main        with a worker: the verdict arrives live and replaces the "queued" notice; reasons in
              English and Russian with their points and a link to the copied post; the queue panel
              (with its review tile) follows every event; the feed hides rejected posts (a filter
              shows them), has excerpts, safe links, local times and working paging; the
              language choice is remembered; the same without JavaScript;
  brokerdown  the broker is stopped: the panel shows "-" and a warning instead of old numbers.

Screenshots go to $SAMSA_BUILD_DIR/web-screenshots/; those of the main pages in English and
Russian go to $SAMSA_DOCS_SCREENSHOTS instead when it is set (`make screenshots` sets it to
docs/screenshots/, which the README shows), so a test run never rewrites tracked files."""
import os
import shutil
import subprocess
import tempfile

from web_env import DB, Broker, Proc, Web, check, finish, scaled

E2E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e")


def run_browser(node, mode, web, shots, docs):
    cp = subprocess.run([node, os.path.join(E2E, "blog.js"), f"http://{web.addr}", shots, docs, mode],
                        capture_output=True, text=True, timeout=scaled(300))
    print(cp.stdout, end="")
    if cp.returncode:
        print(cp.stderr[-3000:])
    check(cp.returncode == 0, f"the browser test passed ({mode})")


def main():
    check(os.access("/usr/bin/chromium", os.X_OK), "/usr/bin/chromium is installed (scripts/deps.sh test)")
    node = shutil.which("node")
    check(node is not None, "node is installed")
    if not os.path.isdir(os.path.join(E2E, "node_modules", "playwright-core")):
        cp = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=E2E, capture_output=True, text=True,
                            timeout=scaled(300))
        check(cp.returncode == 0, "npm ci in tests/e2e" + ("" if cp.returncode == 0 else ": " + cp.stderr[-500:]))
    shots = os.path.join(os.environ.get("SAMSA_BUILD_DIR", tempfile.gettempdir()), "web-screenshots")
    os.makedirs(shots, exist_ok=True)
    docs = os.environ.get("SAMSA_DOCS_SCREENSHOTS") or shots
    os.makedirs(docs, exist_ok=True)
    results = tempfile.mkdtemp(prefix="samsa-0070-")
    broker = Broker().start()
    web = worker = None
    try:
        web = Web(broker.addr).start()
        run_browser(node, "noworker", web, shots, docs)
        # the simulated heavy step makes the verdict come well after the page has loaded
        worker = Proc(["worker", "-b", broker.addr, "--db", DB, "--results-log",
                       os.path.join(results, "results.jsonl"), "--work-ms", "700"]).start()
        run_browser(node, "main", web, shots, docs)
        worker.stop()
        worker = None
        broker.stop()
        run_browser(node, "brokerdown", web, shots, docs)
    finally:
        if web:
            web.stop()
        if worker:
            worker.stop()
        broker.__exit__(None, None, None)
        shutil.rmtree(results, ignore_errors=True)
    print(f"screenshots in {shots}" + (f" and {docs}" if docs != shots else ""))
    finish()


if __name__ == "__main__":
    main()
