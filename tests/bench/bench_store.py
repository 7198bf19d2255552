"""The blog's store benchmark (a part of `make bench`, not a test): prints a Markdown section.

1. Acknowledged `POST /api/posts` per second and p50/p99 (bench_web, 32 keep-alive connections,
   a 202 = the broker acknowledged the post, acks=all) with the worker running, for: the
   in-memory store of the version before the store (BENCH_BASELINE: its `samsa` binary; built by
   scripts/bench.d/60-blog.sh from BENCH_BASELINE_REF), SQLite (`--db sqlite:`) and PostgreSQL (a
   server this script starts, tests/lib/pg.py; a fresh database per run). BENCH_REPS rounds, the
   stores interleaved within each round (on a shared machine the load moves between runs, and
   interleaving gives each store the same mix); cells are median (min-max), and each store's
   ratio to the in-memory store is taken per round, then the median.
2. At BENCH_STORE_POSTS posts (default 1,000,000; 0 skips this part), loaded straight into the
   SQLite file (the schema made by `samsa web` itself, the rows inserted with the same triggers
   maintaining the counters, the full-text index caught up every 10,000 rows as `samsa web`
   does): `samsa web` start to ready (process start -> the first 200 of GET /api/posts/{the
   newest id}), p50/p99 of the feed page (GET /?before=ID at random positions) and of a search
   (GET /?q=WORD), and its RSS afterwards.

Env: SAMSA, BUILD_DIR, BENCH_BASELINE, BENCH_REPS (default 3; 0 skips part 1), BENCH_SECONDS
(default 8), BENCH_STORE_POSTS.
"""
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import http.client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import SAMSA, Broker, Proc, free_port, port_open, wait_until  # noqa: E402
from pg import Postgres  # noqa: E402

BUILD = os.environ.get("BUILD_DIR", "build")
REPS = int(os.environ.get("BENCH_REPS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
POSTS = int(os.environ.get("BENCH_STORE_POSTS", "1000000"))
BASELINE = os.environ.get("BENCH_BASELINE", "")
WORDS = ("river garden coffee train mountain letter window bread music winter harbour lamp forest street "
         "candle market kafka broker worker queue").split()


def bench_web(addr):
    out = subprocess.run([os.path.join(BUILD, "tests", "bench_web"), "--url", addr, "--connections", "32",
                          "--seconds", str(SECONDS)], capture_output=True, text=True, timeout=SECONDS * 4 + 60).stdout
    m = re.search(r"([\d.]+) posts/s\s+latency ms p50 ([\d.]+)\s+p90 [\d.]+\s+p99 ([\d.]+)", out)
    if not m:
        raise RuntimeError("bench_web printed no result:\n" + out)
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


def rss_mb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith(field + ":")).split()[1]) / 1024


