/*
 * console_int.h - what the parts of `samsa console` share. Not for use outside src/console/.
 *
 * Parts:
 *   console_kafka.c    the Kafka clients and every request the console makes (admin, browse,
 *                      produce), each with a deadline and an error string, never a print;
 *   console.c          the routes, the life cycle, and the sampler: a thread that samples
 *                      the cluster every --sample-interval into an immutable snapshot
 *                      (brokers, topics with offsets, groups with lag and time lag, message
 *                      rates) and writes the lag history to the store;
 *   console_store.c    the lag history (SQLite);
 *   console_html.c     the page shell, navigation, tables' helpers, the SVG chart;
 *   console_pages.c    the pages that read (overview, topics, topic, messages, groups, group);
 *   console_actions.c  the forms that change (create/delete topic, configs, produce, reset);
 *   console_tail.c     the live tail (SSE);
 *   console_i18n.c     English and Russian texts.
 *
 * Pages read the current snapshot and never wait for the cluster, which is what keeps them fast
 * with thousands of partitions (docs/console.md has the measurement); only the message browser,
 * a topic's configs and the forms ask the cluster while a request waits.
 *
 * Snapshot ownership: sa_console_snap_get() returns a reference (refcounted; the sampler swaps in
 * a new one under `snap_lock`); release it with sa_console_snap_put(). A snapshot never changes
 * after it is published, so readers need no lock.
 */
#ifndef SA_CONSOLE_INT_H
#define SA_CONSOLE_INT_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "console/console.h"
#include "console/console_i18n.h"
#include "core/buf.h"
#include "http/http.h"
#include "http/http_sse.h"

/* --- snapshot ------------------------------------------------------------------------------- */

typedef struct cs_part_s {
    int32_t id;
    int32_t leader;
    int nreplicas, nisr;
    int64_t earliest, latest; /* -1: unknown */
} cs_part_t;

typedef struct cs_topic_s {
    char *name;
    int internal; /* starts with "__" */
    int npart;
    cs_part_t *parts; /* sorted by id */
    int64_t messages; /* sum of latest - earliest over the known partitions */
} cs_topic_t;

typedef struct cs_broker_s {
    int32_t id;
    char *host;
    int port;
} cs_broker_t;

typedef struct cs_gpart_s {
    char *topic;
    int32_t partition;
    int64_t committed;   /* -1: none */
    int64_t end;         /* log end offset, -1: unknown */
    int64_t lag;         /* -1: unknown */
    int64_t time_lag_ms; /* age of the oldest unconsumed record; 0: none waiting; -1: unknown */
    int member;          /* index into the group's members, -1: unassigned */
} cs_gpart_t;

typedef struct cs_member_s {
    char *id, *client_id, *host;
    char *assignment; /* "topic: 0, 1; other: 3" (from the classic assignment), owned */
} cs_member_t;

typedef struct cs_group_s {
    char *name;
    char *state;         /* "Stable", "Empty", ... */
    char *protocol_type; /* "consumer", "" */
    char *protocol;      /* "range", ... */
    int nmembers;
    cs_member_t *members;
    int nparts;
    cs_gpart_t *parts; /* sorted by topic then partition */
    int64_t total_lag;
    int64_t max_time_lag_ms; /* -1: unknown */
    int ntopics;
} cs_group_t;

typedef struct cs_snap_s {
    atomic_int refs;
    int64_t taken_ms; /* wall clock */
    int64_t took_ms;  /* how long the sample took */
    char *cluster_id; /* may be NULL */
    char *version;    /* what the brokers say their version is, or NULL: unknown */
    int32_t controller;
    int nbrokers;
    cs_broker_t *brokers;
    int ntopics;
    cs_topic_t *topics; /* sorted by name */
    int64_t npartitions;
    int64_t messages;
    int ngroups;
    cs_group_t *groups;       /* sorted by name */
    double in_rate, out_rate; /* messages per second since the previous sample; -1: not yet */
    int64_t committed_sum;    /* sum of every group's committed offsets (the out rate's source) */
} cs_snap_t;

/* --- the console object --------------------------------------------------------------------- */

typedef struct cs_store_s cs_store_t;
typedef struct cs_kafka_s cs_kafka_t;

