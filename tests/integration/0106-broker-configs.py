"""Dynamic broker configs: AlterConfigs / IncrementalAlterConfigs on the BROKER resource, as
Kafka serves `kafka-configs.sh --entity-type brokers --entity-default|--entity-name ID`.

- validate_only changes nothing; a cluster default (resource "") log.retention.ms=1000 applies at
  once to a topic without its own retention.ms (its old segments go) and not to one with it;
- DescribeConfigs: the topic shows DYNAMIC_DEFAULT_BROKER_CONFIG, then DYNAMIC_BROKER_CONFIG once
  this broker ("0") sets its own, with Kafka's synonym chain; broker "" lists only the dynamic
  defaults; broker "0" shows the dynamic value, not read-only;
- Kafka's error codes: a read-only setting, a bad value, another broker id or a non-number name
  INVALID_REQUEST; APPEND on a non-list INVALID_CONFIG; an unknown key INVALID_REQUEST;
- legacy AlterConfigs (kafka-python 2.0.2) replaces the scope's configs wholesale;
- everything survives a restart; a damaged file stops the broker with a message naming it.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from admin_raw import Raw, s16  # noqa: E402
from harness import Broker, free_port, run, scaled, wait_until  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic  # noqa: E402

BROKER, TOPIC = 4, 2
SET, DELETE, APPEND = 0, 1, 2
DYN_TOPIC, DYN_BROKER, DYN_DEFAULT, STATIC, DEFAULT = 1, 2, 3, 4, 5
INVALID_CONFIG, INVALID_REQUEST = 40, 42
N = 30


def incr(raw, name, configs, validate=False):
    body = struct.pack(">i", 1) + struct.pack(">b", BROKER) + s16(name) + struct.pack(">i", len(configs))
    for k, op, v in configs:
        body += s16(k) + struct.pack(">b", op) + s16(v)
    r = raw.call(44, 0, body + bytes([validate]), False)
    r.i32()
    assert r.i32() == 1
    return r.i16(), r.string()


def describe(raw, rtype, name, keys=None):
    """DescribeConfigs v1 with synonyms: {name: (value, read_only, source, [synonyms])}."""
    body = struct.pack(">i", 1) + struct.pack(">b", rtype) + s16(name)
    if keys is None:
        body += struct.pack(">i", -1)
    else:
        body += struct.pack(">i", len(keys)) + b"".join(s16(k) for k in keys)
    r = raw.call(32, 1, body + b"\x01", False)
    r.i32()
    assert r.i32() == 1
    err, _ = r.i16(), r.string()
    r.i8(), r.string()
    out = {}
    for _ in range(r.i32()):
        n, v, ro, src = r.string(), r.string(), r.i8(), r.i8()
        r.i8()
        out[n] = (v, ro, src, [(r.string(), r.string(), r.i8()) for _ in range(r.i32())])
    return err, out


def main():
    with Broker(extra=["--retention-check-ms", "100"]) as b:
        admin = KafkaAdminClient(bootstrap_servers=b.addr, request_timeout_ms=int(scaled(20000)))
        admin.create_topics([NewTopic("dyn", 1, 1, topic_configs={"segment.bytes": "1024"}),
                             NewTopic("own", 1, 1, topic_configs={"segment.bytes": "1024", "retention.ms": "3600000"})])
        p = KafkaProducer(bootstrap_servers=b.addr, acks="all", linger_ms=0)
        for t in ("dyn", "own"):
            for i in range(N):
                p.send(t, b"%03d" % i + b"." * 97).get(timeout=scaled(20))  # one batch each
        p.close()
        k = KafkaConsumer(bootstrap_servers=b.addr)
        tp_dyn, tp_own = TopicPartition("dyn", 0), TopicPartition("own", 0)
        raw = Raw(b.addr)

        assert incr(raw, "", [("log.retention.ms", SET, "1000")], validate=True) == (0, None)
        err, cfg = describe(raw, TOPIC, "dyn", ["retention.ms"])
        assert err == 0 and cfg["retention.ms"][:3] == ("604800000", 0, DEFAULT), cfg
        assert describe(raw, BROKER, "")[1] == {}

        assert incr(raw, "", [("log.retention.ms", SET, "1000")]) == (0, None)
        wait_until(lambda: k.beginning_offsets([tp_dyn])[tp_dyn] == N, 30, "the cluster default retention to apply")
        assert k.beginning_offsets([tp_own])[tp_own] == 0, "a topic with its own retention.ms lost data"
        err, cfg = describe(raw, TOPIC, "dyn", ["retention.ms"])
        assert cfg["retention.ms"] == ("1000", 0, DYN_DEFAULT, [("log.retention.ms", "1000", DYN_DEFAULT),
                                                                ("log.retention.ms", "604800000", DEFAULT)]), cfg
        err, cfg = describe(raw, BROKER, "")
        assert err == 0 and cfg == {"log.retention.ms": ("1000", 0, DYN_DEFAULT,
                                                         [("log.retention.ms", "1000", DYN_DEFAULT)])}, cfg

        # this broker's own value wins over the cluster default
        assert incr(raw, "0", [("log.retention.ms", SET, "604800000")]) == (0, None)
        err, cfg = describe(raw, TOPIC, "dyn", ["retention.ms"])
        assert cfg["retention.ms"][:3] == ("604800000", 0, DYN_BROKER), cfg
        assert [s[2] for s in cfg["retention.ms"][3]] == [DYN_BROKER, DYN_DEFAULT, DEFAULT], cfg
        err, cfg = describe(raw, BROKER, "0", ["log.retention.ms", "log.dirs"])
        assert cfg["log.retention.ms"][:3] == ("604800000", 0, DYN_BROKER), cfg
        assert cfg["log.dirs"][1] == 1, cfg  # read-only

        # Kafka's refusals
        code, msg = incr(raw, "", [("log.dirs", SET, "/x")])
        assert code == INVALID_REQUEST and "dynamically" in msg, (code, msg)
        assert incr(raw, "", [("num.partitions", SET, "3")])[0] == INVALID_REQUEST
        assert incr(raw, "", [("log.retention.ms", SET, "abc")])[0] == INVALID_REQUEST
        assert incr(raw, "", [("message.max.bytes", SET, "-5")])[0] == INVALID_REQUEST
        assert incr(raw, "", [("log.retention.ms", APPEND, "5")])[0] == INVALID_CONFIG
        assert incr(raw, "", [("log.cleanup.policy", APPEND, "delete")]) == (0, None)  # a list config
        assert incr(raw, "", [("no.such.config", SET, "1")])[0] == INVALID_REQUEST
        assert incr(raw, "7", [("log.retention.ms", SET, "1")])[0] == INVALID_REQUEST
        assert incr(raw, "abc", [("log.retention.ms", SET, "1")])[0] == INVALID_REQUEST
        assert incr(raw, "", [("log.cleanup.policy", DELETE, None)]) == (0, None)
        assert list(describe(raw, BROKER, "")[1]) == ["log.retention.ms"]

        # legacy AlterConfigs replaces the cluster default's configs wholesale
        admin.alter_configs([ConfigResource(ConfigResourceType.BROKER, "", configs={"log.segment.bytes": "2000000"})])
        err, cfg = describe(raw, BROKER, "")
        assert list(cfg) == ["log.segment.bytes"] and cfg["log.segment.bytes"][0] == "2000000", cfg
        raw.close()
        k.close()
        admin.close()

        b.restart()
        raw = Raw(b.addr)
        err, cfg = describe(raw, BROKER, "")
        assert list(cfg) == ["log.segment.bytes"] and cfg["log.segment.bytes"][:3] == ("2000000", 0, DYN_DEFAULT), cfg
        err, cfg = describe(raw, TOPIC, "dyn", ["retention.ms", "segment.bytes"])
        assert cfg["retention.ms"][:3] == ("604800000", 0, DYN_BROKER), cfg
        assert cfg["segment.bytes"][:3] == ("1024", 0, DYN_TOPIC), cfg
        raw.close()
        b.stop()

        path = os.path.join(b.data_dir, "broker-configs.properties")
        with open(path, "a") as f:
            f.write("default.log.retention.ms=not-a-number\n")
        cp = run(["broker", "--listen", f"127.0.0.1:{free_port()}", "--data-dir", b.data_dir], check=False, timeout=20)
        assert cp.returncode != 0 and "broker-configs.properties line" in cp.stderr, (cp.returncode, cp.stderr)
    print("ok")


if __name__ == "__main__":
    main()
