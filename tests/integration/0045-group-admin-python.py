"""kafka-python's admin client (Debian's 2.0.2) sees groups as Kafka's tools do: list_consumer_groups
lists a live group with its protocol type; describe_consumer_groups shows it Stable with the chosen
assignor, and each member's client id, host, parsed subscription metadata and parsed assignment;
list_consumer_group_offsets shows the committed offsets; after the members leave the group is Empty
and delete_consumer_groups removes it."""
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled, wait_until  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

TOPIC = "pyadm"


def main():
    with Broker(extra=["-o", "num.partitions=2", "-o", "auto.create.topics.enable=true"]) as b:
        p = KafkaProducer(bootstrap_servers=b.addr, acks="all")
        for i in range(20):
            p.send(TOPIC, value=b"v%d" % i, partition=i % 2)
        p.flush(scaled(30))
        p.close()

        consumers = [KafkaConsumer(TOPIC, bootstrap_servers=b.addr, group_id="pygroup", client_id=f"py-{n}",
                                   auto_offset_reset="earliest", enable_auto_commit=False,
                                   heartbeat_interval_ms=300) for n in range(2)]
        # kafka-python joins inside poll() and blocks there until the rebalance completes, so
        # each member needs its own thread (as it would have its own process)
        got, lock, stop = [], threading.Lock(), threading.Event()

        def run(c):
            while not stop.is_set():
                for recs in c.poll(timeout_ms=100).values():
                    with lock:
                        got.extend(recs)
            c.commit()

        threads = [threading.Thread(target=run, args=(c,)) for c in consumers]
        for t in threads:
            t.start()

        def settled():
            with lock:
                return all(len(c.assignment()) == 1 for c in consumers) and len(got) >= 20
        wait_until(settled, 40, "two kafka-python members with one partition each")
        stop.set()
        for t in threads:
            t.join()

        adm = KafkaAdminClient(bootstrap_servers=b.addr)
        groups = dict(adm.list_consumer_groups())
        assert groups.get("pygroup") == "consumer", groups

        def stable():
            return adm.describe_consumer_groups(["pygroup"])[0].state == "Stable"
        wait_until(stable, 20, "group Stable")
        (desc,) = adm.describe_consumer_groups(["pygroup"])
        assert desc.error_code == 0 and desc.protocol_type == "consumer", desc
        assert desc.protocol in ("range", "roundrobin"), desc.protocol
        assert len(desc.members) == 2, desc.members
        owned = set()
        for m in desc.members:
            assert m.client_id in ("py-0", "py-1"), m.client_id
            assert m.client_host == "/127.0.0.1", m.client_host
            assert m.member_id.startswith(m.client_id + "-"), m.member_id
            assert list(m.member_metadata.subscription) == [TOPIC], m.member_metadata
            for topic, parts in m.member_assignment.assignment:
                assert topic == TOPIC
                owned |= set(parts)
        assert owned == {0, 1}, owned
        print(f"described: {desc.state}, {desc.protocol}, members {[m.client_id for m in desc.members]}")

        offsets = adm.list_consumer_group_offsets("pygroup")
        assert {tp.partition: om.offset for tp, om in offsets.items()} == {0: 10, 1: 10}, offsets

        for c in consumers:
            c.close(autocommit=False)
        wait_until(lambda: adm.describe_consumer_groups(["pygroup"])[0].state == "Empty", 20, "group Empty")
        assert adm.list_consumer_group_offsets("pygroup")[TopicPartition(TOPIC, 0)].offset == 10
        result = dict(adm.delete_consumer_groups(["pygroup"]))
        assert result["pygroup"].errno == 0, result
        assert "pygroup" not in dict(adm.list_consumer_groups())
        adm.close()
        print("ok")


if __name__ == "__main__":
    main()