struct sa_console_s {
    const sa_console_conf_t *conf;
    sa_http_conf_t http_conf;
    sa_http_server_t *http;
    sa_http_sse_t *sse;
    cs_kafka_t *kafka;
    cs_store_t *store;
    pthread_mutex_t snap_lock;
    cs_snap_t *snap; /* under snap_lock; never NULL after start */
    char error[512]; /* under snap_lock: why the last sample failed ("": it did not) */
    /* the sampler */
    pthread_t sampler;
    int sampler_started;
    pthread_mutex_t wake_lock;
    pthread_cond_t wake;
    int stopping;   /* under wake_lock */
    int sample_now; /* under wake_lock: a change asked for a new sample */
    atomic_int tails;
};

cs_snap_t *sa_console_snap_get(sa_console_t *c);
void sa_console_snap_put(cs_snap_t *s);
/** Copy why the last sample failed ("" if it did not) into @p out. */
void sa_console_error(sa_console_t *c, char *out, size_t size);
/** Ask the sampler for a new sample now (after a change). */
void sa_console_resample(sa_console_t *c);
/** @returns the topic @p name of @p s, or NULL. */
const cs_topic_t *cs_snap_topic(const cs_snap_t *s, const char *name);
/** @returns the group @p name of @p s, or NULL. */
const cs_group_t *cs_snap_group(const cs_snap_t *s, const char *name);

/* --- console.c ---------------------------------------------------------------------------- */
void cs_snap_free(cs_snap_t *s);

/* --- console_kafka.c ----------------------------------------------------------------------- */
/** @returns new: the admin, browse and producer clients, or NULL with errstr. */
cs_kafka_t *cs_kafka_new(const sa_console_conf_t *conf, char *errstr, size_t errstr_size);
void cs_kafka_free(cs_kafka_t *k);
/** @returns new snapshot of the cluster (groups' time lag included), or NULL with errstr. */
cs_snap_t *cs_kafka_sample(cs_kafka_t *k, char *errstr, size_t errstr_size);

/* One record read by the browser or the tail. */
typedef struct cs_record_s {
    int32_t partition;
    int64_t offset;
    int64_t timestamp; /* ms; -1: none */
    char *key;         /* owned, NUL-terminated; NULL: null key */
    size_t key_len;    /* bytes kept (at most 64 KiB) */
    size_t key_size;   /* bytes the record has */
    char *value;       /* owned, NUL-terminated; NULL: null value (a tombstone) */
    size_t value_len;  /* bytes kept (at most 64 KiB) */
    size_t value_size; /* bytes the record has */
    int nheaders;
    char **header_names;  /* owned */
    char **header_values; /* owned; an entry NULL: null value */
    size_t *header_lens;
} cs_record_t;

void cs_record_clear(cs_record_t *r);

typedef enum cs_seek_e { CS_SEEK_NEWEST, CS_SEEK_OFFSET, CS_SEEK_TIME } cs_seek_t;

typedef struct cs_filter_s {
    const char *key;    /* substring of the key, or NULL */
    const char *value;  /* substring of the value, or NULL */
    const char *header; /* "name" or "name=value", or NULL */
    int64_t from_ms;    /* timestamp range, -1: open */
    int64_t to_ms;
} cs_filter_t;

typedef struct cs_browse_s {
    const char *topic;
    int32_t partition; /* -1: every partition (at most CS_BROWSE_MAX_PARTS) */
    cs_seek_t seek;
    int64_t offset;  /* CS_SEEK_OFFSET */
    int64_t before;  /* CS_SEEK_NEWEST: only offsets below this (paging), -1: none */
    int64_t time_ms; /* CS_SEEK_TIME */
    int limit;       /* records wanted */
    int scan;        /* records read per partition at most (filters) */
    cs_filter_t filter;
} cs_browse_t;

#define CS_BROWSE_MAX_PARTS 16

typedef struct cs_browse_result_s {
    cs_record_t *recs; /* owned, newest first */
    int n;
    int64_t scanned;   /* records read */
    int parts_scanned; /* partitions read */
    int parts_skipped; /* partitions left out (over CS_BROWSE_MAX_PARTS) */
} cs_browse_result_t;

