"""ACLs enforced on every API, for the ANONYMOUS principal (PLAINTEXT), with Kafka's error codes
and never data. Frames are raw where the code matters; kafka-python and confluent-kafka where a
real client's behaviour does.

Set-up as a super user (super.users=User:ANONYMOUS): topics open, secret (one record), pre-a,
free; group g-hidden with a committed offset; ACLs: ANONYMOUS ALL on topic open, ANONYMOUS READ
on group g-ok, User:* DESCRIBE on topics prefixed "pre-", someone else's READ on topic secret and
group g-hidden. Then the broker restarts without super users, and ANONYMOUS gets:

- Metadata: all topics -> open and pre-a only (secret, free hidden); secret and missing by name
  -> TOPIC_AUTHORIZATION_FAILED, missing not auto-created; authorized operations: open 3576
  (ALL), pre-a 256 (DESCRIBE), cluster 0 (no DESCRIBE on the cluster); DescribeCluster too.
- Produce: kafka-python to pre-a (DESCRIBE but no WRITE) -> TopicAuthorizationFailedError, and
  ListOffsets shows nothing was written; to open -> acknowledged.
- Fetch secret -> TOPIC_AUTHORIZATION_FAILED, no records; ListOffsets secret -> the same.
- JoinGroup g-no -> GROUP_AUTHORIZATION_FAILED; a confluent-kafka consumer in g-ok reads open.
- OffsetCommit g-ok: secret -> TOPIC_AUTHORIZATION_FAILED, open -> 0; g-no -> GROUP_AUTH...
- OffsetFetch g-no: v1 per partition, v3 top level; g-ok + secret -> TOPIC_AUTHORIZATION_FAILED.
- DescribeGroups g-hidden -> GROUP_AUTHORIZATION_FAILED; g-ok's operations 264 (READ+DESCRIBE);
  ListGroups lists g-ok, not g-hidden.
- CreateTopics -> TOPIC_AUTHORIZATION_FAILED; DeleteTopics secret -> the same, and it still exists;
  DescribeConfigs topic secret -> TOPIC_AUTH..., broker -> CLUSTER_AUTH...; AlterConfigs likewise.
- CreateAcls/DescribeAcls -> CLUSTER_AUTHORIZATION_FAILED.
- InitProducerId (idempotent) -> allowed through WRITE on some topic (ALL on open).
Then with allow.everyone.if.no.acl.found=true: free (no ACL) is readable and writable, secret (an
ACL names it) still refused.
"""
import importlib
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from admin_raw import Raw, s16  # noqa: E402
from harness import Broker, scaled  # noqa: E402
from confluent_kafka import Consumer, Producer  # noqa: E402
from kafka import KafkaProducer  # noqa: E402
from kafka import errors as kerr  # noqa: E402
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType,  # noqa: E402
                         ACLResourcePatternType, KafkaAdminClient, NewTopic, ResourcePattern,
                         ResourcePatternFilter, ResourceType)

ops = importlib.import_module("0105-authorized-ops")
AUTHZ = ["-o", "authorizer.class.name=kafka.security.authorizer.AclAuthorizer"]
TOPIC_AUTH, GROUP_AUTH, CLUSTER_AUTH = 29, 30, 31
DESCRIBE, READ = 1 << 8, 1 << 3


def arr(items):
    return struct.pack(">i", len(items)) + b"".join(items)


def fetch_v4(raw, topic):
    body = struct.pack(">iiiib", -1, 0, 1, 1 << 20, 0)
    body += arr([s16(topic) + arr([struct.pack(">iqi", 0, 0, 1 << 20)])])
    r = raw.call(1, 4, body, False)
    r.i32()
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    r.i32()
    err, hwm, _ = r.i16(), r.i64(), r.i64()
    n = r.i32()
    for _ in range(max(n, 0)):
        r.i64(), r.i64()
    size = r.i32()
    return err, hwm, max(size, 0)


def list_offsets_v1(raw, topic):
    r = raw.call(2, 1, struct.pack(">i", -1) + arr([s16(topic) + arr([struct.pack(">iq", 0, -1)])]), False)
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    r.i32()
    err, _, offset = r.i16(), r.i64(), r.i64()
    return err, offset


def join_v2(raw, group):
    body = s16(group) + struct.pack(">ii", 30000, 30000) + s16("") + s16("consumer")
    body += arr([s16("range") + struct.pack(">i", 0)])
    r = raw.call(11, 2, body, False)
    r.i32()
    return r.i16()


