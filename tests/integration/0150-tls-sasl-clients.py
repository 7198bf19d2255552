"""Real clients over TLS and SASL: kcat, confluent-kafka (librdkafka) and kafka-python produce and
consume over SSL, SASL_SSL (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN) and SASL_PLAINTEXT (PLAIN, SCRAM)
against one broker with a listener of each protocol; Metadata tells each client the address of
the listener it came through; a wrong password, an unknown user and a mechanism the client did
not get gives Kafka's error and neither writes nor reads a record; a client that does not speak TLS
to a TLS port, or trusts another CA, gets nowhere. Transactions over each listener: a committed
transaction is read whole by a read_committed consumer, an aborted one never (the answers that
wait for durable markers come back over TLS and SASL like any other). `samsa transactions` (samsa's
own connection, not librdkafka) lists and describes those transactions over SSL, SASL_SSL with
SCRAM and SASL_PLAINTEXT with PLAIN; a wrong SCRAM password gets nothing listed."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import run, scaled  # noqa: E402
from secure import ADMIN, ADMIN_PW, ALICE, ALICE_PW, Certs, SecureBroker  # noqa: E402
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

SCENARIOS = [  # (listener, mechanism, user, password)
    ("SSL", None, None, None),
    ("SASL_SSL", "SCRAM-SHA-256", ADMIN, ADMIN_PW),
    ("SASL_SSL", "SCRAM-SHA-512", ADMIN, ADMIN_PW),
    ("SASL_SSL", "PLAIN", ALICE, ALICE_PW),
    ("SASL_PLAINTEXT", "PLAIN", ALICE, ALICE_PW),
    ("SASL_PLAINTEXT", "SCRAM-SHA-512", ADMIN, ADMIN_PW),
]


def check_confluent(b, topic, proto, mech, user, pw, n=200):
    conf = b.client_conf(proto, mech, user, pw)
    p = Producer(dict(conf, acks="all"))
    for i in range(n):
        p.produce(topic, key=str(i).encode(), value=f"{proto}-{i}".encode())
    assert p.flush(scaled(30)) == 0, f"{proto} {mech}: records left undelivered"
    c = Consumer(dict(conf, **{"group.id": f"g-{proto}-{mech}", "auto.offset.reset": "earliest"}))
    c.assign([TopicPartition(topic, 0, 0)])
    got, deadline = [], time.monotonic() + scaled(30)
    while len(got) < n and time.monotonic() < deadline:
        for m in c.consume(500, timeout=0.5):
            assert m.error() is None, m.error()
            got.append(m.value())
    c.close()
    assert got == [f"{proto}-{i}".encode() for i in range(n)], f"{proto} {mech}: {len(got)} of {n}"
    # Metadata advertises this listener's address, not the PLAINTEXT one.
    md = AdminClient(conf).list_topics(timeout=scaled(10))
    brokers = [f"{x.host}:{x.port}" for x in md.brokers.values()]
    assert brokers == [b.at(proto)], (proto, brokers)


def check_txn(b, topic, proto, mech, user, pw):
    conf = b.client_conf(proto, mech, user, pw)
    p = Producer(dict(conf, **{"transactional.id": f"tx-{proto}-{mech}"}))
    p.init_transactions(scaled(30))
    for outcome, n in (("abort", 5), ("commit", 10)):
        p.begin_transaction()
        for i in range(n):
            p.produce(topic, partition=0, value=f"{outcome}-{i}".encode())
        assert p.flush(scaled(30)) == 0, f"{proto} {mech}: {outcome} records left undelivered"
        (p.abort_transaction if outcome == "abort" else p.commit_transaction)(scaled(30))
    c = Consumer(dict(conf, **{"group.id": f"gt-{proto}-{mech}", "isolation.level": "read_committed",
                               "auto.offset.reset": "earliest", "enable.partition.eof": True}))
    c.assign([TopicPartition(topic, 0, 0)])
    got, eof, deadline = [], False, time.monotonic() + scaled(30)
    while not eof and time.monotonic() < deadline:
        for m in c.consume(100, timeout=0.5):
            if m.error() and m.error().code() == KafkaError._PARTITION_EOF:
                eof = True
            else:
                assert m.error() is None, m.error()
                got.append(m.value())
    c.close()
    assert eof and got == [f"commit-{i}".encode() for i in range(10)], f"txn {proto} {mech}: {got[:12]}"


def check_kcat(b, topic, proto, mech, user, pw):
    args = ["kcat", "-b", b.at(proto), "-X", f"security.protocol={proto}"]
    if "SSL" in proto:
        args += ["-X", f"ssl.ca.location={b.certs.path('ca.pem')}"]
    if mech:
        args += ["-X", f"sasl.mechanisms={mech}", "-X", f"sasl.username={user}", "-X", f"sasl.password={pw}"]
    lines = "".join(f"kcat-{i}\n" for i in range(50))
    subprocess.run(args + ["-t", topic, "-P"], input=lines, text=True, check=True, timeout=scaled(30))
    out = subprocess.run(args + ["-t", topic, "-C", "-e", "-q", "-o", "beginning"], capture_output=True, text=True,
                         check=True, timeout=scaled(30)).stdout
    assert out == lines, f"kcat {proto} {mech}: {out[:200]!r}"


def check_kafka_python(b, topic, proto, mech, user, pw):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition as TP
    kw = {"bootstrap_servers": b.at(proto), "security_protocol": proto}
    if "SSL" in proto:
        kw.update(ssl_cafile=b.certs.path("ca.pem"))
    if mech:
        kw.update(sasl_mechanism=mech, sasl_plain_username=user, sasl_plain_password=pw)
    p = KafkaProducer(acks="all", **kw)
    for i in range(50):
        p.send(topic, f"kp-{i}".encode()).get(timeout=scaled(20))
    p.close()
    c = KafkaConsumer(auto_offset_reset="earliest", **kw)
    c.assign([TP(topic, 0)])
    c.seek_to_beginning()
    got, deadline = [], time.monotonic() + scaled(30)
    while len(got) < 50 and time.monotonic() < deadline:
        for recs in c.poll(timeout_ms=200).values():
            got.extend(r.value for r in recs)
    c.close()
    assert got == [f"kp-{i}".encode() for i in range(50)], f"kafka-python {proto} {mech}: {got[:3]}"


def transactions_tool(b, proto, mech, user, pw, *args):
    """`samsa transactions ARGS` through listener @p proto with these credentials."""
    sec = ["-b", b.at(proto), "-X", f"security.protocol={proto}"]
    if "SSL" in proto:
        sec += ["-X", f"ssl.ca.location={b.certs.path('ca.pem')}"]
    if mech:
        sec += ["-X", f"sasl.mechanism={mech}", "-X", f"sasl.username={user}", "-X", f"sasl.password={pw}"]
    return run(["transactions", *sec, "--timeout", f"{int(scaled(10))}s", *args], check=False)


def check_transactions_tool(b):
    """The transactional ids check_txn made (one per scenario, each committed last) are listed with
    their states over each kind of listener, and one is described from its coordinator."""
    want = {f"tx-{proto}-{mech}": "CompleteCommit" for proto, mech, _, _ in SCENARIOS}
    for proto, mech, user, pw in (("SASL_SSL", "SCRAM-SHA-512", ADMIN, ADMIN_PW), ("SSL", None, None, None),
                                  ("SASL_PLAINTEXT", "PLAIN", ALICE, ALICE_PW)):
        cp = transactions_tool(b, proto, mech, user, pw, "--list")
        assert cp.returncode == 0, f"transactions --list over {proto} {mech}: {cp.stderr}"
        rows = [line.split("\t") for line in cp.stdout.splitlines()]
        assert [c.strip() for c in rows[0][:4]] == ["TransactionalId", "Coordinator", "ProducerId", "TransactionState"]
        got = {r[0].strip(): r[3].strip() for r in rows[1:] if r[0].startswith("tx-")}
        assert got == want, f"transactions --list over {proto} {mech}: {got}"
    tid = "tx-SASL_SSL-SCRAM-SHA-256"
    cp = transactions_tool(b, "SASL_SSL", "SCRAM-SHA-256", ADMIN, ADMIN_PW, "--describe", "--transactional-id", tid,
                           "-o", "json")
    assert cp.returncode == 0, f"transactions --describe over SASL_SSL: {cp.stderr}"
    d = json.loads(cp.stdout)
    assert d["transactional_id"] == tid and d["state"] == "CompleteCommit", d
    cp = transactions_tool(b, "SASL_SSL", "SCRAM-SHA-512", ADMIN, "wrong", "--list")
    assert cp.returncode == 1 and "tx-" not in cp.stdout and "uthentication failed" in cp.stderr, \
        (cp.returncode, cp.stdout, cp.stderr)


def refused_confluent(b, proto, mech, user, pw, want):
    """A producer with bad credentials: Kafka's error text, nothing written."""
    errors = []
    conf = dict(b.client_conf(proto, mech, user, pw), error_cb=lambda e: errors.append(str(e)))
    conf["message.timeout.ms"] = int(scaled(3000))
    p = Producer(conf)
    p.produce("refused", b"must-not-land")
    p.flush(scaled(10))
    assert any(want in e for e in errors), f"{proto} {mech} {user}: {errors}"


