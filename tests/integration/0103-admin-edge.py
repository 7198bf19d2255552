"""Admin requests at the edges, as raw frames: each bad entry gets its own error code and the
rest of the request still runs; malformed bodies close the connection and the broker goes on.
CreateTopics: a name with a NUL byte, an empty replica list, a partition listed twice, a null
config value, v5+ answers with the topic's configs and v7 with its id; DescribeConfigs of a
broker logger and of a config key that does not exist; DeleteRecords below -1; DeleteTopics by
name and by id in one v6 request; CreatePartitions with an assignment to another broker."""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled  # noqa: E402
from admin_raw import Raw, cstr, s16, uvar  # noqa: E402

INVALID_TOPIC, INVALID_CONFIG, INVALID_REQUEST = 17, 40, 42
INVALID_REPLICA_ASSIGNMENT, INVALID_PARTITIONS, OFFSET_OUT_OF_RANGE = 39, 37, 1


def create_v4(raw, topics, validate=False):
    """topics = [(name_bytes, partitions, rf, [(index, [ids])], [(k, v)])] -> [(name, code, msg)]."""
    body = struct.pack(">i", len(topics))
    for name, parts, rf, assign, configs in topics:
        body += struct.pack(">h", len(name)) + name + struct.pack(">ih", parts, rf)
        body += struct.pack(">i", len(assign))
        for idx, ids in assign:
            body += struct.pack(">ii", idx, len(ids)) + b"".join(struct.pack(">i", i) for i in ids)
        body += struct.pack(">i", len(configs)) + b"".join(s16(k) + s16(v) for k, v in configs)
    body += struct.pack(">i?", 10000, validate)
    r = raw.call(19, 4, body, False)
    r.i32()
    return r.array(lambda: (r.string(), r.i16(), r.string()))


def create_v7(raw, name, parts, configs):
    """CreateTopics v7 (flexible) of one topic -> (code, topic_id, partitions, rf, {config: (value, source)})."""
    body = uvar(2) + cstr(name) + struct.pack(">ih", parts, -1) + uvar(1)
    body += uvar(len(configs) + 1) + b"".join(cstr(k) + cstr(v) + b"\x00" for k, v in configs) + b"\x00"
    body += struct.pack(">i?", 10000, False) + b"\x00"
    r = raw.call(19, 7, body, True)
    r.i32()

    def topic():
        name_, tid, code, _msg = r.cstring(), r.uuid(), r.i16(), r.cstring()
        np, rf = r.i32(), r.i16()
        cfg = {c[0]: (c[1], c[3]) for c in r.carray(lambda: (r.cstring(), r.cstring(), r.i8(), r.i8(), r.i8(), r.tags()))}
        r.tags()
        return code, tid, np, rf, cfg

    return r.carray(topic)[0]