/** Read records of @p b (newest first). @returns 0, or -1 with errstr. */
int cs_kafka_browse(cs_kafka_t *k, const cs_browse_t *b, cs_browse_result_t *out, char *errstr,
                    size_t errstr_size);
void cs_browse_result_free(cs_browse_result_t *r);

/** Produce one record and wait for its acknowledgement. @p partition -1: the partitioner's.
 *  @returns 0 with *@p partition_out and *@p offset_out, or -1 with errstr. */
int cs_kafka_produce(cs_kafka_t *k, const char *topic, int32_t partition, const char *key, const char *value,
                     const sa_strlist_t *headers, int32_t *partition_out, int64_t *offset_out, char *errstr,
                     size_t errstr_size);

/** Create @p topic. @p configs "key=value". @returns 0, or -1 with errstr. */
int cs_kafka_create_topic(cs_kafka_t *k, const char *topic, int partitions, int replication,
                          const sa_strlist_t *configs, char *errstr, size_t errstr_size);
int cs_kafka_delete_topic(cs_kafka_t *k, const char *topic, char *errstr, size_t errstr_size);

typedef struct cs_config_s {
    char *name, *value; /* value NULL: unknown or sensitive */
    int is_default, read_only, sensitive;
    const char *source; /* static text */
} cs_config_t;

/** @returns new array of @p topic's configs (sorted by name), *@p n; NULL with errstr. */
cs_config_t *cs_kafka_topic_configs(cs_kafka_t *k, const char *topic, int *n, char *errstr,
                                    size_t errstr_size);
void cs_configs_free(cs_config_t *cfg, int n);
/** Replace @p topic's overrides with @p configs ("key=value"; AlterConfigs). @returns 0 or -1. */
int cs_kafka_alter_topic_configs(cs_kafka_t *k, const char *topic, const sa_strlist_t *configs, char *errstr,
                                 size_t errstr_size);

typedef enum cs_reset_e {
    CS_RESET_EARLIEST,
    CS_RESET_LATEST,
    CS_RESET_OFFSET,
    CS_RESET_TIME,
    CS_RESET_SHIFT
} cs_reset_t;

typedef struct cs_reset_row_s {
    char *topic;
    int32_t partition;
    int64_t current; /* -1: none committed */
    int64_t target;
    int64_t end;
} cs_reset_row_t;

/** The plan of resetting @p group's offsets on @p topic (NULL: every topic the group has offsets
 *  for) to @p kind/@p value. @returns new rows, *@p n; NULL with errstr. */
cs_reset_row_t *cs_kafka_reset_plan(cs_kafka_t *k, const char *group, const char *topic, cs_reset_t kind,
                                    int64_t value, int *n, char *errstr, size_t errstr_size);
/** Commit @p rows for @p group (AlterConsumerGroupOffsets). @returns 0 or -1 with errstr. */
int cs_kafka_reset_apply(cs_kafka_t *k, const char *group, const cs_reset_row_t *rows, int n, char *errstr,
                         size_t errstr_size);
void cs_reset_rows_free(cs_reset_row_t *rows, int n);

/** A live tail: a consumer at the end of @p topic (@p partition -1: all). NULL with errstr. */
typedef struct cs_tail_s cs_tail_t;
cs_tail_t *cs_tail_new(cs_kafka_t *k, const char *topic, int32_t partition, char *errstr, size_t errstr_size);
/** @returns 1 with the next record that passes @p f in @p r, without waiting; 0 if none now. */
int cs_tail_poll(cs_tail_t *t, const cs_filter_t *f, cs_record_t *r);
void cs_tail_free(cs_tail_t *t);

/* --- console_store.c ----------------------------------------------------------------------- */
/** @returns new store at @p path ("none": in memory), or NULL with errstr. */
cs_store_t *cs_store_open(const char *path, char *errstr, size_t errstr_size);
void cs_store_close(cs_store_t *st);
/** Record @p s's lag per group and topic and its rates; delete what is older than @p keep_ms. */
void cs_store_record(cs_store_t *st, const cs_snap_t *s, int64_t keep_ms);

typedef struct cs_point_s {
    int64_t t_ms;
    double v;
    double v2; /* a second series (time lag, out rate), NAN if none */
} cs_point_t;

