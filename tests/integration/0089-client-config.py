"""One Kafka client configuration for every command (src/client): topics, groups, loggen,
logstat, web and worker all take -X, -F and $SAMSA_CONFIG, in that order of precedence, and apply
them to every client they make (each client's own configuration is read back from librdkafka's
`debug=conf` log, and the worker's client.id from the broker's group description); properties
of one role never reach another; a bad property is exit 2 naming it, everywhere; -X dump shows
every client; web keeps --property as another spelling of -X."""
import os
import re
import shutil
import subprocess
import tempfile
import threading

from tools_env import (SAMSA, check, cluster, die_with_parent, free_port,
                       make_topic, ok, samsa, scaled, unique, wait_until)

CMDS = ("topics", "groups", "loggen", "logstat", "web", "worker")
CONF_LINE = re.compile(r"rdkafka: (\S+)#(producer|consumer)-\d+: CONF: \[thrd:app\]:\s+(\S+) = (.*)$")


def write(text):
    fd, path = tempfile.mkstemp(suffix=".conf", prefix="samsa-0089-")
    os.write(fd, text.encode())
    os.close(fd)
    return path


def clients(err):
    """{(client.id, producer|consumer): {property: value}} from librdkafka's debug=conf lines."""
    out = {}
    for line in err.splitlines():
        m = CONF_LINE.search(line)
        if m:
            out.setdefault((m.group(1), m.group(2)), {})[m.group(3)] = m.group(4)
    return out


def run_service(args, until, env=None):
    """Start web/worker, wait until @p until(stderr so far) holds, stop it; @returns stderr."""
    p = subprocess.Popen([SAMSA, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, **(env or {})), preexec_fn=die_with_parent)
    lines = []
    t = threading.Thread(target=lambda: [lines.append(l) for l in p.stderr], daemon=True)
    t.start()
    try:
        wait_until(lambda: until("".join(lines)) or p.poll() is not None, scaled(40), f"{args[0]} to start")
    finally:
        p.terminate()
        try:
            p.wait(scaled(30))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        t.join(scaled(5))
    return "".join(lines)


def bad_properties_everywhere():
    bad = write("# fine\nlinger.ms=5\nbogus.prop=1\n")
    for cmd in CMDS:
        rc, _, err, _ = samsa(cmd, "-X", "bogus.prop=1")
        check(rc == 2 and err.strip() == f'samsa {cmd}: -X bogus.prop=1: No such configuration property: "bogus.prop"',
              f"{cmd} -X bogus.prop=1: exit 2 naming it ({rc}, {err.strip()!r})")
        rc, _, err, _ = samsa(cmd, "-F", bad)
        check(rc == 2 and f"{bad}:3: " in err and "bogus.prop" in err, f"{cmd} -F: exit 2 naming FILE:LINE ({err.strip()!r})")
        cp = subprocess.run([SAMSA, cmd], capture_output=True, text=True, timeout=scaled(30),
                            env=dict(os.environ, SAMSA_CONFIG=bad))
        check(cp.returncode == 2 and f"{bad}:3 (from $SAMSA_CONFIG" in cp.stderr,
              f"{cmd} with $SAMSA_CONFIG: exit 2 naming the file ({cp.stderr.strip()!r})")
        rc, _, err, _ = samsa(cmd, "-X", "acks=banana")
        check(rc == 2 and "acks=banana" in err, f"{cmd} -X acks=banana: exit 2")
    for cmd in ("logstat", "worker"):
        rc, _, err, _ = samsa(cmd, "-X", "group.id=mine")
        check(rc == 2 and "sets the consumer group with --group" in err, f"{cmd}: group.id is --group's ({err.strip()!r})")
    os.unlink(bad)


def dump_and_alias():
    out = ok("web", "--property", "client.id=alias", "-X", "sasl.password=hunter2", "-X", "dump")
    check(out.count("client.id = alias") == 3 and "# samsa web: producer" in out and "# samsa web: tail consumer" in out
          and "# samsa web: import consumer" in out, "web: --property is -X, and -X dump shows its three clients")
    check("hunter2" not in out and "sasl.password = [masked]" in out, "-X dump masks secrets")
    out = ok("worker", "--group", "gg", "-X", "linger.ms=77", "-X", "dump")
    prod, cons = out.split("# samsa worker: consumer")
    check("queue.buffering.max.ms = 77" in prod and "queue.buffering.max.ms = 77" not in cons
          and "group.id = gg" in cons, "worker -X dump: linger.ms only on the producer, --group on the consumer")


