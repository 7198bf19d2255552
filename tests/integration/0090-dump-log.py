"""`samsa dump-log` on segments a real broker wrote: confluent-kafka (librdkafka) produces
keyed records with headers under every codec; after the broker stops, dump-log --json --records
must show each batch's codec, an intact CRC and every record byte-identical; a flipped byte is
reported as a bad CRC and a torn tail as torn, neither fatal; .index/.timeindex files dump too.
The metadata log (DATA_DIR/metadata.log) dumps its records: the group's committed offsets and the
idempotent producer's id block, and a torn tail is reported there too. Transactions: an aborted
and a committed transaction of a transactional producer: the segment names the ABORT and COMMIT
markers, the .txnindex (written at the clean close) lists the aborted one, and the metadata log
shows the coordinator's txn_state records (CompleteAbort, CompleteCommit). Producer-state snapshots
(.snapshot, written at the clean close): the idempotent producer's epoch, batch sequences and
offsets, last timestamp and coordinator epoch (-1: no marker), the transactional producer's
coordinator epoch 0; a flipped byte reported as a bad CRC with the entries still shown, a truncated
file refused (exit 1)."""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, run  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
N = 50


def value(codec, i):
    return (f"{codec} value {i} " + "compressible text " * 20 + ("é" if i % 3 == 0 else "")).encode()


def dump(path, *flags):
    cp = run(["dump-log", *flags, path])
    return [json.loads(line) for line in cp.stdout.splitlines()]


