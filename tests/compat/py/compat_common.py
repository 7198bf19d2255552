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
