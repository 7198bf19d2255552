/*
 * worker_test.h - shared helpers of the worker's integration tests (0050-0059), included by
 * each test (header-only: the test runner builds one executable per NNNN-*.c file).
 *
 * Broker: the tests run against a real `samsa broker` started through tests/lib/harness. While
 * `samsa broker` is not built yet (its placeholder exits 1 on --help), or when
 * SAMSA_WORKER_TEST_BROKER=mock, they run against librdkafka's mock cluster instead, started in
 * this process on a loopback port (it speaks the real protocol, groups included, so the worker
 * process under test is unchanged); the test says so on stderr.
 *
 * SAMSA_WORKER_TEST_BOOTSTRAP=HOST:PORT runs them against a cluster that is already running (a
 * real Apache Kafka from scripts/kafka/real-kafka.sh): topics and group then get a unique suffix
 * per run, and the test creates them with sa_topics_ensure (CreateTopics) as the worker would.
 *
 * Everything waits on conditions with deadlines (TH_WAIT_UNTIL); nothing sleeps and hopes.
 */
#ifndef SA_TEST_WORKER_TEST_H
#define SA_TEST_WORKER_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blog/model/topics_ensure.h"
#include "harness.h"
#include "kafka_test.h"

/* The worker tests' names for the shared helpers of tests/lib/kafka_test.h. */
#define WT_FAIL   KT_FAIL
#define WT_ASSERT KT_ASSERT

typedef struct wt_broker_s {
    th_proc_t proc;                /* a real samsa broker, or unused with the mock */
    rd_kafka_t *mock_rk;           /* owns the mock cluster */
    rd_kafka_mock_cluster_t *mock; /* NULL with a real broker */
    char bootstrap[256];
    char dir[512];                                    /* temp dir for results logs */
    char db_url[600];                                 /* the workers' store: sqlite:DIR/blog.db */
    char ops[96], results[96], errors[96], group[96]; /* topic and group names of this run */
} wt_broker_t;

static __attribute__((unused)) int wt_samsa_broker_built(void) {
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(th_samsa(), "samsa", "broker", "--help", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* An already running cluster: unique names, topics created through CreateTopics. */
static void wt_external_start(wt_broker_t *b, const char *bootstrap) {
    char errstr[512], suffix[48];
    snprintf(b->bootstrap, sizeof(b->bootstrap), "%s", bootstrap);
    snprintf(suffix, sizeof(suffix), "-%d-%lld", (int)getpid(), (long long)th_now_ms());
    snprintf(b->ops, sizeof(b->ops), "blog_operations%s", suffix);
    snprintf(b->results, sizeof(b->results), "blog_results%s", suffix);
    snprintf(b->errors, sizeof(b->errors), "blog_errors%s", suffix);
    snprintf(b->group, sizeof(b->group), "blog_group%s", suffix);
    rd_kafka_t *rk = kt_new(RD_KAFKA_PRODUCER, kt_conf(bootstrap, NULL, NULL));
    const sa_topic_spec_t specs[] = {{b->ops, 3}, {b->results, 3}, {b->errors, 1}};
    if (sa_topics_ensure(rk, specs, 3, th_scaled_ms(20000), errstr, sizeof(errstr)))
        WT_FAIL("creating the topics: %s", errstr);
    rd_kafka_destroy(rk);
    fprintf(stderr, "# broker: external cluster at %s, topics %s ...\n", bootstrap, b->ops);
}

/* librdkafka's mock cluster in this process, with the blog's topics. */
static void wt_mock_start(wt_broker_t *b, const char *why) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
    b->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!b->mock_rk) WT_FAIL("rd_kafka_new: %s", errstr);
    b->mock = rd_kafka_mock_cluster_new(b->mock_rk, 1);
    if (!b->mock) WT_FAIL("mock cluster");
    /* The mock has no CreateTopics: the worker falls back to Metadata, so create them here. */
    rd_kafka_mock_topic_create(b->mock, "blog_operations", 3, 1);
    rd_kafka_mock_topic_create(b->mock, "blog_results", 3, 1);
    rd_kafka_mock_topic_create(b->mock, "blog_errors", 1, 1);
    snprintf(b->bootstrap, sizeof(b->bootstrap), "%s", rd_kafka_mock_cluster_bootstraps(b->mock));
    fprintf(stderr, "# broker: librdkafka mock cluster at %s (%s)\n", b->bootstrap, why);
}

