"""Broker down: `samsa web` answers 503 + Retry-After with the form filled in and a clear
message, /healthz says 503, and nothing is half-written: when the broker comes back the topic
holds only the posts that got a 2xx, and posting works again."""
import shutil
import tempfile

from web_env import Broker, Web, free_port, check, finish, read_topic, wait_until


def main():
    port = free_port()
    addr = f"127.0.0.1:{port}"
    data = tempfile.mkdtemp(prefix="samsa-web-0061-")
    web = Web(addr).start(healthy=False)
    broker = None
    try:
        # --- no broker at all yet
        st, h, body = web.get("/healthz")
        check(st == 503 and b"unreachable" in body, f"/healthz without a broker: 503 (got {st})")
        check(web.get("/")[0] == 200, "the front page still renders")
        cookie, token, csrf = web.form_session()
        st, h, page = web.post_form({"title": "Lost?", "content": "Not while the broker is down.", "author": "Zoe",
                                     "token": token, "csrf": csrf}, cookie)
        p = page.decode()
        check(st == 503 and h.get("retry-after") == "5", f"form without a broker: 503 + Retry-After (got {st})")
        check('value="Lost?"' in p and "Not while the broker is down.</textarea>" in p and 'value="Zoe"' in p,
              "the form comes back filled in")
        check("The queue is unavailable right now" in p, "with a clear message")
        st, h, j = web.post_json({"title": "api", "content": "down"})
        check(st == 503 and h.get("retry-after") and "unavailable" in j["error"], "API without a broker: 503 + Retry-After")

        # --- the broker comes up: the same form (same token) now goes through
        broker = Broker(data_dir=data, port=port).start()
        wait_until(lambda: web.get("/healthz")[0] == 200, 30, "/healthz 200 once the broker is up")
        check(True, "/healthz turns 200 when the broker is reachable")
        st, h, _ = web.post_form({"title": "Lost?", "content": "Not while the broker is down.", "author": "Zoe",
                                  "token": token, "csrf": csrf}, cookie)
        check(st == 303, f"the kept form submits once the broker is back: 303 (got {st})")
        first = h["location"].split("/")[2].split("?")[0]

        # --- the broker goes away again
        broker.stop()
        wait_until(lambda: web.get("/healthz")[0] == 503, 20, "/healthz 503 after the broker stopped")
        check(True, "/healthz turns 503 when the broker stops")
        cookie, token, csrf = web.form_session()
        st, h, page = web.post_form({"title": "Second", "content": "Also refused.", "token": token, "csrf": csrf}, cookie)
        check(st == 503 and "Also refused.</textarea>" in page.decode(), "503 with the form filled again")
        st, _, _ = web.post_json({"title": "api2", "content": "down again"})
        check(st == 503, "API 503 again")

        # --- back: only the acknowledged post is in the log, and posting works
        broker.start()
        wait_until(lambda: web.get("/healthz")[0] == 200, 30, "/healthz 200 after the restart")
        recs = read_topic(addr, "blog_operations")
        check([k for k, _ in recs] == [first], f"the topic holds exactly the acknowledged post ({len(recs)} records)")
        st, _, j = web.post_json({"title": "after", "content": "the broker is back"})
        check(st == 202, f"posting works again: 202 (got {st})")
    finally:
        rc = web.stop()
        if broker:
            broker.stop()
        shutil.rmtree(data, ignore_errors=True)
    check(rc == 0, f"SIGTERM: exit 0 (got {rc})")
    finish()


if __name__ == "__main__":
    main()
