"""The lab flow with no topic administration at all, as on a broker with auto.create.topics.enable:
loggen creates the topic by producing, logstat reads exactly what was delivered and writes exactly
the ERROR records, groups --describe shows lag 0 and then the lag of new records."""
import json
import os
import tempfile

from tools_env import check, cluster, ok, ok_json, samsa, unique

N = 20_000


def main():
    tmp = tempfile.mkdtemp(prefix="samsa-autocreate-")
    with cluster() as b:
        t, g = unique("auto-logs"), unique("logstat")
        s = ok_json("loggen", "-b", b, "--topic", t, "--count", N, "--delay", 0, "--seed", 4, "--json", "-q")
        check(s["delivered"] == N and s["failed"] == 0, f"loggen delivered {N} to an auto-created topic")
        errors = os.path.join(tmp, "errors.jsonl")
        r = ok_json("logstat", "-b", b, "--topic", t, "--group", g, "--exit-at-end", "--json", "--errors-file", errors)
        check(r["total"] == N and r["malformed"] == 0, f"logstat counted {r['total']} records")
        lines = open(errors).read().splitlines()
        check(len(lines) == r["levels"]["ERROR"] == r["errors_written"]
              and all(json.loads(l)["level"] == "ERROR" for l in lines), "errors file = the ERROR records")
        d = ok_json("groups", "-b", b, "--describe", "--group", g, "--output", "json")
        check(d["total_lag"] == 0 and sum(p["current_offset"] for p in d["partitions"]) == N, "lag 0 after logstat")
        ok("loggen", "-b", b, "--topic", t, "--count", 123, "--delay", 0, "-q")
        d = ok_json("groups", "-b", b, "--describe", "--group", g, "--output", "json")
        check(d["total_lag"] == 123, f"lag 123 after 123 more records ({d['total_lag']})")
        out = ok("groups", "-b", b, "--describe", "--group", g)
        check("TOTAL-LAG: 123" in out, "TOTAL-LAG: 123 in the table")
        r = ok_json("logstat", "-b", b, "--topic", t, "--group", g, "--exit-at-end", "--json", "--errors-file", "")
        check(r["total"] == 123, "logstat resumes where the group stopped")
        rc, out, err, secs = samsa("loggen", "-b", b, "--topic", t, "--count", 101, "--rate", "200/s", "-q")
        check(rc == 0 and "101 delivered" in out and secs >= 0.49, f"--rate 200/s paces 101 records over {secs:.2f}s")
        rc, out, err, secs = samsa("logstat", "-b", b, "--topic", unique("missing"), "--exit-at-end", "--errors-file", "")
        check(rc == 1 and "nknown topic" in err and len(err.strip().splitlines()) == 1,
              f"logstat on a missing topic: exit 1 with one line in {secs:.1f}s ({err.strip()!r})")


if __name__ == "__main__":
    main()