def applied_to_every_client(b, tmp):
    t = unique("cfg")
    make_topic(b, t, 1)
    ok("loggen", "-b", b, "--topic", t, "--count", 5, "--delay", 0, "-q")
    runs = {
        "topics": (["topics", "-b", b, "--list"], {"consumer"}),
        "groups": (["groups", "-b", b, "--list"], {"consumer"}),
        "loggen": (["loggen", "-b", b, "--topic", t, "--count", 1, "--delay", 0, "-q"], {"producer"}),
        "logstat": (["logstat", "-b", b, "--topic", t, "--group", unique("g"), "--exit-at-end", "--errors-file", ""],
                    {"consumer"}),
        "web": (["web", "-b", b, "--http", f"127.0.0.1:{free_port()}", "--topic", unique("ops"),
                 "--results-topic", unique("res"), "--db", "sqlite:" + os.path.join(tmp, "web.db")],
                {"producer", "consumer"}),
        "worker": (["worker", "-b", b, "--group", unique("g"), "--topic", unique("ops"),
                    "--results-topic", unique("res"), "--errors-topic", unique("err"),
                    "--results-log", os.path.join(tmp, "results.jsonl"), "--db",
                    "sqlite:" + os.path.join(tmp, "worker.db")], {"producer", "consumer"}),
    }
    for cmd, (args, kinds) in runs.items():
        env_file = write(f"debug=conf\nclient.id=env-{cmd}\nsocket.timeout.ms=31111\n")
        file_file = write(f"client.id=file-{cmd}\n")

        def go(extra, env):
            if cmd in ("web", "worker"):
                want = "serving http" if cmd == "web" else "consuming"
                return run_service([*args, *extra], lambda s: want in s, env)
            cp = subprocess.run([SAMSA, *map(str, args), *extra], capture_output=True, text=True,
                                timeout=scaled(60), env=dict(os.environ, **env))
            assert cp.returncode == 0, f"{cmd}: exit {cp.returncode}: {cp.stderr[-2000:]}"
            return cp.stderr

        # $SAMSA_CONFIG alone
        seen = clients(go([], {"SAMSA_CONFIG": env_file}))
        check({k for _, k in seen} == kinds and all(c[0] == f"env-{cmd}" for c in seen)
              and all(v.get("socket.timeout.ms") == "31111" for v in seen.values()),
              f"{cmd}: $SAMSA_CONFIG reaches every client ({sorted(seen)})")
        # -F replaces $SAMSA_CONFIG; -X wins over -F; role properties stay in their role
        seen = clients(go(["-F", env_file, "-F", file_file, "-X", "client.id=x-" + cmd,
                           "-X", "linger.ms=77", "-X", "fetch.wait.max.ms=66"], {"SAMSA_CONFIG": "/nonexistent"}))
        check({k for _, k in seen} == kinds and all(c[0] == f"x-{cmd}" for c in seen),
              f"{cmd}: -X over -F over samsa's defaults, for every client ({sorted(seen)})")
        for (cid, kind), props in seen.items():
            check((props.get("queue.buffering.max.ms") == "77") == (kind == "producer")
                  and (props.get("fetch.wait.max.ms") == "66") == (kind == "consumer" and cmd not in ("topics", "groups")),
                  f"{cmd}: the {kind}'s configuration has only its role's properties")
        os.unlink(env_file)
        os.unlink(file_file)

    # seen from the broker: the worker's consumer joins its group under the client.id given
    g = unique("g")
    p = subprocess.Popen([SAMSA, "worker", "-b", b, "--group", g, "--topic", unique("ops"), "--results-topic",
                          unique("res"), "--errors-topic", unique("err"), "--results-log",
                          os.path.join(tmp, "r2.jsonl"), "--db", "sqlite:" + os.path.join(tmp, "w2.db"),
                          "-X", "client.id=seen-by-broker"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
    try:
        wait_until(lambda: "seen-by-broker" in samsa("groups", "-b", b, "--describe", "--group", g)[1], scaled(40),
                   "the worker's member in groups --describe")
        check(True, "the broker sees the worker's -X client.id (groups --describe CLIENT-ID)")
    finally:
        p.terminate()
        p.wait(scaled(30))


def main():
    tmp = tempfile.mkdtemp(prefix="samsa-0089-")
    try:
        bad_properties_everywhere()
        dump_and_alias()
        with cluster() as b:
            applied_to_every_client(b, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
