/*
 * topics_ensure.h - create the blog's topics if they are missing (DESIGN.md §4).
 *
 * The blog's parts (worker, web) call this at start-up so a fresh broker needs no manual
 * `samsa topics --create`. It uses librdkafka's admin API (CreateTopics) on any client handle
 * the caller already has (a producer works), so no extra connection is opened:
 *
 *   static const sa_topic_spec_t specs[] = {{"blog_operations", 3}, {"blog_results", 3},
 *                                           {"blog_errors", 1}};
 *   if (sa_topics_ensure(rk, specs, 3, 10000, errstr, sizeof(errstr))) ... fail
 *
 * A topic that already exists is fine (whatever its partition count). A broker that does not
 * support CreateTopics gets a warning and a Metadata request for the topics instead, which
 * auto-creates them on brokers with auto.create.topics.enable (with the broker's default
 * partition count).
 */
#ifndef SA_BLOG_TOPICS_ENSURE_H
#define SA_BLOG_TOPICS_ENSURE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

typedef struct sa_topic_spec_s {
    const char *name; /* borrowed topic name */
    int partitions;   /* wanted partition count (>= 1) when the topic is created */
} sa_topic_spec_t;

/* Default partition counts of the blog's topics (DESIGN.md §4). */
#define SA_BLOG_OPERATIONS_PARTITIONS 3
#define SA_BLOG_RESULTS_PARTITIONS    3
#define SA_BLOG_ERRORS_PARTITIONS     1

/**
 * Make sure every topic in @p specs exists, creating the missing ones with replication factor
 * -1 (the broker's default) and the given partition count.
 *
 * @param rk          borrowed client handle (producer or consumer) connected to the cluster.
 * @param specs       borrowed array of @p n topics.
 * @param timeout_ms  overall deadline for the admin request and the fallback metadata request.
 * @returns 0 when every topic exists afterwards (or was requested through the fallback),
 *          -1 with a message in @p errstr (e.g. broker unreachable, authorization failed,
 *          invalid partition count).
 * @locality any thread; blocks up to @p timeout_ms.
 */
int sa_topics_ensure(rd_kafka_t *rk, const sa_topic_spec_t *specs, size_t n, int timeout_ms, char *errstr,
                     size_t errstr_size);

#endif
