"""`samsa groups`: --describe shows Kafka's columns and lag 0 once logstat caught up, the right lag
after more records; --reset-offsets is a dry run unless --execute, and resetting to earliest makes
logstat read everything again; --list and --delete."""
import json

from tools_env import check, cluster, make_topic, ok, ok_json, partitions_of, samsa, unique

COLUMNS = ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
           "CLIENT-ID"]


def table(out):
    lines = [l for l in out.splitlines() if l.strip()]
    i = next(i for i, l in enumerate(lines) if l.split()[:1] == ["GROUP"])
    rows = [l.split() for l in lines[i + 1:] if not l.startswith("TOTAL-LAG")]
    total = next(int(l.split()[1]) for l in lines if l.startswith("TOTAL-LAG:"))
    return lines[i].split(), rows, total


def logstat(b, t, g):
    return ok_json("logstat", "-b", b, "--topic", t, "--group", g, "--exit-at-end", "--json", "--errors-file", "")


def main():
    with cluster() as b:
        t, g = unique("kafka-logs"), unique("logstat")
        make_topic(b, t, 3)
        ok("loggen", "-b", b, "--topic", t, "--count", 1000, "--delay", 0, "-q")
        nparts = partitions_of(b, t)
        check(logstat(b, t, g)["total"] == 1000, "logstat read 1000 records")

        check(g in ok("groups", "-b", b, "--list").split(), "--list shows the group")
        head, rows, total = table(ok("groups", "-b", b, "--describe", "--group", g))
        check(head == COLUMNS, "--describe has Kafka's columns")
        check(len(rows) == nparts and all(r[0] == g and r[1] == t and r[5] == "0" for r in rows) and total == 0,
              "lag 0 on every partition after logstat caught up")
        check(sum(int(r[3]) for r in rows) == 1000 and all(r[3] == r[4] for r in rows),
              "current offsets = log end offsets, summing to 1000")

        ok("loggen", "-b", b, "--topic", t, "--count", 300, "--delay", 0, "-q")
        d = ok_json("groups", "-b", b, "--describe", "--group", g, "--output", "json")
        check(d["total_lag"] == 300 and sum(p["lag"] for p in d["partitions"]) == 300,
              "lag 300 after 300 more records (json)")
        check(table(ok("groups", "-b", b, "--describe", "--group", g))[2] == 300, "TOTAL-LAG: 300 in the table")

        out = ok("groups", "-b", b, "--reset-offsets", "--group", g, "--topic", t, "--to-earliest")
        plan = [l.split() for l in out.splitlines() if l.startswith(g)]
        check(len(plan) == nparts and all(r[3] == "0" for r in plan), "dry run prints the plan (NEW-OFFSET 0)")
        check(ok_json("groups", "-b", b, "--describe", "--group", g, "-o", "json")["total_lag"] == 300,
              "the dry run changed nothing")

        ok("groups", "-b", b, "--reset-offsets", "--group", g, "--topic", t, "--to-offset", 100, "--execute")
        d = ok_json("groups", "-b", b, "--describe", "--group", g, "-o", "json")
        check(all(p["current_offset"] == min(100, p["log_end_offset"]) for p in d["partitions"]),
              "--to-offset 100 --execute")
        ok("groups", "-b", b, "--reset-offsets", "--group", g, "--topic", t, "--to-earliest", "--execute")
        d = ok_json("groups", "-b", b, "--describe", "--group", g, "-o", "json")
        check(d["total_lag"] == 1300, "after --to-earliest --execute the lag is everything (1300)")
        check(logstat(b, t, g)["total"] == 1300, "logstat reads all 1300 records again")
        check(ok_json("groups", "-b", b, "--describe", "--group", g, "-o", "json")["total_lag"] == 0, "lag 0 again")

        ok("groups", "-b", b, "--reset-offsets", "--group", g, "--topic", t, "--to-datetime", "2000-01-01T00:00:00",
           "--execute")
        check(ok_json("groups", "-b", b, "--describe", "--group", g, "-o", "json")["total_lag"] == 1300,
              "--to-datetime before the first record = earliest")
        ok("groups", "-b", b, "--reset-offsets", "--group", g, "--topic", t, "--to-latest", "--execute")
        check(ok_json("groups", "-b", b, "--describe", "--group", g, "-o", "json")["total_lag"] == 0, "--to-latest")

        for args, what in ((["--describe"], "--describe without --group"),
                           (["--reset-offsets", "--group", g, "--topic", t], "reset without a target"),
                           (["--reset-offsets", "--group", g, "--topic", t, "--to-datetime", "yesterday"], "bad datetime"),
                           (["--list", "--delete", "--group", g], "mixed modes")):
            rc, _, err, _ = samsa("groups", "-b", b, *args)
            check(rc == 2 and len(err.strip().splitlines()) == 1, f"{what}: exit 2, one line")

        out = ok("groups", "-b", b, "--delete", "--group", g)
        check("successful" in out, "--delete")
        rc, _, err, _ = samsa("groups", "-b", b, "--describe", "--group", g)
        check(rc == 1 and "does not exist" in err, "describe after delete: exit 1")


if __name__ == "__main__":
    main()