static __attribute__((unused)) void wt_broker_start(wt_broker_t *b) {
    memset(b, 0, sizeof(*b));
    if (th_mkdtemp(b->dir, sizeof(b->dir), "samsa-worker-test") != 0) WT_FAIL("mkdtemp");
    snprintf(b->db_url, sizeof(b->db_url), "sqlite:%s/blog.db", b->dir);
    snprintf(b->ops, sizeof(b->ops), "blog_operations");
    snprintf(b->results, sizeof(b->results), "blog_results");
    snprintf(b->errors, sizeof(b->errors), "blog_errors");
    snprintf(b->group, sizeof(b->group), "blog_group");
    const char *external = getenv("SAMSA_WORKER_TEST_BOOTSTRAP");
    if (external && *external) {
        wt_external_start(b, external);
        return;
    }
    const char *want = getenv("SAMSA_WORKER_TEST_BROKER");
    if ((!want || strcmp(want, "mock") != 0) && wt_samsa_broker_built()) {
        /* Auto-created topics get the blog's 3 partitions while the broker has no CreateTopics. */
        static const char *const extra[] = {"--num-partitions", "3", NULL};
        if (th_broker_start(&b->proc, NULL, extra) != 0) WT_FAIL("samsa broker did not start");
        snprintf(b->bootstrap, sizeof(b->bootstrap), "%s", b->proc.addr);
        fprintf(stderr, "# broker: samsa broker at %s\n", b->bootstrap);
        return;
    }
    wt_mock_start(b, "samsa broker not built yet or SAMSA_WORKER_TEST_BROKER=mock");
}

static __attribute__((unused)) void wt_broker_stop(wt_broker_t *b) {
    if (getenv("SAMSA_WORKER_TEST_BOOTSTRAP") && *getenv("SAMSA_WORKER_TEST_BOOTSTRAP")) {
        /* not ours to stop */
    } else if (b->mock) {
        rd_kafka_mock_cluster_destroy(b->mock);
        rd_kafka_destroy(b->mock_rk);
    } else {
        th_proc_cleanup(&b->proc);
    }
    if (!getenv("SAMSA_KEEP_TEST_DIR")) th_rmtree(b->dir);
}

/* The exit status CTest counts as "skipped" (tests/CMakeLists.txt: SKIP_RETURN_CODE). */
#define WT_SKIP 77

/* As wt_broker_start, for the tests of --exactly-once txn. samsa's broker and a real Kafka serve
 * transactions: a refusal there fails the test (the worker exits 1 at InitProducerId), it is never
 * skipped. librdkafka's mock cluster keeps no transactional offset commits (TxnOffsetCommit
 * succeeds but OffsetFetch never returns them), so every restarted worker would begin again: asked
 * for by name (SAMSA_WORKER_TEST_BROKER=mock) the test is skipped, saying so; fallen back to
 * because samsa's broker is not built, it fails. */
static __attribute__((unused)) void wt_broker_start_txn(wt_broker_t *b) {
    wt_broker_start(b);
    if (!b->mock) return;
    const char *want = getenv("SAMSA_WORKER_TEST_BROKER");
    if (!want || strcmp(want, "mock") != 0) {
        wt_broker_stop(b);
        WT_FAIL("the tests of --exactly-once txn need samsa's broker (not built?) or a real Kafka");
    }
    fprintf(stderr, "# SKIP: librdkafka's mock cluster keeps no transactional offset commits; "
                    "SAMSA_WORKER_TEST_BOOTSTRAP=HOST:PORT runs it against a real Kafka\n");
    wt_broker_stop(b);
    exit(WT_SKIP);
}

/* ---- workers ---- */

