"""The SASL state machine frame by frame (tests/lib/kafka_raw.py), as Kafka answers:
- before authentication only ApiVersions and SaslHandshake are served: Metadata closes the
  connection without an answer; so does ApiVersions in the middle of an exchange;
- a disabled mechanism: UNSUPPORTED_SASL_MECHANISM (33) with the enabled list, then closed;
- SaslHandshake v0 framing (bare tokens, kafka-python's way) for PLAIN and SCRAM; a wrong
  password there closes the connection;
- SaslHandshake/SaslAuthenticate on a PLAINTEXT listener: ILLEGAL_SASL_STATE (34), connection kept;
  SaslAuthenticate after authentication without a handshake: 34, connection kept;
- re-authentication (KIP-368, connections.max.reauth.ms): SessionLifetimeMs in SaslAuthenticate
  v1; re-authenticating on the same connection extends the session; another principal is refused
  (SASL_AUTHENTICATION_FAILED, closed); a request after the session ended closes the connection;
  a librdkafka producer keeps delivering across several session ends;
- a connection that never authenticates is closed after connections.handshake.timeout.ms."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import scaled, wait_until  # noqa: E402
from kafka_raw import Closed, RawConn  # noqa: E402
from secure import ADMIN, ADMIN_PW, ALICE, ALICE_PW, Certs, SecureBroker  # noqa: E402
from confluent_kafka import Producer  # noqa: E402

REAUTH_MS = 1500
ILLEGAL_SASL_STATE, UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 34, 33, 58


def closed_without_answer(conn, fn):
    try:
        fn()
    except (Closed, OSError):
        return True
    raise AssertionError("the broker answered instead of closing")


def main():
    with Certs() as certs, SecureBroker(certs, extra=["-o", f"connections.max.reauth.ms={REAUTH_MS}",
                                                      "-o", "connections.handshake.timeout.ms=700"]) as b:
        sp, ss, pt = b.ports["SASL_PLAINTEXT"], b.ports["SASL_SSL"], b.ports["PLAINTEXT"]
        ca = certs.path("ca.pem")

        c = RawConn("127.0.0.1", sp)
        assert len(c.api_versions()) > 10, "ApiVersions is served before authentication"
        closed_without_answer(c, c.metadata)
        print("Metadata before authentication: closed")

        c = RawConn("127.0.0.1", ss, tls_ca=ca)
        err, mechs = c.handshake("GSSAPI")
        assert err == UNSUPPORTED_SASL_MECHANISM and mechs == ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], (err, mechs)
        closed_without_answer(c, c.api_versions)
        print("unsupported mechanism: 33 with the list, closed")

        c = RawConn("127.0.0.1", sp)
        assert c.handshake("SCRAM-SHA-256")[0] == 0
        closed_without_answer(c, c.api_versions)
        print("ApiVersions during authentication: closed")

        # v0 framing: bare tokens.
        c = RawConn("127.0.0.1", sp)
        assert c.handshake("PLAIN", version=0)[0] == 0
        c.send_raw(f"\0{ALICE}\0{ALICE_PW}".encode())
        assert c.recv_frame() == b"", "PLAIN v0 answers an empty token"
        assert len(c.metadata()) > 0
        c = RawConn("127.0.0.1", ss, tls_ca=ca)
        assert c.handshake("SCRAM-SHA-512", version=0)[0] == 0
        assert c.scram("SCRAM-SHA-512", ADMIN, ADMIN_PW, raw=True)[0] == 0
        assert len(c.metadata()) > 0
        c = RawConn("127.0.0.1", sp)
        assert c.handshake("SCRAM-SHA-256", version=0)[0] == 0
        assert c.scram("SCRAM-SHA-256", ADMIN, "wrong", raw=True)[0] == -1
        print("v0 framing: PLAIN and SCRAM served, a wrong password closed")

        # No SASL on PLAINTEXT: 34, and the connection goes on.
        c = RawConn("127.0.0.1", pt)
        assert c.handshake("PLAIN") == (ILLEGAL_SASL_STATE, [])
        assert c.plain(ALICE, ALICE_PW)[0] == ILLEGAL_SASL_STATE
        assert len(c.metadata()) > 0
        print("SASL on PLAINTEXT: 34, connection kept")

        # Failures: Kafka's messages, then closed.
        c = RawConn("127.0.0.1", ss, tls_ca=ca)
        c.handshake("SCRAM-SHA-256")
        err, msg, _ = c.scram("SCRAM-SHA-256", ADMIN, "wrong")
        assert err == SASL_AUTHENTICATION_FAILED and msg == (
            "Authentication failed during authentication due to invalid credentials with SASL mechanism "
            "SCRAM-SHA-256"), (err, msg)
        closed_without_answer(c, c.api_versions)
        c = RawConn("127.0.0.1", sp)
        c.handshake("SCRAM-SHA-256")
        err, msg, _ = c.scram("SCRAM-SHA-256", ADMIN, ADMIN_PW, tamper="nonce")
        assert err == SASL_AUTHENTICATION_FAILED, (err, msg)
        c = RawConn("127.0.0.1", sp)
        c.handshake("PLAIN")
        for token, want in ((b"only-one-token", "Invalid SASL/PLAIN response: expected 3 tokens, got 1"),):
            err, msg, _, _ = c.authenticate(token)
            assert (err, msg) == (SASL_AUTHENTICATION_FAILED, want), (err, msg)
        print("failures: Kafka's messages, closed")

        # Re-authentication.
        c = RawConn("127.0.0.1", ss, tls_ca=ca)
        c.handshake("SCRAM-SHA-256")
        err, _, lifetime = c.scram("SCRAM-SHA-256", ADMIN, ADMIN_PW)
        t0 = time.monotonic()
        assert err == 0 and lifetime == REAUTH_MS, (err, lifetime)
        err, msg, _, _ = c.authenticate(b"x")
        assert err == ILLEGAL_SASL_STATE, "SaslAuthenticate after authentication without a handshake"
        assert len(c.metadata()) > 0
        assert c.handshake("SCRAM-SHA-256")[0] == 0
        err, _, lifetime = c.scram("SCRAM-SHA-256", ADMIN, ADMIN_PW)
        t1 = time.monotonic()
        assert err == 0 and lifetime == REAUTH_MS
        # The first session's end has passed, the second's not: still served.
        wait_until(lambda: time.monotonic() > t0 + REAUTH_MS / 1000 + 0.05, 10, "the first session's end")
        if time.monotonic() < t1 + REAUTH_MS / 1000 - 0.2:
            assert len(c.metadata()) > 0, "a re-authenticated session is served"
        wait_until(lambda: time.monotonic() > t1 + REAUTH_MS / 1000 + 0.05, 10, "the second session's end")
        closed_without_answer(c, c.metadata)
        print("re-authentication extends the session; a request after its end: closed")

        # Another principal on re-authentication.
        c = RawConn("127.0.0.1", ss, tls_ca=ca)
        c.handshake("PLAIN")
        assert c.plain(ALICE, ALICE_PW)[0] == 0
        assert c.handshake("SCRAM-SHA-256")[0] == UNSUPPORTED_SASL_MECHANISM, "the mechanism may not change"
        c = RawConn("127.0.0.1", sp)
        c.handshake("PLAIN")
        assert c.plain(ALICE, ALICE_PW)[0] == 0
        assert c.handshake("PLAIN")[0] == 0
        # alice's password is right for alice only; a PLAIN user of the same listener named admin
        # does not exist, so re-authenticate as alice with an authzid of admin: refused.
        err, msg, _, _ = c.authenticate(f"{ADMIN}\0{ALICE}\0{ALICE_PW}".encode())
        assert err == SASL_AUTHENTICATION_FAILED, (err, msg)
        closed_without_answer(c, c.metadata)
        print("re-authentication: the mechanism and principal stay")

        # librdkafka 2.0 does not re-authenticate: it reconnects after each closed session.
        errors = []
        p = Producer(dict(b.client_conf("SASL_SSL", "SCRAM-SHA-512", ADMIN, ADMIN_PW), acks="all",
                          error_cb=lambda e: errors.append(str(e))))
        delivered = []
        start = time.monotonic()
        for i in range(4):
            p.produce("reauth", f"r{i}".encode(), on_delivery=lambda e, m: delivered.append(e is None))
            assert p.flush(scaled(20)) == 0
            wait_until(lambda: time.monotonic() > start + (i + 1) * REAUTH_MS / 1000 * 0.8, 10, "a session end")
        assert delivered == [True] * 4, delivered
        print(f"librdkafka across session ends: 4 of 4 delivered ({len(errors)} transport notices)")

        # A client that connects and says nothing is closed after the handshake timeout.
        for port, tls in ((sp, False), (ss, True)):
            s = socket.create_connection(("127.0.0.1", port))
            s.settimeout(scaled(10))
            t = time.monotonic()
            assert s.recv(1) == b"", "the broker closes an idle unauthenticated connection"
            assert time.monotonic() - t < scaled(5)
            s.close()
        print("silent connections closed after connections.handshake.timeout.ms")
    print("ok")


if __name__ == "__main__":
    main()
