"""An SQLite store written by the first version of the schema (v1: full-text index kept by a
trigger per row, no source partition) is upgraded in place by `samsa web` to the current one:
schema_version 2, old posts readable by id and found by search exactly once, a post left pending
by the old server recovered by the sweep (and found once too), and a new post found by search
once the index caught up with it.
"""
import sqlite3

from web_env import DB, Web, check, cluster, finish, topics, wait_until

# The v1 schema as samsa wrote it (frozen here: the code only carries the migrations from it).
V1 = (
    'CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);'
    'CREATE TABLE posts( seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, idempotency_key TEXT UNIQUE, title TEXT NOT NULL, content TEXT NOT NULL, author TEXT NOT NULL, lang TEXT NOT NULL, submitted_at TEXT NOT NULL, state TEXT NOT NULL, reserved_ms INTEGER NOT NULL, lease_ms INTEGER NOT NULL DEFAULT 0, score INTEGER, reasons TEXT, metrics TEXT, processed_at TEXT, worker TEXT, result TEXT, processed_ms INTEGER, flags INTEGER NOT NULL DEFAULT 0);'
    "CREATE INDEX posts_pending ON posts(reserved_ms) WHERE state = 'pending';"
    'CREATE INDEX posts_unfinished ON posts(processed_ms) WHERE result IS NOT NULL AND flags <> 3;'
    'CREATE TABLE consumer_offsets(grp TEXT NOT NULL, topic TEXT NOT NULL, part INTEGER NOT NULL, next_offset INTEGER NOT NULL, PRIMARY KEY(grp, topic, part));'
    'CREATE TABLE post_counts(state TEXT NOT NULL, shard INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(state, shard));'
    "INSERT INTO post_counts VALUES('pending',0,0),('queued',0,0),('published',0,0),('review',0,0), ('rejected',0,0);"
    'CREATE TRIGGER posts_count_ins AFTER INSERT ON posts BEGIN UPDATE post_counts SET n = n + 1 WHERE state = NEW.state; END;'
    'CREATE TRIGGER posts_count_del AFTER DELETE ON posts BEGIN UPDATE post_counts SET n = n - 1 WHERE state = OLD.state; END;'
    'CREATE TRIGGER posts_count_upd AFTER UPDATE OF state ON posts WHEN OLD.state <> NEW.state BEGIN UPDATE post_counts SET n = n - 1 WHERE state = OLD.state; UPDATE post_counts SET n = n + 1 WHERE state = NEW.state; END;'
    "CREATE VIRTUAL TABLE posts_fts USING fts5(title, content, author, content='posts', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');"
    'CREATE TRIGGER posts_fts_ins AFTER INSERT ON posts BEGIN INSERT INTO posts_fts(rowid, title, content, author) VALUES (NEW.seq, NEW.title, NEW.content, NEW.author); END;'
    "CREATE TRIGGER posts_fts_del AFTER DELETE ON posts BEGIN INSERT INTO posts_fts(posts_fts, rowid, title, content, author) VALUES ('delete', OLD.seq, OLD.title, OLD.content, OLD.author); END;"
)


def search(web, word):
    st, j = web.get_json(f"/api/posts?q={word}")
    return [p["id"] for p in j["posts"]] if st == 200 else None


def main():
    path = DB[len("sqlite:"):]
    db = sqlite3.connect(path)
    db.executescript(V1)
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    old = "01ARYZ6S4100000000000000AA"
    stuck = "01ARYZ6S4100000000000000BB"
    rows = [(old, "api:old", "An old zanzibar post", "Written before the upgrade.", "published", 90, 1),
            (stuck, "api:stuck", "A stuck wombat post", "Its server stopped while it was in flight.", "pending",
             None, 0)]
    for pid, key, title, content, state, score, done in rows:
        db.execute("INSERT INTO posts(id, idempotency_key, title, content, author, lang, submitted_at, state,"
                   " reserved_ms, score, result, processed_ms, flags) VALUES (?, ?, ?, ?, '', 'en',"
                   " '2026-01-01T00:00:00.000Z', ?, 0, ?, ?, 0, ?)",
                   (pid, key, title, content, state, score, '{"id":"%s"}' % pid if done else None, 3 if done else 0))
    db.commit()
    db.close()
    with cluster() as b:
        ops, res = topics()
        web = Web(b, ops, res).start()
        try:
            db = sqlite3.connect(path)
            version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
            db.close()
            check(version == "2", f"upgraded to schema 2 (got {version})")
            st, p = web.get_json(f"/api/posts/{old}")
            check(st == 200 and p["status"] == "published" and p["score"] == 90, "an old post is readable by id")
            check(search(web, "zanzibar") == [old], "an old post is found by search, once")
            wait_until(lambda: stuck in [p["id"] for p in web.get_json("/api/posts")[1]["posts"]], 30,
                       "the post left pending to be produced again by the sweep and shown")
            check(search(web, "wombat") == [stuck], "the recovered post is found by search, once")
            st, _, j = web.post_json({"title": "A new quokka post", "content": "Written after the upgrade."})
            check(st == 202, f"a new post (got {st})")
            wait_until(lambda: search(web, "quokka") == [j["id"]], 10, "the new post to be found by search")
            check(True, "a new post is found by search, once, after the catch-up")
            st, s = web.get_json("/api/stats")
            check(st == 200 and s["posts"] == 3 and s["published"] == 1, f"statistics across the upgrade: {s}")
        finally:
            rc = web.stop()
        check(rc == 0, f"SIGTERM: exit 0 (got {rc})")
    finish()


if __name__ == "__main__":
    main()
