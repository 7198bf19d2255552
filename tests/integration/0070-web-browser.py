"""The page in a real browser: headless Debian Chromium (/usr/bin/chromium) driven by
playwright-core from npm (tests/e2e, installed with `npm ci` when missing) against broker +
worker + web. Screenshots go to $SAMSA_BUILD_DIR/web-screenshots/."""
import os
import shutil
import subprocess
import tempfile

from web_env import DB, Proc, Web, check, cluster, finish, scaled

E2E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e")


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
    results = tempfile.mkdtemp(prefix="samsa-0070-")
    with cluster() as b:
        # the simulated heavy step makes the verdict come well after the page has loaded
        worker = Proc(["worker", "-b", b, "--db", DB, "--results-log", os.path.join(results, "results.jsonl"),
                       "--work-ms", "1500"]).start()
        web = Web(b).start()
        try:
            cp = subprocess.run([node, os.path.join(E2E, "blog.js"), f"http://{web.addr}", shots],
                                capture_output=True, text=True, timeout=scaled(180))
            print(cp.stdout, end="")
            if cp.returncode:
                print(cp.stderr[-3000:])
            check(cp.returncode == 0, "the browser test passed")
        finally:
            web.stop()
            worker.stop()
            shutil.rmtree(results, ignore_errors=True)
    print(f"screenshots in {shots}")
    finish()


if __name__ == "__main__":
    main()
