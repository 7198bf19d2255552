"""`samsa logstat --exit-at-end`: counts exactly what loggen produced, level shares within 1% of
the lab's weights over 100,000 records, the errors file holds exactly the ERROR records, and
malformed records are counted, not fatal."""
import json
import os
import tempfile
from collections import Counter

from confluent_kafka import Producer

from tools_env import check, cluster, make_topic, ok, ok_json, unique
from tools_lab import LEVELS, without_time

N = 100_000


def main():
    tmp = tempfile.mkdtemp(prefix="samsa-logstat-")
    with cluster() as b:
        t, g = unique("kafka-logs"), unique("logstat")
        make_topic(b, t, 3)
        s = ok_json("loggen", "-b", b, "--topic", t, "--count", N, "--delay", 0, "--seed", 11, "--json", "-q",
                    timeout=300)
        check(s["delivered"] == N, f"loggen delivered {N}")

        errors = os.path.join(tmp, "errors.jsonl")
        r = ok_json("logstat", "-b", b, "--topic", t, "--group", g, "--exit-at-end", "--json",
                    "--errors-file", errors, timeout=300)
        check(r["total"] == N and r["malformed"] == 0, f"logstat counted exactly {N} records ({r['total']})")
        for lvl, w in LEVELS.items():
            check(abs(r["level_shares"][lvl] - w) < 0.01, f"{lvl} share {r['level_shares'][lvl]:.4f} within 1% of {w}")
        check(sum(r["levels"].values()) == N, "level counts add up")
        check(r["services"] == {sv: N // 5 for sv in ("web-server", "auth-service", "database", "api-gateway",
                                                        "payment-service")}, "activity per service: 20% each")
        rt = r["response_time_ms"]
        check(rt["count"] == 2 * N // 5 and 2000 <= rt["p50"] <= 3000 and rt["p50"] <= rt["p95"] <= rt["p99"] <= 5000,
              f"response-time percentiles from web-server and api-gateway ({rt})")
        check(sum(r["status_codes"].values()) == 2 * N // 5
              and set(r["status_codes"]) == {"200", "201", "400", "401", "403", "404", "500"}, "status codes")
        check(r["messages_per_minute"] > 0, "messages per minute reported")

        lines = open(errors).read().splitlines()
        recs = [json.loads(l) for l in lines]
        check(len(recs) == r["levels"]["ERROR"] == r["errors_written"],
              f"errors file holds {len(recs)} lines = ERROR count")
        check(all(x["level"] == "ERROR" for x in recs), "every line in the errors file is an ERROR record")
        expect = Counter(json.dumps(without_time(x), sort_keys=True)
                         for x in map(json.loads, ok("loggen", "--dry-run", "--seed", 11, "--count", N).splitlines())
                         if x["level"] == "ERROR")
        got = Counter(json.dumps(without_time(x), sort_keys=True) for x in recs)
        check(expect == got, "the errors file holds exactly the ERROR records loggen produced")

        r2 = ok_json("logstat", "-b", b, "--topic", t, "--group", g, "--exit-at-end", "--json", "--errors-file", "")
        check(r2["total"] == 0, "a second run in the same group resumes at the committed end (0 new records)")

        t2 = unique("mixed")
        make_topic(b, t2, 2)
        p = Producer({"bootstrap.servers": b})
        bad = [b"not json", b"", b'{"level": "ERROR"', b"[1,2,3]", b'{"level": 5}', b"\xff\xfe{}", b'{"a":1} x']
        for v in bad:
            p.produce(t2, v)
        good = ok("loggen", "--dry-run", "--seed", 3, "--count", 50).splitlines()
        for v in good:
            p.produce(t2, v.encode())
        check(p.flush(30) == 0, "kafka producer delivered the mixed records")
        errors2 = os.path.join(tmp, "errors2.jsonl")
        r3 = ok_json("logstat", "-b", b, "--topic", t2, "--group", unique("g"), "--exit-at-end", "--json",
                     "--errors-file", errors2)
        check(r3["malformed"] == len(bad) and r3["total"] == 50, f"malformed counted, not fatal ({r3['malformed']})")
        n_err = sum(1 for v in good if json.loads(v)["level"] == "ERROR")
        check(len(open(errors2).read().splitlines()) == n_err == r3["errors_written"], "only real ERROR records written")


if __name__ == "__main__":
    main()
