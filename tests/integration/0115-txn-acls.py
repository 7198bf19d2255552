"""Transactions under ACLs, for the ANONYMOUS principal (PLAINTEXT), with Kafka's error codes.

Set-up as a super user (super.users=User:ANONYMOUS): topics t and ro; a committed transaction of
the transactional id tx-no, so the coordinator knows it; ACLs: ANONYMOUS ALL on topic t,
DESCRIBE (no WRITE) on topic ro, WRITE and DESCRIBE on the transactional id tx-ok, someone else's
WRITE on tx-no. Then the broker restarts without super users, and ANONYMOUS gets:

- confluent-kafka with transactional.id tx-no: init_transactions fails with
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED (FindCoordinator's DESCRIBE, then InitProducerId's WRITE);
- with tx-ok: a transaction to t commits and a read_committed consumer reads it whole; a
  transaction that adds ro fails with TOPIC_AUTHORIZATION_FAILED (AddPartitionsToTxn's WRITE on
  each topic) and nothing reaches ro;
- DescribeTransactions of tx-no: TRANSACTIONAL_ID_AUTHORIZATION_FAILED, nothing else about it;
  of tx-ok: its state; ListTransactions lists tx-ok and leaves tx-no out.
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from admin_raw import Raw, cstr, uvar  # noqa: E402
from harness import Broker, scaled  # noqa: E402
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition  # noqa: E402
from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType,  # noqa: E402
                         KafkaAdminClient, NewTopic, ResourcePattern, ResourceType)

AUTHZ = ["-o", "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"]
TXN_AUTH = 53  # TRANSACTIONAL_ID_AUTHORIZATION_FAILED


def acl(principal, op, rtype, name):
    return ACL(principal=principal, host="*", operation=op, permission_type=ACLPermissionType.ALLOW,
               resource_pattern=ResourcePattern(rtype, name, ACLResourcePatternType.LITERAL))


def producer(addr, txid):
    return Producer({"bootstrap.servers": addr, "transactional.id": txid, "message.timeout.ms": int(scaled(10000))})


def setup(addr):
    admin = KafkaAdminClient(bootstrap_servers=addr)
    admin.create_topics([NewTopic(t, 1, 1) for t in ("t", "ro")])
    p = producer(addr, "tx-no")
    p.init_transactions(scaled(30))
    p.begin_transaction()
    p.produce("t", b"super")
    p.commit_transaction(scaled(30))
    res = admin.create_acls([
        acl("User:ANONYMOUS", ACLOperation.ALL, ResourceType.TOPIC, "t"),
        acl("User:ANONYMOUS", ACLOperation.DESCRIBE, ResourceType.TOPIC, "ro"),
        acl("User:ANONYMOUS", ACLOperation.WRITE, ResourceType.TRANSACTIONAL_ID, "tx-ok"),
        acl("User:ANONYMOUS", ACLOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, "tx-ok"),
        acl("User:nobody", ACLOperation.WRITE, ResourceType.TRANSACTIONAL_ID, "tx-no"),
    ])
    assert not res["failed"], res
    admin.close()


def describe_txns(raw, ids):
    body = uvar(len(ids) + 1) + b"".join(cstr(i) for i in ids) + b"\x00"
    r = raw.call(65, 0, body, True)
    r.i32()
    out = {}
    for _ in range(r.uvarint() - 1):
        err, txid, state = r.i16(), r.cstring(), r.cstring()
        r.i32(), r.i64(), r.i64(), r.i16()
        r.carray(lambda: (r.cstring(), r.carray(r.i32), r.tags()))
        r.tags()
        out[txid] = (err, state)
    return out


def list_txns(raw):
    r = raw.call(66, 0, uvar(1) + uvar(1) + b"\x00", True)
    r.i32()
    assert r.i16() == 0
    r.carray(r.cstring)
    ids = []
    for _ in range(r.uvarint() - 1):
        ids.append(r.cstring())
        r.i64(), r.cstring(), r.tags()
    return ids


def read_committed(addr, topic, want):
    c = Consumer({"bootstrap.servers": addr, "group.id": "unused", "isolation.level": "read_committed",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    c.assign([TopicPartition(topic, 0, 0)])
    got, deadline = [], time.monotonic() + scaled(20)
    while len(got) < want and time.monotonic() < deadline:
        for m in c.consume(100, timeout=0.5):
            if not m.error():
                got.append(m.value())
    c.close()
    return got


def enforced(addr):
    # No WRITE on tx-no: the producer cannot even start.
    p = producer(addr, "tx-no")
    try:
        p.init_transactions(scaled(15))
        raise AssertionError("init_transactions succeeded without WRITE on the transactional id")
    except KafkaException as e:
        assert e.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, e
    # tx-ok: a transaction to t commits and is read whole.
    p = producer(addr, "tx-ok")
    p.init_transactions(scaled(30))
    p.begin_transaction()
    for i in range(5):
        p.produce("t", f"ok-{i}".encode())
    p.commit_transaction(scaled(30))
    got = read_committed(addr, "t", 6)
    assert got == [b"super"] + [f"ok-{i}".encode() for i in range(5)], got
    # ro has DESCRIBE but no WRITE: the partition is not added, the transaction cannot commit.
    p.begin_transaction()
    p.produce("ro", b"must-not-land")
    try:
        p.commit_transaction(scaled(15))
        raise AssertionError("a transaction to a topic without WRITE committed")
    except KafkaException as e:
        assert e.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED or \
            "TOPIC_AUTHORIZATION_FAILED" in str(e) or "not authorized" in str(e).lower(), e
    raw = Raw(addr)
    # DescribeTransactions / ListTransactions: tx-no is described to nobody here.
    d = describe_txns(raw, ["tx-no", "tx-ok"])
    assert d["tx-no"] == (TXN_AUTH, ""), d
    assert d["tx-ok"][0] == 0, d
    ids = list_txns(raw)
    assert "tx-ok" in ids and "tx-no" not in ids, ids
    raw.close()


def main():
    with Broker(extra=AUTHZ + ["-o", "super.users=User:ANONYMOUS"]) as b:
        setup(b.addr)
        data = b.data_dir
        b.stop()
        with Broker(data_dir=data, extra=AUTHZ) as b2:
            enforced(b2.addr)
        with Broker(data_dir=data, extra=AUTHZ + ["-o", "super.users=User:ANONYMOUS"]) as b3:
            c = Consumer({"bootstrap.servers": b3.addr, "group.id": "unused"})
            lo, hi = c.get_watermark_offsets(TopicPartition("ro", 0), timeout=scaled(10))
            c.close()
            assert (lo, hi) == (0, 0), (lo, hi)  # nothing reached ro
    print("0115: ok")


if __name__ == "__main__":
    main()
