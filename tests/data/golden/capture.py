#!/usr/bin/python3
"""capture.py - record the first request frames real Kafka clients send, as golden test data.

Usage (from the repository root; the Debian python, where kafka-python imports):
    /usr/bin/python3 tests/data/golden/capture.py [--via-samsa SAMSA_BINARY] [OUT_DIR]

Without --via-samsa it listens on a free loopback port and runs each client against it:
  kcat -L (librdkafka 2.0.2)   and   kafka-python 2.0.2's KafkaConsumer bootstrap.
Each request frame is written to OUT_DIR (default: this directory) as
<client>-<n>-<Api>-v<version>.bin, WITHOUT its 4-byte size prefix (what the broker hands the
decoder). To get past the first request, the listener answers ApiVersions with a minimal
hand-built response advertising ApiVersions 0-3 and Metadata 0-9; other requests get no answer,
and the client is stopped once the listener has what it wants.

With --via-samsa it starts `samsa broker` on a free port, advertising a recording proxy in front
of it, and runs real workloads through the proxy (kcat produce / consume / group consume,
kafka-python produce / consume). The first frame of each (client, api, version) is written as
<client>-<Api>-v<version>.bin. These frames carry record batches with timestamps, so their bytes
change from run to run; what they must decode to does not.
"""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

NAMES = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
         10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
         15: "DescribeGroups", 16: "ListGroups", 18: "ApiVersions", 19: "CreateTopics",
         20: "DeleteTopics", 21: "DeleteRecords", 22: "InitProducerId", 23: "OffsetForLeaderEpoch",
         32: "DescribeConfigs", 33: "AlterConfigs", 37: "CreatePartitions", 42: "DeleteGroups",
         44: "IncrementalAlterConfigs", 47: "OffsetDelete", 60: "DescribeCluster"}
ADVERTISED = [(18, 0, 3), (3, 0, 9)]


def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def api_versions_response(corr, version):
    """ApiVersions response, always with the v0 response header (correlation id only)."""
    body = struct.pack(">h", 0)
    if version >= 3:
        body += uvarint(len(ADVERTISED) + 1)
        for k, lo, hi in ADVERTISED:
            body += struct.pack(">hhh", k, lo, hi) + b"\x00"
        body += struct.pack(">i", 0) + b"\x00"
    else:
        body += struct.pack(">i", len(ADVERTISED))
        for k, lo, hi in ADVERTISED:
            body += struct.pack(">hhh", k, lo, hi)
        if version >= 1:
            body += struct.pack(">i", 0)
    payload = struct.pack(">i", corr) + body
    return struct.pack(">i", len(payload)) + payload


def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve(sock, frames, want, done):
    """Accept connections, record frames, answer ApiVersions; stop after `want` frames."""
    sock.settimeout(0.2)
    while not done.is_set():
        try:
            conn, _ = sock.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve_conn, args=(conn, frames, want, done), daemon=True).start()


def serve_conn(conn, frames, want, done):
    with conn:
        conn.settimeout(0.5)
        while not done.is_set():
            try:
                size = read_exact(conn, 4)
            except socket.timeout:
                continue
            if size is None:
                return
            (n,) = struct.unpack(">i", size)
            frame = read_exact(conn, n)
            if frame is None:
                return
            key, ver, corr = struct.unpack(">hhi", frame[:8])
            frames.append(frame)
            if len(frames) >= want:
                done.set()
            if key == 18:
                conn.sendall(api_versions_response(corr, ver))


