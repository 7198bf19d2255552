"""A minimal raw Kafka client for the admin tests (0100-0119): the requests no installed client
sends, and malformed ones. Request header v1 (v2 when flexible), response header v0 (v1)."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import scaled  # noqa: E402


class Raw:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=scaled(10))
        self.corr = 0

    def call(self, key, version, body, flexible):
        self.corr += 1
        hdr = struct.pack(">hhih", key, version, self.corr, 4) + b"test"
        if flexible:
            hdr += b"\x00"
        frame = hdr + body
        self.s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", self._read(4))[0]
        r = Reader(self._read(size))
        assert r.i32() == self.corr
        if flexible:
            r.tags()
        return r

    def expect_close(self, key, version, body, flexible):
        """Send a request the broker must refuse by closing the connection; True if it did."""
        self.corr += 1
        hdr = struct.pack(">hhih", key, version, self.corr, 4) + b"test" + (b"\x00" if flexible else b"")
        self.s.sendall(struct.pack(">i", len(hdr + body)) + hdr + body)
        try:
            return self.s.recv(4) == b""
        except ConnectionResetError:
            return True

    def _read(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            assert chunk, "broker closed the connection"
            out += chunk
        return out

    def close(self):
        self.s.close()


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return v[0]

    def i8(self): return self.take(">b")
    def i16(self): return self.take(">h")
    def i32(self): return self.take(">i")
    def i64(self): return self.take(">q")

    def uvarint(self):
        shift = v = 0
        while True:
            c = self.b[self.p]
            self.p += 1
            v |= (c & 0x7F) << shift
            if c < 0x80:
                return v
            shift += 7

    def string(self):
        n = self.i16()
        if n < 0:
            return None
        s = self.b[self.p:self.p + n].decode()
        self.p += n
        return s

    def cstring(self):
        n = self.uvarint() - 1
        if n < 0:
            return None
        s = self.b[self.p:self.p + n].decode()
        self.p += n
        return s

    def uuid(self):
        u = self.b[self.p:self.p + 16]
        self.p += 16
        return u

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.p += self.uvarint()

    def array(self, fn):
        return [fn() for _ in range(self.i32())]

    def carray(self, fn):
        return [fn() for _ in range(self.uvarint() - 1)]


def s16(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def cstr(s):
    if s is None:
        return b"\x00"
    b = s.encode()
    return uvar(len(b) + 1) + b


def uvar(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])
