"""WriteTxnMarkers (key 27, v1): ending a hanging transaction the way `kafka-transactions.sh abort`
does, frame by frame.

A confluent-kafka transactional producer (in a child process) commits c-0..c-2 to partition 0 of
topic hang, then opens a transaction h-0..h-2 there and is killed with SIGKILL (transaction timeout
5 minutes: the coordinator will not end it during the test). A plain producer then writes a-0..a-1.
The transaction hangs: DescribeProducers shows its first offset, read_committed stops before it.
Then, with raw frames:
- ABORT marker {producer id, epoch, coordinator epoch from DescribeProducers} for partitions 0 and
  1 (nothing open in 1: written anyway, as Kafka), 7 (no such partition) and topic nope: NONE,
  NONE, UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_OR_PARTITION; a read_committed consumer reads
  past it to the HWM and sees c-* and a-* but no h-*; DescribeProducers shows no open transaction;
  partition 1's LSO is its HWM;
- a COMMIT marker at epoch+1, coordinator epoch 5 in partition 1: NONE and recorded; then one at the
  old epoch INVALID_PRODUCER_EPOCH, one at coordinator epoch 4 TRANSACTION_COORDINATOR_FENCED; a
  producer id of -1 INVALID_REQUEST;
- after kill -9 of the broker and a restart, partition 1 still shows epoch+1 and coordinator epoch
  5 (rebuilt from the log: the marker's value is read), the read_committed view is the same, and a
  new producer with the same transactional id starts (the coordinator ends what it thought open) and
  commits n-0, which is read;
- WriteTxnMarkers v0 closes the connection (v1 only, as Kafka 4.x) and ApiVersions says 1-1;
- with an authorizer and no ACL, every partition is CLUSTER_AUTHORIZATION_FAILED and nothing is
  written.
"""
import os
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from admin_raw import Raw, cstr, uvar  # noqa: E402
from harness import Broker, scaled  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

TOPIC, TXID = "hang", "hanging-txn"
NONE, UNKNOWN_TP, INVALID_EPOCH, INVALID_REQUEST, CLUSTER_AUTH, COORD_FENCED = 0, 3, 47, 42, 31, 52
AUTHZ = ["-o", "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"]

CHILD = r"""
import sys, time
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": sys.argv[2],
              "transaction.timeout.ms": 300000, "linger.ms": 1})
p.init_transactions(60)
p.begin_transaction()
for i in range(3):
    p.produce("hang", value=b"c-%d" % i, partition=0)
p.commit_transaction(60)
p.begin_transaction()
for i in range(3):
    p.produce("hang", value=b"h-%d" % i, partition=0)
assert p.flush(60) == 0
print("ready", flush=True)
time.sleep(600)
"""


def write_markers(raw, markers, version=1):
    """markers: [(pid, epoch, commit, coordinator_epoch, [(topic, [partitions])])] -> {(topic, p): err}"""
    body = uvar(len(markers) + 1)
    for pid, epoch, commit, cepoch, topics in markers:
        body += struct.pack(">qh?", pid, epoch, commit) + uvar(len(topics) + 1)
        for name, parts in topics:
            body += cstr(name) + uvar(len(parts) + 1) + b"".join(struct.pack(">i", p) for p in parts) + b"\x00"
        body += struct.pack(">i", cepoch) + b"\x00"
    r = raw.call(27, version, body + b"\x00", True)
    out = []
    for _ in range(r.uvarint() - 1):
        pid, res = r.i64(), {}
        for _ in range(r.uvarint() - 1):
            name = r.cstring()
            for _ in range(r.uvarint() - 1):
                part, err = r.i32(), r.i16()
                r.tags()
                res[(name, part)] = err
            r.tags()
        r.tags()
        out.append((pid, res))
    return out


def describe_producers(raw, part):
    """{producer id: (epoch, last sequence, coordinator epoch, current txn start offset)} of hang-part."""
    body = uvar(2) + cstr(TOPIC) + uvar(2) + struct.pack(">i", part) + b"\x00" + b"\x00"
    r = raw.call(61, 0, body, True)
    r.i32()
    assert r.uvarint() == 2 and r.cstring() == TOPIC
    assert r.uvarint() == 2 and r.i32() == part
    err = r.i16()
    assert err == 0, f"DescribeProducers error {err}"
    r.cstring()
    out = {}
    for _ in range(r.uvarint() - 1):
        pid, epoch, seq, _ts, cepoch, start = r.i64(), r.i32(), r.i32(), r.i64(), r.i32(), r.i64()
        r.tags()
        out[pid] = (epoch, seq, cepoch, start)
    return out


def offsets(addr, part):
    """(read_committed end = LSO, HWM) of hang-part."""
    c = Consumer({"bootstrap.servers": addr, "group.id": "unused", "isolation.level": "read_committed"})
    lso = c.get_watermark_offsets(TopicPartition(TOPIC, part), timeout=scaled(10))[1]
    c.close()
    c = Consumer({"bootstrap.servers": addr, "group.id": "unused", "isolation.level": "read_uncommitted"})
    hwm = c.get_watermark_offsets(TopicPartition(TOPIC, part), timeout=scaled(10))[1]
    c.close()
    return lso, hwm


