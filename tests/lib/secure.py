"""secure.py - TLS and SASL for tests: a CA, server and client certificates made with the openssl
command in a temp dir at test time (never committed), and a `samsa broker` with one listener of
each security protocol.

    with Certs() as certs, SecureBroker(certs) as b:
        b.at("SASL_SSL"), b.client_conf("SASL_SSL", "SCRAM-SHA-256", "admin", "admin-secret")
"""
import os
import shutil
import subprocess
import tempfile

from harness import Broker, free_port, port_open, wait_until

ADMIN, ADMIN_PW = "admin", "admin-secret"
ALICE, ALICE_PW = "alice", "alice-secret"  # a PLAIN user


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class Certs:
    """ca.pem; server.pem/server.key for localhost and 127.0.0.1; client.pem/client.key with
    subject O=samsa-tests,CN=client-app; rogue.pem/rogue.key signed by another CA."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="samsa-certs-")
        d = self.dir
        for ca in ("ca", "rogue-ca"):
            _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                     "-days", "2", "-subj", f"/CN=samsa test {ca}", cwd=d)
        with open(os.path.join(d, "san.cnf"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        for name, subj, ca, ext in (("server", "/CN=localhost", "ca", ["-extfile", "san.cnf"]),
                                    ("client", "/O=samsa-tests/CN=client-app", "ca", []),
                                    ("rogue", "/CN=rogue", "rogue-ca", [])):
            _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                     "-subj", subj, cwd=d)
            _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                     "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", *ext, cwd=d)
        # Kafka's PEM keystore form: key and chain in one file.
        with open(os.path.join(d, "server-keystore.pem"), "w") as out:
            for part in ("server.key", "server.pem"):
                with open(os.path.join(d, part)) as f:
                    out.write(f.read())

    def path(self, name):
        return os.path.join(self.dir, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


class SecureBroker(Broker):
    """A broker with PLAINTEXT, SSL, SASL_PLAINTEXT and SASL_SSL listeners (PLAIN, SCRAM-SHA-256,
    SCRAM-SHA-512 enabled), the SCRAM user admin (both mechanisms) and the PLAIN user alice."""

    PROTOS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")

    def __init__(self, certs, extra=(), data_dir=None, **kw):
        self.certs = certs
        self.ports = {p: free_port() for p in self.PROTOS}
        listeners = ",".join(f"{p}://127.0.0.1:{self.ports[p]}" for p in self.PROTOS)
        jaas = f'org.apache.kafka.common.security.plain.PlainLoginModule required user_{ALICE}="{ALICE_PW}";'
        args = ["-l", listeners, "-o", f"ssl.keystore.location={certs.path('server-keystore.pem')}",
                "-o", "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
                "-o", f"listener.name.sasl_plaintext.plain.sasl.jaas.config={jaas}",
                "-o", f"listener.name.sasl_ssl.plain.sasl.jaas.config={jaas}",
                "--add-scram", f"SCRAM-SHA-256=[name={ADMIN},password={ADMIN_PW}]",
                "--add-scram", f"SCRAM-SHA-512=[name={ADMIN},password={ADMIN_PW}]"]
        super().__init__(data_dir=data_dir, extra=args + list(extra), port=self.ports["PLAINTEXT"], **kw)

    def start(self):
        super().start()
        wait_until(lambda: all(port_open(p) for p in self.ports.values()), 20, "every listener")
        return self

    def at(self, proto):
        return f"127.0.0.1:{self.ports[proto]}"

    def client_conf(self, proto, mechanism=None, user=None, password=None):
        """librdkafka properties for a client of listener @p proto."""
        conf = {"bootstrap.servers": self.at(proto), "security.protocol": proto}
        if "SSL" in proto:
            conf["ssl.ca.location"] = self.certs.path("ca.pem")
        if mechanism:
            conf.update({"sasl.mechanisms": mechanism, "sasl.username": user, "sasl.password": password})
        return conf
