"""kafka_raw.py - a tiny hand-rolled Kafka client for tests that must control every frame of the
SASL exchange (v0 framing, re-authentication on one connection, requests before authentication,
garbage): what no real client lets a test do. Standard library only (socket, ssl, hashlib, hmac).

    c = RawConn("127.0.0.1", port, tls_ca=ca_pem)         # TLS when tls_ca is given
    c.handshake("SCRAM-SHA-256")                             # SaslHandshake v1 -> error code
    err, msg, lifetime = c.scram("SCRAM-SHA-256", "bob", "pw")  # SaslAuthenticate steps
    c.metadata()                                             # Metadata v1 -> raw response body
The SCRAM client here is independent of samsa's C code (Python's hashlib/hmac), so a test of the
broker's server is not a test of the same code against itself.
"""
import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct

API_METADATA, API_APIVERSIONS, API_SASL_HANDSHAKE, API_SASL_AUTHENTICATE = 3, 18, 17, 36
API_DESCRIBE_SCRAM, API_ALTER_SCRAM = 50, 51


def _str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">h", len(b)) + b


def _bytes(b):
    return struct.pack(">i", len(b)) + b


def _uvarint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def _compact_bytes(b):
    return _uvarint(len(b) + 1) + b


class Closed(Exception):
    """The broker closed the connection instead of answering."""


