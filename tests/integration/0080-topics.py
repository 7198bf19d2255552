"""`samsa topics`: the lab's topic commands (create, list, describe, alter, delete, create-lab).
Wrong input and an unreachable broker are in 0084-tools-cli."""
import json

from tools_env import EXTERNAL, check, cluster, ok, ok_json, samsa, unique, wait_until


def topics(b, *args):
    return samsa("topics", "-b", b, *args)


def main():
    with cluster() as b:
        t = unique("kafka-logs")
        out = ok("topics", "-b", b, "--create", "--topic", t, "--partitions", 3, "--replication-factor", 1,
                 "--config", "retention.ms=604800000")
        check(f"Created topic {t}." in out, "create prints Created topic")
        rc, _, err, _ = topics(b, "--create", "--topic", t, "--partitions", 3)
        check(rc == 1 and "exist" in err.lower(), "creating it again fails with exit 1")
        ok("topics", "--bootstrap-server", b, "--create", "--topic", t, "--partitions", 3, "--if-not-exists")
        check(True, "--if-not-exists makes it succeed")

        check(t in ok("topics", "-b", b, "--list").split(), "--list shows the topic")
        check(t in json.loads(ok("topics", "-b", b, "list", "--output", "json")), "list --output json")

        out = ok("topics", "-b", b, "--describe", "--topic", t)
        check(f"Topic: {t}\tPartitionCount: 3\tReplicationFactor: 1" in out, "describe: 3 partitions, RF 1")
        check("retention.ms=604800000" in out, "describe shows retention.ms")
        check(out.count("\tPartition: ") == 3 and "Leader: " in out and "Isr: " in out and "Latest: 0" in out,
              "describe: leader, ISR and offsets per partition")
        d = ok_json("topics", "-b", b, "--describe", "--topic", t, "--output", "json")
        check(len(d["partitions"]) == 3 and d["configs"].get("retention.ms") == "604800000",
              "describe --output json: partitions array and configs")
        check([p["partition"] for p in d["partitions"]] == [0, 1, 2]
              and all(p["leader"] >= 0 and p["isr"] and p["earliest_offset"] == 0 and p["latest_offset"] == 0
                      for p in d["partitions"]), "json partitions have leader, isr, offsets")
        d2 = ok_json("topics", "-b", b, "describe", "--topic", t, "--output", "json")
        check(d2["partitions"] == d["partitions"], "subcommand style gives the same answer")

        ok("topics", "-b", b, "--alter", "--topic", t, "--partitions", 4)
        wait_until(lambda: len(ok_json("topics", "-b", b, "--describe", "--topic", t, "-o", "json")["partitions"]) == 4,
                   20, "4 partitions after --alter")
        check(True, "--alter --partitions 4")
        ok("topics", "-b", b, "--alter", "--topic", t, "--add-config", "segment.bytes=1048576,retention.bytes=1000000",
           "--delete-config", "retention.ms")
        cfg = wait_until(lambda: (lambda c: c if "segment.bytes" in c else None)(
            ok_json("topics", "-b", b, "--describe", "--topic", t, "-o", "json")["configs"]), 20, "configs altered")
        check(cfg.get("segment.bytes") == "1048576" and cfg.get("retention.bytes") == "1000000"
              and "retention.ms" not in cfg, f"--add-config/--delete-config applied ({cfg})")

        out = ok("topics", "-b", b, "--delete", "--topic", t)
        wait_until(lambda: t not in ok("topics", "-b", b, "--list").split(), 30, "topic gone from --list")
        check(True, "--delete removes the topic")
        rc, _, err, _ = topics(b, "--describe", "--topic", t)
        check(rc == 1 and "does not exist" in err, "describe of a deleted topic: exit 1")
        ok("topics", "-b", b, "--delete", "--topic", t, "--if-exists")
        check(True, "--delete --if-exists of a missing topic succeeds")

        out = ok("topics", "-b", b, "create-lab")
        names = ok("topics", "-b", b, "--list").split()
        check(all(n in names for n in ("kafka-logs", "user-events", "system-metrics", "payment-transactions")),
              "create-lab creates the lab's four topics")
        if not EXTERNAL:
            d = ok_json("topics", "-b", b, "--describe", "--topic", "kafka-logs", "-o", "json")
            check(len(d["partitions"]) == 3 and d["configs"].get("retention.ms") == "604800000",
                  "create-lab: kafka-logs has 3 partitions and 7-day retention")
            d = ok_json("topics", "-b", b, "--describe", "--topic", "user-events", "-o", "json")
            check(len(d["partitions"]) == 2, "create-lab: user-events has 2 partitions")
        ok("topics", "-b", b, "create-lab")
        check(True, "create-lab is idempotent")


if __name__ == "__main__":
    main()
