"""Idempotency is a database constraint (docs/web.md): the store's UNIQUE key decides, across a
kill -9 of the web server, a restart and two servers at once; every post is made once, kept, and
logged once by the worker.

A. SQLite: 300 posts with Idempotency-Key while `samsa web` is killed with -9 half-way; every
   client retries its key (on the restarted server) until it gets 200/202: one post per key, the
   same id for every answer of a key, nothing lost, each post exactly once in the results log;
   GET /api/posts/{id} is right from the first answer after the restart (no warm-up); paging
   and search (also with FTS syntax characters) read the store.
B. PostgreSQL (a real server the test starts): two web servers, every key sent to both at the
   same moment: one post per key, in the store and in the results log.
"""
import concurrent.futures
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading

from web_env import DB, STORE_DIR, Proc, Web, check, cluster, finish, scaled, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pg import Postgres  # noqa: E402


def body(i):
    return {"title": f"Idempotent post {i}", "content": f"Post {i} is sent with a key and retried. "
            "It must exist exactly once, whatever happens to the server."}


def send_until_answered(get_web, key, doc, deadline_s=90):
    """POST with @key until 200/202 (409/503/connection errors are retried); @returns the id seen."""
    ids = []
    wait_until(lambda: attempt(get_web, key, doc, ids), deadline_s, f"an answer for key {key}", interval=0.05)
    return ids


def attempt(get_web, key, doc, ids):
    try:
        st, _, j = get_web().post_json(doc, headers={"Idempotency-Key": key})
    except OSError:
        return False
    if st in (200, 202):
        ids.append(j["id"])
        return True
    if st not in (409, 503):
        raise AssertionError(f"key {key}: unexpected {st} {j}")
    return False


def results_log_ids(path):
    ids = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            ids = [json.loads(line)["id"] for line in f if line.strip()]
    return ids