def main():
    tmp = tempfile.mkdtemp(prefix="samsa-dumplog-")
    try:
        data = os.path.join(tmp, "data")
        with Broker(data_dir=data) as b:
            for codec in CODECS:
                p = Producer({"bootstrap.servers": b.addr, "compression.codec": codec, "acks": "all",
                              "linger.ms": 50})
                for i in range(N):
                    p.produce(f"dl_{codec}", key=f"k{i}".encode(), value=value(codec, i),
                              headers=[("h", f"v{i}".encode()), ("nullh", None)])
                assert p.flush(30) == 0, f"{codec}: records not delivered"
            p = Producer({"bootstrap.servers": b.addr, "enable.idempotence": True})
            p.produce("dl_idem", value=b"idempotent")
            assert p.flush(30) == 0, "idempotent record not delivered"
            p = Producer({"bootstrap.servers": b.addr, "transactional.id": "dl_tx"})
            p.init_transactions(30)
            for commit in (False, True):
                p.begin_transaction()
                for i in range(3):
                    p.produce("dl_txn", value=b"tx%d" % i, partition=0)
                assert p.flush(30) == 0, "transactional records not delivered"
                (p.commit_transaction if commit else p.abort_transaction)(30)
            c = Consumer({"bootstrap.servers": b.addr, "group.id": "dl_group", "enable.auto.commit": False})
            c.commit(offsets=[TopicPartition("dl_gzip", 0, 7)], asynchronous=False)
            c.close()
        for codec in CODECS:
            seg = os.path.join(data, f"dl_{codec}-0", "00000000000000000000.log")
            lines = dump(seg, "--json", "--records", "--max-bytes", "0")
            batches = [l for l in lines if l["type"] == "batch"]
            records = [l for l in lines if l["type"] == "record"]
            summary = lines[-1]
            assert summary["type"] == "summary" and not summary["torn"] and summary["bad_crc"] == 0, summary
            assert batches and all(bt["crc_ok"] for bt in batches), batches
            if codec != "none":
                assert any(bt["compression"] == codec for bt in batches), f"{codec}: {batches}"
            assert [r["offset"] for r in records] == list(range(N)), f"{codec}: offsets"
            for i, r in enumerate(records):
                assert r["key"] == f"k{i}", r
                assert r["value"].encode() == value(codec, i), f"{codec}: record {i} value differs"
                assert r["headers"] == [{"key": "h", "value": f"v{i}"}, {"key": "nullh", "value": None}], r
            # Human output has the same batches.
            text = run(["dump-log", "--records", seg]).stdout
            assert text.count("CRC ok") == len(batches), text[:500]
            # The index files of a cleanly closed broker dump too.
            idx = dump(seg[:-4] + ".index", "--json")
            assert idx and idx[0] == {"type": "index", "offset": 0, "position": 0}, idx
            tidx = dump(seg[:-4] + ".timeindex", "--json")
            assert tidx and tidx[0]["type"] == "timeindex", tidx

        # Transactions: markers in the segment, the aborted one in the .txnindex.
        seg = os.path.join(data, "dl_txn-0", "00000000000000000000.log")
        batches = [l for l in dump(seg, "--json") if l["type"] == "batch"]
        markers = [bt for bt in batches if bt.get("marker")]
        assert [m["marker"] for m in markers] == ["ABORT", "COMMIT"] and batches[-1] is markers[1], batches
        abort = markers[0]
        assert abort["control"] and abort["transactional"] and abort["base_offset"] == 3, batches
        assert all(bt["transactional"] and bt["producer_id"] == abort["producer_id"] for bt in batches), batches
        assert "ABORT marker of producer" in run(["dump-log", seg]).stdout
        ix = dump(seg[:-4] + ".txnindex", "--json")
        assert ix == [{"type": "aborted", "producer_id": abort["producer_id"], "first_offset": 0,
                       "last_offset": 3, "last_stable_offset": 4}], ix
        assert "aborted transaction of producer" in run(["dump-log", seg[:-4] + ".txnindex"]).stdout
        states = [l["state"] for l in dump(os.path.join(data, "metadata.log"), "--json")
                  if l.get("kind_name") == "txn_state" and l.get("transactional_id") == "dl_tx"]
        assert states[-1] == "CompleteCommit" and "CompleteAbort" in states and "PrepareCommit" in states, states

        # Producer-state snapshots (written at the clean close, at the log end): the idempotent
        # producer's one batch, the transactional producer's coordinator epoch; a flipped byte is a
        # bad CRC (entries still shown), a truncated file is not a snapshot.
        snap = os.path.join(data, "dl_idem-0", "00000000000000000001.snapshot")
        lines = dump(snap, "--json")
        assert lines[-1] == {"type": "summary", "file": snap, "snapshot_offset": 1, "producers": 1,
                             "crc_ok": True}, lines
        prod = lines[0]
        assert prod["type"] == "producer" and prod["producer_epoch"] == 0 and prod["coordinator_epoch"] == -1, prod
        assert prod["batches"] == [{"first_sequence": 0, "last_sequence": 0, "first_offset": 0,
                                    "last_offset": 0}] and prod["last_timestamp"] > 0, prod
        text = run(["dump-log", snap]).stdout
        assert "producer-state snapshot at offset 1, 1 producers, CRC ok" in text, text
        assert "sequences 0..0  offsets 0..0" in text and "coordinator epoch -1" in text, text
        tsnap = os.path.join(data, "dl_txn-0", "00000000000000000008.snapshot")
        lines = dump(tsnap, "--json")
        assert [(l["producer_id"], l["coordinator_epoch"]) for l in lines if l["type"] == "producer"] == [
            (abort["producer_id"], 0)] and lines[-1]["crc_ok"], lines
        bad = os.path.join(tmp, "00000000000000000001.snapshot")
        raw = bytearray(open(snap, "rb").read())
        raw[22 + 10 + 7] ^= 0x01  # the producer's last timestamp, lowest byte
        open(bad, "wb").write(raw)
        lines = dump(bad, "--json")
        assert not lines[-1]["crc_ok"] and lines[0]["last_timestamp"] == prod["last_timestamp"] ^ 1, lines
        assert "CRC BAD" in run(["dump-log", bad]).stdout
        open(bad, "wb").write(raw[:30])
        cp = run(["dump-log", bad], check=False)
        assert cp.returncode == 1 and "not a readable producer-state snapshot: truncated entry" in cp.stderr, cp

        # Damage a copy: one flipped byte in the last batch's records, then a torn tail.
        seg = os.path.join(data, "dl_none-0", "00000000000000000000.log")
        bad = os.path.join(tmp, "bad.log")
        shutil.copy(seg, bad)
        size = os.path.getsize(bad)
        with open(bad, "r+b") as f:
            f.seek(size - 3)
            c = f.read(1)
            f.seek(size - 3)
            f.write(bytes([c[0] ^ 0x40]))
            f.seek(0, 2)
            f.write(open(seg, "rb").read(30))
        lines = dump(bad, "--json")
        summary = lines[-1]
        assert summary["bad_crc"] == 1 and summary["torn"] and summary["valid_bytes"] == size, summary
        assert not lines[-2]["crc_ok"], lines[-2]
        text = run(["dump-log", bad]).stdout
        assert "CRC BAD" in text and "torn tail at byte %d" % size in text, text[-400:]
        # The metadata log: committed offsets and producer-id blocks, each a record.
        meta = os.path.join(data, "metadata.log")
        lines = dump(meta, "--json")
        commits = [l for l in lines if l.get("kind_name") == "offset_commit"]
        assert {"group": "dl_group", "topic": "dl_gzip", "partition": 0, "offset": 7} == {
            k: commits[-1][k] for k in ("group", "topic", "partition", "offset")}, commits
        assert any(l.get("kind_name") == "producer_ids" and l["block_end"] >= 1 for l in lines), lines
        assert lines[-1]["type"] == "summary" and not lines[-1]["torn"], lines[-1]
        text = run(["dump-log", meta]).stdout
        assert "offset_commit" in text and '"group":"dl_group"' in text and "metadata log" in text, text
        torn = os.path.join(tmp, "metadata.log")
        shutil.copy(meta, torn)
        with open(torn, "ab") as f:
            f.write(b"\0\0\0\x40half a record")
        summary = dump(torn, "--json")[-1]
        assert summary["torn"] and summary["valid_bytes"] == os.path.getsize(meta), summary
        # Usage errors and missing files.
        assert run(["dump-log"], check=False).returncode == 2
        assert run(["dump-log", os.path.join(tmp, "nope.log")], check=False).returncode == 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
