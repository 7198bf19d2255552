"""`samsa loggen`: 100,000 records at full speed all confirmed delivered; every record on the broker
follows the lab's field rules, key = service, and they are the records --dry-run --seed prints.
(--seed reproducibility and the rules on dry-run output: 0084-tools-cli.)"""
import json
from collections import Counter

from confluent_kafka import Consumer, KafkaError, TopicPartition

from tools_env import check, cluster, make_topic, ok, ok_json, partitions_of, samsa, scaled, unique
from tools_lab import LEVELS, check_record, without_time

N = 100_000


def dry(seed, count, *extra):
    return [json.loads(l) for l in ok("loggen", "--dry-run", "--seed", seed, "--count", count, *extra).splitlines()]


def consume_all(b, topic, nparts, expect):
    c = Consumer({"bootstrap.servers": b, "group.id": unique("check"), "enable.partition.eof": True,
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(nparts)])
    out, eof = [], set()
    while len(eof) < nparts:
        msgs = c.consume(10000, timeout=scaled(10))
        if not msgs:
            raise AssertionError(f"no records for {scaled(10):.0f} s after {len(out)} of {expect}")
        for m in msgs:
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                    continue
                raise AssertionError(m.error())
            out.append((m.key(), m.value()))
    c.close()
    return out


def main():
    with cluster() as b:
        t = unique("kafka-logs")
        make_topic(b, t, 3)
        s = ok_json("loggen", "-b", b, "--topic", t, "--count", N, "--delay", 0, "--json", "--seed", 9, timeout=300)
        check(s["delivered"] == N and s["failed"] == 0, f"{N} delivered, 0 failed ({s['records_per_s']:.0f}/s)")
        check(sum(s["partitions"].values()) == N, "per-partition counts add up")
        rc, out, _, _ = samsa("loggen", "-b", b, "--topic", t, "--count", 10, "--delay", 0)
        check(rc == 0 and f"{t}: 10 delivered, 0 failed" in out, f"text summary: {out.splitlines()[0]!r}")

        recs = consume_all(b, t, partitions_of(b, t), N + 10)
        check(len(recs) == N + 10, f"the topic holds exactly {N + 10} records")
        levels = Counter()
        seen = []
        for key, value in recs:
            r = json.loads(value)
            seen.append(check_record(r, key))
            levels[r["level"]] += 1
        check(True, f"all {len(recs)} records from the broker follow the field rules, key = service")
        check(sorted(seen) == sorted(list(range(N)) + list(range(10))), "every log id arrived once")
        for lvl, w in LEVELS.items():
            share = levels[lvl] / len(recs)
            check(abs(share - w) < 0.01, f"{lvl} share {share:.4f} within 1% of {w}")
        expect = Counter(json.dumps(without_time(r), sort_keys=True) for r in dry(9, N))
        got = Counter(json.dumps(without_time(json.loads(v)), sort_keys=True) for _, v in recs)
        check(not (expect - got), "the produced records are the ones --dry-run --seed 9 prints")


if __name__ == "__main__":
    main()
