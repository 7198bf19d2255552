"""ACLs per authenticated principal: the principal the authorizer sees is the SASL user
(User:NAME) or a verified client certificate's subject (User:CN=...,O=...), the host is the
client's address, super.users names principals. Real clients (confluent-kafka over SASL_SSL with
SCRAM-SHA-512, kafka-python over SASL_PLAINTEXT) where a client's behaviour matters, raw frames
over an authenticated connection where the code does.

One broker with the four listeners (tests/lib/secure.py), StandardAuthorizer, super.users=User:admin,
client certificates requested; SCRAM users bob, carol, dave. Then:
- admin (super user, named in no ACL) creates the topics, writes t-secret's one record and reads
  it back through a group;
- bob may produce to t-ok (kafka-acls' --producer): his records are acknowledged; to t-secret
  confluent-kafka reports TOPIC_AUTHORIZATION_FAILED and t-secret's end offset does not move;
- carol has no ACL: a confluent-kafka consumer in a group gets GROUP_AUTHORIZATION_FAILED and no
  record; kafka-python's gets GroupAuthorizationFailedError; her Fetch and ListOffsets of
  t-secret are TOPIC_AUTHORIZATION_FAILED with no records and no offsets;
- acks=0: carol's unauthorized Produce closes her connection (there is no answer to carry the
  error, as in Kafka) and writes nothing; bob's authorized one is not answered, his connection
  serves on, and his record is there;
- hosts: dave allowed to read t-secret from 10.9.9.9 only is refused from 127.0.0.1; allowed
  from 127.0.0.1 he reads the record; bob denied WRITE from 127.0.0.1 (DENY wins over his ALLOW)
  is refused, and produces again once the DENY is removed;
- a client certificate's principal User:CN=client-app,O=samsa-tests allowed to read t-ok reads it
  over SSL and is refused t-secret; the same listener without a certificate is ANONYMOUS, refused.
"""
import importlib
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from admin_raw import Reader, s16  # noqa: E402
from harness import run, scaled  # noqa: E402
from kafka_raw import Closed, RawConn  # noqa: E402
from secure import ADMIN, ADMIN_PW, Certs, SecureBroker  # noqa: E402
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from kafka import KafkaConsumer  # noqa: E402
from kafka import errors as kerr  # noqa: E402
from kafka.record.default_records import DefaultRecordBatchBuilder  # noqa: E402

enforced = importlib.import_module("0161-acls-enforced")
TOPIC_AUTH = 29
MECH = "SCRAM-SHA-512"
USERS = {"bob": "bob-pw", "carol": "carol-pw", "dave": "dave-pw"}
CERT_PRINCIPAL = "User:CN=client-app,O=samsa-tests"


class Authenticated:
    """0161's raw requests (call -> Reader) over a kafka_raw connection: SASL_PLAINTEXT after a
    SCRAM exchange as @p user, or SSL with an optional client certificate."""

    def __init__(self, b, user=None, cert=False):
        if user:
            self.c = RawConn("127.0.0.1", b.ports["SASL_PLAINTEXT"], timeout=scaled(10))
            assert self.c.handshake(MECH)[0] == 0
            err, msg, _ = self.c.scram(MECH, user, USERS[user])
            assert err == 0, (user, err, msg)
        else:
            ca = b.certs.path("ca.pem")
            kw = {"cert": b.certs.path("client.pem"), "key": b.certs.path("client.key")} if cert else {}
            self.c = RawConn("127.0.0.1", b.ports["SSL"], tls_ca=ca, timeout=scaled(10), **kw)

    def call(self, key, version, body, flexible):
        return Reader(self.c.request(key, version, body, flexible))

    def close(self):
        self.c.close()


