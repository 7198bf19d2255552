"""Shared set-up of the lab-tool tests (0080-0099): a cluster to run against and unique names.

By default each test starts its own `samsa broker` through tests/lib/harness.py. With
SAMSA_TEST_BOOTSTRAP=host:port the same tests run against an external broker (a real Apache
Kafka, for the compatibility runs); every topic and group name is then unique per run, so
runs never see each other's data.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import EXTERNAL, SAMSA, Broker, cluster, die_with_parent, free_port, scaled, wait_until  # noqa: E402,F401


def unique(name):
    return f"{name}-{os.getpid()}-{int(time.time() * 1000) % 1000000}"


def samsa(*args, timeout=120, input=None):
    """Run `samsa ARGS`; return (returncode, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    cp = subprocess.run([SAMSA] + [str(a) for a in args], capture_output=True, text=True,
                        timeout=scaled(timeout), input=input)
    return cp.returncode, cp.stdout, cp.stderr, time.monotonic() - t0


def ok(*args, **kw):
    """Run `samsa ARGS`, insist on exit 0, return stdout."""
    rc, out, err, _ = samsa(*args, **kw)
    assert rc == 0, f"samsa {' '.join(map(str, args))} exited {rc}\nstdout:\n{out}\nstderr:\n{err}"
    return out


def ok_json(*args, **kw):
    return json.loads(ok(*args, **kw))


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok - {what}", flush=True)


def make_topic(b, topic, partitions):
    """Create topic with `samsa topics`; return its partition count. A broker without the admin
    API (CreateTopics) gets the topic auto-created by the first produce instead (0080 is the test
    of topic administration); then the count is whatever the broker auto-creates, found out after
    the caller produced, via partitions_of()."""
    rc, out, err, _ = samsa("topics", "-b", b, "--create", "--topic", topic, "--partitions", partitions,
                            "--replication-factor", 1)
    if rc == 0:
        return partitions
    if "not supported by broker" in err:
        print(f"# broker has no CreateTopics ({err.strip()}); {topic} will be auto-created", flush=True)
        return None
    raise AssertionError(f"creating {topic}: exit {rc}: {err}")


def partitions_of(b, topic):
    return len(json.loads(ok("topics", "-b", b, "--describe", "--topic", topic, "--output", "json"))["partitions"])
