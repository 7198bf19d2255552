"""Authorized operations and ListGroups v5, in raw frames, with the values Apache Kafka 3.9.2
answers without an authorizer (a client allowed everything): topic 3576, cluster 8096, group 328;
INT32_MIN ("not provided") whenever the request did not ask.

- Metadata v8: IncludeTopicAuthorizedOperations on an existing and a missing topic,
  IncludeClusterAuthorizedOperations; neither flag -> INT32_MIN in both places.
- DescribeCluster v0: IncludeClusterAuthorizedOperations true / false.
- DescribeGroups v3: IncludeAuthorizedOperations for a Stable group and an unknown (Dead) one.
- ListGroups v5: GroupType "classic"; TypesFilter [] / ["classic"] / ["Classic"] list the group,
  ["consumer"] lists nothing; v4 still works; ApiVersions advertises ListGroups up to 5.
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from admin_raw import Raw, cstr, s16, uvar  # noqa: E402
from harness import Broker, scaled, wait_until  # noqa: E402
from confluent_kafka import Consumer, Producer  # noqa: E402

TOPIC_OPS, CLUSTER_OPS, GROUP_OPS = 3576, 8096, 328
NOT_ASKED = -2147483648


def metadata_v8(raw, topics, cluster_ops, topic_ops):
    """Metadata v8 for @topics (None: all); returns ({name: (error, ops)}, cluster ops)."""
    if topics is None:
        body = struct.pack(">i", -1)
    else:
        body = struct.pack(">i", len(topics)) + b"".join(s16(t) for t in topics)
    body += bytes([0, cluster_ops, topic_ops])
    r = raw.call(3, 8, body, False)
    r.i32()
    for _ in range(r.i32()):
        r.i32(), r.string(), r.i32(), r.string()
    r.string(), r.i32()
    out = {}
    for _ in range(r.i32()):
        err, name = r.i16(), r.string()
        r.i8()
        for _ in range(r.i32()):
            r.i16(), r.i32(), r.i32(), r.i32()
            r.array(r.i32), r.array(r.i32), r.array(r.i32)
        out[name] = (err, r.i32())
    return out, r.i32()


def describe_cluster(raw, ops):
    r = raw.call(60, 0, bytes([ops, 0]), True)
    r.i32()
    assert r.i16() == 0
    r.cstring(), r.cstring(), r.i32()
    for _ in range(r.uvarint() - 1):
        r.i32(), r.cstring(), r.i32(), r.cstring()
        r.tags()
    return r.i32()


def describe_group(raw, group, ops):
    r = raw.call(15, 3, struct.pack(">i", 1) + s16(group) + bytes([ops]), False)
    r.i32()
    assert r.i32() == 1
    err, gid, state = r.i16(), r.string(), r.string()
    r.string(), r.string()
    for _ in range(r.i32()):
        r.string(), r.string(), r.string()
        for _ in range(2):  # MemberMetadata, MemberAssignment
            n = r.i32()
            r.p += max(n, 0)
    return err, gid, state, r.i32()


def list_groups_v5(raw, types):
    body = uvar(1) + uvar(len(types) + 1) + b"".join(cstr(t) for t in types) + b"\x00"
    r = raw.call(16, 5, body, True)
    r.i32()
    assert r.i16() == 0
    out = []
    for _ in range(r.uvarint() - 1):
        out.append((r.cstring(), r.cstring(), r.cstring(), r.cstring()))
        r.tags()
    return out


def list_groups_v4(raw):
    r = raw.call(16, 4, uvar(1) + b"\x00", True)
    r.i32()
    assert r.i16() == 0
    out = []
    for _ in range(r.uvarint() - 1):
        out.append((r.cstring(), r.cstring(), r.cstring()))
        r.tags()
    return out


def api_max(raw, key):
    r = raw.call(18, 0, b"", False)
    assert r.i16() == 0
    for _ in range(r.i32()):
        k, lo, hi = r.i16(), r.i16(), r.i16()
        if k == key:
            return hi
    return None


def main():
    with Broker() as b:
        p = Producer({"bootstrap.servers": b.addr})
        p.produce("authz-topic", b"x")
        assert p.flush(scaled(10)) == 0
        c = Consumer({"bootstrap.servers": b.addr, "group.id": "authz-g", "session.timeout.ms": 30000})
        c.subscribe(["authz-topic"])
        deadline = time.time() + scaled(20)
        while not c.assignment():
            assert time.time() < deadline, "no assignment"
            c.poll(0.1)

        raw = Raw(b.addr)
        assert api_max(raw, 16) == 5
        topics, cluster = metadata_v8(raw, ["authz-topic", "authz-missing"], 1, 1)
        assert topics["authz-topic"] == (0, TOPIC_OPS), topics
        assert topics["authz-missing"][1] == TOPIC_OPS, topics  # Kafka sets it on error topics too
        assert cluster == CLUSTER_OPS, cluster
        topics, cluster = metadata_v8(raw, ["authz-topic"], 0, 0)
        assert topics["authz-topic"] == (0, NOT_ASKED) and cluster == NOT_ASKED, (topics, cluster)

        assert describe_cluster(raw, 1) == CLUSTER_OPS
        assert describe_cluster(raw, 0) == NOT_ASKED

        wait_until(lambda: describe_group(raw, "authz-g", 1)[2] == "Stable", 20, "group Stable")
        got = describe_group(raw, "authz-g", 1)
        assert got == (0, "authz-g", "Stable", GROUP_OPS), got
        assert describe_group(raw, "authz-g", 0)[3] == NOT_ASKED
        assert describe_group(raw, "no-such-group", 1) == (0, "no-such-group", "Dead", GROUP_OPS)

        listed = ("authz-g", "consumer", "Stable", "classic")
        assert list_groups_v5(raw, []) == [listed]
        assert list_groups_v5(raw, ["classic"]) == [listed]
        assert list_groups_v5(raw, ["Classic"]) == [listed]
        assert list_groups_v5(raw, ["consumer"]) == []
        assert list_groups_v5(raw, ["consumer", "CLASSIC"]) == [listed]
        assert list_groups_v4(raw) == [("authz-g", "consumer", "Stable")]
        raw.close()
        c.close()
    print("ok")


if __name__ == "__main__":
    main()