def produce_acks0(conn, topic, value):
    """Produce v3 with acks=0 of one record to partition 0: sent, never answered."""
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False, producer_id=-1,
                                        producer_epoch=-1, base_sequence=-1, batch_size=1 << 20)
    builder.append(0, timestamp=None, key=None, value=value, headers=[])
    batch = bytes(builder.build())
    conn.corr += 1
    header = struct.pack(">hhi", 0, 3, conn.corr) + s16("raw-test")
    body = struct.pack(">hhi", -1, 0, 30000)  # no transactional id, acks=0, timeout
    body += struct.pack(">i", 1) + s16(topic) + struct.pack(">ii", 1, 0) + struct.pack(">i", len(batch)) + batch
    conn.send_raw(header + body)


def conf(b, user, pw, **extra):
    c = b.client_conf("SASL_SSL", MECH, user, pw)
    c.update(extra)
    return c


def end_offset(b, topic):
    c = Consumer(conf(b, ADMIN, ADMIN_PW, **{"group.id": "probe"}))
    try:
        return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=scaled(10))[1]
    finally:
        c.close()


def as_admin(b, command, *args):
    """`samsa COMMAND` as the super user over SASL_SSL. @returns its stdout."""
    sec = []
    for k, v in b.client_conf("SASL_SSL", MECH, ADMIN, ADMIN_PW).items():
        if k != "bootstrap.servers":
            sec += ["-X", f"{k}={v}"]
    return run([command, "-b", b.at("SASL_SSL"), *sec, *args]).stdout


def acls(b, *args):
    return as_admin(b, "acls", *args)


def produce(b, user, topic, value):
    """@returns the delivery error code of one record (0 when acknowledged)."""
    p = Producer(conf(b, user, USERS.get(user, ADMIN_PW), **{"message.timeout.ms": int(scaled(10) * 1000)}))
    got = []
    p.produce(topic, value, on_delivery=lambda err, msg: got.append(err.code() if err else 0))
    p.flush(scaled(20))
    assert len(got) == 1, f"no delivery report for {user} -> {topic}"
    return got[0]


def consume(b, user, pw, group, topic, want):
    """Read @p want records (or the first error) through group @p group. @returns (values, error)."""
    c = Consumer(conf(b, user, pw, **{"group.id": group, "auto.offset.reset": "earliest",
                                      "session.timeout.ms": 6000}))
    c.subscribe([topic])
    got, err, deadline = [], None, time.time() + scaled(20)
    while len(got) < want and err is None and time.time() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            err = m.error().code()
        else:
            got.append(m.value())
    c.close()
    return got, err


