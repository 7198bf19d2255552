"""The log is the database: every post that got a 2xx is in blog_operations even when the web
server is killed -9 right after answering; a new web server rebuilds the same posts (with their
verdicts) from the topics, and two web servers side by side see each other's posts live."""
import concurrent.futures

from web_env import Web, check, cluster, finish, produce, read_topic, topics, wait_until

N = 40


def main():
    ops, res = topics()
    with cluster() as b:
        web = Web(b, ops, res).start()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: web.post_json({"title": f"post {i}", "content": f"body {i}"}), range(N)))
        web.kill9()
        ok = [j["id"] for st, _, j in answers if st == 202]
        check(len(ok) == N, f"{N} concurrent posts answered 202 ({len(ok)})")
        keys = {k for k, _ in read_topic(b, ops)}
        check(set(ok) <= keys, f"after kill -9 every acknowledged post is in the topic ({len(set(ok) & keys)}/{len(ok)})")

        web2 = Web(b, ops, res).start()
        web3 = Web(b, ops, res).start()
        # a verdict from another producer (the real worker stores it first: 0063)
        produce(b, res, ok[0], {"id": ok[0], "status": "rejected", "score": 12, "reasons": ["spam"]})
        try:
            def all_there(w):
                st, j = w.get_json("/api/posts?limit=200")
                return st == 200 and set(ok) <= {p["id"] for p in j["posts"]}
            wait_until(lambda: all_there(web2), 20, "the restarted web server to show every post")
            check(True, "a new web server shows the same posts")
            wait_until(lambda: web2.get_json(f"/api/posts/{ok[0]}")[1]["status"] == "rejected", 20, "the verdict")
            check(web2.get_json(f"/api/posts/{ok[0]}")[1]["score"] == 12, "and their verdicts")
            st, _, j = web3.post_json({"title": "from web3", "content": "seen by web2?"})
            check(st == 202, "a post on a second server side by side")
            wait_until(lambda: web2.get(f"/api/posts/{j['id']}")[0] == 200, 20, "web2 to see web3's post")
            check(True, "the other server sees it (tailing the topic)")
            page = web2.get("/")[2].decode()
            rejected = web2.get("/?status=rejected")[2].decode()
            check("from web3" in page and "post 0" not in page and "post 0" in rejected,
                  "the front page lists them (the rejected one in the rejected posts' list)")
        finally:
            rc2, rc3 = web2.stop(), web3.stop()
        check(rc2 == 0 and rc3 == 0, "SIGTERM: exit 0")

        # SIGTERM in the middle of a burst: it exits 0 and every 202 it gave is in the topic
        web4 = Web(b, ops, res).start()

        def one(i):
            try:
                return web4.post_json({"title": f"burst {i}", "content": "during shutdown"})
            except OSError as e:  # refused or reset once it stopped accepting
                return (None, None, str(e))
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futs = [pool.submit(one, i) for i in range(200)]
            wait_until(lambda: sum(f.done() for f in futs) >= 20, 20, "20 answers before the signal")
            rc4 = web4.stop()
            answers = [f.result() for f in futs]
        check(rc4 == 0, f"SIGTERM during a burst: exit 0 (got {rc4})")
        acked = [j["id"] for st, _, j in answers if st == 202]
        keys = {k for k, _ in read_topic(b, ops)}
        check(len(acked) >= 20 and set(acked) <= keys,
              f"every 202 given before shutting down is in the topic ({len(acked)} answered 202)")
        check(all(st in (202, 503, None) for st, _, _ in answers), "every other request got 503 or a refused connection")
    finish()


if __name__ == "__main__":
    main()
