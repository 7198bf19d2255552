"""The whole pipeline without a browser: samsa broker + samsa worker + samsa web. Posts made
through the form and the API move from queued to a verdict with a score and reasons, the SSE
stream carries each change (and replays them after Last-Event-ID), the queue statistics count
them and see the worker."""
import os
import shutil
import tempfile

from web_env import DB, Proc, Sse, Web, check, cluster, finish, wait_until


def main():
    results = tempfile.mkdtemp(prefix="samsa-0063-")
    with cluster() as b:
        worker = Proc(["worker", "-b", b, "--db", DB, "--results-log", os.path.join(results, "results.jsonl"),
                       "--work-ms", "0"]).start()
        web = Web(b).start()
        sse = Sse(web.port)
        try:
            wait_until(lambda: sse.head is not None, 10, "the SSE stream")
            good = {"title": "A proper post about Kafka", "author": "Ann",
                    "content": "Kafka keeps the queue safely. The worker reads it in a consumer group. "
                               "Each post gets a score and a verdict, and the page shows it live."}
            spam = {"title": "BUY NOW!!! FREE MONEY!!!", "content": "CLICK http://a.example http://b.example "
                    "http://c.example http://d.example FREE FREE FREE!!!!!!!! BUY NOW!!!!!!!"}
            ids = []
            for doc in (good, spam):
                st, _, j = web.post_json(doc)
                check(st == 202, f"API post: 202 ({doc['title'][:20]})")
                ids.append(j["id"])
            cookie, token, csrf = web.form_session(lang="ru")
            st, h, _ = web.post_form({"title": "Пост из формы", "content": "Это нормальный текст на русском языке. "
                                      "В нём несколько предложений. Воркер его оценит.", "token": token, "csrf": csrf},
                                     cookie, path="/posts?lang=ru")
            check(st == 303, "form post (ru): 303")
            ids.append(h["location"].split("/")[2].split("?")[0])

            def verdict(pid):
                st, p = web.get_json(f"/api/posts/{pid}")
                return p if st == 200 and p["status"] != "queued" else None
            for pid in ids:
                p = wait_until(lambda: verdict(pid), 30, f"a verdict for {pid}")
                check(p["status"] in ("published", "review", "rejected") and isinstance(p["score"], (int, float))
                      and isinstance(p["reasons"], list), f"{pid}: {p['status']} score {p['score']}")
            spam_post = verdict(ids[1])
            check(spam_post["status"] in ("rejected", "review") and spam_post["reasons"],
                  f"the spam post is not published, with reasons ({spam_post['status']})")
            for pid in ids:
                wait_until(lambda: sse.find("status", lambda d: d["id"] == pid and d["status"] != "queued"), 10,
                           f"SSE status event for {pid}")
            check(True, "SSE: one status event per verdict")
            page = web.get(f"/posts/{ids[2]}?lang=ru")[2].decode()
            check("Оценка" in page and 'class="badge status-' in page, "the Russian post page shows the verdict")

            # a client reconnecting with Last-Event-ID gets what it missed
            replay = Sse(web.port, last_event_id=0)
            wait_until(lambda: len(replay.find("status")) >= 3, 10, "the replay after Last-Event-ID: 0")
            check(True, "Last-Event-ID: events replayed from the ring")
            replay.close()

            def stats_ok():
                s = web.get_json("/api/stats")[1]
                return s if s["processed"] >= 3 and s["queued"] == 0 and s["workers"] == 1 and s["lag"] == 0 else None
            s = wait_until(stats_ok, 20, "stats: processed 3, lag 0, one worker")
            check(True, f"queue statistics from the broker: {s}")
            beat = wait_until(lambda: sse.find("stats"), 10, "an SSE stats heartbeat")[-1]
            check("queued" in beat and "sse_clients" in beat, f"SSE heartbeat carries the statistics: {beat}")
        finally:
            sse.close()
            rc = web.stop()
            worker.stop()
            shutil.rmtree(results, ignore_errors=True)
        check(rc == 0, "web: SIGTERM exit 0")
    finish()


if __name__ == "__main__":
    main()