def main():
    with Certs() as certs:
        extra = ["-o", "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                 "-o", f"super.users=User:{ADMIN}", "-o", "ssl.client.auth=requested",
                 "-o", f"ssl.truststore.location={certs.path('ca.pem')}"]
        for user, pw in USERS.items():
            extra += ["--add-scram", f"{MECH}=[name={user},password={pw}]"]
        with SecureBroker(certs, extra=extra) as b:
            for t in ("t-ok", "t-secret"):
                as_admin(b, "topics", "--create", "--topic", t, "--partitions", "1")
            assert produce(b, ADMIN, "t-secret", b"classified") == 0
            assert consume(b, ADMIN, ADMIN_PW, "g-admin", "t-secret", 1) == ([b"classified"], None)
            print("super user: creates, writes and reads with no ACL naming it")

            acls(b, "--add", "--allow-principal", "User:bob", "--producer", "--topic", "t-ok")
            assert produce(b, "bob", "t-ok", b"from bob") == 0
            assert produce(b, "bob", "t-secret", b"sneaky") == KafkaError.TOPIC_AUTHORIZATION_FAILED
            assert end_offset(b, "t-secret") == 1, "an unauthorized produce wrote"
            print("bob: t-ok acknowledged, t-secret TOPIC_AUTHORIZATION_FAILED, nothing written")

            got, err = consume(b, "carol", USERS["carol"], "g-carol", "t-secret", 1)
            assert got == [] and err == KafkaError.GROUP_AUTHORIZATION_FAILED, (got, err)
            kc = KafkaConsumer("t-secret", bootstrap_servers=b.at("SASL_PLAINTEXT"), group_id="g-carol",
                               security_protocol="SASL_PLAINTEXT", sasl_mechanism=MECH, sasl_plain_username="carol",
                               sasl_plain_password=USERS["carol"], auto_offset_reset="earliest")
            try:
                deadline = time.time() + scaled(20)
                while time.time() < deadline:
                    assert not any(kc.poll(timeout_ms=200).values()), "carol read records"
                raise AssertionError("kafka-python: no GroupAuthorizationFailedError")
            except kerr.GroupAuthorizationFailedError:
                pass
            finally:
                kc.close()
            raw = Authenticated(b, "carol")
            assert enforced.fetch_v4(raw, "t-secret") == (TOPIC_AUTH, -1, 0)
            assert enforced.list_offsets_v1(raw, "t-secret") == (TOPIC_AUTH, -1)
            print("carol (no ACL): GROUP_AUTHORIZATION_FAILED (confluent-kafka, kafka-python), "
                  "Fetch/ListOffsets TOPIC_AUTHORIZATION_FAILED, no data")

            produce_acks0(raw.c, "t-secret", b"acks0 sneaky")
            try:
                raw.c.recv_frame()
                raise AssertionError("an unauthorized acks=0 Produce was answered")
            except (Closed, OSError):
                pass  # closed: the only answer an acks=0 request can get
            raw.close()
            bob = Authenticated(b, "bob")
            produce_acks0(bob.c, "t-ok", b"acks0 bob")
            bob.c.api_versions()  # the next answer is ApiVersions': the Produce had none
            bob.close()
            assert end_offset(b, "t-secret") == 1 and end_offset(b, "t-ok") == 2
            print("acks=0: unauthorized closes the connection and writes nothing; authorized is written")

            acls(b, "--add", "--allow-principal", "User:dave", "--allow-host", "10.9.9.9", "--operation", "Read",
                 "--topic", "t-secret")
            dave = Authenticated(b, "dave")
            assert enforced.fetch_v4(dave, "t-secret") == (TOPIC_AUTH, -1, 0)
            acls(b, "--add", "--allow-principal", "User:dave", "--allow-host", "127.0.0.1", "--operation", "Read",
                 "--topic", "t-secret")
            err, hwm, size = enforced.fetch_v4(dave, "t-secret")
            assert err == 0 and hwm == 1 and size > 0, (err, hwm, size)
            dave.close()
            acls(b, "--add", "--deny-principal", "User:bob", "--deny-host", "127.0.0.1", "--operation", "Write",
                 "--topic", "t-ok")
            assert produce(b, "bob", "t-ok", b"denied") == KafkaError.TOPIC_AUTHORIZATION_FAILED
            acls(b, "--remove", "--force", "--deny-principal", "User:bob", "--deny-host", "127.0.0.1",
                 "--operation", "Write", "--topic", "t-ok")
            assert produce(b, "bob", "t-ok", b"allowed again") == 0
            assert end_offset(b, "t-ok") == 3
            print("hosts: an ACL for another host does not allow; a DENY from 127.0.0.1 wins over ALLOW")

            acls(b, "--add", "--allow-principal", CERT_PRINCIPAL, "--operation", "Read", "--topic", "t-ok")
            listed = acls(b, "--list", "--topic", "t-ok")
            assert f"(principal={CERT_PRINCIPAL}, host=*, operation=READ, permissionType=ALLOW)" in listed, listed
            tls = Authenticated(b, cert=True)
            err, hwm, size = enforced.fetch_v4(tls, "t-ok")
            assert err == 0 and hwm == 3 and size > 0, (err, hwm, size)
            assert enforced.fetch_v4(tls, "t-secret") == (TOPIC_AUTH, -1, 0)
            tls.close()
            anon = Authenticated(b)
            assert enforced.fetch_v4(anon, "t-ok") == (TOPIC_AUTH, -1, 0)
            anon.close()
            print(f"client certificate: {CERT_PRINCIPAL} reads t-ok, refused t-secret; without one ANONYMOUS")
    print("0162: ok")


if __name__ == "__main__":
    main()
