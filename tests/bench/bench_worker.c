/*
 * bench_worker - the scoring worker's throughput, as Markdown on stdout:
 *   1. scoring alone: sa_score_post (+ the JSON result line) over varied ~120-word posts, in
 *      memory, against a full ring of 1,000 recent fingerprints;
 *   2. end to end with --work-ms 0: N posts already on blog_operations, one `samsa worker`
 *      started; time until all N lines are in the results log (each fdatasync'd batch, every
 *      result produced with acks=all and delivered, offsets committed).
 *
 *   bench_worker [N_SCORE [N_E2E]]     (SAMSA = path of samsa; a samsa broker on a free port)
 */
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blog/worker/score.h"
#include "core/mem.h"
#include "harness.h"

static const char *const words[] = {"river",    "garden", "coffee", "train",  "mountain",  "letter",
                                    "window",   "bread",  "music",  "winter", "harbour",   "lamp",
                                    "forest",   "street", "candle", "market", "beautiful", "yesterday",
                                    "remember", "little", "people", "quiet",  "table"};

static void post_text(unsigned i, char *out, size_t size) {
    size_t o = (size_t)snprintf(out, size, "Post %u. ", i);
    unsigned x = i * 2654435761u + 7u;
    for (int s = 0; s < 12 && o < size - 96; s++) {
        o += (size_t)snprintf(out + o, size - o, "Today the");
        for (int w = 0; w < 8; w++) {
            x = x * 1103515245u + 12345u;
            o += (size_t)snprintf(out + o, size - o, " %s",
                                  words[(x >> 16) % (sizeof(words) / sizeof(words[0]))]);
        }
        o += (size_t)snprintf(out + o, size - o, " was fine. ");
    }
}

/* One pass over @p n posts; @returns the milliseconds it took. */
static int64_t score_pass(const sa_dup_ring_t *ring, unsigned n, int with_json, size_t *bytes,
                          unsigned *published) {
    char text[4096];
    *bytes = 0;
    *published = 0;
    int64_t t0 = th_now_ms();
    for (unsigned i = 0; i < n; i++) {
        post_text(i, text, sizeof(text));
        size_t len = strlen(text);
        *bytes += len;
        sa_score_input_t in = {"A title", text, len, "en", NULL};
        sa_score_t sc;
        sa_score_post(&in, ring, &sc);
        *published += sc.verdict == SA_VERDICT_PUBLISHED;
        if (!with_json) continue;
        json_t *obj = json_pack("{s:s, s:s, s:s}", "id", "01JD00000000000000000000", "title", "A title",
                                "content", text);
        sa_score_to_json(&sc, obj);
        free(json_dumps(obj, JSON_COMPACT));
        json_decref(obj);
    }
    return th_now_ms() - t0;
}

static void bench_scoring(unsigned n) {
    sa_dup_ring_t *ring = sa_dup_ring_new(1000);
    char text[4096], id[32];
    for (unsigned i = 0; i < 1000; i++) {
        post_text(1000000 + i, text, sizeof(text));
        snprintf(id, sizeof(id), "R%u", i);
        sa_dup_ring_add_text(ring, id, text, strlen(text));
    }
    size_t bytes = 0;
    unsigned published = 0;
    /* Best of 3 runs: the machine is shared, the fastest run is the least disturbed one. */
    int64_t best[2] = {INT64_MAX, INT64_MAX};
    for (int rep = 0; rep < 3; rep++)
        for (int j = 0; j < 2; j++) best[j] = SA_MIN(best[j], score_pass(ring, n, j, &bytes, &published));
    double s1 = (double)SA_MAX(best[0], 1) / 1000, s2 = (double)SA_MAX(best[1], 1) / 1000;
    printf("| scoring alone (%u posts, avg %zu bytes, ring of 1,000) | %.0f posts/s | %.1f µs/post | %.1f "
           "MB/s |\n",
           n, bytes / n, n / s1, s1 * 1e6 / n, (double)bytes / s1 / 1e6);
    printf("| scoring + JSON result line | %.0f posts/s | %.1f µs/post | |\n", n / s2, s2 * 1e6 / n);
    if (published == 0) fprintf(stderr, "bench: unexpected: no post published\n");
    sa_dup_ring_free(ring);
}

static size_t count_lines(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    size_t n = 0;
    int c;
    while ((c = getc(fp)) != EOF) n += c == '\n';
    fclose(fp);
    return n;
}

static int bench_e2e(unsigned n) {
    th_proc_t broker;
    static const char *const extra[] = {"--num-partitions", "3", NULL};
    if (th_broker_start(&broker, NULL, extra)) return -1;
    char errstr[512], dir[512], log_path[600];
    th_mkdtemp(dir, sizeof(dir), "bench-worker");
    snprintf(log_path, sizeof(log_path), "%s/results.jsonl", dir);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", broker.addr, NULL, 0);
    rd_kafka_conf_set(conf, "linger.ms", "5", NULL, 0);
    rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    char text[4096], id[32];
    for (unsigned i = 0; i < n; i++) {
        post_text(i, text, sizeof(text));
        snprintf(id, sizeof(id), "B%06u", i);
        json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "create_post", "id", id, "title",
                                "Bench", "content", text, "author", "bench", "lang", "en");
        char *v = json_dumps(obj, JSON_COMPACT);
        while (rd_kafka_producev(prod, RD_KAFKA_V_TOPIC("blog_operations"), RD_KAFKA_V_KEY(id, strlen(id)),
                                 RD_KAFKA_V_VALUE(v, strlen(v)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(prod, 10);
        free(v);
        json_decref(obj);
    }
    rd_kafka_flush(prod, 60000);
    rd_kafka_destroy(prod);

    const char *argv[] = {"worker",    "-b", broker.addr,   "--results-log", log_path,
                          "--work-ms", "0",  "--log-level", "warn",          NULL};
    int64_t t0 = th_now_ms();
    pid_t pid = th_spawn(argv);
    int64_t first = 0;
    while (count_lines(log_path) < n && th_now_ms() - t0 < 300000) {
        if (!first && count_lines(log_path) > 0) first = th_now_ms();
        usleep(2000);
    }
    int64_t t1 = th_now_ms();
    size_t done = count_lines(log_path);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (!first) first = t1;
    printf("| end to end, --work-ms 0 (%u posts, samsa broker, 1 worker) | %.0f posts/s | %.0f µs/post | "
           "start-up + group join %.0f ms |\n",
           n, done / ((double)(t1 - t0) / 1000), (double)(t1 - t0) * 1000 / (done ? done : 1),
           (double)(first - t0));
    if (t1 > first)
        printf("| end to end, after the first batch | %.0f posts/s | | |\n",
               (done) / ((double)(t1 - first) / 1000));
    th_proc_cleanup(&broker);
    th_rmtree(dir);
    return done == n ? 0 : -1;
}

int main(int argc, char **argv) {
    unsigned n_score = argc > 1 ? (unsigned)atoi(argv[1]) : 20000;
    unsigned n_e2e = argc > 2 ? (unsigned)atoi(argv[2]) : 5000;
    printf("| case | throughput | per post | notes |\n|---|---:|---:|---|\n");
    bench_scoring(n_score);
    fflush(stdout);
    return n_e2e && bench_e2e(n_e2e) ? 1 : 0;
}
