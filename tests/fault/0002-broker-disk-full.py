"""Disk full, for real: the broker's data directory is a small tmpfs that a filler file nearly
fills. confluent-kafka (librdkafka) produces with acks=all until the disk is full; those produce
requests fail (KAFKA_STORAGE_ERROR, retried by the client until its timeout), the broker keeps
running, and every record that WAS acknowledged reads back. Then space returns (the filler is
deleted) and producing works again without a restart; after a restart everything acknowledged is
still there, each exactly once.

Needs permission to mount a tmpfs (root with CAP_SYS_ADMIN, as in the project's dev container);
without it the test says SKIP and exits 0, since the same paths are covered at the syscall level
by unit.storage_faults and fault.0001-storage-power-loss."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer  # noqa: E402

TOPIC = "full"
VALUE = 2000  # bytes per record


def produce(addr, first, count):
    """Produce records first..first+count-1; return (acked ids, failed ids, error names)."""
    acked, failed, errors = [], [], set()

    def report(err, msg):
        i = int(msg.key())
        if err is None:
            acked.append(i)
        else:
            failed.append(i)
            errors.add(err.name())

    p = Producer({"bootstrap.servers": addr, "acks": "all", "linger.ms": 5, "message.timeout.ms": 4000,
                  "retry.backoff.ms": 100, "compression.codec": "none"})
    for i in range(first, first + count):
        p.produce(TOPIC, key=str(i).encode(), value=(b"%08d" % i) + b"x" * (VALUE - 8), on_delivery=report)
        p.poll(0)
    p.flush(scaled(30))
    return acked, failed, errors


def consume_all(addr):
    c = Consumer({"bootstrap.servers": addr, "group.id": "g-full", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    c.subscribe([TOPIC])
    seen = []
    eof = False
    while not eof:
        m = c.poll(scaled(10))
        assert m is not None, "consumer timed out before reaching the end"
        if m.error():
            assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
            eof = True
            continue
        i = int(m.key())
        assert m.value() == (b"%08d" % i) + b"x" * (VALUE - 8), f"record {i} corrupted"
        seen.append(i)
    c.close()
    return seen


def main():
    mnt = tempfile.mkdtemp(prefix="samsa-diskfull-")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt], capture_output=True).returncode:
        os.rmdir(mnt)
        print("SKIP: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)")
        return
    try:
        data = os.path.join(mnt, "data")
        b = Broker(data_dir=data, extra=["--num-partitions", "1", "--segment-bytes", "262144"])
        with b:
            acked, failed, _ = produce(b.addr, 0, 20)
            assert len(acked) == 20 and not failed, (acked, failed)
            # Leave well under 1 MB free, then produce 1.5 MB.
            st = os.statvfs(mnt)
            free = st.f_bavail * st.f_frsize
            with open(os.path.join(mnt, "filler"), "wb") as f:
                f.write(b"\0" * max(0, free - 600 * 1024))
            acked2, failed2, errors = produce(b.addr, 20, 750)
            assert failed2, "the disk never filled up"
            assert b.alive(), "the broker died on a full disk"
            print(f"disk full: {len(acked2)} acknowledged, {len(failed2)} failed ({', '.join(sorted(errors))})")
            acked += acked2
            # Space returns: producing works again, no restart.
            os.unlink(os.path.join(mnt, "filler"))
            acked3, failed3, _ = produce(b.addr, 1000, 50)
            assert len(acked3) == 50 and not failed3, f"after space returned: {len(acked3)} acked, {failed3[:5]} failed"
            acked += acked3
            seen = consume_all(b.addr)
            check(seen, acked, failed2)
            b.restart()
            seen = consume_all(b.addr)
            check(seen, acked, failed2)
    finally:
        subprocess.run(["umount", mnt], capture_output=True)
        shutil.rmtree(mnt, ignore_errors=True)
    print("ok")


def check(seen, acked, failed):
    assert len(seen) == len(set(seen)), "a record appears twice"
    missing = set(acked) - set(seen)
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {sorted(missing)[:5]}"
    extra = set(seen) - set(acked)
    # A record the client gave up on may still have landed by a retry; nothing else may appear.
    assert extra <= set(failed), f"records nobody produced: {sorted(extra - set(failed))[:5]}"


if __name__ == "__main__":
    main()
