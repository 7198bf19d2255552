"""Compat client: kcat (Debian's, on librdkafka 2.0.2), driven as a user would from a shell: one
kcat process per step. kcat has no admin API, so the admin scenarios are skips. Group membership
is observed from kcat's own "% Group ... rebalanced ... assigned:" lines. Protocol and scenarios:
compat_common.py and README.md."""

import re
import subprocess
import sys
import threading
import time

from compat_common import WARM, Fail, Skip, check_values, main, noacl_scenario, parse_produce, secure_scenario

KCAT = "kcat"


def describe():
    out = subprocess.run([KCAT, "-V"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    m = re.search(r"Version (\S+).*?librdkafka (\S+)", out, re.S)
    return "kcat %s / librdkafka %s" % m.groups() if m else out.splitlines()[0]


def kcat(ctx, args, stdin=None):
    """Runs kcat to completion within the scenario deadline; returns (rc, stdout, stderr)."""
    try:
        r = subprocess.run([KCAT, "-b", ctx.bootstrap] + getattr(ctx, "x", []) + args, input=stdin, text=True, timeout=max(1, ctx.left()),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired as e:
        raise Fail("kcat %s timed out; stderr: %s" % (" ".join(args[:3]), last_line(e.stderr)))
    return r.returncode, r.stdout, r.stderr


def last_line(s):
    if isinstance(s, bytes):
        s = s.decode(errors="replace")
    lines = [x for x in (s or "").splitlines() if x.strip()]
    return lines[-1] if lines else ""


def produce(ctx, topic, values, extra=(), partition=None):
    args = ["-P", "-t", topic, "-K", ":", "-X", "message.timeout.ms=10000"] + list(extra)
    if partition is not None:
        args += ["-p", str(partition)]
    rc, _, err = kcat(ctx, args, "".join("%s:%s\n" % (v, v) for v in values))
    if rc != 0 or "ERROR" in err or "failed" in err.lower():
        raise Fail("kcat -P exit %d: %s" % (rc, last_line(err)))


def read(ctx, topic, n, partition=None, offset="beginning"):
    """Reads until n messages arrived (re-reading while a slow broker catches up)."""
    got = []

    def enough():
        nonlocal got
        args = ["-C", "-t", topic, "-o", str(offset), "-e", "-q", "-f", "%s\\n"]
        if partition is not None:
            args += ["-p", str(partition)]
        rc, out, err = kcat(ctx, args)
        if rc != 0:
            raise Exception("kcat -C exit %d: %s" % (rc, last_line(err)))
        got = out.split()
        return len(got) >= n
    ctx.wait_until("%d messages in %s" % (n, topic), enough, 0.3)
    return got


def sc_metadata(ctx):
    rc, out, err = kcat(ctx, ["-L", "-m", "10"])
    if rc != 0:
        raise Fail("kcat -L exit %d: %s" % (rc, last_line(err)))
    m = re.search(r"^\s*(\d+) brokers:", out, re.M)
    if not m or int(m.group(1)) < 1:
        raise Fail("kcat -L lists no brokers")


def sc_produce(ctx, acks, codec):
    topic = ctx.name()
    values = ["v%d-%s" % (i, codec) for i in range(20)]
    if acks == 0:
        produce(ctx, topic, [WARM], ["-X", "acks=all"])  # see compat_common.WARM
        values = [WARM] + values
    produce(ctx, topic, values[-20:], ["-X", "acks=%s" % ("all" if acks == -1 else acks), "-z", codec])
    check_values(read(ctx, topic, len(values)), values, "read back")


def sc_fetch(ctx):
    topic = ctx.name()
    values = ["f%d" % i for i in range(50)]
    produce(ctx, topic, values, ["-X", "acks=all"], partition=0)
    got = read(ctx, topic, 50, partition=0)
    if got != values:
        raise Fail("from offset 0: got %r..., want f0..f49 in order" % got[:5])
    got = read(ctx, topic, 25, partition=0, offset=25)
    if got != values[25:]:
        raise Fail("from offset 25 (inside a batch): got %r..., want f25.." % got[:3])


def group_consume(ctx, topic, group):
    """One balanced-consumer run from the committed offsets (earliest if none) to the end."""
    rc, out, err = kcat(ctx, ["-G", group, "-X", "auto.offset.reset=earliest", "-e", "-q",
                              "-f", "%s\\n", topic])
    if rc != 0:
        raise Fail("kcat -G exit %d: %s" % (rc, last_line(err)))
    return out.split()


def sc_group_join(ctx):
    topic = ctx.name()
    values = ["g%d" % i for i in range(30)]
    produce(ctx, topic, values, ["-X", "acks=all"])
    check_values(group_consume(ctx, topic, ctx.name("group")), values, "group consume")


def sc_group_commit(ctx, more=False):
    topic, group = ctx.name(), ctx.name("group")
    first = ["c%d" % i for i in range(30)]
    produce(ctx, topic, first, ["-X", "acks=all"])
    check_values(group_consume(ctx, topic, group), first, "group consume")
    # kcat commits when it exits: the same group must now start at the end.
    again = group_consume(ctx, topic, group)
    if again:
        raise Fail("after the commit the group re-read %d messages (e.g. %r)" % (len(again), again[:3]))
    if more:
        second = ["b%d" % i for i in range(10)]
        produce(ctx, topic, second, ["-X", "acks=all"])
        check_values(group_consume(ctx, topic, group), second, "resumed consume (only the 10 new messages)")


class Member(threading.Thread):
    """A long-running `kcat -G` whose latest assignment is parsed from its stderr."""

    def __init__(self, ctx, group, topic):
        super().__init__(daemon=True)
        self.p = subprocess.Popen([KCAT, "-b", ctx.bootstrap, "-G", group, "-X", "auto.offset.reset=earliest",
                                   "-f", "%s\\n", topic], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        self.parts, self.lines = set(), []

    def run(self):
        for line in self.p.stderr:
            self.lines.append(line.strip())
            m = re.search(r"rebalanced .*?: (assigned|revoked): (.*)", line)
            if m:
                parts = {int(x) for x in re.findall(r"\[(\d+)\]", m.group(2))}
                self.parts = parts if m.group(1) == "assigned" else set()

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def sc_group_rebalance(ctx):
    topic = ctx.name()
    produce(ctx, topic, ["r%d" % i for i in range(6)], ["-X", "acks=all"])
    rc, out, err = kcat(ctx, ["-L", "-t", topic])
    nparts = int(re.search(r"with (\d+) partitions", out).group(1))
    if nparts < 2:
        raise Skip("auto-created topic has %d partition(s); rebalance needs 2+" % nparts)
    group = ctx.name("group")
    a = Member(ctx, group, topic)
    b = None
    try:
        a.start()
        ctx.wait_until("first member's assignment", lambda: a.parts)
        b = Member(ctx, group, topic)
        b.start()

        def balanced():
            for m in (a, b):
                if m.p.poll() is not None:
                    raise Fail("kcat -G exited %d: %s" % (m.p.returncode, m.lines[-1:] or ""))
            pa, pb = a.parts, b.parts
            return pa and pb and not (pa & pb) and (pa | pb) == set(range(nparts))
        ctx.wait_until("both members assigned disjoint partitions covering all %d" % nparts, balanced)
    finally:
        for m in (a, b):
            if m:
                m.stop()


def sc_idempotent(ctx):
    topic = ctx.name()
    values = ["i%d" % i for i in range(50)]
    produce(ctx, topic, values, ["-X", "enable.idempotence=true", "-X", "acks=all"], partition=0)
    got = read(ctx, topic, 50, partition=0)
    if got != values:
        raise Fail("read back %d values, want i0..i49 once each in order (first: %r)" % (len(got), got[:3]))


def no_transactions(ctx):
    raise Skip("kcat has no transactional producer (it can consume read_committed, but nothing here "
               "would write the transactions for it)")


SCENARIOS = {
    "txn.commit": no_transactions, "txn.abort": no_transactions, "txn.fence": no_transactions,
    "read_committed": no_transactions,
    "metadata": sc_metadata, "fetch": sc_fetch, "idempotent": sc_idempotent,
    "group.join": sc_group_join, "group.rebalance": sc_group_rebalance,
    "group.commit": sc_group_commit, "group.resume": lambda ctx: sc_group_commit(ctx, more=True),
}


def sc_secure(ctx):
    def use(sec):
        sec.old_librdkafka_scram(re.search(r"librdkafka (\S+)", describe()).group(1))
        ctx.bootstrap = sec.bootstrap
        ctx.x = [a for k, v in sec.librdkafka().items() for a in ("-X", "%s=%s" % (k, v))]

    def roundtrip(sec, topic, values):
        use(sec)
        if sec.bad:
            rc, _, err = kcat(ctx, ["-L", "-m", "5"])
            raise RuntimeError("kcat -L exit %d: %s" % (rc, err.strip()[-300:]))
        produce(ctx, topic, values)
        return read(ctx, topic, len(values))

    def read_group(sec, topic, group, n, extra_wait):
        use(sec)  # one run to the end of the partitions (-e): n and extra_wait are moot
        return group_consume(ctx, topic, group)

    if ctx.scenario == "secure.noacl":
        return noacl_scenario(ctx, roundtrip, read_group, lambda e: "authorization failed" in str(e).lower())
    secure_scenario(ctx, roundtrip, lambda e: "authentication" in str(e).lower())


def run(ctx):
    if ctx.scenario.startswith("secure."):
        return sc_secure(ctx)
    pr = parse_produce(ctx.scenario)
    if pr:
        return sc_produce(ctx, *pr)
    if ctx.scenario.startswith("admin."):
        raise Skip("kcat has no admin API")
    fn = SCENARIOS.get(ctx.scenario)
    if fn is None:
        raise Skip("scenario not implemented by this client")
    return fn(ctx)


if __name__ == "__main__":
    sys.exit(main(run, describe))
