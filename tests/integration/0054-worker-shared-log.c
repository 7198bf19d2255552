/*
 * 0054-worker-shared-log: two workers on one machine append to ONE results log file. One is
 * killed with -9 in the middle of the stream; its partitions move to the other after the session
 * timeout, which finds the posts the dead one already wrote (it re-reads the file under the
 * lock) and only re-publishes them. The shared log holds every post exactly once.
 */
#include "worker_test.h"

#define POSTS 300

/* Lines written by worker @p who. */
static int lines_by(const char *path, const char *who) {
    wt_log_t log;
    wt_log_read(path, &log);
    int n = 0;
    size_t i;
    json_t *line;
    json_array_foreach(log.lines, i, line) n +=
        !strcmp(json_string_value(json_object_get(line, "worker")), who);
    wt_log_free(&log);
    return n;
}

int main(void) {
    wt_broker_t b;
    wt_broker_start(&b);
    char log_path[600];
    snprintf(log_path, sizeof(log_path), "%s/results.jsonl", b.dir);
    pid_t wa = wt_worker_start(&b, log_path, "w-A", NULL);
    pid_t wb = wt_worker_start(&b, log_path, "w-B", NULL);
    rd_kafka_t *prod = wt_producer(&b);
    char id[32], text[2048];
    int produced = 0;
    unsigned seed = (unsigned)th_now_ms();
    srand(seed);
    int kill_at = 60 + rand() % 120;
    fprintf(stderr, "# seed %u, kill A after %d posts\n", seed, kill_at);
    while (produced < POSTS) {
        for (int k = 0; k < 10; k++, produced++) {
            snprintf(id, sizeof(id), "S-%04d", produced);
            wt_post_text(produced + 9000, text, sizeof(text));
            wt_produce_post(&b, prod, id, "shared", text, "en");
        }
        wt_flush(prod);
        /* Until both have written, each chunk is waited for: both work before anything is killed. */
        if (wa && (lines_by(log_path, "w-A") == 0 || lines_by(log_path, "w-B") == 0))
            WT_ASSERT(TH_WAIT_UNTIL(wt_log_count(log_path) >= (size_t)produced, 30000), "posts flowing");
        if (produced >= kill_at && wa && lines_by(log_path, "w-A") > 0 && lines_by(log_path, "w-B") > 0) {
            kill(wa, SIGKILL);
            waitpid(wa, NULL, 0);
            wa = 0;
            fprintf(stderr, "# killed A with %zu lines in the log\n", wt_log_count(log_path));
        }
    }
    WT_ASSERT(wa == 0, "A was killed (both workers wrote before the end)");
    WT_ASSERT(TH_WAIT_UNTIL(wt_log_count(log_path) >= POSTS, 60000), "all posts logged (%zu)",
              wt_log_count(log_path));
    int status = wt_worker_stop(wb, SIGTERM);
    WT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "B exits 0");

    wt_log_t log;
    wt_log_read(log_path, &log);
    WT_ASSERT(log.bad == 0, "no broken line: the two writers never interleaved");
    WT_ASSERT(json_array_size(log.lines) == POSTS, "exactly %d lines, got %zu", POSTS,
              json_array_size(log.lines));
    static int seen[POSTS];
    int by_a = 0;
    size_t i;
    json_t *line;
    json_array_foreach(log.lines, i, line) {
        int n = -1;
        WT_ASSERT(sscanf(json_string_value(json_object_get(line, "id")), "S-%d", &n) == 1 && n >= 0 &&
                      n < POSTS,
                  "known id");
        WT_ASSERT(++seen[n] == 1, "S-%04d logged twice", n);
        by_a += !strcmp(json_string_value(json_object_get(line, "worker")), "w-A");
    }
    WT_ASSERT(by_a > 0 && by_a < POSTS, "both workers wrote to the one file (A %d)", by_a);
    wt_log_free(&log);
    rd_kafka_destroy(prod);
    wt_broker_stop(&b);
    fprintf(stderr, "# ok\n");
    return 0;
}
