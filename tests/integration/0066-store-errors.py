"""A store that cannot be opened gets one clear line naming the URL (password masked) and what to
do, and exit status 3 (docs/web.md), from `samsa web` and `samsa worker`: an unreachable
PostgreSQL, a locked SQLite file, a file of garbage, a schema from a newer samsa, a bad URL.
"""
import os
import sqlite3
import subprocess
import tempfile
import threading

from web_env import SAMSA, check, finish, free_port, scaled

STORE_EXIT = 3


def run(cmd, db, timeout=40):
    args = [SAMSA, cmd, "-b", "127.0.0.1:1", "--db", db]
    if cmd == "web":
        args += ["--http", f"127.0.0.1:{free_port()}"]
    else:
        args += ["--results-log", os.path.join(tempfile.gettempdir(), f"samsa-0066-{os.getpid()}.jsonl")]
    cp = subprocess.run(args, capture_output=True, text=True, timeout=scaled(timeout))
    return cp.returncode, cp.stderr


def expect(db, words, what):
    for cmd in ("web", "worker"):
        rc, err = run(cmd, db)
        line = [ln for ln in err.splitlines() if "store" in ln]
        ok = rc == STORE_EXIT and line and all(w in line[0] for w in words)
        check(ok, f"{cmd}, {what}: exit {rc}, {line[0] if line else err.strip()[-200:]!r}")


def main():
    d = tempfile.mkdtemp(prefix="samsa-0066-")
    port = free_port()  # nothing listens there
    expect(f"postgresql://blog:s3cret@127.0.0.1:{port}/blog?connect_timeout=2", ["***", "127.0.0.1", "check that"],
           "unreachable PostgreSQL, password masked")
    rc, err = run("web", f"postgresql://blog:s3cret@127.0.0.1:{port}/blog?connect_timeout=2")
    check("s3cret" not in err, "the password is never printed")

    garbage = os.path.join(d, "garbage.db")
    with open(garbage, "wb") as f:
        f.write(os.urandom(8192))
    expect(f"sqlite:{garbage}", ["garbage.db", "not a samsa database or it is damaged"], "a file of garbage")

    newer = os.path.join(d, "newer.db")
    db = sqlite3.connect(newer)
    db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '999')")
    db.commit()
    db.close()
    expect(f"sqlite:{newer}", ["newer.db", "999", "upgrade samsa"], "a schema from a newer samsa")

    locked = os.path.join(d, "locked.db")
    db = sqlite3.connect(locked, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE x(a)")
    db.execute("BEGIN EXCLUSIVE")
    db.execute("INSERT INTO x VALUES (1)")
    try:
        expect(f"sqlite:{locked}", ["locked.db", "keeps it locked"], "a file another process keeps locked")
    finally:
        db.execute("ROLLBACK")
        db.close()

    expect("mysql://x", ["mysql://x", "--db sqlite:PATH"], "not a database URL")
    finish()


if __name__ == "__main__":
    main()
