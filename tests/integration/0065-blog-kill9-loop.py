"""kill -9 loops over the broker, the worker and the web server while posts are submitted with
Idempotency-Keys (docs/web.md "Guarantees"): every acknowledged post (202, or 200 for its key)
ends with exactly one verdict in the store and exactly one line in the results log, and no key
ever makes a second post.
"""
import concurrent.futures
import json
import os
import signal
import sqlite3
import threading
import time

from web_env import DB, EXTERNAL, STORE_DIR, Broker, Proc, Web, check, finish, scaled, wait_until

ROUNDS = 2


def main():
    if EXTERNAL:
        print("SKIP: kills its own broker")
        finish()
        return
    log = os.path.join(STORE_DIR, "results.jsonl")
    broker = Broker(data_dir=os.path.join(STORE_DIR, "broker")).start()
    worker_args = ["worker", "-b", broker.addr, "--db", DB, "--results-log", log, "--log-level", "warn"]
    worker = Proc(worker_args).start()
    web = Web(broker.addr).start()
    parts = {"web": web, "worker": worker}
    stop = threading.Event()
    acked = {}  # key -> set of ids answered
    lock = threading.Lock()

    def client(c):
        i = 0
        while not stop.is_set():
            key, doc = f"loop-{c}-{i}", {"title": f"Loop post {c}-{i}", "content": "Written while parts die."}
            while not stop.is_set():
                try:
                    st, _, j = parts["web"].post_json(doc, headers={"Idempotency-Key": key})
                except OSError:
                    st, j = None, None
                if st in (200, 202):
                    with lock:
                        acked.setdefault(key, set()).add(j["id"])
                    break
                time.sleep(0.02)
            i += 1

    try:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            futs = [pool.submit(client, c) for c in range(6)]
            for r in range(ROUNDS):
                wait_until(lambda: len(acked) >= 40 * (3 * r + 1), 60, "posts acknowledged")
                broker.stop(signal.SIGKILL)
                broker.start()
                wait_until(lambda: len(acked) >= 40 * (3 * r + 2), 60, "posts after the broker's restart")
                parts["worker"].kill9()
                parts["worker"] = Proc(worker_args).start()
                wait_until(lambda: len(acked) >= 40 * (3 * r + 3), 60, "posts after the worker's restart")
                parts["web"].kill9()
                parts["web"] = Web(broker.addr, port=parts["web"].port).start(healthy=False)
            wait_until(lambda: len(acked) >= 40 * (3 * ROUNDS + 1), 60, "posts after the last restart")
            stop.set()
            for f in futs:
                f.result()
        check(all(len(ids) == 1 for ids in acked.values()), f"every answer for a key names one post ({len(acked)} keys)")
        db = sqlite3.connect(DB[len("sqlite:"):])
        wait_until(lambda: db.execute("SELECT count(*) FROM posts WHERE result IS NULL").fetchone()[0] == 0, 90,
                   "every post to get its verdict")
        rows = dict(db.execute("SELECT idempotency_key, count(*) FROM posts GROUP BY idempotency_key").fetchall())
        keys = {f"api:{k}" for k in acked}
        check(all(rows.get(k) == 1 for k in keys), "every acknowledged key: exactly one post in the store")
        check(all(c == 1 for c in rows.values()), "no key has two posts")
        ids = {next(iter(v)) for v in acked.values()}
        stored = {r[0] for r in db.execute("SELECT id FROM posts WHERE result IS NOT NULL")}
        check(ids <= stored, f"every acknowledged post has a verdict ({len(ids & stored)}/{len(ids)})")

        def logged():
            with open(log, encoding="utf-8") as f:
                return [json.loads(line)["id"] for line in f if line.strip()]
        wait_until(lambda: len(set(logged())) >= len(stored), 60, "the results log to catch up")
        lines = logged()
        check(len(lines) == len(set(lines)) and set(lines) == stored,
              f"the results log: each verdict exactly once ({len(lines)} lines, {len(stored)} verdicts)")
        db.close()
    finally:
        stop.set()
        parts["web"].stop()
        parts["worker"].stop()
        broker.stop()
    finish()


if __name__ == "__main__":
    main()
