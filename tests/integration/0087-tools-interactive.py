"""The tools as a person uses them: Ctrl-C on loggen stops producing and reports exactly what the
broker holds; logstat on a terminal redraws a live view every second and Ctrl-C prints the final
report; loggen draws a progress bar on a terminal."""
import json
import os
import pty
import select
import signal
import subprocess
import time

from tools_env import SAMSA, check, cluster, die_with_parent, ok_json, scaled, unique


def read_pty(fd, until, timeout):
    """Read from a pty master until `until(text)` or the deadline; return the text."""
    buf = b""
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if until(buf.decode(errors="replace")):
                break
    return buf.decode(errors="replace")


def main():
    with cluster() as b:
        t = unique("ctrlc")
        # loggen until Ctrl-C: what it reports as delivered is exactly what the topic holds.
        p = subprocess.Popen([SAMSA, "loggen", "-b", b, "--topic", t, "--count", "0", "--delay", "0", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=die_with_parent)
        first = p.stderr.readline()
        check(f"warning: topic {t} does not exist" in first, f"loggen warns that it is not created ({first.strip()!r})")
        first = p.stderr.readline()
        check("delivered" in first, f"loggen --count 0 is running ({first.strip()!r})")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=scaled(60))
        s = json.loads(out)
        check(p.returncode == 0 and s["interrupted"] and s["failed"] == 0 and s["delivered"] > 0,
              f"Ctrl-C: exit 0, {s['delivered']} delivered, 0 failed, interrupted")
        d = ok_json("topics", "-b", b, "--describe", "--topic", t, "--output", "json")
        held = sum(x["latest_offset"] - x["earliest_offset"] for x in d["partitions"])
        check(held == s["delivered"], f"the topic holds exactly the {held} records reported delivered")

        # logstat on a terminal: live view, then Ctrl-C prints the report.
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(SAMSA, [SAMSA, "logstat", "-b", b, "--topic", t, "--group", unique("live"), "--errors-file", ""])
        text = read_pty(fd, lambda s: s.count("messages per minute") >= 2, 20)
        check("\x1b[H\x1b[J" in text and text.count("messages per minute") >= 2,
              "logstat redraws a live view on a terminal")
        check("LEVEL" in text and "SERVICE" in text and "p95" in text and "status codes" in text,
              "the live view has levels, services, percentiles and status codes")
        check("ERRORS" in text and "latest errors (5 of " in text,
              "the live view has errors per service and the latest ERROR records")
        os.kill(pid, signal.SIGINT)
        text = read_pty(fd, lambda s: False, 15)
        _, status = os.waitpid(pid, 0)
        check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "Ctrl-C ends logstat with exit 0")
        check(f"records: {s['delivered']}" in text, f"its final report counts all {s['delivered']} records")
        os.close(fd)

        # loggen's progress bar on a terminal
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(SAMSA, [SAMSA, "loggen", "-b", b, "--topic", t, "--count", "30", "--delay", "0.02"])
        text = read_pty(fd, lambda s: "records/s" in s, 30)
        _, status = os.waitpid(pid, 0)
        check(os.WEXITSTATUS(status) == 0 and "[" + "#" * 30 + "] 30/30 delivered" in text,
              "loggen draws a progress bar on a terminal")
        os.close(fd)


if __name__ == "__main__":
    main()
