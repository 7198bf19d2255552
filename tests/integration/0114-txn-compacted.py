"""Transactions on a compacted topic (what Kafka Streams' exactly-once changelogs are), with
confluent-kafka (Debian's, librdkafka 2.0.2) against a real samsa broker whose cleaner runs often.

- a transactional producer writes every key in each of 12 transactions, one in three aborted (its
  values say so); the cleaner compacts the log meanwhile (segment.ms 200, dirty ratio 0.01);
- a second producer keeps a transaction open over key k00: the cleaner must not clean at or past
  the last stable offset, and read_committed must not see it;
- once compacted, a read_committed consumer sees each key once, with its last committed value,
  never an aborted one (an aborted value must not have removed the committed one before it), and
  fewer records than were produced;
- after the open transaction commits and the cleaner runs again, k00 has its value;
- after a restart (the cleaned segments' transaction indexes read back) the same.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from harness import Broker, scaled, wait_until  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

TOPIC, KEYS, ROUNDS = "txn_compacted", 10, 12
CONFIGS = {"cleanup.policy": "compact", "segment.ms": "200", "min.cleanable.dirty.ratio": "0.01"}


def txn_producer(addr, txid):
    p = Producer({"bootstrap.servers": addr, "transactional.id": txid, "linger.ms": 2})
    p.init_transactions(scaled(30))
    return p


def read_all(addr, isolation):
    """Everything from the start to the end (the LSO for read_committed): [(offset, key, value)]."""
    c = Consumer({"bootstrap.servers": addr, "group.id": "reader", "enable.auto.commit": False,
                  "enable.partition.eof": True, "isolation.level": isolation})
    c.assign([TopicPartition(TOPIC, 0, 0)])
    out = []
    deadline = time.monotonic() + scaled(30)
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


def nudge(addr):
    """A plain record, so that segment.ms rolls the segment and the cleaner has something sealed."""
    p = Producer({"bootstrap.servers": addr})
    p.produce(TOPIC, key=b"nudge", value=b"n")
    assert p.flush(scaled(30)) == 0


def compacted_view(addr, latest):
    """Wait until read_committed sees each key once; @returns {key: value} of read_committed."""
    def done():
        nudge(addr)
        recs = [r for r in read_all(addr, "read_committed") if r[1] != b"nudge"]
        keys = [k for _, k, _ in recs]
        if len(keys) != len(set(keys)) or set(keys) != set(latest):
            return None
        return recs
    recs = wait_until(done, scaled(60), "the cleaner compacting the committed records", interval=0.3)
    return {k: v for _, k, v in recs}


def main():
    with Broker(extra=["-o", "log.cleaner.backoff.ms=100"]) as b:
        admin = KafkaAdminClient(bootstrap_servers=b.addr)
        admin.create_topics([NewTopic(TOPIC, 1, 1, topic_configs=CONFIGS)])
        admin.close()
        p = txn_producer(b.addr, "compact-writer")
        latest, produced = {}, 0
        for r in range(ROUNDS):
            abort = r % 3 == 2
            p.begin_transaction()
            for k in range(KEYS):
                key = b"k%02d" % k
                p.produce(TOPIC, key=key, value=b"%s-%d" % (b"ABORTED" if abort else b"v", r))
                if not abort:
                    latest[key] = b"v-%d" % r
            produced += KEYS
            if abort:
                assert p.flush(scaled(30)) == 0
                p.abort_transaction(scaled(30))
            else:
                p.commit_transaction(scaled(30))
            time.sleep(0.05)

        # A transaction left open over k00: the cleaner stops before it, read_committed too.
        q = txn_producer(b.addr, "compact-open")
        q.begin_transaction()
        q.produce(TOPIC, key=b"k00", value=b"open")
        assert q.flush(scaled(30)) == 0
        view = compacted_view(b.addr, latest)
        assert view == latest, (view, latest)
        assert not any(v.startswith(b"ABORTED") for v in view.values())
        everything = read_all(b.addr, "read_uncommitted")
        assert len(everything) < produced, (len(everything), produced)
        assert (b"k00", b"open") in [(k, v) for _, k, v in everything]  # in the log, not visible
        print(f"{produced} produced; read_uncommitted reads {len(everything)} after compaction")

        q.commit_transaction(scaled(30))
        latest[b"k00"] = b"open"
        view = compacted_view(b.addr, latest)
        assert view == latest, (view, latest)

        b.restart()
        again = {k: v for _, k, v in read_all(b.addr, "read_committed") if k != b"nudge"}
        assert again == latest, (again, latest)
    print("ok")


if __name__ == "__main__":
    main()
