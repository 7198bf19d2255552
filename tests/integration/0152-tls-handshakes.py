"""TLS handshakes: ssl.client.auth=required refuses a client without a certificate or with one
another CA signed, and serves one with a certificate of the truststore's CA, whose principal is
its subject as Kafka writes it (User:CN=client-app,O=samsa-tests); `requested` serves both; a PEM
keystore or separate certificate/key files work, a key that does not match its certificate or a
JKS keystore type refuses to start with one line; and slow or garbage handshakes (a silent
client, a plaintext Kafka request, random bytes, a handshake cut in the middle) never hold up a
client that handshakes properly, and are closed."""
import os
import random
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import SAMSA, Broker, free_port, scaled, wait_until  # noqa: E402
from kafka_raw import Closed, RawConn  # noqa: E402
from secure import Certs  # noqa: E402


def tls_broker(certs, client_auth, log, extra=()):
    port = free_port()
    b = Broker(port=port, extra=["-l", f"SSL://127.0.0.1:{port}", "-o", f"ssl.certificate.location={certs.path('server.pem')}",
                                 "-o", f"ssl.key.location={certs.path('server.key')}",
                                 "-o", f"ssl.truststore.location={certs.path('ca.pem')}",
                                 "-o", f"ssl.client.auth={client_auth}", "--debug", "net", *extra],
               stderr=log)
    return b


def served(port, certs, cert=None, key=None):
    try:
        c = RawConn("127.0.0.1", port, tls_ca=certs.path("ca.pem"), cert=cert, key=key)
        ok = len(c.metadata()) > 0
        c.close()
        return ok
    except (Closed, ssl.SSLError, OSError):
        return False


def start_fails(args, want):
    with tempfile.TemporaryDirectory(prefix="samsa-bad-") as d:
        cp = subprocess.run([SAMSA, "broker", "-d", d, *args], capture_output=True, text=True, timeout=scaled(20))
    assert cp.returncode == 2 and want in cp.stderr, (cp.returncode, cp.stderr)


def main():
    with Certs() as certs:
        cert, key = certs.path("client.pem"), certs.path("client.key")
        with tempfile.TemporaryFile("w+") as log:
            with tls_broker(certs, "required", log) as b:
                assert not served(b.port, certs), "required: no certificate, no service"
                assert not served(b.port, certs, certs.path("rogue.pem"), certs.path("rogue.key")), "rogue CA"
                assert served(b.port, certs, cert, key), "required: a good certificate is served"
            log.seek(0)
            text = log.read()
            assert "(User:CN=client-app,O=samsa-tests)" in text, "the principal is the subject, RFC 2253"
        print("client.auth=required: refused without/with a foreign certificate; principal User:CN=client-app,O=samsa-tests")

        with tls_broker(certs, "requested", None) as b:
            assert served(b.port, certs) and served(b.port, certs, cert, key)
            assert not served(b.port, certs, certs.path("rogue.pem"), certs.path("rogue.key")), \
                "requested: a certificate that is presented must verify"
        print("client.auth=requested: both served")

        # Start-up checks.
        p = free_port()
        start_fails(["-l", f"SSL://127.0.0.1:{p}", "-o", f"ssl.certificate.location={certs.path('server.pem')}",
                     "-o", f"ssl.key.location={certs.path('client.key')}"], "does not match")
        start_fails(["-l", f"SSL://127.0.0.1:{p}", "-o", "ssl.keystore.type=JKS",
                     "-o", "ssl.keystore.location=/nonexistent.jks"], "PEM")
        start_fails(["-l", f"SSL://127.0.0.1:{p}"], "needs a key and certificate")
        start_fails(["-l", f"SASL_SSL://127.0.0.1:{p}", "-o", f"ssl.keystore.location={certs.path('server-keystore.pem')}",
                     "-o", "ssl.client.auth=required"], "ssl.truststore.location")
        start_fails(["-l", f"FOO://127.0.0.1:{p}"], "listener.security.protocol.map")
        print("start-up refuses a mismatched key, JKS, no key, no truststore, an unmapped listener")

        # Slow and garbage handshakes do not hold up a good client.
        with tls_broker(certs, "none", None, extra=["-o", "connections.handshake.timeout.ms=1500"]) as b:
            bad = []
            for i in range(40):
                s = socket.create_connection(("127.0.0.1", b.port))
                kind = i % 4
                if kind == 1:  # a plaintext Kafka ApiVersions request on the TLS port
                    s.sendall(bytes.fromhex("0000000a00120000000000010000"))
                elif kind == 2:
                    s.sendall(random.randbytes(3000))
                elif kind == 3:  # the first bytes of a ClientHello, then silence
                    s.sendall(bytes.fromhex("160301020001"))
                bad.append(s)
            lat = []
            for _ in range(20):
                t = time.monotonic()
                assert served(b.port, certs)
                lat.append(time.monotonic() - t)
            assert max(lat) < scaled(2), f"a good client waited {max(lat):.2f}s behind bad handshakes"

            def closed(s):
                s.settimeout(scaled(10))
                try:
                    while s.recv(4096):
                        pass
                except OSError:
                    pass
                return True

            t = time.monotonic()
            threads = [threading.Thread(target=closed, args=(s,)) for s in bad]
            for th in threads:
                th.start()
            for th in threads:
                th.join(scaled(10))
            assert not any(th.is_alive() for th in threads), "a bad handshake was left open"
            assert time.monotonic() - t < scaled(6)
            assert served(b.port, certs)
        print(f"40 slow/garbage handshakes: good clients served (max {max(lat) * 1000:.0f} ms), all bad ones closed")
    print("ok")


if __name__ == "__main__":
    main()
