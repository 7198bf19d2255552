"""`samsa console` in a real browser: headless Debian Chromium (/usr/bin/chromium) driven by
playwright-core (tests/e2e, `npm ci` when missing) against a real cluster (a fresh `samsa broker`,
or Apache Kafka with SAMSA_TEST_BOOTSTRAP). tests/e2e/console.js walks every page: overview,
topics (search, sizes), a topic (partitions, configs), the message browser (newest first, JSON
indented, a filter), produce in one tab and see it in another tab's live tail, the group (lag,
time lag, the lag history chart while loggen keeps producing), a reset's dry run and apply,
Russian remembered, the keyboard (skip link, navigation), and the same browsing and producing
without JavaScript; no script error or CSP violation.

Screenshots go to $SAMSA_BUILD_DIR/console-screenshots/; the pages the README and docs/console.md
show go to $SAMSA_DOCS_SCREENSHOTS instead when it is set (`make screenshots`)."""
import os
import shutil
import subprocess
import tempfile

from console_env import EXTERNAL, Broker, Console, Proc, check, finish, make_data, scaled, tag

E2E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e")


def main():
    check(os.access("/usr/bin/chromium", os.X_OK), "/usr/bin/chromium is installed (scripts/deps.sh test)")
    node = shutil.which("node")
    check(node is not None, "node is installed")
    if not os.path.isdir(os.path.join(E2E, "node_modules", "playwright-core")):
        cp = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=E2E, capture_output=True, text=True,
                            timeout=scaled(300))
        check(cp.returncode == 0, "npm ci in tests/e2e" + ("" if cp.returncode == 0 else ": " + cp.stderr[-500:]))
    shots = os.path.join(os.environ.get("SAMSA_BUILD_DIR", tempfile.gettempdir()), "console-screenshots")
    os.makedirs(shots, exist_ok=True)
    docs = os.environ.get("SAMSA_DOCS_SCREENSHOTS") or shots
    os.makedirs(docs, exist_ok=True)
    broker = None if EXTERNAL else Broker().start()
    bootstrap = EXTERNAL or broker.addr
    sfx = tag()
    topic, group = f"app-logs-{sfx}", f"log-readers-{sfx}"
    make_data(bootstrap, topic, group, records=400, offset=60)
    con = Console(bootstrap).start()
    # records keep coming while the browser looks, so the lag history moves
    gen = Proc(["loggen", "-b", bootstrap, "--topic", topic, "--count", "100000", "--rate", "40"],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).start()
    try:
        cp = subprocess.run([node, os.path.join(E2E, "console.js"), f"http://{con.addr}", shots, docs, topic, group],
                            capture_output=True, text=True, timeout=scaled(300))
        print(cp.stdout, end="")
        if cp.returncode:
            print(cp.stderr[-3000:])
        check(cp.returncode == 0, "the browser test passed")
    finally:
        gen.stop()
        con.stop()
        if broker:
            broker.stop()
    finish()


if __name__ == "__main__":
    main()