def commit_v2(raw, group, topic):
    body = s16(group) + struct.pack(">i", -1) + s16("") + struct.pack(">q", -1)
    body += arr([s16(topic) + arr([struct.pack(">iq", 0, 0) + s16("")])])
    r = raw.call(8, 2, body, False)
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    r.i32()
    return r.i16()


def offset_fetch(raw, version, group, topic):
    r = raw.call(9, version, s16(group) + arr([s16(topic) + arr([struct.pack(">i", 0)])]), False)
    if version >= 3:
        r.i32()
    parts = []
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            r.i32(), r.i64(), r.string()
            parts.append(r.i16())
    top = r.i16() if version >= 2 else None
    return top, parts


def create_topic_v0(raw, name):
    body = arr([s16(name) + struct.pack(">ih", 1, 1) + arr([]) + arr([])]) + struct.pack(">i", 5000)
    r = raw.call(19, 0, body, False)
    assert r.i32() == 1 and r.string() == name
    return r.i16()


def delete_topic_v0(raw, name):
    r = raw.call(20, 0, arr([s16(name)]) + struct.pack(">i", 5000), False)
    assert r.i32() == 1 and r.string() == name
    return r.i16()


def configs_v0(raw, key, rtype, name, configs=None):
    """DescribeConfigs (key 32) or AlterConfigs (key 33) v0 of one resource: its error code."""
    if key == 32:
        body = arr([struct.pack(">b", rtype) + s16(name) + struct.pack(">i", -1)])
    else:
        body = arr([struct.pack(">b", rtype) + s16(name) +
                    arr([s16(k) + s16(v) for k, v in configs.items()])]) + b"\x00"
    r = raw.call(key, 0, body, False)
    r.i32()
    assert r.i32() == 1
    return r.i16()


def init_pid_v0(raw):
    r = raw.call(22, 0, struct.pack(">hi", -1, 60000), False)
    r.i32()
    return r.i16(), r.i64()


def acl(principal, op, rtype, name, pattern=ACLResourcePatternType.LITERAL):
    return ACL(principal=principal, host="*", operation=op, permission_type=ACLPermissionType.ALLOW,
               resource_pattern=ResourcePattern(rtype, name, pattern))


def setup(addr):
    admin = KafkaAdminClient(bootstrap_servers=addr)
    admin.create_topics([NewTopic(t, 1, 1) for t in ("open", "secret", "pre-a", "free")])
    p = KafkaProducer(bootstrap_servers=addr)
    p.send("secret", b"classified").get(timeout=scaled(10))
    p.close()
    raw = Raw(addr)
    assert commit_v2(raw, "g-hidden", "open") == 0
    raw.close()
    res = admin.create_acls([
        acl("User:ANONYMOUS", ACLOperation.ALL, ResourceType.TOPIC, "open"),
        acl("User:ANONYMOUS", ACLOperation.READ, ResourceType.GROUP, "g-ok"),
        acl("User:*", ACLOperation.DESCRIBE, ResourceType.TOPIC, "pre-", ACLResourcePatternType.PREFIXED),
        acl("User:nobody", ACLOperation.READ, ResourceType.TOPIC, "secret"),
        acl("User:nobody", ACLOperation.READ, ResourceType.GROUP, "g-hidden"),
    ])
    assert not res["failed"], res
    admin.close()


