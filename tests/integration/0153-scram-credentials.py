"""SCRAM credentials: AlterUserScramCredentials and DescribeUserScramCredentials with Kafka's error
codes (frame by frame), `samsa configs` with kafka-configs' flags, and durability:
- upsert/describe/delete round trip; the new user authenticates with a real client (kcat);
  a deleted mechanism no longer authenticates;
- errors: iterations < 4096 and > 16384 UNACCEPTABLE_CREDENTIAL (93), unknown mechanism
  UNSUPPORTED_SASL_MECHANISM (33), the same user and mechanism twice DUPLICATE_RESOURCE (92),
  deleting or describing what is not there RESOURCE_NOT_FOUND (91), an empty name 93; one bad
  user does not stop the others in the same request;
- credentials survive a clean restart and kill -9 right after the answer (the answer waits for the
  metadata log's fdatasync); --add-scram at a restart keeps a credential changed since;
  `samsa dump-log` shows them without salts or keys;
- a broker whose every listener needs SASL is administered through SASL with samsa configs."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, free_port, run, scaled  # noqa: E402
from kafka_raw import RawConn, alter_scram, describe_scram, scram_upsertion_fields  # noqa: E402
from secure import ADMIN, ADMIN_PW, Certs, SecureBroker  # noqa: E402

SHA256, SHA512 = 1, 2
RESOURCE_NOT_FOUND, DUPLICATE_RESOURCE, UNACCEPTABLE_CREDENTIAL, UNSUPPORTED_SASL_MECHANISM = 91, 92, 93, 33


def kcat_auth(b, mech, user, pw):
    cp = subprocess.run(["kcat", "-b", b.at("SASL_SSL"), "-X", "security.protocol=SASL_SSL", "-X",
                         f"ssl.ca.location={b.certs.path('ca.pem')}", "-X", f"sasl.mechanisms={mech}", "-X",
                         f"sasl.username={user}", "-X", f"sasl.password={pw}", "-L", "-m", str(int(scaled(3)))],
                        capture_output=True, text=True, timeout=scaled(30))
    return cp.returncode == 0


def configs(b, *args, check=True):
    sec = ["-b", b.at("SASL_SSL"), "-X", "security.protocol=SASL_SSL", "-X", f"ssl.ca.location={b.certs.path('ca.pem')}",
           "-X", "sasl.mechanism=SCRAM-SHA-512", "-X", f"sasl.username={ADMIN}", "-X", f"sasl.password={ADMIN_PW}"]
    return run(["configs", *sec, "--entity-type", "users", *args], check=check)


def main():
    with Certs() as certs:
        data = None
        with SecureBroker(certs) as b:
            data = b.data_dir
            b.own_dir = False  # kept for the restarts below
            c = RawConn("127.0.0.1", b.ports["PLAINTEXT"])
            salt, salted = scram_upsertion_fields("SCRAM-SHA-256", "bob-pw", 8192)
            salt5, salted5 = scram_upsertion_fields("SCRAM-SHA-512", "bob-pw", 4096)
            res = alter_scram(c, upsertions=[("bob", SHA256, 8192, salt, salted), ("bob", SHA512, 4096, salt5, salted5)])
            assert res == [("bob", 0, None)], res
            got = describe_scram(c, ["bob"])
            assert got == [("bob", 0, None, [(SHA256, 8192), (SHA512, 4096)])], got
            assert kcat_auth(b, "SCRAM-SHA-256", "bob", "bob-pw") and kcat_auth(b, "SCRAM-SHA-512", "bob", "bob-pw")
            assert not kcat_auth(b, "SCRAM-SHA-256", "bob", "nope")
            print("upsert + describe + real client authentication ok")

            # Errors, per user; the valid user in the same request is applied.
            s, sd = scram_upsertion_fields("SCRAM-SHA-256", "x")
            res = alter_scram(c, deletions=[("ghost", SHA256), ("dup", SHA256)],
                              upsertions=[("few", SHA256, 100, s, sd), ("many", SHA256, 20000, s, sd),
                                          ("mech", 7, 4096, s, sd), ("dup", SHA256, 4096, s, sd), ("", SHA256, 4096, s, sd),
                                          ("carol", SHA256, 4096, s, sd)])
            codes = {u: e for u, e, _ in res}
            assert codes == {"ghost": RESOURCE_NOT_FOUND, "dup": DUPLICATE_RESOURCE, "few": UNACCEPTABLE_CREDENTIAL,
                             "many": UNACCEPTABLE_CREDENTIAL, "mech": UNSUPPORTED_SASL_MECHANISM,
                             "": UNACCEPTABLE_CREDENTIAL, "carol": 0}, codes
            msgs = {u: m for u, _, m in res}
            assert msgs["few"] == "Too few iterations" and msgs["many"] == "Too many iterations", msgs
            got = describe_scram(c, ["carol", "ghost", "bob", "bob"])
            assert [(u, e) for u, e, _, _ in got] == [("carol", 0), ("ghost", RESOURCE_NOT_FOUND),
                                                     ("bob", DUPLICATE_RESOURCE), ("bob", DUPLICATE_RESOURCE)], got
            assert [u for u, _, _, _ in describe_scram(c)] == [ADMIN, "bob", "carol"], "all users, by name"
            print("errors: 91, 92, 93, 33 per user as Kafka answers; valid users applied")

            # samsa configs, through SASL_SSL.
            out = configs(b, "--alter", "--entity-name", "dave", "--add-config",
                          "SCRAM-SHA-512=[iterations=4096,password=dave-pw]").stdout
            assert out.strip() == "Completed updating config for user dave.", out
            out = configs(b, "--describe", "--entity-name", "dave").stdout
            assert out.strip() == "SCRAM credential configs for user-principal 'dave' are SCRAM-SHA-512=iterations=4096"
            assert kcat_auth(b, "SCRAM-SHA-512", "dave", "dave-pw")
            configs(b, "--alter", "--entity-name", "bob", "--delete-config", "SCRAM-SHA-256")
            assert not kcat_auth(b, "SCRAM-SHA-256", "bob", "bob-pw"), "a deleted credential still works"
            assert kcat_auth(b, "SCRAM-SHA-512", "bob", "bob-pw")
            bad = configs(b, "--alter", "--entity-name", "x", "--add-config", "SCRAM-SHA-256=[iterations=10,password=p]",
                          check=False)
            assert bad.returncode == 2 and "4096" in bad.stderr, bad.stderr
            bad = configs(b, "--alter", "--entity-name", "ghost", "--delete-config", "SCRAM-SHA-512", check=False)
            assert bad.returncode == 1 and "does not exist" in bad.stderr, bad.stderr
            print("samsa configs: add, describe, delete; errors exit 1/2")

            # A changed password of an --add-scram user survives restarts that still give the flag.
            configs(b, "--alter", "--entity-name", ADMIN, "--add-config",
                    f"SCRAM-SHA-256=[iterations=8192,password={ADMIN_PW}]")

            # kill -9 right after an answer: the credential was durable before it.
            res = alter_scram(c, upsertions=[("erin", SHA512, 4096, salt5, salted5)])
            assert res == [("erin", 0, None)]
            b.kill9()
            b.start()
            assert kcat_auth(b, "SCRAM-SHA-512", "erin", "bob-pw"), "lost after kill -9"
            b.stop()
            b.start()
            c = RawConn("127.0.0.1", b.ports["PLAINTEXT"])
            got = {u: infos for u, e, _, infos in describe_scram(c)}
            assert got == {ADMIN: [(SHA256, 8192), (SHA512, 4096)], "bob": [(SHA512, 4096)],
                           "carol": [(SHA256, 4096)], "dave": [(SHA512, 4096)], "erin": [(SHA512, 4096)]}, got
            print("credentials survive kill -9 and restart; --add-scram keeps an existing credential")
        dump = run(["dump-log", os.path.join(data, "metadata.log")]).stdout
        assert '"user":"erin","mechanism":"SCRAM-SHA-512","iterations":4096' in dump, dump[-500:]
        assert "scram_delete" in dump
        assert "salt" not in dump.lower() and "key" not in dump.lower().replace("kind", ""), "secrets in the dump"
        print("dump-log shows users and mechanisms, no salt, no key")

        # Every listener SASL: the first user from --add-scram, the rest through samsa configs.
        port = free_port()
        with Broker(extra=["-l", f"SASL_PLAINTEXT://127.0.0.1:{port}", "--add-scram",
                           "SCRAM-SHA-256=[name=root,password=root-pw]"], port=port) as sb:
            sec = ["-b", sb.addr, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=SCRAM-SHA-256",
                   "-X", "sasl.username=root", "-X", "sasl.password=root-pw"]
            run(["configs", *sec, "--entity-type", "users", "--alter", "--entity-name", "app", "--add-config",
                 "SCRAM-SHA-256=[password=app-pw]"])
            out = run(["configs", *sec, "--entity-type", "users", "--describe"]).stdout
            assert "'app' are SCRAM-SHA-256=iterations=4096" in out and "'root'" in out, out
        import shutil
        shutil.rmtree(data, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
