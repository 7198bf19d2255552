/*
 * 0055-worker-reconcile-assign: verdicts a worker stored but did not log or publish (it died
 * between its store transaction and the results log / blog_results) are finished by the worker
 * their partition is assigned to, at once - not after they are STALE_MS old.
 *
 * The store is given three such verdicts, as a dead worker "w-dead" would leave them:
 *   A - from blog_operations[1], stored "in an hour" (processed_ms in the future, so only the
 *       partition's new owner can take it: the age rule never will);
 *   B - from a partition no worker here owns (other_topic[0]), also "in an hour";
 *   C - from other_topic[0], an hour old (the age rule's: a partition no one owns).
 * A worker assigned blog_operations' partitions must log and publish A and C, and leave B alone
 * (its flags stay 0 in the store while A and C are marked logged and published).
 */
#include "blog/model/db.h"
#include "core/mem.h"
#include "core/time.h"
#include "worker_test.h"

static json_t *result_line(const char *id, const char *topic, int partition) {
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:[], s:{}, s:s, s:s, s:{s:s, s:i, s:i}}",
                     "type", "create_post", "id", id, "title", "Left unfinished", "content",
                     "A verdict its worker stored but never logged.", "author", "", "lang", "en",
                     "submitted_at", "2026-12-01T00:00:00.000Z", "status", "published", "score", 100,
                     "reasons", "metrics", "processed_at", "2026-12-01T00:00:01.000Z", "worker", "w-dead",
                     "source", "topic", topic, "partition", partition, "offset", 7);
}

/* @returns 1 when every id of @p ids has a record on blog_results. */
static int published(const wt_broker_t *b, const char *const *ids, size_t n) {
    json_t *results = wt_topic_read(b, b->results);
    size_t found = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i;
        json_t *r;
        json_array_foreach(results, i, r) {
            if (!strcmp(json_string_value(json_object_get(r, "key")), ids[k])) {
                found++;
                break;
            }
        }
    }
    json_decref(results);
    return found == n;
}

static int logged(const char *log_path, const char *id) {
    wt_log_t log;
    wt_log_read(log_path, &log);
    int yes = 0;
    size_t i;
    json_t *line;
    json_array_foreach(log.lines, i, line) yes |= !strcmp(json_string_value(json_object_get(line, "id")), id);
    wt_log_free(&log);
    return yes;
}

static int flags_of(sa_db_t *db, const char *id) {
    sa_db_verdict_t v = {.id = id};
    char errstr[256];
    if (sa_db_verdicts_find(db, &v, 1, errstr, sizeof(errstr))) WT_FAIL("store: %s", errstr);
    free(v.stored);
    return v.flags;
}

int main(void) {
    wt_broker_t b;
    wt_broker_start(&b);
    char log_path[600], errstr[512];
    snprintf(log_path, sizeof(log_path), "%s/results.jsonl", b.dir);

    sa_db_why_t why;
    sa_db_t *db = sa_db_open(b.db_url, &why, errstr, sizeof(errstr));
    if (!db) WT_FAIL("store: %s", errstr);
    const int64_t hour = 3600 * 1000, now = sa_wall_ms();
    struct {
        const char *id, *topic;
        int partition;
        int64_t processed_ms;
    } rows[] = {{"R-A", b.ops, 1, now + hour},
                {"R-B", "other_topic", 0, now + hour},
                {"R-C", "other_topic", 0, now - hour}};
    for (size_t i = 0; i < SA_ARRAY_LEN(rows); i++) {
        json_t *r = result_line(rows[i].id, rows[i].topic, rows[i].partition);
        char *line = json_dumps(r, JSON_COMPACT);
        sa_db_verdict_t v = {.id = rows[i].id, .result = r, .line = line, .now_ms = rows[i].processed_ms};
        if (sa_db_verdicts_commit(db, "w-dead-group", &v, 1, NULL, 0, errstr, sizeof(errstr)) || !v.won)
            WT_FAIL("storing %s: %s", rows[i].id, errstr);
        free(line);
        json_decref(r);
    }
    WT_ASSERT(flags_of(db, "R-A") == 0 && flags_of(db, "R-B") == 0 && flags_of(db, "R-C") == 0,
              "three verdicts stored, none logged or published");

    pid_t worker = wt_worker_start(&b, log_path, "w-0055", NULL);
    static const char *const taken[] = {"R-A", "R-C"};
    WT_ASSERT(TH_WAIT_UNTIL(flags_of(db, "R-A") == 3 && flags_of(db, "R-C") == 3, 30000),
              "the verdicts of an assigned partition (A) and the stale one (C) are finished: marked logged "
              "and published in the store");
    WT_ASSERT(logged(log_path, "R-A") && logged(log_path, "R-C"), "... they are in the results log");
    WT_ASSERT(published(&b, taken, 2), "... and on blog_results");
    WT_ASSERT(flags_of(db, "R-B") == 0 && !logged(log_path, "R-B"),
              "a fresh verdict of a partition this worker does not own is left to its owner");
    static const char *const left[] = {"R-B"};
    WT_ASSERT(!published(&b, left, 1), "... and not published");

    int status = wt_worker_stop(worker, SIGTERM);
    WT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "clean exit");
    sa_db_close(db);
    wt_broker_stop(&b);
    fprintf(stderr, "# ok\n");
    return 0;
}