def enforced(addr):
    raw = Raw(addr)
    # Metadata: hidden, refused by name, authorized operations
    topics, cluster = ops.metadata_v8(raw, None, 1, 1)
    assert sorted(topics) == ["open", "pre-a"], topics
    assert topics["open"] == (0, ops.TOPIC_OPS) and topics["pre-a"] == (0, DESCRIBE), topics
    assert cluster == 0, cluster
    topics, _ = ops.metadata_v8(raw, ["secret", "missing", "pre-a"], 0, 1)
    assert topics["secret"] == (TOPIC_AUTH, ops.NOT_ASKED), topics
    assert topics["missing"] == (TOPIC_AUTH, ops.NOT_ASKED), topics
    assert topics["pre-a"] == (0, DESCRIBE), topics
    assert ops.describe_cluster(raw, 1) == 0

    # Produce: a real client gets the error, and nothing is written
    p = KafkaProducer(bootstrap_servers=addr, retries=0)
    try:
        p.send("pre-a", b"nope").get(timeout=scaled(10))
        raise AssertionError("produce to pre-a succeeded")
    except kerr.TopicAuthorizationFailedError:
        pass
    assert list_offsets_v1(raw, "pre-a") == (0, 0)
    p.send("open", b"fine").get(timeout=scaled(10))
    p.close()

    # Fetch / ListOffsets: the error, no records, no offsets
    assert fetch_v4(raw, "secret") == (TOPIC_AUTH, -1, 0)
    assert list_offsets_v1(raw, "secret")[0] == TOPIC_AUTH
    err, hwm, size = fetch_v4(raw, "open")
    assert err == 0 and hwm == 1 and size > 0, (err, hwm, size)

    # Groups
    assert join_v2(raw, "g-no") == GROUP_AUTH
    assert commit_v2(raw, "g-ok", "secret") == TOPIC_AUTH
    assert commit_v2(raw, "g-ok", "open") == 0
    assert commit_v2(raw, "g-no", "open") == GROUP_AUTH
    assert offset_fetch(raw, 1, "g-no", "open") == (None, [GROUP_AUTH])
    assert offset_fetch(raw, 3, "g-no", "open") == (GROUP_AUTH, [])
    assert offset_fetch(raw, 3, "g-ok", "secret") == (0, [TOPIC_AUTH])
    assert offset_fetch(raw, 3, "g-ok", "open") == (0, [0])
    assert ops.describe_group(raw, "g-hidden", 1)[0] == GROUP_AUTH
    assert ops.describe_group(raw, "g-ok", 1)[3] == READ | DESCRIBE
    assert [g[0] for g in ops.list_groups_v4(raw)] == ["g-ok"]

    c = Consumer({"bootstrap.servers": addr, "group.id": "g-ok", "auto.offset.reset": "earliest",
                  "session.timeout.ms": 6000})
    c.subscribe(["open"])
    got, deadline = [], time.time() + scaled(20)
    while len(got) < 1 and time.time() < deadline:
        m = c.poll(0.2)
        if m is not None and not m.error():
            got.append(m.value())
    c.close()
    assert got == [b"fine"], got

    # Admin
    assert create_topic_v0(raw, "newbie") == TOPIC_AUTH
    assert delete_topic_v0(raw, "secret") == TOPIC_AUTH
    assert configs_v0(raw, 32, 2, "secret") == TOPIC_AUTH
    assert configs_v0(raw, 32, 4, "0") == CLUSTER_AUTH
    assert configs_v0(raw, 33, 2, "secret", {"retention.ms": "1000"}) == TOPIC_AUTH
    assert configs_v0(raw, 33, 4, "0", {"log.retention.ms": "1000"}) == CLUSTER_AUTH
    assert configs_v0(raw, 32, 2, "open") == 0
    err, pid = init_pid_v0(raw)
    assert err == 0 and pid >= 0, (err, pid)
    admin = KafkaAdminClient(bootstrap_servers=addr)
    res = admin.create_acls([acl("User:ANONYMOUS", ACLOperation.ALL, ResourceType.CLUSTER, "kafka-cluster")])
    assert [e for _, e in res["failed"]] == [kerr.ClusterAuthorizationFailedError], res
    try:
        admin.describe_acls(ACLFilter(principal=None, host=None, operation=ACLOperation.ANY,
                                      permission_type=ACLPermissionType.ANY,
                                      resource_pattern=ResourcePatternFilter(ResourceType.ANY, None,
                                                                             ACLResourcePatternType.ANY)))
        raise AssertionError("DescribeAcls without DESCRIBE on the cluster succeeded")
    except kerr.ClusterAuthorizationFailedError:
        pass
    admin.close()
    topics, _ = ops.metadata_v8(raw, ["newbie", "secret"], 0, 0)
    assert topics["newbie"][0] == TOPIC_AUTH and topics["secret"][0] == TOPIC_AUTH
    raw.close()


def allow_if_no_acl(addr):
    raw = Raw(addr)
    topics, _ = ops.metadata_v8(raw, None, 0, 0)
    assert sorted(topics) == ["free", "open", "pre-a"], topics  # secret: an ACL names it
    pr = Producer({"bootstrap.servers": addr})
    pr.produce("free", b"anyone")
    assert pr.flush(scaled(10)) == 0
    err, hwm, size = fetch_v4(raw, "free")
    assert err == 0 and hwm == 1 and size > 0
    assert fetch_v4(raw, "secret")[0] == TOPIC_AUTH
    raw.close()


def main():
    with Broker(extra=AUTHZ + ["-o", "super.users=User:ANONYMOUS"]) as b:
        setup(b.addr)
        data = b.data_dir
        b.stop()
        with Broker(data_dir=data, extra=AUTHZ) as b2:
            enforced(b2.addr)
        with Broker(data_dir=data, extra=AUTHZ + ["-o", "allow.everyone.if.no.acl.found=true"]) as b3:
            allow_if_no_acl(b3.addr)
    print("0161: ok")


if __name__ == "__main__":
    main()
