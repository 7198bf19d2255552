"""A data dir from before the store (posts only in blog_operations and blog_results) is imported
once at the first start against a fresh store: its posts and verdicts are there from the first
answer, verdicts marked as logged and published; a second start imports nothing again.
"""
import sqlite3

from web_env import DB, Web, check, cluster, finish, produce, topics


def main():
    with cluster() as b:
        ops, res = topics()
        ids = [f"01ARYZ6S41000000000000000{c}" for c in "ABC"]
        for i, pid in enumerate(ids):
            produce(b, ops, pid, {"type": "create_post", "id": pid, "title": f"Old post {i}", "content": "From before.",
                                  "author": "", "lang": "en", "submitted_at": "2026-01-01T00:00:00.000Z",
                                  "idempotency_key": f"api:old-{i}"})
        produce(b, ops, "x", {"type": "something_else"})  # not a post: skipped
        produce(b, res, ids[0], {"id": ids[0], "title": "Old post 0", "content": "From before.", "status": "published",
                                 "score": 90, "reasons": [], "processed_at": "2026-01-01T00:00:01.000Z", "worker": "w"})
        web = Web(b, ops, res).start()
        try:
            st, j = web.get_json("/api/posts")
            check(st == 200 and {p["id"] for p in j["posts"]} == set(ids), f"the three old posts are there ({st})")
            st, p = web.get_json(f"/api/posts/{ids[0]}")
            check(p["status"] == "published" and p["score"] == 90, "with the verdict from blog_results")
            st, _, j = web.post_json({"title": "Old post 1", "content": "From before."}, headers={"Idempotency-Key": "old-1"})
            check(st == 200 and j["id"] == ids[1], f"an old Idempotency-Key names its old post ({st})")
        finally:
            web.stop()
        web = Web(b, ops, res).start()
        web.stop()
        db = sqlite3.connect(DB[len("sqlite:"):])
        check(db.execute("SELECT count(*) FROM posts").fetchone()[0] == 3, "a second start imports nothing again")
        check(db.execute("SELECT value FROM meta WHERE key = 'import'").fetchone()[0] == "done", "meta: import done")
        check(db.execute("SELECT flags FROM posts WHERE id = ?", (ids[0],)).fetchone()[0] == 3,
              "an imported verdict is marked logged and published")
        db.close()
    finish()


if __name__ == "__main__":
    main()
