"""Test harness for samsa's Python-driven tests: real `samsa` processes on free ports, and
waiting on conditions with deadlines (never sleep-and-hope).

    from harness import Broker, wait_until
    with Broker() as b:            # temp data dir, free port, waits until it accepts connections
        producer = KafkaProducer(bootstrap_servers=b.addr)
        ...

Environment: SAMSA (the binary, set by CTest), TEST_TIMEOUT_SCALE (default 1),
SAMSA_TEST_BOOTSTRAP (run the tests that use cluster() against that broker instead).
"""
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SAMSA = os.environ.get("SAMSA", os.path.join(os.path.dirname(__file__), "..", "..", "build", "samsa"))
EXTERNAL = os.environ.get("SAMSA_TEST_BOOTSTRAP")
SCALE = float(os.environ.get("TEST_TIMEOUT_SCALE", "1") or 1)


def scaled(seconds):
    return seconds * SCALE


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, timeout, what="condition", interval=0.01):
    """Poll cond() until truthy; return its value. Raise AssertionError at the deadline."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {scaled(timeout):.1f}s waiting for {what}")
        time.sleep(interval)


# Looked up once here: a child between fork and exec must not load libraries (another thread
# may have held the loader's lock at the fork).
_prctl = ctypes.CDLL(None, use_errno=True).prctl
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """In a child before exec: get SIGKILL when the test process dies, so a test that fails
    half-way leaves no samsa behind holding ctest's output pipe (ctest would wait for its timeout)."""
    _prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Proc:
    """A running `samsa CMD ...`; stop() sends a signal and waits."""

    def __init__(self, args, env=None, stdout=None, stderr=None):
        self.args = [SAMSA] + list(args)
        self.env = dict(os.environ, **(env or {}))
        self.stdout, self.stderr = stdout, stderr
        self.p = None

    def start(self):
        self.p = subprocess.Popen(self.args, env=self.env, stdout=self.stdout, stderr=self.stderr,
                                  preexec_fn=die_with_parent)
        return self

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.p is None:
            return None
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(scaled(timeout))
            except subprocess.TimeoutExpired:
                print(f"harness: {self.args[1]} ignored signal {sig}; killing", file=sys.stderr)
                self.p.kill()
                self.p.wait()
        rc = self.p.returncode
        self.p = None
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)


class Broker(Proc):
    """`samsa broker` on a free port; data_dir None means a temp dir removed on exit."""

    def __init__(self, data_dir=None, extra=(), port=None, **kw):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="samsa-broker-")
        self.port = port or free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.extra = list(extra)
        super().__init__(["broker", "--listen", self.addr, "--data-dir", self.data_dir] + self.extra, **kw)

    def start(self):
        super().start()
        wait_until(lambda: port_open(self.port) or not self.alive(), 20, f"broker on {self.addr}")
        if not self.alive():
            raise AssertionError(f"broker exited with {self.p.returncode} before listening")
        return self

    def restart(self, sig=signal.SIGTERM):
        self.stop(sig)
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def run(args, timeout=60, check=True, **kw):
    """Run `samsa ARGS` to completion; return CompletedProcess with text output."""
    cp = subprocess.run([SAMSA] + list(args), capture_output=True, text=True, timeout=scaled(timeout), **kw)
    if check and cp.returncode != 0:
        raise AssertionError(f"samsa {' '.join(args)} exited {cp.returncode}\nstdout:{cp.stdout}\nstderr:{cp.stderr}")
    return cp


@contextlib.contextmanager
def cluster():
    """Yield a bootstrap address: SAMSA_TEST_BOOTSTRAP's broker, or a fresh `samsa broker`'s."""
    if EXTERNAL:
        yield EXTERNAL
        return
    with Broker() as b:
        yield b.addr
