/*
 * worker.h - the blog's scoring worker: blog_operations -> score -> results log -> blog_results.
 *
 * Per batch of records polled from the consumer group (one record per batch when --work-ms > 0
 * makes posts slow, up to 500 otherwise), in this order (DESIGN.md §4):
 *   1. validate each value; a poison one becomes a dead letter for blog_errors;
 *   2. score each new post (plus the simulated heavy step) and append its result line to the
 *      results log; a post whose id is already in the log is not scored again: its stored line
 *      will be re-published (a crash between the log and the produce must not leave a post
 *      "queued" on the web forever);
 *   3. write + fdatasync the log (one sync per batch);
 *   4. produce every result to blog_results and every dead letter to blog_errors (acks=all,
 *      idempotent) and wait for all delivery reports;
 *   5. commit the batch's offsets synchronously.
 * A crash before 3 loses nothing (the records are re-delivered); between 3 and 5 the records are
 * re-delivered and found in the log, so the log holds each post exactly once while blog_results
 * and blog_errors get at-least-once (the web keys results by post id). A failed produce or log
 * write seeks the partitions back to the batch start and retries after a pause.
 */
#ifndef SA_BLOG_WORKER_H
#define SA_BLOG_WORKER_H

#include <signal.h>
#include <stdint.h>

#include "core/config.h"

typedef struct sa_worker_conf_s {
    char *bootstrap;         /* -b HOST:PORT[,...] */
    sa_strlist_t props;      /* -X key=value for both clients */
    char *group;             /* consumer group (blog_group) */
    char *topic;             /* input topic (blog_operations) */
    char *results_topic;     /* blog_results */
    char *errors_topic;      /* blog_errors */
    char *results_log;       /* path of the JSON Lines results log */
    char *worker_id;         /* "" = hostname-pid */
    int64_t work_ms;         /* simulated heavy step per post */
    int64_t partitions;      /* partitions of the topics it creates */
    int64_t max_value_bytes; /* larger blog_operations values are dead letters */
    int64_t recent;          /* posts remembered for near-duplicate detection */
    char *config;            /* --config FILE (.properties), already applied */
    char *log_level;
    char *debug;
} sa_worker_conf_t;

/**
 * Run the worker until *@p stop becomes non-zero (set from a signal handler), then finish the
 * current post, commit, leave the group and return.
 * @param conf  borrowed for the call.
 * @returns SA_EXIT_OK after a clean stop, SA_EXIT_FAIL when it cannot go on (results log
 *          unusable, invalid client configuration, fatal client error).
 */
int sa_worker_run(const sa_worker_conf_t *conf, volatile sig_atomic_t *stop);

#endif
