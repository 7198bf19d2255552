"""Scenario driver shared by the compat clients written in Python (confluent-kafka, kafka-python,
kcat, Kafka's CLI tools).

Every compat client, whatever its language, speaks the same small protocol to the matrix runner
(tests/compat/run.py):

    <client> --bootstrap HOST:PORT --prefix PREFIX --scenarios s1,s2,...

For each scenario it prints one JSON line {"start": s} before running it and one
{"scenario": s, "status": "pass"|"fail"|"skip", "reason": "..."} after, flushing each line, so
the runner knows which scenario hung if it has to kill the client. Topic and group names start
with PREFIX, so runs and clients never share state. The scenarios' meaning is in
tests/compat/README.md; this module only runs them and turns exceptions into results.
"""

import argparse
import json
import os
import re
import sys
import time
import traceback

SCENARIO_TIMEOUT_S = float(os.environ.get("COMPAT_SCENARIO_TIMEOUT", "20"))


# acks=0 scenarios first write this one record with acks=all: a fire-and-forget send to a topic
# that is still being auto-created is dropped by design (no answer, so no retry), by Kafka too.
WARM = "w0"


class Skip(Exception):
    """The client cannot do this scenario at all (not a broker failure)."""


class Fail(Exception):
    """The scenario ran and the broker/client interaction did not do what it should."""


def parse_produce(name):
    """'produce.acks1.gzip' -> (1, 'gzip'); acks 'all' -> -1."""
    m = re.fullmatch(r"produce\.acks(0|1|all)\.(none|gzip|snappy|lz4|zstd)", name)
    if not m:
        return None
    return (-1 if m.group(1) == "all" else int(m.group(1)), m.group(2))


class Ctx:
    def __init__(self, bootstrap, prefix, scenario):
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.scenario = scenario
        self.deadline = time.monotonic() + SCENARIO_TIMEOUT_S

    def name(self, what=""):
        """A topic/group name unique to this client run and scenario."""
        s = self.prefix + "-" + self.scenario.replace(".", "-")
        return s + ("-" + what if what else "")

    def left(self):
        return max(0.0, self.deadline - time.monotonic())

    def expired(self):
        return time.monotonic() >= self.deadline

    def wait_until(self, what, fn, interval=0.2):
        """Polls fn() until it returns a true value (returned) or the scenario deadline passes."""
        last = None
        while True:
            try:
                v = fn()
                if v:
                    return v
            except (Fail, Skip):
                raise
            except Exception as e:  # a transient client error; keep the last for the reason
                last = e
            if self.expired():
                raise Fail("timed out waiting for %s%s" % (what, (": %r" % last) if last else ""))
            time.sleep(interval)


def check_values(got, want, what):
    """Compares received values with the produced ones, as a multiset and with a clear reason."""
    if sorted(got) == sorted(want):
        return
    missing = [v for v in want if v not in got]
    extra = len(got) - len(want) + len(missing)
    raise Fail("%s: got %d values, want %d (%d missing e.g. %r; %d unexpected/duplicate)" %
               (what, len(got), len(want), len(missing), missing[:2], max(0, extra)))