class RawConn:
    def __init__(self, host, port, tls_ca=None, cert=None, key=None, timeout=10):
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            if cert:
                ctx.load_cert_chain(cert, key)
            sock = ctx.wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.corr = 0

    def close(self):
        self.sock.close()

    def send_raw(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def recv_frame(self):
        head = self._recv_exact(4)
        (n,) = struct.unpack(">i", head)
        return self._recv_exact(n)

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except (ConnectionResetError, ssl.SSLError) as e:
                raise Closed(str(e))
            if not chunk:
                raise Closed("connection closed by the broker")
            buf += chunk
        return buf

    def request(self, api_key, version, body, flexible=False):
        """Send a request (header v1, or v2 when flexible); return the response body after the
        correlation id (and, when flexible, the header's tagged fields)."""
        self.corr += 1
        header = struct.pack(">hhi", api_key, version, self.corr) + _str("raw-test")
        if flexible:
            header += b"\x00"
        self.send_raw(header + body)
        resp = self.recv_frame()
        (corr,) = struct.unpack(">i", resp[:4])
        assert corr == self.corr, f"correlation id {corr}, expected {self.corr}"
        return resp[5:] if flexible else resp[4:]

    def api_versions(self):
        return self.request(API_APIVERSIONS, 0, b"")

    def metadata(self):
        return self.request(API_METADATA, 1, struct.pack(">i", -1))

    def handshake(self, mechanism, version=1):
        """@returns (error code, [mechanisms])."""
        body = self.request(API_SASL_HANDSHAKE, version, _str(mechanism))
        (err, n) = struct.unpack(">hi", body[:6])
        mechs, pos = [], 6
        for _ in range(n):
            (ln,) = struct.unpack(">h", body[pos:pos + 2])
            mechs.append(body[pos + 2:pos + 2 + ln].decode())
            pos += 2 + ln
        return err, mechs

    def authenticate(self, token, version=1):
        """SaslAuthenticate v0/v1 (non-flexible). @returns (error, message, auth bytes, lifetime ms)."""
        body = self.request(API_SASL_AUTHENTICATE, version, _bytes(token))
        (err, mlen) = struct.unpack(">hh", body[:4])
        pos = 4
        msg = None
        if mlen >= 0:
            msg = body[pos:pos + mlen].decode()
            pos += mlen
        (blen,) = struct.unpack(">i", body[pos:pos + 4])
        auth = body[pos + 4:pos + 4 + blen]
        pos += 4 + blen
        lifetime = struct.unpack(">q", body[pos:pos + 8])[0] if version >= 1 else None
        return err, msg, auth, lifetime

    def plain(self, user, password, version=1):
        return self.authenticate(b"\0" + user.encode() + b"\0" + password.encode(), version)

    def scram(self, mechanism, user, password, version=1, raw=False, tamper=None):
        """A whole SCRAM exchange (SaslAuthenticate, or bare v0 tokens when raw).
        @returns (error, message, lifetime ms); verifies the server's signature on success."""
        algo = hashlib.sha256 if mechanism == "SCRAM-SHA-256" else hashlib.sha512
        cnonce = base64.b64encode(os.urandom(18)).decode().replace(",", "_")
        first_bare = f"n={user.replace('=', '=3D').replace(',', '=2C')},r={cnonce}"
        step = (lambda tok: (0, None, self._raw_step(tok), None)) if raw else (lambda tok: self.authenticate(tok, version))
        err, msg, server_first, _ = step(("n,," + first_bare).encode())
        if err:
            return err, msg, None
        attrs = dict(kv.split("=", 1) for kv in server_first.decode().split(","))
        nonce, salt, iters = attrs["r"], base64.b64decode(attrs["s"]), int(attrs["i"])
        assert nonce.startswith(cnonce), "server nonce must extend the client's"
        salted = hashlib.pbkdf2_hmac(algo().name, password.encode(), salt, iters)
        client_key = hmac.new(salted, b"Client Key", algo).digest()
        stored_key = algo(client_key).digest()
        without_proof = f"c=biws,r={nonce}"
        if tamper == "nonce":
            without_proof = f"c=biws,r={nonce}x"
        auth_msg = f"{first_bare},{server_first.decode()},{without_proof}".encode()
        sig = hmac.new(stored_key, auth_msg, algo).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        final = f"{without_proof},p={base64.b64encode(proof).decode()}".encode()
        try:
            err, msg, server_final, lifetime = step(final)
        except Closed:
            if raw:
                return -1, "closed", None
            raise
        if err:
            return err, msg, None
        server_key = hmac.new(salted, b"Server Key", algo).digest()
        want = base64.b64encode(hmac.new(server_key, auth_msg, algo).digest()).decode()
        assert server_final.decode() == "v=" + want, f"bad server signature {server_final!r}"
        return 0, None, lifetime

    def _raw_step(self, token):
        self.send_raw(token)
        return self.recv_frame()


def scram_upsertion_fields(mechanism, password, iterations=4096, salt=None):
    """(salt, salted password) as AlterUserScramCredentials carries them."""
    algo = "sha256" if mechanism == "SCRAM-SHA-256" else "sha512"
    salt = salt or os.urandom(16)
    return salt, hashlib.pbkdf2_hmac(algo, password.encode(), salt, iterations)


def describe_scram(conn, users=None):
    """DescribeUserScramCredentials v0 (flexible). @returns [(user, error, message, [(mech, iters)])]."""
    if users is None:
        body = b"\x00"  # null array
    else:
        body = _uvarint(len(users) + 1) + b"".join(_uvarint(len(u.encode()) + 1) + u.encode() + b"\x00" for u in users)
    body += b"\x00"
    r = Reader(conn.request(API_DESCRIBE_SCRAM, 0, body, flexible=True))
    r.i32()  # throttle
    top = r.i16()
    r.cstr()
    out = []
    for _ in range(r.carray()):
        user, err, msg = r.cstr(), r.i16(), r.cstr()
        infos = []
        for _ in range(r.carray()):
            infos.append((r.i8(), r.i32()))
            r.tags()
        r.tags()
        out.append((user, err, msg, infos))
    assert top == 0
    return out


def alter_scram(conn, deletions=(), upsertions=()):
    """AlterUserScramCredentials v0. deletions: (name, mech); upsertions: (name, mech, iters, salt,
    salted). @returns [(user, error, message)]."""
    body = _uvarint(len(deletions) + 1)
    for name, mech in deletions:
        body += _uvarint(len(name.encode()) + 1) + name.encode() + struct.pack(">b", mech) + b"\x00"
    body += _uvarint(len(upsertions) + 1)
    for name, mech, iters, salt, salted in upsertions:
        body += (_uvarint(len(name.encode()) + 1) + name.encode() + struct.pack(">bi", mech, iters)
                 + _compact_bytes(salt) + _compact_bytes(salted) + b"\x00")
    body += b"\x00"
    r = Reader(conn.request(API_ALTER_SCRAM, 0, body, flexible=True))
    r.i32()
    out = []
    for _ in range(r.carray()):
        out.append((r.cstr(), r.i16(), r.cstr()))
        r.tags()
    return out


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def _take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def i8(self):
        return self._take(">b")

    def i16(self):
        return self._take(">h")

    def i32(self):
        return self._take(">i")

    def uvarint(self):
        shift = v = 0
        while True:
            byte = self.b[self.p]
            self.p += 1
            v |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return v
            shift += 7

    def cstr(self):
        n = self.uvarint() - 1
        if n < 0:
            return None
        s = self.b[self.p:self.p + n].decode()
        self.p += n
        return s

    def carray(self):
        return max(self.uvarint() - 1, 0)

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.p += self.uvarint()