def main():
    with Broker(extra=["-o", "auto.create.topics.enable=false"]) as b:
        raw = Raw(b.addr)
        res = create_v4(raw, [
            (b"nul\x00byte", 1, 1, [], []),
            (b"no-replicas", -1, -1, [(0, [])], []),
            (b"twice-listed", -1, -1, [(0, [0]), (0, [0])], []),
            (b"null-config", 1, 1, [], [("retention.ms", None)]),
            (b"good", 2, 1, [], [("cleanup.policy", "delete")]),
            (b"both-set", 2, -1, [(0, [0])], []),
        ])
        codes = [(n, c) for n, c, _m in res]
        assert codes == [("nul\x00byte", INVALID_TOPIC), ("no-replicas", INVALID_REPLICA_ASSIGNMENT),
                         ("twice-listed", INVALID_REPLICA_ASSIGNMENT), ("null-config", INVALID_CONFIG),
                         ("good", 0), ("both-set", INVALID_REQUEST)], codes
        assert all(m for _n, c, m in res if c), res  # every error has a message
        assert create_v4(raw, [(b"good", 2, 1, [], [])], validate=True)[0][1] == 36  # exists, even validate-only

        # v7: the id, the partition count and every config with its source come back
        code, tid, np, rf, cfg = create_v7(raw, "v7-topic", -1, [("retention.ms", "1234")])
        assert code == 0 and tid != b"\x00" * 16 and np == 1 and rf == 1, (code, tid, np, rf)
        assert cfg["retention.ms"] == ("1234", 1) and cfg["segment.bytes"] == ("1073741824", 5), cfg
        assert len(cfg) >= 25, len(cfg)

        # DescribeConfigs v0: a broker logger, an unknown key, the broker by the empty name
        body = struct.pack(">i", 3)
        body += struct.pack(">b", 8) + s16("0") + struct.pack(">i", -1)
        body += struct.pack(">b", 2) + s16("good") + struct.pack(">i", 2) + s16("no.such.key") + s16("cleanup.policy")
        body += struct.pack(">b", 4) + s16("0") + struct.pack(">i", 1) + s16("num.partitions")
        r = raw.call(32, 0, body, False)
        r.i32()
        res = r.array(lambda: (r.i16(), r.string(), r.i8(), r.string(),
                               r.array(lambda: (r.string(), r.string(), r.i8(), r.i8(), r.i8()))))
        assert res[0][0] == INVALID_REQUEST and res[0][1], res[0]
        assert res[1][0] == 0 and [e[:2] for e in res[1][4]] == [("cleanup.policy", "delete")], res[1]
        assert res[1][4][0][3] == 0, "v0 IsDefault is false for a config set on the topic"
        assert res[2][0] == 0 and [e[:2] for e in res[2][4]] == [("num.partitions", "1")] and res[2][4][0][3] == 1, res[2]

        # DeleteRecords v0: below -1 is out of range, an unknown partition is unknown
        body = struct.pack(">i", 1) + s16("good") + struct.pack(">i", 2) + struct.pack(">iq", 0, -5)
        body += struct.pack(">iq", 7, 0) + struct.pack(">i", 10000)
        r = raw.call(21, 0, body, False)
        r.i32()
        res = r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i64(), r.i16()))))
        assert res == [("good", [(0, 0, OFFSET_OUT_OF_RANGE), (7, -1, 3)])], res

        # CreatePartitions v1: an assignment to another broker; the count stays
        body = struct.pack(">i", 1) + s16("good") + struct.pack(">ii", 3, 1) + struct.pack(">ii", 1, 5)
        body += struct.pack(">i?", 10000, False)
        r = raw.call(37, 1, body, False)
        r.i32()
        res = r.array(lambda: (r.string(), r.i16(), r.string()))
        assert res[0][1] == INVALID_REPLICA_ASSIGNMENT and res[0][2], res

        # DeleteTopics v6: one by name, one by the id CreateTopics v7 returned
        body = uvar(3) + cstr("good") + b"\x00" * 16 + b"\x00" + cstr(None) + tid + b"\x00"
        body += struct.pack(">i", 10000) + b"\x00"
        r = raw.call(20, 6, body, True)
        r.i32()
        res = r.carray(lambda: (r.cstring(), r.uuid(), r.i16(), r.cstring(), r.tags())[:4])
        assert [(n, c) for n, _t, c, _m in res] == [("good", 0), ("v7-topic", 0)], res
        assert not [n for n in os.listdir(b.data_dir) if n.startswith(("good", "v7-topic"))]

        # a config key twice for one resource: INVALID_REQUEST, nothing applied
        body = struct.pack(">i", 1) + struct.pack(">b", 2) + s16("v7-topic") + struct.pack(">i", 2)
        body += s16("retention.ms") + struct.pack(">b", 0) + s16("5") + s16("retention.ms") + struct.pack(">b", 0) + s16("6")
        r = raw.call(44, 0, body + b"\x00", False)
        r.i32()
        res = r.array(lambda: (r.i16(), r.string(), r.i8(), r.string()))
        assert res[0][0] == INVALID_REQUEST and res[0][1], res

        # 100,000 copies of one name in one CreateTopics: every copy INVALID_REQUEST, answered
        # quickly (repeated names are found by sorting, not by comparing every pair)
        n = 100_000
        one = struct.pack(">h", 3) + b"dup" + struct.pack(">ih", 1, 1) + struct.pack(">ii", 0, 0)
        t0 = time.monotonic()
        r = raw.call(19, 4, struct.pack(">i", n) + one * n + struct.pack(">i?", 10000, False), False)
        r.i32()
        codes = r.array(lambda: (r.string(), r.i16(), r.string())[1])
        took = time.monotonic() - t0
        assert len(codes) == n and set(codes) == {INVALID_REQUEST}, (len(codes), set(codes))
        assert took < scaled(10), f"{n} repeated names took {took:.1f} s"
        print(f"{n} repeated names answered in {took:.2f} s")

        # malformed: a topic array claiming 2^31-1 entries, a truncated body; each closes its
        # connection, and the broker serves the next one
        assert Raw(b.addr).expect_close(19, 4, struct.pack(">i", 0x7FFFFFFF), False)
        assert Raw(b.addr).expect_close(33, 0, struct.pack(">i", 1) + b"\x02\x00", False)
        assert Raw(b.addr).expect_close(44, 1, b"\x02\x02", True)
        raw.close()
        raw = Raw(b.addr)
        assert create_v4(raw, [(b"after", 1, 1, [], [])]) == [("after", 0, None)]
        raw.close()
        assert b.alive()
    print("ok")


if __name__ == "__main__":
    main()