def capture(name, cmd_for_port, want, out_dir, deadline_s=20):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    port = sock.getsockname()[1]
    frames, done = [], threading.Event()
    t = threading.Thread(target=serve, args=(sock, frames, want, done), daemon=True)
    t.start()
    proc = subprocess.Popen(cmd_for_port(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + deadline_s
    while not done.is_set() and time.monotonic() < end:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    done.set()
    t.join()
    sock.close()
    for i, frame in enumerate(frames[:want]):
        key, ver = struct.unpack(">hh", frame[:4])
        path = os.path.join(out_dir, "%s-%d-%s-v%d.bin" % (name, i, NAMES.get(key, "Api%d" % key), ver))
        with open(path, "wb") as fp:
            fp.write(frame)
        print("wrote", path, len(frame), "bytes")
    if len(frames) < want:
        print("%s: only %d of %d frames" % (name, len(frames), want), file=sys.stderr)
        return False
    return True


KAFKA_PYTHON = """
import sys
from kafka import KafkaConsumer
KafkaConsumer(bootstrap_servers='127.0.0.1:%s', client_id='golden-kp',
              request_timeout_ms=30000, api_version_auto_timeout_ms=20000)
"""


# ---- through a real samsa broker --------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pump(src, dst, on_frame):
    """Copy src -> dst; when on_frame is given, also split the stream into frames and pass each."""
    buf = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            if on_frame is not None:
                buf += data
                while len(buf) >= 4:
                    (n,) = struct.unpack(">i", buf[:4])
                    if len(buf) < 4 + n:
                        break
                    on_frame(buf[4:4 + n])
                    buf = buf[4 + n:]
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def proxy(listen_sock, upstream_port, frames, stop, responses=None):
    """Accept connections and relay them to upstream_port, recording request frames in `frames`
    and, when `responses` is a list, (api key, version, response frame) tuples in it."""
    listen_sock.settimeout(0.2)
    while not stop.is_set():
        try:
            client, _ = listen_sock.accept()
        except socket.timeout:
            continue
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
        pending = {}  # correlation id -> (api key, version), per connection

        def on_request(frame, pending=pending):
            key, ver, corr = struct.unpack(">hhi", frame[:8])
            pending[corr] = (key, ver)
            frames.append(frame)

        def on_response(frame, pending=pending):
            (corr,) = struct.unpack(">i", frame[:4])
            if corr in pending and responses is not None:
                key, ver = pending.pop(corr)
                responses.append((key, ver, frame))

        threading.Thread(target=pump, args=(client, upstream, on_request), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, on_response), daemon=True).start()


KP_PRODUCE = """
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers='127.0.0.1:%d', client_id='golden-kp', acks='all')
for i in range(3):
    p.send('golden', key=b'k%%d' %% i, value=b'hello from kafka-python')
p.flush(timeout=20)
p.close()
"""

KP_CONSUME = """
from kafka import KafkaConsumer
c = KafkaConsumer('golden', bootstrap_servers='127.0.0.1:%d', client_id='golden-kp',
                  group_id='golden-kp-group', auto_offset_reset='earliest', consumer_timeout_ms=8000)
n = 0
for m in c:
    n += 1
    if n >= 3:
        break
c.commit()
c.close()
"""


def via_samsa(samsa, out_dir):
    import tempfile
    data = tempfile.mkdtemp(prefix="golden-")
    bport, pport = free_port(), free_port()
    broker = subprocess.Popen([samsa, "broker", "--listen", "127.0.0.1:%d" % bport,
                               "--advertised-listener", "127.0.0.1:%d" % pport, "--data-dir", data],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", pport))
    sock.listen(16)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", bport), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    stop = threading.Event()
    runs = [
        ("kcat", ["kcat", "-P", "-b", "127.0.0.1:%d" % pport, "-t", "golden", "-K:",
                  "-X", "client.id=golden-kcat"], b"k1:hello from kcat\nk2:again\n"),
        ("kcat", ["kcat", "-C", "-b", "127.0.0.1:%d" % pport, "-t", "golden", "-o", "beginning",
                  "-e", "-X", "client.id=golden-kcat"], None),
        ("kcat", ["kcat", "-G", "golden-kcat-group", "-b", "127.0.0.1:%d" % pport, "-X",
                  "client.id=golden-kcat", "-X", "auto.offset.reset=earliest", "-c", "2", "golden"], None),
        ("kcat-idempotent", ["kcat", "-P", "-b", "127.0.0.1:%d" % pport, "-t", "golden", "-z", "lz4",
                             "-X", "enable.idempotence=true", "-X", "client.id=golden-kcat"],
         b"idempotent and compressed\n"),
        ("samsa-groups", [samsa, "groups", "-b", "127.0.0.1:%d" % pport, "--list"], None),
        ("samsa-groups", [samsa, "groups", "-b", "127.0.0.1:%d" % pport, "--describe", "--group",
                          "golden-kcat-group"], None),
        ("kafka-python", ["/usr/bin/python3", "-c", KP_PRODUCE % pport], None),
        ("kafka-python", ["/usr/bin/python3", "-c", KP_CONSUME % pport], None),
    ]
    seen = set()
    ok = True
    try:
        for client, cmd, stdin in runs:
            frames = []
            t = threading.Thread(target=proxy, args=(sock, bport, frames, stop), daemon=True)
            t.start()
            try:
                subprocess.run(cmd, input=stdin, timeout=40, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=False)
            except subprocess.TimeoutExpired:
                print("%s timed out: %s" % (client, " ".join(cmd)), file=sys.stderr)
                ok = False
            stop.set()
            t.join()
            stop.clear()
            for frame in frames:
                key, ver = struct.unpack(">hh", frame[:4])
                name = "%s-%s-v%d.bin" % (client, NAMES.get(key, "Api%d" % key), ver)
                if name in seen:
                    continue
                seen.add(name)
                with open(os.path.join(out_dir, name), "wb") as fp:
                    fp.write(frame)
                print("wrote", name, len(frame), "bytes")
    finally:
        broker.terminate()
        broker.wait()
        sock.close()
        import shutil
        shutil.rmtree(data, ignore_errors=True)
    return ok


def via_kafka(real_kafka_sh, version, out_dir):
    """Kafka's own Java CLI tools against a real Apache Kafka, both directions recorded: request
    frames of the Java client (flexible versions) and Kafka's own responses."""
    import shutil
    import tempfile
    kdir = tempfile.mkdtemp(prefix="golden-kafka-")
    kport, pport = free_port(), free_port()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", pport))
    sock.listen(64)
    frames, responses, stop = [], [], threading.Event()
    t = threading.Thread(target=proxy, args=(sock, kport, frames, stop, responses), daemon=True)
    t.start()
    boot = "127.0.0.1:%d" % pport
    ok = True
    try:
        subprocess.run([real_kafka_sh, "start", "--dir", kdir, "--port", str(kport), "--version", version,
                        "--prop", "advertised.listeners=PLAINTEXT://%s" % boot], check=True,
                       stdout=subprocess.DEVNULL)

        def cli(tool, *args, stdin=None):
            r = subprocess.run([real_kafka_sh, "cli", version, tool] + list(args), input=stdin,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
            if r.returncode != 0:
                print("%s %s: exit %d" % (tool, " ".join(args), r.returncode), file=sys.stderr)
            return r.returncode == 0

        ok &= cli("kafka-topics", "--bootstrap-server", boot, "--create", "--topic", "golden",
                  "--partitions", "2", "--config", "retention.ms=86400000")
        ok &= cli("kafka-configs", "--bootstrap-server", boot, "--describe", "--entity-type", "topics",
                  "--entity-name", "golden")
        ok &= cli("kafka-configs", "--bootstrap-server", boot, "--alter", "--entity-type", "topics",
                  "--entity-name", "golden", "--add-config", "retention.ms=3600000")
        ok &= cli("kafka-console-producer", "--bootstrap-server", boot, "--topic", "golden",
                  "--property", "parse.key=true", "--property", "key.separator=:",
                  stdin=b"k1:hello from the java producer\nk2:second\n")
        ok &= cli("kafka-console-consumer", "--bootstrap-server", boot, "--topic", "golden",
                  "--group", "golden-java", "--from-beginning", "--max-messages", "2",
                  "--timeout-ms", "30000")
        ok &= cli("kafka-consumer-groups", "--bootstrap-server", boot, "--list")
        ok &= cli("kafka-consumer-groups", "--bootstrap-server", boot, "--describe", "--group", "golden-java")
        ok &= cli("kafka-topics", "--bootstrap-server", boot, "--alter", "--topic", "golden",
                  "--partitions", "3")
        ok &= cli("kafka-consumer-groups", "--bootstrap-server", boot, "--delete", "--group", "golden-java")
        ok &= cli("kafka-topics", "--bootstrap-server", boot, "--delete", "--topic", "golden")
        subprocess.run(["kcat", "-L", "-b", boot, "-X", "client.id=golden-kcat"], timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        stop.set()
        t.join()
        subprocess.run([real_kafka_sh, "stop", "--dir", kdir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        sock.close()
        shutil.rmtree(kdir, ignore_errors=True)
    client = "java-%s" % version
    seen = set()
    for frame in frames:
        key, ver = struct.unpack(">hh", frame[:4])
        cid_len = struct.unpack(">h", frame[8:10])[0]
        who = "kcat" if frame[10:10 + max(cid_len, 0)] == b"golden-kcat" else client
        name = "%s-%s-v%d.bin" % (who, NAMES.get(key, "Api%d" % key), ver)
        if name not in seen:
            seen.add(name)
            with open(os.path.join(out_dir, name), "wb") as fp:
                fp.write(frame)
            print("wrote", name, len(frame), "bytes")
    rdir = os.path.join(out_dir, "responses")
    os.makedirs(rdir, exist_ok=True)
    for key, ver, frame in responses:
        name = "kafka-%s-%sResponse-v%d.bin" % (version, NAMES.get(key, "Api%d" % key), ver)
        if name not in seen:
            seen.add(name)
            with open(os.path.join(rdir, name), "wb") as fp:
                fp.write(frame)
            print("wrote responses/%s %d bytes" % (name, len(frame)))
    return ok


def main():
    args = sys.argv[1:]
    if args[:1] == ["--via-kafka"]:
        out_dir = args[3] if len(args) > 3 else os.path.dirname(os.path.abspath(__file__))
        return 0 if via_kafka(args[1], args[2], out_dir) else 1
    if args[:1] == ["--via-samsa"]:
        out_dir = args[2] if len(args) > 2 else os.path.dirname(os.path.abspath(__file__))
        return 0 if via_samsa(args[1], out_dir) else 1
    out_dir = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    ok = capture("kcat", lambda p: ["kcat", "-L", "-b", "127.0.0.1:%d" % p, "-X",
                                    "client.id=golden-kcat", "-m", "20"], 2, out_dir)
    ok &= capture("kafka-python", lambda p: ["/usr/bin/python3", "-c", KAFKA_PYTHON % p], 2, out_dir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
