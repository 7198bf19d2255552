"""kill -9 of the broker in the middle of cleanings; the compacted log stays valid and complete.

The broker's cleaner is throttled (log.cleaner.io.max.bytes.per.second) so a cleaning of the
topic's small segments lasts long enough to be interrupted. Each round librdkafka produces a few
hundred keyed records and tombstones (acks=all, idempotent) and remembers each key's latest
acknowledged value; the broker is then killed with SIGKILL - in most rounds at a random moment
while a cleaning has a .cleaned or .swap file in the partition directory (before and after the
swap's commit point), otherwise at a random moment - and restarted. After each restart a
consumer from the beginning must see:
  - offsets strictly increasing (no duplicate, no reordering);
  - for every key, its latest acknowledged value (or tombstone) as its last record;
  - no .cleaned or .swap file left (recovery finished or dropped them).
At the end the log must also be compacted (fewer records than produced).
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from harness import Broker, scaled, wait_until  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

TOPIC, KEYS, ROUNDS, PER_ROUND = "kv", 40, 10, 400


def leftovers(b):
    d = os.path.join(b.data_dir, f"{TOPIC}-0")
    return [f for f in os.listdir(d) if f.endswith((".cleaned", ".swap"))]


def produce(addr, latest, rnd, r):
    acked = {}

    def on_delivery(err, m):
        if err is None:
            acked[m.offset()] = (m.key(), m.value())

    p = Producer({"bootstrap.servers": addr, "linger.ms": 2, "batch.num.messages": 10, "enable.idempotence": True})
    for i in range(PER_ROUND):
        k = b"k%02d" % rnd.randrange(KEYS)
        v = None if rnd.random() < 0.1 else b"r%d-%d-" % (r, i) + b"x" * rnd.randrange(200)
        p.produce(TOPIC, key=k, value=v, on_delivery=on_delivery)
        if i % 50 == 0:
            p.poll(0)
    assert p.flush(scaled(60)) == 0
    for off in sorted(acked):
        k, v = acked[off]
        latest[k] = v
    return len(acked)


def read_all(addr):
    c = Consumer({"bootstrap.servers": addr, "group.id": "check", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    c.assign([TopicPartition(TOPIC, 0, 0)])
    out = []
    deadline = time.monotonic() + scaled(60)
    while time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                break
            raise AssertionError(m.error())
        out.append((m.offset(), m.key(), m.value()))
    else:
        raise AssertionError("no end of partition")
    c.close()
    return out


def check(b, latest, round_, restarted=True):
    if restarted:
        assert not leftovers(b), leftovers(b)
    recs = read_all(b.addr)
    offsets = [o for o, _, _ in recs]
    assert offsets == sorted(set(offsets)), f"round {round_}: offsets not strictly increasing"
    last = {}
    for _, k, v in recs:
        last[k] = v
    for k, v in latest.items():
        assert last.get(k, b"<gone>") == v, f"round {round_}: key {k}: {last.get(k)!r} != {v!r}"
    return len(recs)


def main():
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    rnd = random.Random(seed)
    print("seed", seed)
    extra = ["-o", "log.cleaner.backoff.ms=50", "-o", "log.cleaner.io.max.bytes.per.second=150000"]
    latest, produced, during = {}, 0, 0
    with Broker(extra=extra) as b:
        admin = KafkaAdminClient(bootstrap_servers=b.addr)
        admin.create_topics([NewTopic(TOPIC, 1, 1, topic_configs={
            "cleanup.policy": "compact", "segment.bytes": "8192", "min.cleanable.dirty.ratio": "0.01"})])
        admin.close()
        for r in range(ROUNDS):
            produced += produce(b.addr, latest, rnd, r)
            if r % 4 != 3:
                # Kill while a cleaning is on disk: wait for its temp file, then a random moment.
                wait_until(lambda: leftovers(b), scaled(30), "a cleaning in progress", interval=0.002)
                time.sleep(rnd.random() * 0.03)
            else:
                time.sleep(rnd.random() * 0.5)
            mid = bool(leftovers(b))
            during += mid
            b.kill9()
            b.start()
            n = check(b, latest, r)
            print(f"round {r}: killed {'during a swap/cleaning' if mid else 'between cleanings'}; "
                  f"{n} records read back, {produced} produced")
        # Let the cleaner finish: the log ends compacted.
        wait_until(lambda: check(b, latest, ROUNDS, False) < produced / 2, scaled(60), "the log compacted", interval=0.2)
    assert during >= ROUNDS // 2, f"only {during} kills hit a cleaning"
    print(f"ok: {ROUNDS} kills, {during} during a cleaning")


if __name__ == "__main__":
    main()
