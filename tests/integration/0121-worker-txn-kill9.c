/*
 * 0121-worker-txn-kill9: 0051's kill -9 rounds with `--exactly-once txn`: 1,000 posts and a poison
 * record after every 100th, produced while the worker is killed with -9 at random moments and
 * restarted with the same --worker-id (so the same transactional.id: each restart fences the
 * killed one and aborts the transaction it left open), once with a torn half line at the end of
 * the results log. At the end a read_committed consumer sees every post on blog_results exactly
 * once and every poison record on blog_errors exactly once, and the results log holds each post
 * exactly once. What a read_uncommitted consumer sees besides (the aborted attempts) is printed.
 *
 * Runs on samsa's broker, or on a real Kafka (SAMSA_WORKER_TEST_BOOTSTRAP); never skipped there
 * (worker_test.h: wt_broker_start_txn).
 */
#include "worker_test.h"

#define POSTS        1000
#define ROUNDS       4
#define POISON_EVERY 100

static const char *const txn_args[] = {"--exactly-once", "txn", NULL};

/* Count the records of @p topic per key prefix @p prefix-N (N < @p max) into @p counts.
 * @returns the number of records read. */
static size_t count_keys(const wt_broker_t *b, const char *topic, const char *isolation, const char *fmt,
                         int *counts, int max) {
    json_t *recs = wt_topic_read_iso(b, topic, isolation);
    memset(counts, 0, sizeof(int) * (size_t)max);
    size_t i, n = json_array_size(recs);
    json_t *r;
    json_array_foreach(recs, i, r) {
        int k = -1;
        if (sscanf(json_string_value(json_object_get(r, "key")), fmt, &k) == 1 && k >= 0 && k < max)
            counts[k]++;
    }
    json_decref(recs);
    return n;
}

/* @returns 1 when every post has a committed record on blog_results. */
static int all_published(const wt_broker_t *b) {
    static int counts[POSTS];
    count_keys(b, b->results, "read_committed", "K-%d", counts, POSTS);
    for (int k = 0; k < POSTS; k++)
        if (!counts[k]) return 0;
    return 1;
}

int main(void) {
    wt_broker_t b;
    wt_broker_start_txn(&b);
    char log_path[600];
    snprintf(log_path, sizeof(log_path), "%s/results.jsonl", b.dir);
    unsigned seed = (unsigned)th_now_ms();
    srand(seed);
    fprintf(stderr, "# seed %u\n", seed);
    rd_kafka_t *prod = wt_producer(&b);
    int poison = wt_kill9_rounds(&b, prod, log_path, "w-0121", txn_args, POSTS, ROUNDS, POISON_EVERY);

    pid_t worker = wt_worker_start(&b, log_path, "w-0121", txn_args);
    WT_ASSERT(TH_WAIT_UNTIL(wt_log_count(log_path) >= POSTS, 60000), "all %d posts logged (%zu)", POSTS,
              wt_log_count(log_path));
    WT_ASSERT(TH_WAIT_UNTIL(all_published(&b), 60000), "every post has a committed result on blog_results");
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

    static int counts[POSTS];
    size_t committed = count_keys(&b, b.results, "read_committed", "K-%d", counts, POSTS);
    for (int k = 0; k < POSTS; k++)
        WT_ASSERT(counts[k] == 1, "K-%04d: %d committed results, want 1", k, counts[k]);
    WT_ASSERT(committed == POSTS, "%zu committed records on blog_results, want %d", committed, POSTS);
    int bad[POSTS / POISON_EVERY + 1];
    size_t errors = count_keys(&b, b.errors, "read_committed", "BAD-%d", bad, poison);
    for (int k = 0; k < poison; k++)
        WT_ASSERT(bad[k] == 1, "BAD-%d: %d committed dead letters, want 1", k, bad[k]);
    WT_ASSERT(errors == (size_t)poison, "%zu committed dead letters, want %d", errors, poison);
    size_t uncommitted = count_keys(&b, b.results, "read_uncommitted", "K-%d", counts, POSTS);
    fprintf(stderr,
            "# read_committed: %zu results, %zu dead letters; read_uncommitted: %zu results (aborted "
            "attempts of killed workers)\n",
            committed, errors, uncommitted);
    WT_ASSERT(uncommitted >= committed, "read_uncommitted sees the committed records too");
    rd_kafka_destroy(prod);
    wt_broker_stop(&b);
    fprintf(stderr, "# ok\n");
    return 0;
}
