#!/usr/bin/python3
"""capture.py - record the first request frames real Kafka clients send, as golden test data.

Usage (from the repository root; the Debian python, where kafka-python imports):
    /usr/bin/python3 tests/data/golden/capture.py [OUT_DIR]

It listens on a free loopback port and runs each client against it:
  kcat -L (librdkafka 2.0.2)   and   kafka-python 2.0.2's KafkaConsumer bootstrap.
Each request frame is written to OUT_DIR (default: this directory) as
<client>-<n>-<Api>-v<version>.bin, WITHOUT its 4-byte size prefix (what the broker hands the
decoder). To get past the first request, the listener answers ApiVersions with a minimal
hand-built response advertising ApiVersions 0-3 and Metadata 0-9; other requests get no answer,
and the client is stopped once the listener has what it wants.
"""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

NAMES = {0: "Produce", 1: "Fetch", 3: "Metadata", 18: "ApiVersions", 10: "FindCoordinator"}
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


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    ok = capture("kcat", lambda p: ["kcat", "-L", "-b", "127.0.0.1:%d" % p, "-X",
                                    "client.id=golden-kcat", "-m", "20"], 2, out_dir)
    ok &= capture("kafka-python", lambda p: ["/usr/bin/python3", "-c", KAFKA_PYTHON % p], 2, out_dir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