def part_sqlite(b):
    log = os.path.join(STORE_DIR, "results.jsonl")
    worker = Proc(["worker", "-b", b, "--db", DB, "--results-log", log, "--log-level", "warn"]).start()
    web = Web(b).start()
    current = {"web": web}
    n = 300
    first_ids = {}
    try:
        lock = threading.Lock()
        sent = [0]

        def client(i):
            key = f"restart-{i}"
            ids = send_until_answered(lambda: current["web"], key, body(i))
            with lock:
                sent[0] += 1
            first_ids[key] = ids[0]
            # a retry after the answer: the same post, 200
            again = send_until_answered(lambda: current["web"], key, body(i))
            return key, ids + again

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            futs = [pool.submit(client, i) for i in range(n)]
            wait_until(lambda: sent[0] >= n // 3, 60, "a third of the posts answered")
            web.kill9()
            web2 = Web(b, port=web.port)
            web2.start(healthy=False)
            current["web"] = web2
            # right from the first answer: a post made before the kill is there (no rebuild)
            some = next(iter(first_ids.values()))
            st, j = web2.get_json(f"/api/posts/{some}")
            check(st == 200 and j["id"] == some, f"after kill -9 and restart, GET /api/posts/{{id}} at once: {st}")
            results = [f.result() for f in futs]
        same = all(len(set(ids)) == 1 for _, ids in results)
        check(same, "every answer for a key names the same post")
        all_ids = {ids[0] for _, ids in results}
        check(len(all_ids) == n, f"{n} keys, {len(all_ids)} posts")

        db = sqlite3.connect(DB[len("sqlite:"):])
        rows = db.execute("SELECT idempotency_key, count(*) FROM posts WHERE idempotency_key LIKE 'api:restart-%'"
                          " GROUP BY idempotency_key").fetchall()
        check(len(rows) == n and all(c == 1 for _, c in rows), f"the store: one post per key ({len(rows)} keys)")
        wait_until(lambda: db.execute("SELECT count(*) FROM posts WHERE state IN ('pending', 'queued')").fetchone()[0]
                   == 0, 60, "every post has its verdict (pending ones swept, produced again)")
        check(True, "nothing stays in flight: every post has a verdict")
        wait_until(lambda: len(results_log_ids(log)) >= n, 60, "the results log to hold every post")
        ids = results_log_ids(log)
        check(len(ids) == len(set(ids)) == n and set(ids) == all_ids,
              f"the results log holds each post exactly once ({len(ids)} lines, {len(set(ids))} posts)")
        db.close()

        # paging and search read the store
        w = current["web"]
        st, j = w.get_json("/api/posts?limit=100")
        st2, j2 = w.get_json(f"/api/posts?limit=100&before={j['next_before']}")
        check(st == st2 == 200 and len(j2["posts"]) == 100 and not {p["id"] for p in j["posts"]} & {p["id"] for p in j2["posts"]},
              "paging: the next page continues where the first ended")
        st, j = w.get_json("/api/posts?q=Idempotent%20post%20123")
        check(st == 200 and any(p["title"] == "Idempotent post 123" for p in j["posts"]), "search finds a post by its words")
        for q in ['"', 'a AND', 'NEAR(x', '*', 'title:x', "'; DROP TABLE posts; --", "кошка"]:
            st, _, _ = w.get("/api/posts?q=" + __import__("urllib.parse").parse.quote(q))
            check(st == 200, f"search with {q!r}: 200, not an error")
        st, _, page = w.get("/?q=%3Cscript%3E")
        check(st == 200 and b"<script>" not in page.split(b"</head>")[1], "the search box echoes the query escaped")
        st, _, page = w.get("/")
        # the 300 posts differ only in a number (not a word): copies of each other, so rejected,
        # which the public feed hides; their own list pages the same way
        st2, _, rejected = w.get("/?status=rejected")
        check(b'id="search-form"' in page and b'id="older-link"' in rejected,
              "the page has the search box, and the rejected posts' list an older-posts link")
    finally:
        current["web"].stop()
        worker.stop()


def part_postgres(b):
    if not Postgres.available():
        print("SKIP part B: PostgreSQL binaries not found (scripts/deps.sh test installs them)")
        return
    tmp = tempfile.mkdtemp(prefix="samsa-0064-")
    with Postgres() as pg:
        log = os.path.join(tmp, "results.jsonl")
        ops, res = "pg_operations", "pg_results"
        worker = Proc(["worker", "-b", b, "--db", pg.url, "--results-log", log, "--topic", ops,
                       "--results-topic", res, "--group", "pg_group", "--log-level", "warn"]).start()
        webs = [Web(b, ops, res, db=pg.url).start(), Web(b, ops, res, db=pg.url).start()]
        try:
            n = 50
            barrier = threading.Barrier(2)

            def both(i, w):
                barrier.wait()
                return send_until_answered(lambda: w, f"twin-{i}", body(i))

            per_key = []
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                for i in range(n):
                    a, c = pool.submit(both, i, webs[0]), pool.submit(both, i, webs[1])
                    per_key.append(set(a.result()) | set(c.result()))
            check(all(len(s) == 1 for s in per_key), "two servers, the same key at the same moment: one post id")
            rows = pg.psql("SELECT count(*), count(DISTINCT idempotency_key) FROM posts WHERE idempotency_key LIKE 'api:twin-%'")
            check(rows == f"{n}|{n}", f"PostgreSQL: {n} posts for {n} keys ({rows})")
            wait_until(lambda: len(results_log_ids(log)) >= n, 60, "the results log to hold every post")
            ids = results_log_ids(log)
            check(len(ids) == len(set(ids)) == n, f"the results log holds each post once ({len(ids)} lines)")
            st, j = webs[1].get_json("/api/posts?q=Idempotent")
            check(st == 200 and len(j["posts"]) == 20, "PostgreSQL full-text search answers")
            st, j = webs[0].get_json("/api/stats")
            check(st == 200 and j["posts"] == n, f"statistics from the store ({j.get('posts')})")
        finally:
            for w in webs:
                w.stop()
            worker.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def main():
    with cluster() as b:
        part_sqlite(b)
        part_postgres(b)
    finish()


if __name__ == "__main__":
    main()