/* Start `samsa worker` with its results log at @p log_path; @p extra: NULL-terminated or NULL. */
static __attribute__((unused)) pid_t wt_worker_start(const wt_broker_t *b, const char *log_path,
                                                     const char *worker_id, const char *const extra[]) {
    const char *argv[40] = {"worker",
                            "-b",
                            b->bootstrap,
                            "--results-log",
                            log_path,
                            "--worker-id",
                            worker_id,
                            "--work-ms",
                            "0",
                            "-X",
                            "topic.metadata.refresh.interval.ms=1000",
                            "--topic",
                            b->ops,
                            "--results-topic",
                            b->results,
                            "--errors-topic",
                            b->errors,
                            "--group",
                            b->group,
                            "--db",
                            b->db_url};
    size_t n = 21;
    for (size_t i = 0; extra && extra[i] && n < 38; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    /* Not th_spawn: the worker must die with the test (PR_SET_PDEATHSIG) even when CTest kills
     * the test at its timeout, or it would keep the test's output pipe open. */
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char *full[42] = {(char *)"samsa"};
        for (size_t i = 0; i <= n; i++) full[i + 1] = (char *)argv[i];
        execv(th_samsa(), full);
        _exit(127);
    }
    if (pid < 0) WT_FAIL("spawn worker");
    return pid;
}

/* @returns the exit status after @p sig (waitpid form); fails the test if it takes > 30 s. */
static __attribute__((unused)) int wt_worker_stop(pid_t pid, int sig) {
    kill(pid, sig);
    int status = 0;
    int64_t deadline = th_now_ms() + th_scaled_ms(30000);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (th_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            WT_FAIL("worker %d did not stop within 30 s of signal %d", (int)pid, sig);
        }
        usleep(10000);
    }
}

/* 1 if @p pid has exited (reaped). */
static __attribute__((unused)) int wt_exited(pid_t pid) {
    int status;
    return waitpid(pid, &status, WNOHANG) == pid;
}

/* ---- producing ---- */

static __attribute__((unused)) rd_kafka_t *wt_producer(const wt_broker_t *b) {
    static const char *const kv[] = {
        "acks", "all", "enable.idempotence", "true", "linger.ms", "5", "message.max.bytes", "10000000", NULL};
    return kt_new(RD_KAFKA_PRODUCER, kt_conf(b->bootstrap, kv, NULL));
}

static __attribute__((unused)) void wt_produce_raw(rd_kafka_t *rk, const char *topic, const char *key,
                                                   const void *value, size_t len) {
    kt_produce(rk, topic, RD_KAFKA_PARTITION_UA, key, value, len);
}

/* Produce one create_post operation. */
static __attribute__((unused)) void wt_produce_post(const wt_broker_t *b, rd_kafka_t *rk, const char *id,
                                                    const char *title, const char *content,
                                                    const char *lang) {
    json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "create_post", "id", id,
                            "title", title, "content", content, "author", "Tester", "lang", lang,
                            "submitted_at", "2026-11-22T19:00:00.000Z", "idempotency_key", id);
    char *value = json_dumps(obj, JSON_COMPACT);
    wt_produce_raw(rk, b->ops, id, value, strlen(value));
    free(value);
    json_decref(obj);
}

/* A distinct, ordinary English post number @p i (distinct enough not to be near-duplicates). */
static __attribute__((unused)) void wt_post_text(int i, char *out, size_t size) {
    static const char *const words[] = {"river",  "garden", "coffee", "train",  "mountain", "letter",
                                        "window", "bread",  "music",  "winter", "harbour",  "lamp",
                                        "forest", "street", "candle", "market"};
    size_t o = (size_t)snprintf(out, size, "Post number %d. ", i);
    unsigned x = (unsigned)i * 2654435761u + 12345u;
    for (int s = 0; s < 6 && o < size - 64; s++) {
        o += (size_t)snprintf(out + o, size - o, "Today the");
        for (int w = 0; w < 6; w++) {
            x = x * 1103515245u + 12345u;
            o += (size_t)snprintf(out + o, size - o, " %s", words[(x >> 16) % 16]);
        }
        o += (size_t)snprintf(out + o, size - o, " was fine. ");
    }
}