def read_committed(addr, end):
    """Every value of hang-0 read read_committed until the end-of-partition at or past @p end."""
    c = Consumer({"bootstrap.servers": addr, "group.id": "unused", "isolation.level": "read_committed",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    c.assign([TopicPartition(TOPIC, 0, 0)])
    got, eof, deadline = [], -1, time.monotonic() + scaled(20)
    while eof < end:
        assert time.monotonic() < deadline, f"read_committed stopped at {eof}, not {end}; read {got}"
        for m in c.consume(100, timeout=0.2):
            if m.error() and m.error().code() == -191:  # _PARTITION_EOF
                eof = m.offset()
            elif not m.error():
                got.append(m.value().decode())
    c.close()
    return got


def hang(addr):
    """The child's hanging transaction; @returns its producer id, epoch and coordinator epoch."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, addr, TXID], stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip() == "ready", f"the transactional child said {line!r}"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    p = Producer({"bootstrap.servers": addr})
    for i in range(2):
        p.produce(TOPIC, value=b"a-%d" % i, partition=0)
    assert p.flush(scaled(30)) == 0
    raw = Raw(addr)
    open_ = {pid: st for pid, st in describe_producers(raw, 0).items() if st[3] >= 0}
    raw.close()
    assert len(open_) == 1, f"one open transaction in hang-0: {open_}"
    pid, (epoch, _seq, cepoch, start) = next(iter(open_.items()))
    assert start == 4, f"the hanging transaction starts after c-0..c-2 and their marker: {start}"
    lso, hwm = offsets(addr, 0)
    assert lso == start and hwm == 9, f"read_committed stops at the hanging transaction: lso {lso} hwm {hwm}"
    return pid, epoch, max(cepoch, 0)


def main():
    with Broker() as b:
        admin = KafkaAdminClient(bootstrap_servers=b.addr)
        admin.create_topics([NewTopic(TOPIC, 2, 1)])
        admin.close()
        pid, epoch, cepoch = hang(b.addr)

        raw = Raw(b.addr)
        res = write_markers(raw, [(pid, epoch, False, cepoch, [(TOPIC, [0, 1, 7]), ("nope", [0])])])
        assert res == [(pid, {(TOPIC, 0): NONE, (TOPIC, 1): NONE, (TOPIC, 7): UNKNOWN_TP, ("nope", 0): UNKNOWN_TP})], res
        got = read_committed(b.addr, 10)  # 9 records and markers + the ABORT marker
        assert got == ["c-0", "c-1", "c-2", "a-0", "a-1"], got
        assert all(st[3] == -1 for st in describe_producers(raw, 0).values()), describe_producers(raw, 0)
        lso1, hwm1 = offsets(b.addr, 1)
        assert lso1 == hwm1 == 1, f"a marker with nothing open moves no LSO: {lso1} {hwm1}"

        res = write_markers(raw, [(pid, epoch + 1, True, 5, [(TOPIC, [1])])])
        assert res == [(pid, {(TOPIC, 1): NONE})], res
        res = write_markers(raw, [(pid, epoch, False, 5, [(TOPIC, [1])]),
                                  (pid, epoch + 1, False, 4, [(TOPIC, [1])]),
                                  (-1, 0, False, 5, [(TOPIC, [1])])])
        assert [r[1][(TOPIC, 1)] for r in res] == [INVALID_EPOCH, COORD_FENCED, INVALID_REQUEST], res
        assert describe_producers(raw, 1)[pid] == (epoch + 1, -1, 5, -1), describe_producers(raw, 1)
        assert offsets(b.addr, 1) == (2, 2)
        raw.close()

        b.restart(signal.SIGKILL)
        raw = Raw(b.addr)
        assert describe_producers(raw, 1)[pid] == (epoch + 1, -1, 5, -1), describe_producers(raw, 1)
        assert describe_producers(raw, 0)[pid][2:] == (cepoch, -1), describe_producers(raw, 0)
        raw.close()
        assert read_committed(b.addr, 10) == ["c-0", "c-1", "c-2", "a-0", "a-1"]
        p = Producer({"bootstrap.servers": b.addr, "transactional.id": TXID})
        p.init_transactions(scaled(30))
        p.begin_transaction()
        p.produce(TOPIC, value=b"n-0", partition=0)
        p.commit_transaction(scaled(30))
        assert read_committed(b.addr, 12) == ["c-0", "c-1", "c-2", "a-0", "a-1", "n-0"]

        raw = Raw(b.addr)
        r = raw.call(18, 0, b"", False)
        assert r.i16() == 0
        versions = {}
        for _ in range(r.i32()):
            key, lo, hi = r.i16(), r.i16(), r.i16()
            versions[key] = (lo, hi)
        assert versions.get(27) == (1, 1), versions.get(27)
        assert raw.expect_close(27, 0, struct.pack(">i", 0), False), "WriteTxnMarkers v0 is not served"
        raw.close()

    with Broker(extra=AUTHZ) as b:
        raw = Raw(b.addr)
        res = write_markers(raw, [(1000, 0, False, 0, [(TOPIC, [0, 1]), ("other", [3])])])
        assert res == [(1000, {(TOPIC, 0): CLUSTER_AUTH, (TOPIC, 1): CLUSTER_AUTH, ("other", 3): CLUSTER_AUTH})], res
        raw.close()
    print("0116: ok")


if __name__ == "__main__":
    main()