def main():
    with Certs() as certs, SecureBroker(certs) as b:
        for n, (proto, mech, user, pw) in enumerate(SCENARIOS):
            check_confluent(b, f"cf{n}", proto, mech, user, pw)
            check_kcat(b, f"kc{n}", proto, mech, user, pw)
            check_kafka_python(b, f"kp{n}", proto, mech, user, pw)
            check_txn(b, f"tx{n}", proto, mech, user, pw)
            print(f"{proto} {mech or ''}: confluent-kafka, kcat, kafka-python, transactions ok")
        check_transactions_tool(b)
        print("samsa transactions --list/--describe over SSL, SASL_SSL (SCRAM) and SASL_PLAINTEXT (PLAIN) ok")

        scram_fail = "Authentication failed during authentication due to invalid credentials with SASL mechanism"
        refused_confluent(b, "SASL_SSL", "SCRAM-SHA-256", ADMIN, "wrong", scram_fail + " SCRAM-SHA-256")
        refused_confluent(b, "SASL_SSL", "SCRAM-SHA-512", "nobody", "x", scram_fail + " SCRAM-SHA-512")
        refused_confluent(b, "SASL_SSL", "PLAIN", ALICE, "wrong", "Authentication failed: Invalid username or password")
        refused_confluent(b, "SASL_PLAINTEXT", "PLAIN", ADMIN, ADMIN_PW, "Invalid username or password")
        # kafka-python: the same refusal, as its exception.
        from kafka import KafkaProducer
        from kafka.errors import KafkaError, NoBrokersAvailable
        try:
            KafkaProducer(bootstrap_servers=b.at("SASL_SSL"), security_protocol="SASL_SSL",
                          ssl_cafile=certs.path("ca.pem"), sasl_mechanism="SCRAM-SHA-256",
                          sasl_plain_username=ADMIN, sasl_plain_password="wrong",
                          request_timeout_ms=int(scaled(5000)), api_version_auto_timeout_ms=int(scaled(5000)))
            raise AssertionError("kafka-python authenticated with a wrong password")
        except (KafkaError, NoBrokersAvailable) as e:
            print(f"kafka-python refused: {type(e).__name__}")
        # No refused record landed: the topic was never even created.
        md = AdminClient(b.client_conf("SSL")).list_topics(timeout=scaled(10))
        assert "refused" not in md.topics, "a refused client created its topic"

        # A plaintext client on the TLS port, and TLS with a CA that did not sign the server.
        plain_on_tls = dict(b.client_conf("SSL"), **{"security.protocol": "PLAINTEXT"})
        bad_ca = dict(b.client_conf("SSL"), **{"ssl.ca.location": certs.path("rogue-ca.pem")})
        for conf in (plain_on_tls, bad_ca):
            try:
                AdminClient(conf).list_topics(timeout=scaled(3))
                raise AssertionError(f"metadata answered to {conf}")
            except KafkaException:
                pass
        # The broker is still fine for everybody else.
        check_confluent(b, "after", "SASL_SSL", "SCRAM-SHA-256", ADMIN, ADMIN_PW, n=10)
    print("ok")


if __name__ == "__main__":
    main()
