/*
 * 0052-worker-handoff: two workers share blog_operations' 3 partitions in group blog_group.
 * Stopping one (SIGTERM, while posts keep coming) hands its partitions to the other: every post
 * ends up logged, none by both (the stopped worker committed what it logged before leaving),
 * and the survivor then serves all 3 partitions.
 */
#include "worker_test.h"

#define MAX_POSTS 400

static void post_id(int i, char *out, size_t size) { snprintf(out, size, "H-%04d", i); }

static void produce_chunk(const wt_broker_t *b, rd_kafka_t *prod, int *produced, int n) {
    char id[32], text[2048];
    for (int k = 0; k < n; k++, (*produced)++) {
        post_id(*produced, id, sizeof(id));
        wt_post_text(*produced + 5000, text, sizeof(text));
        wt_produce_post(b, prod, id, "handoff", text, "en");
    }
    wt_flush(prod);
}

int main(void) {
    wt_broker_t b;
    wt_broker_start(&b);
    char log_a[600], log_b[600];
    snprintf(log_a, sizeof(log_a), "%s/results-a.jsonl", b.dir);
    snprintf(log_b, sizeof(log_b), "%s/results-b.jsonl", b.dir);
    pid_t wa = wt_worker_start(&b, log_a, "w-A", NULL);
    pid_t wb = wt_worker_start(&b, log_b, "w-B", NULL);
    rd_kafka_t *prod = wt_producer(&b);
    int produced = 0;

    /* Posts flow until both workers have done some: the partitions are shared. */
    /* Each chunk is waited for, so the loop goes at the workers' pace while they join. */
    while ((wt_log_count(log_a) == 0 || wt_log_count(log_b) == 0) && produced < MAX_POSTS / 2) {
        produce_chunk(&b, prod, &produced, 6);
        WT_ASSERT(TH_WAIT_UNTIL(wt_log_count(log_a) + wt_log_count(log_b) >= (size_t)produced, 30000),
                  "posts flowing (%d produced)", produced);
    }
    WT_ASSERT(wt_log_count(log_a) > 0 && wt_log_count(log_b) > 0,
              "both workers got partitions (A %zu, B %zu)", wt_log_count(log_a), wt_log_count(log_b));
    fprintf(stderr, "# shared: A %zu, B %zu after %d posts\n", wt_log_count(log_a), wt_log_count(log_b),
            produced);

    /* Stop A in the middle of the stream. */
    produce_chunk(&b, prod, &produced, 30);
    kill(wa, SIGTERM);
    produce_chunk(&b, prod, &produced, 30);
    int status = wt_worker_stop(wa, SIGTERM);
    WT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "A exits 0 (status %d)", status);
    size_t a_final = wt_log_count(log_a);
    produce_chunk(&b, prod, &produced, 60);
    fprintf(stderr, "# A stopped with %zu posts; %d produced in all\n", a_final, produced);

    WT_ASSERT(TH_WAIT_UNTIL(wt_log_count(log_a) + wt_log_count(log_b) >= (size_t)produced, 40000),
              "every post logged (A %zu + B %zu of %d)", wt_log_count(log_a), wt_log_count(log_b), produced);
    WT_ASSERT(wt_log_count(log_a) == a_final, "A wrote nothing after it stopped");

    static int seen[MAX_POSTS + 100];
    wt_log_t la, lb;
    wt_log_read(log_a, &la);
    wt_log_read(log_b, &lb);
    int parts_after[3] = {0, 0, 0};
    const wt_log_t *logs[2] = {&la, &lb};
    for (int w = 0; w < 2; w++) {
        size_t i;
        json_t *line;
        json_array_foreach(logs[w]->lines, i, line) {
            int n = -1;
            WT_ASSERT(sscanf(json_string_value(json_object_get(line, "id")), "H-%d", &n) == 1 && n >= 0 &&
                          n < produced,
                      "known id");
            WT_ASSERT(++seen[n] == 1, "H-%04d logged twice (by both workers?)", n);
            int p = (int)json_integer_value(json_object_get(json_object_get(line, "source"), "partition"));
            if (w == 1 && n >= produced - 60 && p >= 0 && p < 3) parts_after[p]++;
        }
    }
    for (int n = 0; n < produced; n++) WT_ASSERT(seen[n] == 1, "H-%04d logged", n);
    WT_ASSERT(parts_after[0] && parts_after[1] && parts_after[2],
              "B serves all 3 partitions after the handoff "
              "(%d/%d/%d)",
              parts_after[0], parts_after[1], parts_after[2]);
    wt_log_free(&la);
    wt_log_free(&lb);

    status = wt_worker_stop(wb, SIGTERM);
    WT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "B exits 0");
    rd_kafka_destroy(prod);
    wt_broker_stop(&b);
    fprintf(stderr, "# ok\n");
    return 0;
}
