"""A real PostgreSQL server for the store's tests, started by the test itself (Debian's
`postgresql` package): initdb into a temporary directory, postgres on a free port with its unix
socket in that directory, stopped (and the directory removed) at the end.

    from pg import Postgres
    with Postgres() as pg:          # pg.url: postgresql://samsa@127.0.0.1:PORT/samsa
        ...

As root, initdb refuses to run: the server then runs as the `postgres` user the package created,
with the directory handed to it. Postgres.available() is False only when the binaries are absent
(`skip()` prints why and exits 0 with ctest's skip code handled by the caller).
"""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from harness import free_port, scaled


def bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    return dirs[-1] if dirs and os.path.exists(os.path.join(dirs[-1], "initdb")) else None


class Postgres:
    def __init__(self):
        self.bin = bindir()
        self.dir = None
        self.proc = None
        self.port = free_port()
        self.url = f"postgresql://samsa@127.0.0.1:{self.port}/samsa"

    @staticmethod
    def available():
        return bindir() is not None

    def _as_owner(self, args):
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + args
        return args

    def start(self):
        if not self.bin:
            raise RuntimeError("PostgreSQL binaries not found (/usr/lib/postgresql/*/bin): apt-get install postgresql")
        self.dir = tempfile.mkdtemp(prefix="samsa-pg-")
        data = os.path.join(self.dir, "data")
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        subprocess.run(self._as_owner([os.path.join(self.bin, "initdb"), "-D", data, "-U", "samsa", "-A", "trust",
                                       "--locale=C.UTF-8", "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True, cwd="/")
        self.proc = subprocess.Popen(self._as_owner([
            os.path.join(self.bin, "postgres"), "-D", data, "-p", str(self.port), "-k", self.dir,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "max_connections=100",
            "-c", "shared_buffers=64MB"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
        deadline = time.monotonic() + scaled(30)
        while True:
            r = subprocess.run([os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "samsa",
                                "-d", "postgres", "-Atc", "SELECT 1"], capture_output=True, text=True)
            if r.returncode == 0:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start: {r.stderr}")
            time.sleep(0.05)
        self.psql("CREATE DATABASE samsa", db="postgres")
        return self

    def psql(self, sql, db="samsa"):
        r = subprocess.run([os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "samsa",
                            "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {r.stderr}")
        return r.stdout.strip()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # smart shutdown
            try:
                self.proc.wait(scaled(20))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
