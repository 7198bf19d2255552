/*
 * db_import.c - the one-time import from the topics (see db_import.h).
 *
 * Operations first, then results: a verdict then finds its post (one whose operation was
 * removed by retention is created from the result line, which carries the post's fields). The
 * end offsets are read once at the start, so posts made while it runs are not waited for (they
 * reach the store through the web server and the worker anyway). Imported verdicts are marked
 * logged and published: they are in the old results log and on blog_results already.
 */
#include "blog/model/db_import.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#define BATCH 1000

/* Read @p topic from the beginning to its current end; @returns records imported or -1. */
static long import_topic(sa_db_t *db, rd_kafka_t *rk, const char *topic, int is_result, char *errstr,
                         size_t errstr_size) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        snprintf(errstr, errstr_size, "metadata for %s: %s", topic, rd_kafka_err2str(err));
        return -1;
    }
    long total = 0;
    int parts = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(parts ? parts : 1);
    int64_t *end = sa_calloc((size_t)(parts ? parts : 1), sizeof(*end)),
            *pos = sa_calloc((size_t)(parts ? parts : 1), sizeof(*pos));
    int open = 0;
    for (int p = 0; p < parts; p++) {
        int64_t lo = 0, hi = 0;
        if ((err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000))) {
            snprintf(errstr, errstr_size, "offsets of %s[%d]: %s", topic, p, rd_kafka_err2str(err));
            total = -1;
            goto out;
        }
        end[p] = hi;
        pos[p] = lo;
        if (hi > lo) {
            rd_kafka_topic_partition_list_add(assign, topic, p)->offset = lo;
            open++;
        }
    }
    if (!open) goto out;
    rd_kafka_assign(rk, assign);
    json_t *batch[BATCH];
    size_t n = 0;
    int64_t idle_since = sa_mono_ms();
    while (open > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m) {
            if (sa_mono_ms() - idle_since > 30000) {
                snprintf(errstr, errstr_size, "%s: no records for 30 s before its end", topic);
                total = -1;
                break;
            }
            continue;
        }
        idle_since = sa_mono_ms();
        if (!m->err && m->partition >= 0 && m->partition < parts && pos[m->partition] < end[m->partition]) {
            json_t *v = json_loadb(m->payload, m->len, 0, NULL);
            if (json_is_object(v) && json_is_string(json_object_get(v, "id")))
                batch[n++] = v;
            else
                json_decref(v);
            pos[m->partition] = m->offset + 1;
            if (pos[m->partition] >= end[m->partition]) open--;
        }
        rd_kafka_message_destroy(m);
        if (n == BATCH || (open == 0 && n)) {
            if (sa_db_import(db, batch, n, is_result, SA_DB_F_LOGGED | SA_DB_F_PUBLISHED, errstr,
                             errstr_size))
                total = -1;
            for (size_t i = 0; i < n; i++) json_decref(batch[i]);
            if (total < 0) break;
            total += (long)n;
            n = 0;
        }
    }
    for (size_t i = 0; i < n; i++) json_decref(batch[i]);
    rd_kafka_assign(rk, NULL);
out:
    rd_kafka_topic_partition_list_destroy(assign);
    free(end);
    free(pos);
    return total;
}

static const char *const import_defaults[] = {"group.id=samsa-import", "enable.auto.commit=false",
                                              "enable.partition.eof=false", "queued.max.messages.kbytes=4096",
                                              NULL};
const sa_client_role_t sa_db_import_client = {"import consumer (topics into a new store, once)",
                                              SA_CLIENT_CONSUMER, import_defaults, NULL};

long sa_db_import_topics(sa_db_t *db, const sa_client_opts_t *kafka, const char *ops_topic,
                         const char *results_topic, char *errstr, size_t errstr_size) {
    char *state = sa_db_meta_get(db, "import");
    int done = state && !strcmp(state, "done");
    free(state);
    if (done) return 0;
    rd_kafka_conf_t *conf = sa_client_conf_new(kafka, &sa_db_import_client, errstr, errstr_size);
    if (!conf) return -1;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_poll_set_consumer(rk);
    int64_t t0 = sa_mono_ms();
    long ops = import_topic(db, rk, ops_topic, 0, errstr, errstr_size);
    long results = ops < 0 ? -1 : import_topic(db, rk, results_topic, 1, errstr, errstr_size);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (ops < 0 || results < 0) return -1;
    if (sa_db_meta_set(db, "import", "done", errstr, errstr_size)) return -1;
    if (ops + results > 0)
        sa_log_info("store",
                    "imported %ld posts and %ld verdicts from %s and %s in %lld ms (once: a data dir from "
                    "before the store)",
                    ops, results, ops_topic, results_topic, (long long)(sa_mono_ms() - t0));
    return ops + results;
}