def throughput(binary, db):
    """posts/s, p50, p99 of `web` (+ worker) of @binary with @db ('' = the old in-memory store)."""
    tmp = tempfile.mkdtemp(prefix="samsa-bench-store-")
    db = db.replace("{tmp}", tmp)
    env_bin = {"SAMSA": binary}
    try:
        with Broker(data_dir=os.path.join(tmp, "broker")) as broker:
            dbargs = ["--db", db] if db else []
            port = free_port()
            worker = Proc([*["worker", "-b", broker.addr, "--results-log", os.path.join(tmp, "r.jsonl"),
                             "--log-level", "warn"], *dbargs])
            web = Proc(["web", "-b", broker.addr, "--http", f"127.0.0.1:{port}", "--log-level", "warn", *dbargs])
            worker.args[0] = web.args[0] = env_bin["SAMSA"]
            worker.start()
            web.start()
            wait_until(lambda: port_open(port), 30, "web")
            r = bench_web(f"127.0.0.1:{port}")
            web.stop()
            worker.stop()
            return r
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load(path, n):
    """Fill the store at @path with @n posts with verdicts (as the worker leaves them)."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    rnd = random.Random(7)
    t0 = int(time.time() * 1000) - n
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

    def ulid(ms, i):
        s, v = "", ms
        for _ in range(10):
            s = alphabet[v % 32] + s
            v //= 32
        r, v = "", i
        for _ in range(16):
            r = alphabet[v % 32] + r
            v //= 32
        return s + r

    batch = []
    for i in range(n):
        words = " ".join(rnd.choice(WORDS) for _ in range(40))
        status = ("published", "review", "rejected")[i % 3]
        batch.append((ulid(t0 + i, i), f"api:bench-{i}", f"Post {i} about {rnd.choice(WORDS)}", words, "Bench", "en",
                      "2026-12-01T00:00:00.000Z", status, t0 + i, 70, "[]", '{"words":40}', "2026-12-01T00:00:01.000Z",
                      "bench", "{}", t0 + i, 3))
        if len(batch) == 10000 or i == n - 1:
            db.executemany("INSERT INTO posts(id, idempotency_key, title, content, author, lang, submitted_at, state,"
                           " reserved_ms, score, reasons, metrics, processed_at, worker, result, processed_ms, flags)"
                           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
            # the full-text index, caught up as samsa web does (sa_db_search_catch_up)
            db.execute("INSERT INTO posts_fts(rowid, title, content, author) SELECT seq, title, content, author"
                       " FROM posts WHERE seq > (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_seq')")
            db.execute("UPDATE meta SET value = (SELECT CAST(max(seq) AS TEXT) FROM posts) WHERE key = 'fts_seq'")
            db.commit()
            batch = []
    ids = [r[0] for r in db.execute("SELECT id FROM posts ORDER BY random() LIMIT 2000")]
    newest = db.execute("SELECT max(id) FROM posts").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return ids, newest


def timed_gets(port, paths):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat = []
    for p in paths:
        t0 = time.perf_counter()
        conn.request("GET", p)
        r = conn.getresponse()
        r.read()
        lat.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            raise RuntimeError(f"GET {p}: {r.status}")
    conn.close()
    q = statistics.quantiles(lat, n=100)
    return q[49], q[98]


def at_scale():
    tmp = tempfile.mkdtemp(prefix="samsa-bench-1m-")
    try:
        with Broker(data_dir=os.path.join(tmp, "broker")) as broker:
            path = os.path.join(tmp, "blog.db")
            port = free_port()
            args = ["web", "-b", broker.addr, "--http", f"127.0.0.1:{port}", "--db", f"sqlite:{path}", "--log-level", "warn"]
            web = Proc(args).start()  # makes the schema
            wait_until(lambda: port_open(port), 30, "web")
            web.stop()
            t0 = time.monotonic()
            ids, newest = load(path, POSTS)
            load_s = time.monotonic() - t0
            size_mb = os.path.getsize(path) / 1e6
            web = Proc(args)
            t0 = time.monotonic()
            web.start()

            def ready():
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    c.request("GET", f"/api/posts/{newest}")
                    ok = c.getresponse().status == 200
                    c.close()
                    return ok
                except OSError:
                    return False
            wait_until(ready, 60, "web ready", interval=0.002)
            ready_ms = (time.monotonic() - t0) * 1000
            rnd = random.Random(1)
            feed = timed_gets(port, [f"/?before={rnd.choice(ids)}" for _ in range(500)])
            search = timed_gets(port, [f"/?q={rnd.choice(WORDS)}" for _ in range(500)])
            api_search = timed_gets(port, [f"/api/posts?q={rnd.choice(WORDS)}+{rnd.choice(WORDS)}" for _ in range(500)])
            rss = rss_mb(web.p.pid)
            web.stop()
            return load_s, size_mb, ready_ms, feed, search, api_search, rss
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def median_cell(values, fmt):
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}-{fmt(max(values))})"


def main():
    load_start = os.getloadavg()
    stores = []
    if BASELINE and os.path.exists(BASELINE):
        stores.append(("in-memory store (before the store; posts rebuilt from the topics)", BASELINE, lambda r: ""))
    stores.append(("SQLite (`--db sqlite:`, WAL)", SAMSA, lambda r: "sqlite:{tmp}/blog.db"))
    pg = Postgres().start() if Postgres.available() else None
    if pg:
        def pg_db(r):
            pg.psql(f"CREATE DATABASE bench_{r}", db="postgres")
            return pg.url.rsplit("/", 1)[0] + f"/bench_{r}"
        stores.append(("PostgreSQL 15 (`--db postgresql://`, same machine)", SAMSA, None))
    runs = {name: [] for name, _, _ in stores}
    try:
        k = 0
        for rep in range(REPS):
            for name, binary, db in stores:
                k += 1
                url = pg_db(k) if db is None else db(k)
                runs[name].append(throughput(binary, url))
    finally:
        if pg:
            pg.stop()
    load_end = os.getloadavg()
    base = stores[0][0] if BASELINE and os.path.exists(BASELINE) else None
    print("## The blog's store: posts/s, feed and search at scale (bench_store.py)\n")
    print(f"`/usr/bin/python3 tests/bench/bench_store.py` (BENCH_REPS={REPS}, BENCH_SECONDS={SECONDS}, "
          f"BENCH_STORE_POSTS={POSTS}): `samsa broker` + `samsa worker --work-ms 0` + `samsa web`; `bench_web "
          "--connections 32` sends closed-loop `POST /api/posts`; a 202 means the post is in the store (its "
          "reservation fsync'd) and the broker acknowledged it (acks=all, fsync'd). Rounds interleave the stores; "
          "cells: median (min-max) over the rounds. Load average "
          f"{load_start[0]:.2f} at the start, {load_end[0]:.2f} at the end.\n")
    if REPS > 0:
        print("| store | acknowledged posts/s | p50 ms | p99 ms | posts/s vs in-memory |")
        print("|---|---|---|---|---|")
    for name, _, _ in stores if REPS > 0 else []:
        r = runs[name]
        ratio = ""
        if base and name != base:
            ratio = f"{statistics.median([a[0] / b[0] for a, b in zip(r, runs[base])]):.2f}x"
        print(f"| {name} | {median_cell([x[0] for x in r], lambda v: f'{v:,.0f}')} | "
              f"{median_cell([x[1] for x in r], lambda v: f'{v:.1f}')} | "
              f"{median_cell([x[2] for x in r], lambda v: f'{v:.1f}')} | {ratio} |")
    if POSTS <= 0:
        return
    load_s, size_mb, ready_ms, feed, search, api_search, rss = at_scale()
    print(f"\nAt {POSTS:,} posts in SQLite ({size_mb:,.0f} MB file, loaded in {load_s:.0f} s): `samsa web` start to "
          f"ready (first 200 for the newest post) **{ready_ms:.0f} ms**; feed page `GET /?before=ID` p50 "
          f"{feed[0]:.2f} ms, p99 **{feed[1]:.2f} ms**; search page `GET /?q=WORD` p50 {search[0]:.2f} ms, p99 "
          f"**{search[1]:.2f} ms**; `GET /api/posts?q=TWO+WORDS` p50 {api_search[0]:.2f} ms, p99 {api_search[1]:.2f} ms; "
          f"web RSS afterwards **{rss:.0f} MB**.\n")


if __name__ == "__main__":
    main()