/** @returns new points of @p group's total lag (and max time lag) since @p since_ms, at most
 *  @p max_points (bucketed: each the largest of its bucket); *@p n. @p group NULL: the cluster's
 *  in and out rates. */
cs_point_t *cs_store_series(cs_store_t *st, const char *group, int64_t since_ms, int max_points, int *n);

/* --- console_html.c ------------------------------------------------------------------------ */
typedef enum cs_nav_e { CS_NAV_OVERVIEW, CS_NAV_TOPICS, CS_NAV_MESSAGES, CS_NAV_GROUPS } cs_nav_t;

/** Open a page: head, navigation (@p nav current), language switch to @p self (the page's own
 *  URL, escaped here), the snapshot's status line. */
void cs_html_begin(sa_buf_t *out, sa_http_req_t *req, cs_nav_t nav, const char *title, const char *self,
                   const cs_snap_t *s);
void cs_html_end(sa_buf_t *out, sa_http_req_t *req);
/** A notice box: @p kind "ok", "error" or "info"; @p text escaped. */
void cs_html_notice(sa_buf_t *out, const char *kind, const char *text);
/** A number with thin grouping ("12 345"); -1: "—". */
void cs_html_num(sa_buf_t *out, int64_t v);
/** A duration "3 s", "4 min", "2 h" ...; -1: "—". */
void cs_html_duration(sa_buf_t *out, sa_lang_t lang, int64_t ms);
/** A <time> with @p ms (wall clock) as "YYYY-MM-DD HH:MM:SS UTC". */
void cs_html_time(sa_buf_t *out, int64_t ms);
/** An SVG line chart of @p pts (one or two series) with its @p title and legend; @p v2_duration:
 *  the second series is a duration in ms on a scale of its own (else it shares the first's). */
void cs_html_chart(sa_buf_t *out, sa_lang_t lang, const cs_point_t *pts, int n, const char *title,
                   const char *label1, const char *label2, int v2_duration);
/** The hidden CSRF field of a form. */
void cs_html_csrf(sa_buf_t *out, sa_http_req_t *req);
/** "?lang=xx" for links. */
const char *cs_lang_q(sa_http_req_t *req);
/** A bytes value, escaped and shown as text (invalid UTF-8 as \xNN), cut at @p max bytes;
 *  @p pretty: JSON is indented. */
void cs_html_bytes(sa_buf_t *out, const char *data, size_t len, size_t max, int pretty);

/* --- console_pages.c / console_actions.c / console_tail.c ----------------------------------- */
enum MHD_Result cs_page_overview(sa_http_req_t *req);
enum MHD_Result cs_page_topics(sa_http_req_t *req);
enum MHD_Result cs_page_topic(sa_http_req_t *req);
enum MHD_Result cs_page_messages(sa_http_req_t *req);
enum MHD_Result cs_page_groups(sa_http_req_t *req);
enum MHD_Result cs_page_group(sa_http_req_t *req);
enum MHD_Result cs_page_healthz(sa_http_req_t *req);
enum MHD_Result cs_page_metrics(sa_http_req_t *req);
enum MHD_Result cs_action_create_topic(sa_http_req_t *req);
enum MHD_Result cs_action_delete_topic(sa_http_req_t *req);
enum MHD_Result cs_action_configs(sa_http_req_t *req);
enum MHD_Result cs_action_produce(sa_http_req_t *req);
enum MHD_Result cs_action_reset(sa_http_req_t *req);
enum MHD_Result cs_tail_open(sa_http_req_t *req);

/** Parse the browser's query (topic, partition, seek, offset, time, limit, key, value, header,
 *  from, to) of @p req into @p b. @returns 0, or -1 with a message key in *@p bad. */
int cs_browse_from_query(sa_http_req_t *req, cs_browse_t *b, cs_msg_t *bad);
/** Parse "YYYY-MM-DDTHH:MM[:SS]" (UTC, as an <input type=datetime-local> sends) or milliseconds
 *  since the epoch. @returns ms, or -1. */
int64_t cs_parse_time(const char *s);
/** The JSON of @p r for the tail and the browser's data attributes. @returns new. */
json_t *cs_record_json(const cs_record_t *r);

#endif
