/*
 * 0051-worker-kill9: 1,000 posts are produced in rounds while the worker is killed with -9 at
 * random moments and restarted (once with a torn half line left at the end of the results log,
 * as a crash inside write() would leave it). At the end the results log holds each of the 1,000
 * posts exactly once, and blog_results has a result for every one of them.
 *
 * A killed worker's partitions come back after its session times out (6 s), so the rounds are
 * few; the whole test takes ~30 s.
 */
#include "worker_test.h"

#define POSTS  1000
#define ROUNDS 4

/* @returns 1 when every post K-0000..K-0999 has at least one record on blog_results. */
static int all_published(const wt_broker_t *b) {
    json_t *results = wt_topic_read(b, b->results);
    static int published[POSTS];
    memset(published, 0, sizeof(published));
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r) {
        int n = -1;
        if (sscanf(json_string_value(json_object_get(r, "key")), "K-%d", &n) == 1 && n >= 0 && n < POSTS)
            published[n] = 1;
    }
    json_decref(results);
    for (int k = 0; k < POSTS; k++)
        if (!published[k]) return 0;
    return 1;
}

int main(void) {
    wt_broker_t b;
    wt_broker_start(&b);
    char log_path[600];
    snprintf(log_path, sizeof(log_path), "%s/results.jsonl", b.dir);
    unsigned seed = (unsigned)th_now_ms();
    srand(seed);
    fprintf(stderr, "# seed %u\n", seed);
    rd_kafka_t *prod = wt_producer(&b);
    wt_kill9_rounds(&b, prod, log_path, "w-0051", NULL, POSTS, ROUNDS, 0);

    pid_t worker = wt_worker_start(&b, log_path, "w-0051-final", NULL);
    WT_ASSERT(TH_WAIT_UNTIL(wt_log_count(log_path) >= POSTS, 60000), "all %d posts logged (%zu)", POSTS,
              wt_log_count(log_path));
    /* A killed worker's verdicts that reached the store but not blog_results are published by
     * the next worker's reconciliation, as soon as their partition is assigned to it (0055):
     * wait for that, with a deadline, before stopping it. */
    WT_ASSERT(TH_WAIT_UNTIL(all_published(&b), 60000), "every post has a result on blog_results");
    int status = wt_worker_stop(worker, SIGTERM);
    WT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "clean exit");

    wt_log_t log;
    wt_log_read(log_path, &log);
    WT_ASSERT(log.bad == 0, "no unreadable line (the torn one was cut)");
    WT_ASSERT(json_array_size(log.lines) == POSTS, "exactly %d lines, got %zu", POSTS,
              json_array_size(log.lines));
    static int seen[POSTS];
    size_t i;
    json_t *line;
    json_array_foreach(log.lines, i, line) {
        int n = -1;
        WT_ASSERT(sscanf(json_string_value(json_object_get(line, "id")), "K-%d", &n) == 1 && n >= 0 &&
                      n < POSTS,
                  "a known id: %s", json_string_value(json_object_get(line, "id")));
        WT_ASSERT(++seen[n] == 1, "post K-%04d logged twice", n);
    }
    wt_log_free(&log);

    json_t *results = wt_topic_read(&b, b.results);
    fprintf(stderr, "# %zu records on blog_results for %d posts (re-publishes after kills)\n",
            json_array_size(results), POSTS);
    json_decref(results);
    rd_kafka_destroy(prod);
    wt_broker_stop(&b);
    fprintf(stderr, "# ok\n");
    return 0;
}
