"""The lab tools without a working broker: loggen --dry-run (reproducible with --seed, every record
follows the lab's rules), wrong input (one-line error, exit 2) for all four tools, --help with
defaults, and an unreachable broker (clear error within --timeout, exit 1)."""
import json
import os
import tempfile

from tools_env import check, free_port, ok, samsa, scaled
from tools_lab import check_record, without_time


def dry(seed, count, *extra):
    return [json.loads(l) for l in ok("loggen", "--dry-run", "--seed", seed, "--count", count, *extra).splitlines()]


def usage_error(what, *args):
    rc, out, err, _ = samsa(*args)
    lines = [l for l in err.splitlines() if l.strip()]
    check(rc == 2 and len(lines) == 1 and lines[0].startswith(f"samsa {args[0]}: "),
          f"{what}: exit 2 with one line ({rc}, {err.strip()!r})")


def main():
    a, b = dry(42, 3000), dry(42, 3000)
    check([without_time(r) for r in a] == [without_time(r) for r in b], "--seed 42 twice: same records")
    check([without_time(r) for r in a] != [without_time(r) for r in dry(43, 3000)], "another seed differs")
    f1 = ok("loggen", "--dry-run", "--seed", 5, "--count", 500, "--fake-time", "1795000000")
    f2 = ok("loggen", "--dry-run", "--seed", 5, "--count", 500, "--fake-time", "1795000000")
    check(f1 == f2, "--seed with --fake-time: byte-identical output, timestamps included")
    ids = [check_record(r) for r in dry(7, 20000)]
    check(ids == list(range(20000)), "20,000 dry-run records follow every field rule, ids 0..19999")
    ids = [check_record(r) for r in dry(7, 10, "--start-id", 1000)]
    check(ids == list(range(1000, 1010)), "--start-id")

    # Wrong input is refused before anything is sent, so no broker is needed (-b points nowhere).
    nowhere = f"127.0.0.1:{free_port()}"
    t = "kafka-logs"
    for what, args in (
            ("missing --topic", ["--create", "--partitions", 3]),
            ("0 partitions", ["--create", "--topic", t, "--partitions", 0]),
            ("unknown config", ["--create", "--topic", t, "--config", "retention.msec=5"]),
            ("config without a value", ["--create", "--topic", t, "--config", "retention.ms"]),
            ("unknown config in --add-config", ["--alter", "--topic", t, "--add-config", "a=1,retention.ms=5"]),
            ("mixed modes", ["--create", "--delete", "--topic", t]),
            ("mixed flag and word", ["list", "--delete", "--topic", t]),
            ("unknown word", ["destroy", "--topic", t]),
            ("no mode", ["--topic", t]),
            ("bad --output", ["--list", "--output", "xml"]),
            ("--alter with nothing to do", ["--alter", "--topic", t]),
            ("--config with --alter", ["--alter", "--topic", t, "--config", "retention.ms=1"])):
        usage_error(f"topics: {what}", "topics", "-b", nowhere, *args)
    for what, args in (
            ("--describe without --group", ["--describe"]),
            ("reset without --topic", ["--reset-offsets", "--group", "g", "--to-earliest"]),
            ("reset without a target", ["--reset-offsets", "--group", "g", "--topic", t]),
            ("two targets", ["--reset-offsets", "--group", "g", "--topic", t, "--to-earliest", "--to-latest"]),
            ("bad datetime", ["--reset-offsets", "--group", "g", "--topic", t, "--to-datetime", "yesterday"]),
            ("negative offset", ["--reset-offsets", "--group", "g", "--topic", t, "--to-offset", "-3"]),
            ("--execute without reset", ["--describe", "--group", "g", "--execute"]),
            ("mixed modes", ["--list", "--delete", "--group", "g"])):
        usage_error(f"groups: {what}", "groups", "-b", nowhere, *args)
    usage_error("loggen: bad --delay", "loggen", "-b", nowhere, "--delay", "soon")
    usage_error("loggen: negative --count", "loggen", "-b", nowhere, "--count", "-5")
    usage_error("loggen: bad --seed", "loggen", "-b", nowhere, "--seed", "x")
    usage_error("loggen: bad --rate", "loggen", "-b", nowhere, "--rate", "fast")
    usage_error("logstat: empty --group", "logstat", "-b", nowhere, "--group", "")
    usage_error("logstat: stray argument", "logstat", "-b", nowhere, "extra")
    for cmd in ("topics", "groups", "loggen", "logstat"):
        rc, out, err, _ = samsa(cmd, "--frobnicate")
        check(rc == 2 and "unknown option" in err, f"{cmd}: unknown flag -> exit 2")
        rc, out, _, _ = samsa(cmd, "--help")
        check(rc == 0 and "(neither: localhost:9092)" in out and "(default: 10s)" in out,
              f"{cmd} --help lists options with defaults")

    rc, _, err, _ = samsa("logstat", "-b", nowhere, "--errors-file", "/nonexistent-dir/errors.jsonl")
    check(rc == 1 and "cannot open /nonexistent-dir/errors.jsonl" in err, "logstat: unwritable errors file -> exit 1")

    # librdkafka settings: the lab's producer defaults, -F file (or $SAMSA_CONFIG), -X on top.
    dump = ok("loggen", "-X", "dump")
    check("compression.codec = gzip" in dump and "batch.size = 16384" in dump
          and "max.in.flight.requests.per.connection = 1" in dump, "loggen -X dump shows the lab's producer settings")
    fd, path = tempfile.mkstemp(suffix=".properties")
    os.write(fd, b"# a comment\nclient.id=from-file\nbatch.size=1000\n")
    os.close(fd)
    dump = ok("loggen", "-F", path, "-X", "client.id=from-x", "-X", "dump")
    check("client.id = from-x" in dump and "batch.size = 1000" in dump, "-F file under -X")
    rc, out, _, _ = samsa("groups", "-X", "list")
    check(rc == 0 and "bootstrap.servers" in out, "-X list prints librdkafka's properties")
    os.unlink(path)

    # Nothing listens on a fresh free port: every tool says so within its --timeout and exits 1.
    for args in (["topics", "--list"], ["groups", "--list"], ["loggen", "--count", "1"],
                 ["logstat", "--exit-at-end", "--errors-file", ""]):
        rc, out, err, secs = samsa(*args, "-b", nowhere, "--timeout", "2s", timeout=30)
        check(rc == 1 and "cannot reach" in err and nowhere in err and secs < scaled(8),
              f"{args[0]}: unreachable broker -> exit 1 in {secs:.1f}s: {err.strip()!r}")


if __name__ == "__main__":
    main()
