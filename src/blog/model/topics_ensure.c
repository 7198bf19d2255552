/*
 * topics_ensure.c - CreateTopics for the blog's topics, with a Metadata fallback.
 *
 * One CreateTopics request carries every topic (retention.ms=-1: posts never expire from the
 * topics either, though the blog no longer depends on it); each result is judged on its own:
 * NO_ERROR and TOPIC_ALREADY_EXISTS are success, anything else fails the call with the first
 * error named. A broker without CreateTopics (librdkafka reports that as the request-level
 * error _UNSUPPORTED_FEATURE, or UNSUPPORTED_VERSION) makes us fall back to asking Metadata for
 * each topic, which auto-creates it where the broker allows.
 */
#include "blog/model/topics_ensure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

/* Ask Metadata for each topic; brokers with auto-create make it then. */
static int ensure_by_metadata(rd_kafka_t *rk, const sa_topic_spec_t *specs, size_t n, int timeout_ms,
                              char *errstr, size_t errstr_size) {
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, specs[i].name, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
        if (err) {
            snprintf(errstr, errstr_size, "metadata for %s: %s", specs[i].name, rd_kafka_err2str(err));
            rc = -1;
        } else if (md->topic_cnt == 1 && md->topics[0].err &&
                   md->topics[0].err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
            /* LEADER_NOT_AVAILABLE is the usual answer while an auto-created topic is born. */
            snprintf(errstr, errstr_size, "topic %s: %s", specs[i].name, rd_kafka_err2str(md->topics[0].err));
            rc = -1;
        }
        if (md) rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
    }
    return rc;
}

/* @returns 1 if @p name is in the cluster's topic list @p md. */
static int listed(const struct rd_kafka_metadata *md, const char *name) {
    for (int i = 0; i < md->topic_cnt; i++)
        if (!strcmp(md->topics[i].topic, name) && !md->topics[i].err) return 1;
    return 0;
}

int sa_topics_ensure(rd_kafka_t *rk, const sa_topic_spec_t *specs, size_t n, int timeout_ms, char *errstr,
                     size_t errstr_size) {
    int rc = -1;
    int64_t deadline = sa_mono_ms() + timeout_ms;
    /* The usual case is that the topics exist: one Metadata request (all topics, which never
     * auto-creates) settles it without the admin round trip through the controller. */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t merr = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (merr) {
        snprintf(errstr, errstr_size, "metadata: %s", rd_kafka_err2str(merr));
        return -1;
    }
    size_t missing = 0;
    for (size_t i = 0; i < n; i++) missing += !listed(md, specs[i].name);
    if (missing == 0) {
        rd_kafka_metadata_destroy(md);
        return 0;
    }
    rd_kafka_NewTopic_t **newt = sa_calloc(n ? n : 1, sizeof(*newt));
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_event_t *ev = NULL;
    char why[256];

    rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, why, sizeof(why));
    rd_kafka_AdminOptions_set_operation_timeout(options, timeout_ms, why, sizeof(why));
    size_t nnew = 0;
    for (size_t i = 0; i < n; i++) {
        if (listed(md, specs[i].name)) continue;
        newt[nnew] = rd_kafka_NewTopic_new(specs[i].name, specs[i].partitions, -1, why, sizeof(why));
        if (!newt[nnew]) {
            snprintf(errstr, errstr_size, "topic %s: %s", specs[i].name, why);
            goto out;
        }
        /* the store is the blog's system of record: the topics are its queue, and keeping every
         * record costs only disk (an old data dir is imported from them once, db_import.h) */
        rd_kafka_NewTopic_set_config(newt[nnew], "retention.ms", "-1");
        nnew++;
    }
    rd_kafka_CreateTopics(rk, newt, nnew, options, queue);
    /* The queue also receives nothing else, so the first event is our result. */
    ev = rd_kafka_queue_poll(queue, timeout_ms + 1000);
    if (!ev) {
        snprintf(errstr, errstr_size, "CreateTopics: no answer within %d ms", timeout_ms);
        goto out;
    }
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    /* A broker without CreateTopics, or one that names no controller (librdkafka then times
     * out waiting for one), gets the Metadata fallback. */
    if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
        err == RD_KAFKA_RESP_ERR_INVALID_REQUEST || err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        sa_log_warn("topics", "CreateTopics failed (%s); relying on auto-create through Metadata",
                    rd_kafka_event_error_string(ev));
        int left = (int)(deadline - sa_mono_ms());
        rc = ensure_by_metadata(rk, specs, n, left > 1000 ? left : 1000, errstr, errstr_size);
        goto out;
    }
    if (err) {
        snprintf(errstr, errstr_size, "CreateTopics: %s", rd_kafka_event_error_string(ev));
        goto out;
    }
    size_t cnt = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    rc = 0;
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t terr = rd_kafka_topic_result_error(res[i]);
        const char *name = rd_kafka_topic_result_name(res[i]);
        if (terr == RD_KAFKA_RESP_ERR_NO_ERROR) {
            sa_log_info("topics", "created topic %s", name);
        } else if (terr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            sa_log_debug(SA_DBG_WORKER, "topics", "topic %s already exists", name);
        } else if (rc == 0) {
            const char *msg = rd_kafka_topic_result_error_string(res[i]);
            snprintf(errstr, errstr_size, "creating topic %s: %s", name, msg ? msg : rd_kafka_err2str(terr));
            rc = -1;
        }
    }
out:
    rd_kafka_metadata_destroy(md);
    if (ev) rd_kafka_event_destroy(ev);
    for (size_t i = 0; i < n; i++)
        if (newt[i]) rd_kafka_NewTopic_destroy(newt[i]);
    free(newt);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_queue_destroy(queue);
    return rc;
}
