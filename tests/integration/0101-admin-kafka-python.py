"""Admin APIs through kafka-python's KafkaAdminClient (Debian's 2.0.2, fixed versions), kcat -L,
and raw frames for what neither client sends: IncrementalAlterConfigs (SET, DELETE, APPEND,
SUBTRACT), DescribeConfigs v4 (flexible: synonyms, types, documentation), DescribeCluster,
OffsetForLeaderEpoch and DeleteTopics v6 by topic id.

The lab's topic: `kafka-logs`, 3 partitions, retention.ms=604800000; describe shows retention.ms
as DYNAMIC_TOPIC_CONFIG and every other entry as DEFAULT_CONFIG; alter; 3 -> 5 partitions and a
record on partition 4; bad names, duplicates and partition counts 0/-5 get Kafka's errors; delete
removes the topic's files."""
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled  # noqa: E402
from admin_raw import Raw, cstr, s16, uvar  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka import errors as kerr  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic  # noqa: E402

DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG = 1, 4, 5


def incremental_alter(raw, topic, ops, validate=False):
    """IncrementalAlterConfigs v0 on one topic; ops = [(name, op, value)]; returns (code, message)."""
    body = struct.pack(">i", 1) + struct.pack(">b", 2) + s16(topic) + struct.pack(">i", len(ops))
    for name, op, value in ops:
        body += s16(name) + struct.pack(">b", op) + s16(value)
    body += struct.pack(">?", validate)
    r = raw.call(44, 0, body, False)
    r.i32()
    res = r.array(lambda: (r.i16(), r.string(), r.i8(), r.string()))
    assert len(res) == 1 and res[0][3] == topic, res
    return res[0][0], res[0][1]


def describe_v4(raw, rtype, name, keys=None):
    """DescribeConfigs v4 with synonyms and documentation: {name: entry dict} or the error code."""
    body = uvar(2) + struct.pack(">b", rtype) + cstr(name)
    body += b"\x00" if keys is None else uvar(len(keys) + 1) + b"".join(cstr(k) for k in keys)
    body += b"\x00" + b"\x01\x01" + b"\x00"  # resource tags, IncludeSynonyms, IncludeDocumentation, tags
    r = raw.call(32, 4, body, True)
    r.i32()

    def entry():
        e = {"name": r.cstring(), "value": r.cstring(), "read_only": r.i8(), "source": r.i8(), "sensitive": r.i8()}
        e["synonyms"] = r.carray(lambda: (r.cstring(), r.cstring(), r.i8(), r.tags())[:3])
        e["type"], e["doc"] = r.i8(), r.cstring()
        r.tags()
        return e

    def result():
        code, _msg, _t, _n = r.i16(), r.cstring(), r.i8(), r.cstring()
        entries = r.carray(entry)
        r.tags()
        return code, {e["name"]: e for e in entries}

    res = r.carray(result)
    assert len(res) == 1
    return res[0]


def describe_cluster(raw):
    r = raw.call(60, 0, b"\x00\x00", True)
    throttle, code, msg, cluster = r.i32(), r.i16(), r.cstring(), r.cstring()
    controller = r.i32()
    brokers = r.carray(lambda: (r.i32(), r.cstring(), r.i32(), r.cstring(), r.tags())[:4])
    return code, cluster, controller, brokers


def offset_for_leader_epoch(raw, topic, parts):
    """v3; parts = [(partition, current_epoch, epoch)] -> [(code, partition, epoch, end_offset)]."""
    body = struct.pack(">i", -1) + struct.pack(">i", 1) + s16(topic) + struct.pack(">i", len(parts))
    for p, cur, ep in parts:
        body += struct.pack(">iii", p, cur, ep)
    r = raw.call(23, 3, body, False)
    r.i32()
    topics = r.array(lambda: (r.string(), r.array(lambda: (r.i16(), r.i32(), r.i32(), r.i64()))))
    return topics[0][1]


def delete_topics_v6_by_id(raw, topic_id):
    body = uvar(2) + b"\x00" + topic_id + b"\x00" + struct.pack(">i", 10000) + b"\x00"
    r = raw.call(20, 6, body, True)
    r.i32()
    res = r.carray(lambda: (r.cstring(), r.uuid(), r.i16(), r.cstring(), r.tags())[:4])
    return res[0]


# ---- the scenario ----

def expect_error(fn, exc, what):
    try:
        fn()
    except exc:
        return
    except Exception as e:  # a different error is a failure too
        raise AssertionError(f"{what}: {type(e).__name__} {e}, expected {exc.__name__}")
    raise AssertionError(f"{what}: no error, expected {exc.__name__}")