static __attribute__((unused)) void wt_flush(rd_kafka_t *rk) {
    if (rd_kafka_flush(rk, th_scaled_ms(30000)) != RD_KAFKA_RESP_ERR_NO_ERROR)
        WT_FAIL("flush: records not delivered");
}

/* ---- reading the results log ---- */

typedef struct wt_log_s {
    json_t *lines; /* array of objects, in file order */
    size_t bad;    /* lines that are not JSON objects with an id */
} wt_log_t;

static __attribute__((unused)) void wt_log_read(const char *path, wt_log_t *log) {
    log->lines = json_array();
    log->bad = 0;
    FILE *fp = fopen(path, "r");
    if (!fp) return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, fp)) > 0) {
        if (line[n - 1] != '\n') break; /* a line being written right now */
        json_t *obj = json_loadb(line, (size_t)n - 1, 0, NULL);
        if (!json_is_string(json_object_get(obj, "id"))) {
            log->bad++;
            json_decref(obj);
            continue;
        }
        json_array_append_new(log->lines, obj);
    }
    free(line);
    fclose(fp);
}

static __attribute__((unused)) void wt_log_free(wt_log_t *log) { json_decref(log->lines); }

static __attribute__((unused)) size_t wt_log_count(const char *path) {
    wt_log_t log;
    wt_log_read(path, &log);
    size_t n = json_array_size(log.lines);
    wt_log_free(&log);
    return n;
}

/* @returns the line of post @p id (borrowed from @p log) or NULL. */
static __attribute__((unused)) json_t *wt_log_find(const wt_log_t *log, const char *id) {
    size_t i;
    json_t *v;
    json_array_foreach(log->lines, i,
                       v) if (!strcmp(json_string_value(json_object_get(v, "id")), id)) return v;
    return NULL;
}

/* ---- reading a topic ---- */

/* Read every record of @p topic from the start into a new JSON array of
 * {"key", "value" (parsed JSON or the raw string), "partition", "offset"}, as a consumer with
 * isolation.level @p isolation sees them; stops at the end offsets seen at the start (the high
 * watermarks, or the last stable offsets for read_committed). */
static __attribute__((unused)) json_t *wt_topic_read_iso(const wt_broker_t *b, const char *topic,
                                                         const char *isolation) {
    /* assign() joins no group, but librdkafka's consumer wants a group id all the same. */
    char group[64];
    static int readers;
    snprintf(group, sizeof(group), "wt-reader-%d-%d", (int)getpid(), readers++);
    const char *const kv[] = {
        "enable.partition.eof", "true",    "group.id", group, "enable.auto.commit", "false",
        "isolation.level",      isolation, NULL};
    rd_kafka_t *rk = kt_new(RD_KAFKA_CONSUMER, kt_conf(b->bootstrap, kv, NULL));
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, th_scaled_ms(10000)) || md->topic_cnt != 1)
        WT_FAIL("metadata for %s", topic);
    /* a topic nothing was published to yet (no worker has created it) holds no records */
    int nparts = md->topics[0].err ? 0 : md->topics[0].partition_cnt;
    if (md->topics[0].err)
        fprintf(stderr, "# reading %s: %s: no records\n", topic, rd_kafka_err2str(md->topics[0].err));
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(nparts);
    int need = 0;
    for (int p = 0; p < nparts; p++) {
        int64_t lo = 0, hi = 0;
        /* a topic created a moment ago may have no leader yet: ask again until a deadline */
        rd_kafka_resp_err_t werr;
        int64_t wdeadline = th_now_ms() + th_scaled_ms(10000);
        while ((werr = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, th_scaled_ms(5000))) &&
               th_now_ms() < wdeadline)
            usleep(100000);
        if (werr) WT_FAIL("watermarks of %s [%d]: %s", topic, p, rd_kafka_err2str(werr));
        if (hi > lo) {
            rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
            need++;
        }
    }
    json_t *out = json_array();
    if (need) rd_kafka_assign(rk, parts);
    int64_t deadline = th_now_ms() + th_scaled_ms(20000);
    while (need > 0) {
        if (th_now_ms() > deadline) WT_FAIL("reading %s: timed out", topic);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            need--;
        } else if (m->err) {
            fprintf(stderr, "# reading %s: %s\n", topic, rd_kafka_message_errstr(m));
        } else {
            json_t *v = json_loadb(m->payload, m->len, 0, NULL);
            if (!v) v = json_stringn_nocheck(m->payload, m->len);
            json_array_append_new(out, json_pack("{s:s%, s:o, s:i, s:I}", "key",
                                                 m->key ? (const char *)m->key : "", m->key ? m->key_len : 0,
                                                 "value", v, "partition", (int)m->partition, "offset",
                                                 (json_int_t)m->offset));
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out;
}

