"""`samsa web` against a real `samsa broker`: the JSON API, the HTML form with its one-time token,
live updates over SSE, bad input (400/413/422), escaping, security headers, metrics. The verdict
is published to blog_results by the test itself here; 0063 runs the real worker."""
import concurrent.futures
import re
import subprocess

from web_env import SAMSA, Sse, Web, check, cluster, finish, produce, read_topic, topics, wait_until


QUICK_RETRIES = 60


def html(page):
    return page.decode("utf-8")


def main():
    ops, res = topics()
    with cluster() as b:
        web = Web(b, ops, res, extra=["--max-body", "64k"]).start()
        sse = Sse(web.port)
        try:
            wait_until(lambda: sse.head is not None, 10, "the SSE stream to open")
            check(b"text/event-stream" in sse.head, "/api/events is text/event-stream")

            # --- create through the API: 202 + Location, in the topic before the answer
            st, h, j = web.post_json({"title": "First post", "content": "Hello world, this is a test.", "author": "Ann"})
            check(st == 202, f"POST /api/posts: 202 (got {st})")
            pid = j["id"]
            check(h.get("location") == f"/api/posts/{pid}", "Location: /api/posts/{id}")
            check(j["status"] == "queued" and j["author"] == "Ann", "the body is the post, status queued")
            check(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", pid) is not None, "the id is a ULID")
            st, got = web.get_json(h["location"])
            check(st == 200 and got["id"] == pid, "GET Location finds it")
            recs = read_topic(b, ops)
            mine = [v for k, v in recs if k == pid]
            check(len(mine) == 1 and mine[0]["type"] == "create_post" and mine[0]["title"] == "First post"
                  and mine[0]["submitted_at"] and mine[0]["lang"] == "en", "the record is in blog_operations (key = id)")
            wait_until(lambda: sse.find("post", lambda d: d["id"] == pid), 10, "an SSE 'post' event")
            check(True, "SSE: 'post' event for the new post")

            # --- a verdict on blog_results reaches the API, the page and the SSE stream
            produce(b, res, pid, {"id": pid, "status": "published", "score": 87, "reasons": ["clear text"],
                                  "processed_at": "2026-01-01T00:00:00.000Z", "worker": "test"})
            wait_until(lambda: web.get_json(f"/api/posts/{pid}")[1]["status"] == "published", 15, "status published")
            check(web.get_json(f"/api/posts/{pid}")[1]["score"] == 87, "score 87 from blog_results")
            wait_until(lambda: sse.find("status", lambda d: d["id"] == pid and d["status"] == "published"), 10,
                       "an SSE 'status' event")
            check(True, "SSE: 'status' event with the verdict")
            st, _, page = web.get(f"/posts/{pid}")
            check(st == 200 and "status-published" in html(page) and "<b>87</b>" in html(page)
                  and "clear text" in html(page), "the post page shows verdict, score and reasons")
            check(web.get("/api/posts/01ARZ3NDEKTSV4RRFFQ69G5FAV")[0] == 404, "unknown id: 404")
            check(web.get("/api/posts/not-an-id")[0] == 404, "malformed id: 404")
            check(web.get("/posts/01ARZ3NDEKTSV4RRFFQ69G5FAV")[0] == 404, "unknown post page: 404")

            # --- Idempotency-Key
            body = {"title": "Idem", "content": "Same body twice."}
            st1, h1, j1 = web.post_json(body, {"Idempotency-Key": "k-1"})
            st2, h2, j2 = web.post_json(body, {"Idempotency-Key": "k-1"})
            check(st1 == 202 and st2 in (200, 202) and j1["id"] == j2["id"] and h1["location"] == h2["location"],
                  f"same key, same body: the same post ({st1}, {st2})")
            # a retry sent the moment the 202 arrives (before the post's queued mark commits) is the
            # same post, answered 200, never 409 "in progress": its request was answered already
            answers = []
            for i in range(QUICK_RETRIES):
                body_i = {"title": f"Quick retry {i}", "content": "Retried as soon as it was accepted."}
                sa, _, ja = web.post_json(body_i, {"Idempotency-Key": f"quick-{i}"})
                sb, _, jb = web.post_json(body_i, {"Idempotency-Key": f"quick-{i}"})
                answers.append((sa, sb, ja.get("id") == jb.get("id")))
            bad = [a for a in answers if a[0] != 202 or a[1] != 200 or not a[2]]
            check(not bad, f"{QUICK_RETRIES} retries at once after the 202: 200 with the same post ({len(bad)} not: {bad[:3]})")
            st3, _, j3 = web.post_json({"title": "Idem", "content": "Another body."}, {"Idempotency-Key": "k-1"})
            check(st3 == 422 and "Idempotency-Key" in j3["error"], f"same key, other body: 422 (got {st3})")

            # --- the form, its one-time token and CSRF value
            cookie, token, csrf = web.form_session()
            check(cookie.startswith("samsa_csrf="), "GET / sets the CSRF cookie")
            fields = {"title": "Form post", "content": "Written in a form.", "author": "", "token": token, "csrf": csrf}
            st, h, _ = web.post_form(fields, cookie)
            loc = h.get("location", "")
            check(st == 303 and re.fullmatch(r"/posts/[0-9A-Z]{26}\?lang=en&queued=1", loc) is not None,
                  f"POST /posts: 303 to the post ({st} {loc})")
            st2, h2, _ = web.post_form(fields, cookie)
            check(st2 == 303 and h2.get("location") == loc, "the same form again (double click/refresh): same post")
            form_id = loc.split("/")[2].split("?")[0]
            st, _, page = web.get(loc)
            check(st == 200 and "Post sent to the queue for creation" in html(page), "the queued notice (en)")
            check("Anonymous" in html(page), "no author: Anonymous")
            st, _, page = web.get(loc.replace("lang=en", "lang=ru"))
            check("Пост отправлен в очередь на создание" in html(page) and "Аноним" in html(page), "?lang=ru: Russian")
            st, _, page = web.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
            check('lang="ru"' in html(page) and "Аноним" in html(page), "Accept-Language: ru gives Russian")
            st, _, page = web.get("/", headers={"Accept-Language": "de-DE,en;q=0.5"})
            check('lang="en"' in html(page), "Accept-Language without ru: English")
            st, _, page = web.post_form(dict(fields, csrf="0" * 32, token="1" * 32), cookie)
            check(st == 403 and "Written in a form." in html(page), "wrong CSRF value: 403, input kept")

            # --- a frantic double click: the same form five times at once makes one post
            cookie, token, csrf = web.form_session()
            burst = {"title": "Clicked five times", "content": "One post only.", "token": token, "csrf": csrf}
            with concurrent.futures.ThreadPoolExecutor(5) as pool:
                answers = list(pool.map(lambda _: web.post_form(burst, cookie), range(5)))
            locs = {h.get("location") for st, h, _ in answers if st == 303}
            check(all(st == 303 for st, _, _ in answers) and len(locs) == 1,
                  f"five simultaneous submits of one form: all 303 to one post ({[a[0] for a in answers]})")
            burst_id = locs.pop().split("/")[2].split("?")[0]

            # --- validation: per-field messages, input kept
            cookie, token, csrf = web.form_session()
            st, _, page = web.post_form({"title": "  ", "content": "Keep me <b>", "author": "Bob", "token": token,
                                         "csrf": csrf}, cookie)
            p = html(page)
            check(st == 422 and 'id="title-error"' in p and "This field is required." in p, "form: 422, title required")
            check("Keep me &lt;b&gt;</textarea>" in p and 'value="Bob"' in p, "form: the input is kept (escaped)")
            st, _, j = web.post_json({"title": "", "content": "x"})
            check(st == 422 and j["fields"]["title"]["code"] == "required", "API: empty title 422 required")
            st, _, j = web.post_json({"title": "t" * 201, "content": "x"})
            check(st == 422 and j["fields"]["title"]["code"] == "too_long" and "200" in j["fields"]["title"]["message"],
                  "API: 201-character title 422 too_long")
            st, _, j = web.post_json({"title": "Заголовок" * 22, "content": "x"})
            check(st == 202, "API: 198 Cyrillic characters (396 bytes) are within 200 characters")
            st, _, j = web.post_json({"title": 5, "content": "x"})
            check(st == 422 and j["fields"]["title"]["code"] == "type", "API: a number as title 422")
            st, _, j = web.post_json({"title": "ok", "content": "bad \u0001 char"})
            check(st == 422 and j["fields"]["content"]["code"] == "control_characters", "API: control characters 422")
            st, _, _ = web.request("POST", "/api/posts", body='{"title": "x", ', headers={"Content-Type": "application/json"})
            check(st == 400, f"malformed JSON: 400 (got {st})")
            st, _, _ = web.request("POST", "/api/posts", body="[1,2]", headers={"Content-Type": "application/json"})
            check(st == 400, "a JSON array: 400")
            st, _, _ = web.post_json({"title": "big", "content": "x" * (70 * 1024)})
            check(st == 413, f"a 70 KiB body with --max-body 64k: 413 (got {st})")

            # --- escaping: a script in a title is text
            xss = '<script>alert("x")</script><img src=x onerror=alert(1)>'
            st, _, j = web.post_json({"title": xss, "content": "xss test", "author": "<i>Eve</i>"})
            xid = j["id"]
            for path in ["/", f"/posts/{xid}"]:
                p = html(web.get(path)[2])
                check(xss not in p and "<img src=x" not in p and "<i>Eve</i>" not in p
                      and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in p, f"{path}: the XSS title is escaped text")

            # --- headers, assets, methods
            st, h, page = web.get("/")
            check("script-src 'self'" in h.get("content-security-policy", "") and h.get("x-content-type-options") == "nosniff"
                  and h.get("x-frame-options") == "DENY", "CSP, nosniff, frame options")
            check(re.findall(r"<script(?![^>]*\bsrc=)", html(page)) == [], "no inline script")
            st, h, js = web.get("/static/live.js")
            check(st == 200 and h["content-type"].startswith("text/javascript") and b"EventSource" in js, "live.js served")
            check(web.get("/static/style.css")[0] == 200, "style.css served")
            check(web.get("/static/nope.js")[0] == 404, "unknown asset 404")
            check(web.request("DELETE", "/api/posts")[0] == 405, "DELETE /api/posts: 405")
            check(web.get("/nowhere")[0] == 404, "unknown path 404")

            # --- paging, metrics, stats
            st, j = web.get_json("/api/posts?limit=2")
            check(st == 200 and len(j["posts"]) == 2 and j["next_before"], "paging: first page of 2")
            st, j2 = web.get_json(f"/api/posts?limit=2&before={j['next_before']}")
            ids = [p["id"] for p in j["posts"] + j2["posts"]]
            check(len(set(ids)) == 4 and ids == sorted(ids, reverse=True), "paging: next page older, newest first")
            cp = subprocess.run([SAMSA, "web", "-b", b, "--http", web.addr], capture_output=True, text=True, timeout=30)
            check(cp.returncode == 1 and "cannot listen" in cp.stderr, "a second server on the same port: exit 1, clear error")
            m = web.get("/metrics")[2].decode()
            check('samsa_web_requests_total{route="POST /api/posts",code="202"}' in m, "metrics: requests by route/code")
            check("samsa_web_produce_latency_seconds_bucket{le=\"+Inf\"}" in m, "metrics: produce latency histogram")
            check('samsa_web_posts{status="published"} 1' in m and "samsa_web_sse_clients 1" in m,
                  "metrics: posts by status, SSE clients")
            st, s = web.get_json("/api/stats")
            check(st == 200 and s["published"] == 1 and s["queued"] >= 4, f"stats: {s}")

            # --- the log holds each post once: first, idem, the quick retries, form, burst, cyrillic, xss
            wanted = {pid, j1["id"], form_id, burst_id, xid}
            recs = read_topic(b, ops)
            keys = [k for k, _ in recs]
            check(len(keys) == len(set(keys)) and wanted <= set(keys) and len(keys) == 6 + QUICK_RETRIES,
                  f"blog_operations holds each post exactly once ({len(keys)} records)")
        finally:
            sse.close()
            rc = web.stop()
        check(rc == 0, f"SIGTERM: exit 0 (got {rc})")
    finish()


if __name__ == "__main__":
    main()
