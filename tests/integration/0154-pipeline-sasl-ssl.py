"""samsa's own clients over SASL_SSL (SCRAM-SHA-512) with the settings in a $SAMSA_CONFIG file, as a
deployment against a secured cluster has them: the worker and the web server run the blog
pipeline end to end (a post gets its verdict), and the lab tools (topics, loggen, logstat,
groups) work the same way. The broker's only plain listener is not used by any of them; with a
wrong password in -X, a tool fails with the broker's error."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_env import DB, Proc, Web, check, finish, wait_until  # noqa: E402
from harness import SAMSA, scaled  # noqa: E402
from secure import ADMIN, ADMIN_PW, Certs, SecureBroker  # noqa: E402


def main():
    work = tempfile.mkdtemp(prefix="samsa-0154-")
    with Certs() as certs, SecureBroker(certs) as b:
        conf = os.path.join(work, "client.properties")
        with open(conf, "w") as f:
            f.write("# a secured cluster\nsecurity.protocol=SASL_SSL\n"
                    f"ssl.ca.location={certs.path('ca.pem')}\nsasl.mechanisms=SCRAM-SHA-512\n"
                    f"sasl.username={ADMIN}\nsasl.password={ADMIN_PW}\n")
        env = {"SAMSA_CONFIG": conf}
        boot = b.at("SASL_SSL")

        def tool(*args, ok=True):
            cp = subprocess.run([SAMSA, *args], capture_output=True, text=True, timeout=scaled(60),
                                env=dict(os.environ, **env))
            if ok and cp.returncode != 0:
                raise AssertionError(f"samsa {' '.join(args)}: {cp.returncode}\n{cp.stderr}")
            return cp

        tool("topics", "-b", boot, "--create", "--topic", "kafka-logs", "--partitions", "3")
        out = tool("topics", "-b", boot, "--describe", "--topic", "kafka-logs").stdout
        check("PartitionCount: 3" in out or "PartitionCount:3" in out.replace(" ", ""), "topics over SASL_SSL")
        tool("loggen", "-b", boot, "--topic", "kafka-logs", "--count", "200", "--delay", "0")
        errors = os.path.join(work, "errors.jsonl")
        st = tool("logstat", "-b", boot, "--topic", "kafka-logs", "--exit-at-end", "--json", "--errors-file", errors)
        total = json.loads(st.stdout)["total"]
        check(total == 200, f"logstat read all 200 records over SASL_SSL ({total})")
        out = tool("groups", "-b", boot, "--describe", "--group", "logstat").stdout
        check("kafka-logs" in out, "groups --describe over SASL_SSL")
        bad = tool("topics", "-b", boot, "-X", "sasl.password=wrong", "--list", "--timeout", "5s", ok=False)
        check(bad.returncode == 1 and "Authentication failed" in bad.stderr,
              f"a wrong password: exit 1 with the broker's error ({bad.stderr.strip()[-120:]})")

        worker = Proc(["worker", "-b", boot, "--db", DB, "--results-log", os.path.join(work, "results.jsonl"),
                       "--work-ms", "0"], env=env).start()
        web = Web(boot)
        web.env.update(env)
        web.start()
        try:
            st_, _, j = web.post_json({"title": "Secured", "content": "This post travels over TLS with SCRAM. "
                                       "The worker reads it and scores it. The page shows the verdict."})
            check(st_ == 202, "API post over SASL_SSL: 202")

            def verdict():
                code, p = web.get_json(f"/api/posts/{j['id']}")
                return p if code == 200 and p["status"] != "queued" else None
            p = wait_until(verdict, 60, "a verdict through the SASL_SSL pipeline")
            check(p["status"] in ("published", "review", "rejected"), f"verdict {p['status']} score {p['score']}")
            # The verdict is readable once stored (worker.h step 3), the results log line comes after (4).
            def logged():
                if not os.path.exists(os.path.join(work, "results.jsonl")):
                    return False
                with open(os.path.join(work, "results.jsonl")) as f:
                    return any(json.loads(x).get("id") == j["id"] for x in f)
            check(wait_until(logged, 30, "the post in the results log"), "the worker's results log has the post")
        finally:
            web.stop()
            worker.stop()
    shutil.rmtree(work, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