/* wt_topic_read_iso as read_committed (librdkafka's default): what the web and a Kafka Streams
 * application see. */
static __attribute__((unused)) json_t *wt_topic_read(const wt_broker_t *b, const char *topic) {
    return wt_topic_read_iso(b, topic, "read_committed");
}

/* ---- killing workers ---- */

/* Post ids of wt_kill9_rounds: K-0000, K-0001, ... */
static __attribute__((unused)) void wt_kill9_id(int i, char *out, size_t size) {
    snprintf(out, size, "K-%04d", i);
}

/*
 * Produce posts K-0000 .. K-(@p posts - 1) in @p rounds rounds while a worker (`--worker-id
 * @p worker_id` plus @p extra, NULL-terminated or NULL) runs: each round's posts go out in chunks
 * of 10; after a random chunk (and a random few milliseconds) that round's worker is killed with
 * -9, mid-batch or wherever it happens to be, and the rest of the round waits for the next one.
 * After round 1 a torn half line is left at the end of the results log, as a crash inside write()
 * would leave it. With @p poison_every > 0, a record that is not JSON (key BAD-n) follows every
 * poison_every-th post. When it returns every post was produced and no worker runs.
 * @returns the number of poison records produced.
 */
static __attribute__((unused)) int wt_kill9_rounds(const wt_broker_t *b, rd_kafka_t *prod,
                                                   const char *log_path, const char *worker_id,
                                                   const char *const extra[], int posts, int rounds,
                                                   int poison_every) {
    char id[32], text[2048];
    int produced = 0, poison = 0;
    for (int round = 0; round < rounds; round++) {
        pid_t worker = wt_worker_start(b, log_path, worker_id, extra);
        int upto = posts * (round + 1) / rounds, chunks = (upto - produced) / 10;
        int kill_after = rand() % chunks;
        size_t at_start = wt_log_count(log_path);
        for (int c = 0; produced < upto; c++) {
            for (int k = 0; k < 10 && produced < upto; k++, produced++) {
                wt_kill9_id(produced, id, sizeof(id));
                wt_post_text(produced, text, sizeof(text));
                wt_produce_post(b, prod, id, "kill -9", text, "en");
                if (poison_every > 0 && produced % poison_every == poison_every - 1) {
                    char key[32];
                    snprintf(key, sizeof(key), "BAD-%d", poison++);
                    wt_produce_raw(prod, b->ops, key, "{not json", 9);
                }
            }
            wt_flush(prod);
            if (c == 0) /* the worker has joined (the killed one's session expired) and works */
                WT_ASSERT(TH_WAIT_UNTIL(wt_log_count(log_path) > at_start, 30000), "round %d: progress",
                          round);
            if (c == kill_after) {
                usleep((useconds_t)(rand() % 50000));
                kill(worker, SIGKILL);
                waitpid(worker, NULL, 0);
                fprintf(stderr, "# round %d: killed after chunk %d, %zu lines\n", round, c,
                        wt_log_count(log_path));
            }
        }
        if (round == 1) { /* a crash in the middle of write(): half a line, no newline */
            FILE *fp = fopen(log_path, "a");
            fputs("{\"id\":\"K-TORN\",\"status\":\"publ", fp);
            fclose(fp);
        }
    }
    return poison;
}

#endif