def emit(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def one_line(s):
    s = " ".join(str(s).split())
    return s if len(s) <= 300 else s[:297] + "..."


def main(run_scenario, describe=None):
    """run_scenario(ctx) runs ctx.scenario; returning means pass. describe() -> version string."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=False)
    ap.add_argument("--prefix", default="compat-%d" % int(time.time()))
    ap.add_argument("--scenarios", default="")
    ap.add_argument("--version", action="store_true", help="print the client's version and exit")
    a = ap.parse_args()
    if a.version:
        print(describe() if describe else "unknown")
        return 0
    if not a.bootstrap:
        ap.error("--bootstrap is required")
    for s in [x for x in a.scenarios.split(",") if x]:
        emit({"start": s})
        ctx = Ctx(a.bootstrap, a.prefix, s)
        try:
            run_scenario(ctx)
            res = {"status": "pass", "reason": ""}
        except Skip as e:
            res = {"status": "skip", "reason": one_line(e)}
        except Fail as e:
            res = {"status": "fail", "reason": one_line(e)}
        except Exception as e:
            tb = traceback.extract_tb(e.__traceback__)
            where = ("%s:%d" % (tb[-1].name, tb[-1].lineno)) if tb else ""
            res = {"status": "fail", "reason": one_line("%s: %s (%s)" % (type(e).__name__, e, where))}
        res["scenario"] = s
        emit(res)
    return 0


# The secure scenarios (README.md): which listener, which mechanism, whose credentials.
SECURE = {
    "secure.ssl": ("SSL", None, False),
    "secure.sasl_ssl.scram256": ("SASL_SSL", "SCRAM-SHA-256", False),
    "secure.sasl_ssl.scram512": ("SASL_SSL", "SCRAM-SHA-512", False),
    "secure.sasl_ssl.plain": ("SASL_SSL", "PLAIN", False),
    "secure.sasl_plaintext.scram512": ("SASL_PLAINTEXT", "SCRAM-SHA-512", False),
    "secure.badpass": ("SASL_SSL", "SCRAM-SHA-256", True),
    "secure.noacl": ("SASL_SSL", "SCRAM-SHA-512", False),  # as the user no ACL names
}


class Secure:
    """What a client needs for ctx.scenario's secure listener: protocol, bootstrap, CA (PEM, and
    the JKS truststore for Java), mechanism, user, password; bad=True: the password is wrong."""

    def __init__(self, ctx, as_admin=False):
        path = os.environ.get("COMPAT_SECURITY")
        if not path:
            raise Skip("the target has no secure listeners (no TLS material)")
        if ctx.scenario not in SECURE:
            raise Skip("scenario not implemented by this client")
        with open(path) as f:
            info = json.load(f)
        self.proto, self.mechanism, self.bad = SECURE[ctx.scenario]
        self.bootstrap = info[self.proto]
        self.ca, self.truststore, self.truststore_password = info["ca"], info["truststore"], info["truststore_password"]
        plain = self.mechanism == "PLAIN"
        self.user = info["plain_user"] if plain else info["user"]
        self.password = "wrong-password" if self.bad else info["plain_password" if plain else "password"]
        if ctx.scenario == "secure.noacl" and not as_admin:
            self.user, self.password = info["noacl_user"], info["noacl_password"]

    def old_librdkafka_scram(self, version):
        """librdkafka 2.0 (Debian's 2.0.2) repeats its client nonce in SCRAM's client-final message;
        Kafka 3.x (and samsa) accept that, Kafka 4.x refuses it (docs/security.md): a skip there,
        since that client cannot do it at all (2.16 from PyPI passes)."""
        target = os.environ.get("COMPAT_TARGET", "")
        major_minor = tuple(int(x) for x in version.split(".")[:2])
        if (self.mechanism or "").startswith("SCRAM") and target.startswith("kafka-4") and major_minor <= (2, 0):
            raise Skip("librdkafka %s's SCRAM repeats its nonce in client-final; Kafka 4.x refuses it" % version)

    def librdkafka(self):
        """librdkafka properties (kcat -X, confluent-kafka)."""
        conf = {"security.protocol": self.proto}
        if "SSL" in self.proto:
            conf["ssl.ca.location"] = self.ca
        if self.mechanism:
            conf.update({"sasl.mechanisms": self.mechanism, "sasl.username": self.user, "sasl.password": self.password})
        return conf

    def java(self):
        """Java client properties (Kafka's CLI --command-config, the Java client)."""
        conf = {"security.protocol": self.proto}
        if "SSL" in self.proto:
            conf.update({"ssl.truststore.location": self.truststore, "ssl.truststore.password": self.truststore_password,
                         "ssl.truststore.type": "JKS"})
        if self.mechanism:
            module = ("org.apache.kafka.common.security.plain.PlainLoginModule" if self.mechanism == "PLAIN"
                      else "org.apache.kafka.common.security.scram.ScramLoginModule")
            conf.update({"sasl.mechanism": self.mechanism,
                         "sasl.jaas.config": '%s required username="%s" password="%s";' % (module, self.user, self.password)})
        return conf


def secure_scenario(ctx, roundtrip, is_auth_error):
    """Runs a secure scenario with the client's roundtrip(sec, topic, values) -> values read back.
    secure.badpass must fail with an authentication error (is_auth_error(exception) says so) and
    must not have written anything (checked over PLAINTEXT by the caller's roundtrip of nothing)."""
    sec = Secure(ctx)
    topic = ctx.name()
    values = ["s%d-%s" % (i, ctx.scenario.replace(".", "_")) for i in range(10)]
    if not sec.bad:
        got = roundtrip(sec, topic, values)
        check_values(got, values, "read back over %s %s" % (sec.proto, sec.mechanism or ""))
        return
    try:
        roundtrip(sec, topic, values)
    except Skip:
        raise
    except Exception as e:  # noqa: BLE001 - the client's own error type is what is judged
        if is_auth_error(e):
            return
        raise Fail("a wrong password failed, but not with an authentication error: %s" % one_line(e))
    raise Fail("a wrong password was accepted")


def noacl_scenario(ctx, roundtrip, read_group, is_authz_error):
    """secure.noacl: the brokers run an authorizer (super users: ANONYMOUS, admin, alice) and the
    SCRAM user noacl, whom no ACL names. The super user admin writes 3 records; noacl's produce
    and its read through a group must fail with the client's authorization error (topic or group;
    is_authz_error(exception) says so) and return nothing; then admin writes a marker and reads
    through a new group exactly its 3 records and the marker (waiting a little for more): noacl
    wrote nothing. roundtrip(sec, topic, values) is the client's secure round trip;
    read_group(sec, topic, group, n, extra_wait) reads n values through a consumer group."""
    sec, admin = Secure(ctx), Secure(ctx, as_admin=True)
    topic = ctx.name()
    values = ["a%d-noacl" % i for i in range(3)]
    check_values(roundtrip(admin, topic, values), values, "written and read back by the super user")
    attempts = (("produce", lambda: roundtrip(sec, topic, ["must-not-land"])),
                ("group read", lambda: read_group(sec, topic, ctx.name("g-noacl"), 1, 0.0)))
    for what, attempt in attempts:
        try:
            got = attempt()
        except Skip:
            raise
        except Exception as e:  # noqa: BLE001 - the client's own error type is what is judged
            if not is_authz_error(e):
                raise Fail("%s without an ACL failed, but not with an authorization error: %s" % (what, one_line(e)))
            continue
        raise Fail("%s without an ACL succeeded (%r)" % (what, got))
    marker = ["z-marker-noacl"]
    roundtrip(admin, topic, marker)  # written (what it reads back is any one record)
    check_values(read_group(admin, topic, ctx.name("g-admin"), 4, 2.0), values + marker,
                 "the super user's records, none of noacl's")
