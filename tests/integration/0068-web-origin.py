"""Requests a foreign website could make a visitor's browser send are refused; everything else is
served as before (docs/web.md "Security").

1. POST /api/posts needs Content-Type: application/json: text/plain and form bodies (what a
   cross-site page can send without a CORS preflight) get 415 and make no post.
2. State-changing requests (POST /api/posts, POST /posts) from another origin: a foreign Origin
   (or "null") -> 403; no Origin but Sec-Fetch-Site cross-site/same-site -> 403; the server's own
   origin -> accepted; no Origin and no Sec-Fetch-Site (curl, scripts) -> accepted; an origin
   given with --allowed-origin -> accepted.
3. The form with a valid token and cookie but a foreign Origin: 403 and no post.
4. HTTP/1.1 without Host: 400; HTTP/1.0 without Host: served.
"""
import socket

from web_env import Web, check, cluster, finish, topics, wait_until

ALLOWED = "https://blog.example.org"
GOOD = {"title": "Origin test", "content": "A post sent by a well-behaved client."}


def raw(port, request):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else None


def main():
    ops, res = topics()
    with cluster() as b:
        web = Web(b, ops, res, extra=["--allowed-origin", ALLOWED]).start()
        own = f"http://127.0.0.1:{web.port}"
        try:
            def posts():
                return web.get_json("/api/stats")[1]["posts"]

            before = posts()
            # --- 1. Content-Type
            st, _, _ = web.request("POST", "/api/posts", body='{"title":"t","content":"c"}',
                                   headers={"Content-Type": "text/plain"})
            check(st == 415, f"JSON sent as text/plain: 415 (got {st})")
            st, _, _ = web.request("POST", "/api/posts", body="title=t&content=c",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
            check(st == 415, f"a form body to the API: 415 (got {st})")
            st, _, _ = web.request("POST", "/api/posts", body='{"title":"t","content":"c"}')
            check(st == 415, f"no Content-Type: 415 (got {st})")
            st, _, _ = web.post_json(GOOD, {"Content-Type": "application/json; charset=utf-8"})
            check(st == 202, f"application/json; charset=utf-8: 202 (got {st})")

            # --- 2. Origin / Sec-Fetch-Site on the API
            for hdrs, want, what in [
                ({"Origin": "http://evil.example"}, 403, "a foreign Origin"),
                ({"Origin": "null"}, 403, "Origin: null (sandboxed frame, file:)"),
                ({"Origin": f"http://127.0.0.1:{web.port + 1}"}, 403, "another port of this host"),
                ({"Sec-Fetch-Site": "cross-site"}, 403, "no Origin, Sec-Fetch-Site: cross-site"),
                ({"Sec-Fetch-Site": "same-site"}, 403, "no Origin, Sec-Fetch-Site: same-site"),
                ({"Origin": "http://evil.example", "Sec-Fetch-Site": "same-origin"}, 403,
                 "a foreign Origin wins over a same-origin Sec-Fetch-Site"),
                ({"Origin": own, "Sec-Fetch-Site": "same-origin"}, 202, "the server's own origin"),
                ({"Sec-Fetch-Site": "same-origin"}, 202, "no Origin, Sec-Fetch-Site: same-origin"),
                ({"Sec-Fetch-Site": "none"}, 202, "no Origin, Sec-Fetch-Site: none"),
                ({}, 202, "no Origin and no Sec-Fetch-Site (curl, scripts)"),
                ({"Origin": ALLOWED, "Sec-Fetch-Site": "cross-site"}, 202, "an --allowed-origin"),
            ]:
                st, _, j = web.post_json(GOOD, hdrs)
                check(st == want, f"API, {what}: {want} (got {st})")
                if want == 403:
                    check(j and "error" in j, "... with a JSON error")
            accepted = 1 + 5  # the charset one and the five 202s above
            wait_until(lambda: posts() == before + accepted, 10, "the accepted posts in the store")
            check(posts() == before + accepted, f"only the accepted requests made posts ({posts() - before})")

            # --- 3. the form: a valid token and cookie do not make a foreign page's post acceptable
            cookie, token, csrf = web.form_session()
            fields = {"title": "Form from afar", "content": "Sent by another site.", "token": token, "csrf": csrf}
            body = "&".join(f"{k}={v.replace(' ', '+')}" for k, v in fields.items())
            st, _, _ = web.request("POST", "/posts", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                "Origin": "http://evil.example"})
            check(st == 403, f"form with a foreign Origin: 403 (got {st})")
            st, _, _ = web.request("POST", "/posts", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                "Sec-Fetch-Site": "cross-site"})
            check(st == 403, f"form with Sec-Fetch-Site: cross-site: 403 (got {st})")
            check(posts() == before + accepted, "... and no post was made")
            st, h, _ = web.request("POST", "/posts", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "Origin": own,
                "Sec-Fetch-Site": "same-origin"})
            check(st == 303 and "/posts/" in h.get("location", ""), f"the same form from this site: 303 (got {st})")

            # --- 4. Host
            check(raw(web.port, b"GET /healthz HTTP/1.1\r\n\r\n") == 400, "HTTP/1.1 without Host: 400")
            check(raw(web.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") == 200, "HTTP/1.1 with Host: 200")
            check(raw(web.port, b"GET /healthz HTTP/1.0\r\n\r\n") == 200, "HTTP/1.0 without Host: 200")
        finally:
            web.stop()
    finish()


if __name__ == "__main__":
    main()
