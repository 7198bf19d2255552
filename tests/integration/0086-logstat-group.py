"""Two `samsa logstat --exit-at-end` in one consumer group: together they count every record exactly
once and write every ERROR record once; both exit (also the one left with no partition); a
rebalance does not lose or double-count records because offsets are committed on revoke."""
import json
import os
import subprocess
import tempfile

from tools_env import SAMSA, check, cluster, make_topic, ok_json, scaled, unique

N = 60_000


def main():
    tmp = tempfile.mkdtemp(prefix="samsa-logstat-group-")
    with cluster() as b:
        t, g = unique("kafka-logs"), unique("logstat")
        make_topic(b, t, 3)
        s = ok_json("loggen", "-b", b, "--topic", t, "--count", N, "--delay", 0, "--seed", 8, "--json", "-q",
                    timeout=300)
        check(s["delivered"] == N, f"loggen delivered {N}")
        procs = []
        for i in range(2):
            args = [SAMSA, "logstat", "-b", b, "--topic", t, "--group", g, "--exit-at-end", "--json",
                    "--errors-file", os.path.join(tmp, f"errors-{i}.jsonl")]
            procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        reports = []
        for p in procs:
            out, err = p.communicate(timeout=scaled(120))
            check(p.returncode == 0, f"logstat member exited 0 ({err.strip()[-300:]!r})")
            reports.append(json.loads(out))
        totals = [r["total"] for r in reports]
        check(sum(totals) == N, f"the two members counted {totals}, {sum(totals)} in all = {N}")
        lines = []
        for i in range(2):
            lines += open(os.path.join(tmp, f"errors-{i}.jsonl")).read().splitlines()
        errors = sum(r["levels"].get("ERROR", 0) for r in reports)
        check(len(lines) == errors == len(set(lines)), f"{len(lines)} ERROR records written once each")
        d = ok_json("groups", "-b", b, "--describe", "--group", g, "--output", "json")
        check(d["total_lag"] == 0, "the group's lag is 0 afterwards")
        again = ok_json("logstat", "-b", b, "--topic", t, "--group", g, "--exit-at-end", "--json", "--errors-file", "")
        check(again["total"] == 0, "a third run finds nothing left")


if __name__ == "__main__":
    main()