def configs_of(admin, topic):
    res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])[0]
    code, _msg, _type, _name, entries = res.resources[0]
    assert code == 0, (topic, code)
    return {e[0]: e for e in entries}  # (name, value, read_only, source, sensitive, synonyms)


def kcat_partitions(addr, topic):
    cp = subprocess.run(["kcat", "-b", addr, "-L", "-J", "-t", topic], capture_output=True, text=True,
                        timeout=scaled(30))
    assert cp.returncode == 0, cp.stderr
    md = json.loads(cp.stdout)
    t = [t for t in md["topics"] if t["topic"] == topic]
    return len(t[0]["partitions"]) if t and not t[0].get("error") else -1


def main():
    with Broker(extra=["-o", "auto.create.topics.enable=false"]) as b:
        admin = KafkaAdminClient(bootstrap_servers=b.addr, request_timeout_ms=int(scaled(20000)))
        admin.create_topics([NewTopic("kafka-logs", 3, 1, topic_configs={"retention.ms": "604800000"})])
        assert kcat_partitions(b.addr, "kafka-logs") == 3

        cfg = configs_of(admin, "kafka-logs")
        assert len(cfg) >= 25, sorted(cfg)
        assert cfg["retention.ms"][1] == "604800000" and cfg["retention.ms"][3] == DYNAMIC_TOPIC_CONFIG, cfg["retention.ms"]
        others = {n: e[3] for n, e in cfg.items() if n != "retention.ms" and e[3] != DEFAULT_CONFIG}
        assert not others, f"not DEFAULT_CONFIG: {others}"

        # Kafka's error codes, nothing created
        expect_error(lambda: admin.create_topics([NewTopic("bad name!", 1, 1)]), kerr.InvalidTopicError, "bad name!")
        expect_error(lambda: admin.create_topics([NewTopic("x" * 250, 1, 1)]), kerr.InvalidTopicError, "250 chars")
        expect_error(lambda: admin.create_topics([NewTopic("..", 1, 1)]), kerr.InvalidTopicError, "..")
        expect_error(lambda: admin.create_topics([NewTopic("kafka-logs", 3, 1)]), kerr.TopicAlreadyExistsError,
                     "duplicate")
        expect_error(lambda: admin.create_topics([NewTopic("p0", 0, 1)]), kerr.InvalidPartitionsError, "0 partitions")
        expect_error(lambda: admin.create_topics([NewTopic("p-5", -5, 1)]), kerr.InvalidPartitionsError,
                     "-5 partitions")
        expect_error(lambda: admin.create_topics([NewTopic("rf2", 1, 2)]), kerr.InvalidReplicationFactorError, "rf 2")
        expect_error(lambda: admin.create_topics([NewTopic("twice", 1, 1), NewTopic("twice", 1, 1)]),
                     kerr.InvalidRequestError, "the same name twice in one request")
        for name in ("p0", "p-5", "rf2", "twice"):
            assert kcat_partitions(b.addr, name) == -1, f"{name} was created"

        # alter (kafka-python sends the legacy AlterConfigs: the topic's configs are replaced)
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kafka-logs",
                                            configs={"retention.ms": "86400000", "cleanup.policy": "delete"})])
        cfg = configs_of(admin, "kafka-logs")
        assert cfg["retention.ms"][1] == "86400000" and cfg["cleanup.policy"][3] == DYNAMIC_TOPIC_CONFIG

        # 3 -> 5 partitions; kcat sees 5; a record on partition 4 comes back
        admin.create_partitions({"kafka-logs": NewPartitions(5)})
        assert kcat_partitions(b.addr, "kafka-logs") == 5
        expect_error(lambda: admin.create_partitions({"kafka-logs": NewPartitions(4)}), kerr.InvalidPartitionsError,
                     "shrinking")
        p = KafkaProducer(bootstrap_servers=b.addr, acks="all")
        md = p.send("kafka-logs", b"on partition four", partition=4).get(timeout=scaled(20))
        assert md.partition == 4 and md.offset == 0, md
        p.close()
        c = KafkaConsumer(bootstrap_servers=b.addr, consumer_timeout_ms=int(scaled(10000)))
        c.assign([TopicPartition("kafka-logs", 4)])
        c.seek(TopicPartition("kafka-logs", 4), 0)
        got = next(c)  # StopIteration after consumer_timeout_ms if nothing comes
        assert (got.partition, got.offset, got.value) == (4, 0, b"on partition four"), got
        c.close()

        raw = Raw(b.addr)
        # IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT on a list, validate-only, errors
        assert incremental_alter(raw, "kafka-logs", [("segment.bytes", 0, "1048576")]) == (0, None)
        assert incremental_alter(raw, "kafka-logs", [("retention.ms", 1, None)]) == (0, None)
        d = describe_v4(raw, 2, "kafka-logs")[1]
        assert d["segment.bytes"]["value"] == "1048576" and d["segment.bytes"]["source"] == DYNAMIC_TOPIC_CONFIG
        assert d["retention.ms"]["value"] == "604800000" and d["retention.ms"]["source"] == DEFAULT_CONFIG
        assert d["cleanup.policy"]["source"] == DYNAMIC_TOPIC_CONFIG, "SET/DELETE touched other configs"
        assert incremental_alter(raw, "kafka-logs", [("cleanup.policy", 3, "delete")])[0] == 40, \
            "an empty cleanup.policy is INVALID_CONFIG"
        assert incremental_alter(raw, "kafka-logs", [("leader.replication.throttled.replicas", 2, "0:0")]) == (0, None)
        assert incremental_alter(raw, "kafka-logs", [("leader.replication.throttled.replicas", 2, "1:0")]) == (0, None)
        assert incremental_alter(raw, "kafka-logs", [("leader.replication.throttled.replicas", 3, "0:0")]) == (0, None)
        d = describe_v4(raw, 2, "kafka-logs", ["leader.replication.throttled.replicas"])[1]
        assert list(d) == ["leader.replication.throttled.replicas"] and d[list(d)[0]]["value"] == "1:0", d
        code, msg = incremental_alter(raw, "kafka-logs", [("retention.ms", 2, "5")])
        assert code == 42 and msg, (code, msg)  # APPEND on a non-list: INVALID_REQUEST
        assert incremental_alter(raw, "kafka-logs", [("retention.ms", 0, "1")], validate=True) == (0, None)
        assert describe_v4(raw, 2, "kafka-logs", ["retention.ms"])[1]["retention.ms"]["value"] == "604800000"
        assert incremental_alter(raw, "kafka-logs", [("retention.ms", 0, None)])[0] == 40
        assert incremental_alter(raw, "nope", [("retention.ms", 0, "1")])[0] == 3

        # DescribeConfigs v4: types, documentation, synonyms; broker resource; unknown topic
        e = describe_v4(raw, 2, "kafka-logs", ["segment.bytes"])[1]["segment.bytes"]
        # Kafka's synonym chain: the topic's value, then the broker-level one below it
        assert e["type"] == 3 and e["doc"] and e["synonyms"] == [("segment.bytes", "1048576", 1),
                                                                 ("log.segment.bytes", "1073741824", DEFAULT_CONFIG)], e
        e = describe_v4(raw, 2, "kafka-logs", ["retention.ms"])[1]["retention.ms"]
        assert e["type"] == 5 and e["synonyms"] == [("log.retention.ms", "604800000", DEFAULT_CONFIG)], e
        code, bcfg = describe_v4(raw, 4, "0")
        assert code == 0 and bcfg["listeners"]["read_only"] and bcfg["listeners"]["source"] == STATIC_BROKER_CONFIG
        assert bcfg["auto.create.topics.enable"]["value"] == "false", bcfg["auto.create.topics.enable"]
        assert describe_v4(raw, 4, "7")[0] == 42
        assert describe_v4(raw, 2, "nope")[0] == 3

        # DescribeCluster: the one broker is the controller
        code, cluster, controller, brokers = describe_cluster(raw)
        host, port = b.addr.rsplit(":", 1)
        assert code == 0 and len(cluster) == 22 and controller == 0 and brokers == [(0, host, int(port), None)], \
            (code, cluster, controller, brokers)

        # OffsetForLeaderEpoch: epoch 0 ends at the HWM; fencing rules
        res = offset_for_leader_epoch(raw, "kafka-logs", [(4, -1, 0), (4, 0, 0), (4, 1, 0), (4, 0, 3), (9, -1, 0)])
        assert res == [(0, 4, 0, 1), (0, 4, 0, 1), (74 + 1, 4, -1, -1), (0, 4, -1, -1), (3, 9, -1, -1)], res

        # DeleteTopics: by name removes every file; v6 by an unknown id
        assert os.path.exists(os.path.join(b.data_dir, "kafka-logs-4"))
        admin.delete_topics(["kafka-logs"])
        assert kcat_partitions(b.addr, "kafka-logs") == -1
        left = [n for n in os.listdir(b.data_dir) if n.startswith("kafka-logs")]
        left += [n for n in os.listdir(os.path.join(b.data_dir, "topics")) if n.startswith("kafka-logs")]
        assert not left, left
        expect_error(lambda: admin.delete_topics(["kafka-logs"]), kerr.UnknownTopicOrPartitionError, "delete again")
        name, _tid, code, msg = delete_topics_v6_by_id(raw, b"\x01" * 16)
        assert code == 100 and name is None, (name, code, msg)
        raw.close()
        admin.close()
    print("ok")


if __name__ == "__main__":
    main()
