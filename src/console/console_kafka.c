/*
 * console_kafka.c - the console's Kafka clients and every request it makes (see console_int.h).
 *
 * Clients (all built by client.h, so -b/-X/-F/$SAMSA_CONFIG apply to each):
 *   admin     metadata, offsets (ListOffsets through offsets_for_times: -2 earliest, -1 latest,
 *             one request per leader for every partition at once), groups (the classic
 *             ListGroups + DescribeGroups of rd_kafka_list_groups: librdkafka 2.0.2's
 *             DescribeConsumerGroups left rd_kafka_destroy() hanging at shutdown), committed
 *             offsets, topic and config changes, offset resets;
 *   reader    a consumer that only ever assign()s (never joins its group, never commits): the
 *             message browser and the time-lag probes, one at a time (`read_lock`);
 *   producer  the produce form (acks=all, idempotent), one record at a time (`produce_lock`).
 * A live tail has a reader of its own (cs_tail_new).
 *
 * Closing clients: every handle is closed and destroyed by the reaper thread, never on an HTTP
 * thread or in line at shutdown. librdkafka 2.0.2 can leave rd_kafka_destroy() of a consumer that
 * assign()ed many times waiting for ever on a broker thread whose reference count never drops
 * (seen under load in the ASan suite: the main thread joined rdk:main, which joined rdk:broker0;
 * librdkafka issues 4486/4674, fixed after 2.0.2). So a tail that ends only hands its consumer to
 * the reaper, and cs_kafka_free waits for the reaper at most RELEASE_WAIT_MS, then logs which
 * handles were left and lets the process exit without them.
 *
 * Every call here has a deadline (--timeout) and returns errors as text; nothing prints.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console/console_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#define KEEP_BYTES   65536           /* bytes of a key or value kept for the page (its size is shown) */
#define PROBE_MAX    500             /* partitions probed for time lag per sample */
#define READER_GROUP "samsa-console" /* group.id of the readers: assign() needs one; never joined */

static const char *const reader_defaults[] = {"enable.auto.commit=false", "enable.partition.eof=true",
                                              "fetch.wait.max.ms=10", "auto.offset.reset=earliest", NULL};
static const char *const producer_defaults[] = {"acks=all", "enable.idempotence=true", "linger.ms=0", NULL};

const sa_client_role_t sa_console_clients[] = {
    {"admin", SA_CLIENT_ADMIN, NULL, NULL},
    {"reader", SA_CLIENT_CONSUMER, reader_defaults, READER_GROUP},
    {"producer", SA_CLIENT_PRODUCER, producer_defaults, NULL},
};
const size_t sa_console_nclients = SA_ARRAY_LEN(sa_console_clients);

#define RELEASE_WAIT_MS 10000 /* how long shutdown waits for librdkafka to let its handles go */

/* The reaper: a thread that closes and destroys handles handed to it (see above). Its state is
 * its own allocation, left (not freed) when the wait at shutdown gives up on it. */
typedef struct reaper_s {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    rd_kafka_t **q; /* handles to destroy */
    int n, cap;
    int busy;    /* a destroy is under way */
    int closing; /* no more handles: finish the queue and exit */
    pthread_t thread;
} reaper_t;

static void *reaper_main(void *arg) {
    reaper_t *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (!r->n && !r->closing) pthread_cond_wait(&r->cond, &r->lock);
        if (!r->n) break;
        rd_kafka_t *rk = r->q[--r->n];
        r->busy = 1;
        pthread_mutex_unlock(&r->lock);
        if (rd_kafka_type(rk) == RD_KAFKA_CONSUMER) {
            rd_kafka_assign(rk, NULL);
            rd_kafka_consumer_close(rk); /* a handle without a group answers at once */
        }
        rd_kafka_destroy(rk);
        pthread_mutex_lock(&r->lock);
        r->busy = 0;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static reaper_t *reaper_new(void) {
    reaper_t *r = sa_new(reaper_t);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    if (pthread_create(&r->thread, NULL, reaper_main, r)) {
        free(r);
        return NULL;
    }
    return r;
}

/* Hand @p rk (taken; may be NULL) to the reaper. */
static void release(reaper_t *r, rd_kafka_t *rk) {
    if (!rk) return;
    pthread_mutex_lock(&r->lock);
    if (r->n == r->cap)
        r->q = sa_realloc(r->q, (size_t)(r->cap = r->cap ? r->cap * 2 : 8) * sizeof(rd_kafka_t *));
    r->q[r->n++] = rk;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* Let the reaper finish what it has, waiting at most @p wait_ms; then free it, or leave it. */
static void reaper_finish(reaper_t *r, int wait_ms) {
    if (!r) return;
    int64_t deadline = sa_mono_ms() + wait_ms;
    pthread_mutex_lock(&r->lock);
    r->closing = 1;
    pthread_cond_broadcast(&r->cond);
    while ((r->n || r->busy) && sa_mono_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&r->cond, &r->lock, &ts);
    }
    int left = r->n + r->busy;
    pthread_mutex_unlock(&r->lock);
    if (left) {
        sa_log_warn("console",
                    "librdkafka did not release %d client(s) within %d ms (a librdkafka 2.0.2 bug); "
                    "exiting without them",
                    left, wait_ms);
        pthread_detach(r->thread);
        return; /* r stays: the reaper thread still uses it */
    }
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r->q);
    free(r);
}

struct cs_kafka_s {
    const sa_console_conf_t *conf;
    reaper_t *reaper;
    rd_kafka_t *admin, *reader, *producer;
    pthread_mutex_t read_lock, produce_lock;
    int64_t prev_in_sum, prev_out_sum, prev_ms; /* for the rates */
};

typedef struct dr_s {
    int done;
    rd_kafka_resp_err_t err;
    int32_t partition;
    int64_t offset;
} dr_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    dr_t *dr = m->_private;
    if (!dr) return;
    dr->err = m->err;
    dr->partition = m->partition;
    dr->offset = m->offset;
    dr->done = 1;
}

static rd_kafka_t *client_new(const sa_console_conf_t *conf, const sa_client_role_t *role, char *errstr,
                              size_t errstr_size) {
    rd_kafka_conf_t *kc = sa_client_conf_new(&conf->kafka, role, errstr, errstr_size);
    if (!kc) return NULL;
    if (role->kind == SA_CLIENT_PRODUCER) rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(sa_client_handle_type(role->kind), kc, errstr, errstr_size);
    if (!rk) rd_kafka_conf_destroy(kc);
    return rk;
}

cs_kafka_t *cs_kafka_new(const sa_console_conf_t *conf, char *errstr, size_t errstr_size) {
    cs_kafka_t *k = sa_new(cs_kafka_t);
    k->conf = conf;
    pthread_mutex_init(&k->read_lock, NULL);
    pthread_mutex_init(&k->produce_lock, NULL);
    k->prev_ms = -1;
    if (!(k->reaper = reaper_new())) {
        snprintf(errstr, errstr_size, "cannot start a thread");
        cs_kafka_free(k);
        return NULL;
    }
    if (!(k->admin = client_new(conf, &sa_console_clients[0], errstr, errstr_size)) ||
        !(k->reader = client_new(conf, &sa_console_clients[1], errstr, errstr_size)) ||
        !(k->producer = client_new(conf, &sa_console_clients[2], errstr, errstr_size))) {
        cs_kafka_free(k);
        return NULL;
    }
    return k;
}

void cs_kafka_free(cs_kafka_t *k) {
    if (!k) return;
    if (k->producer) rd_kafka_flush(k->producer, 5000); /* nothing is produced after a request ends */
    if (k->reaper) {
        release(k->reaper, k->producer);
        release(k->reaper, k->reader);
        release(k->reaper, k->admin);
        reaper_finish(k->reaper, RELEASE_WAIT_MS);
    } else { /* nothing was made: destroy in line */
        if (k->producer) rd_kafka_destroy(k->producer);
        if (k->reader) rd_kafka_destroy(k->reader);
        if (k->admin) rd_kafka_destroy(k->admin);
    }
    pthread_mutex_destroy(&k->read_lock);
    pthread_mutex_destroy(&k->produce_lock);
    free(k);
}

/* --- admin helpers --------------------------------------------------------------------------- */

static int timeout_ms(const cs_kafka_t *k) { return (int)k->conf->timeout_ms; }

static rd_kafka_AdminOptions_t *admin_options(cs_kafka_t *k, rd_kafka_admin_op_t op) {
    return sa_client_admin_options(k->admin, op, timeout_ms(k));
}

/* Wait on @p q for the result of type @p type. @returns new event or NULL with errstr. */
static rd_kafka_event_t *admin_wait(cs_kafka_t *k, rd_kafka_queue_t *q, rd_kafka_event_type_t type,
                                    char *errstr, size_t errstr_size) {
    return sa_client_admin_wait(q, type, timeout_ms(k), NULL, errstr, errstr_size);
}

/* --- sampling -------------------------------------------------------------------------------- */

static int cmp_topic(const void *a, const void *b) {
    return strcmp(((const cs_topic_t *)a)->name, ((const cs_topic_t *)b)->name);
}
static int cmp_group(const void *a, const void *b) {
    return strcmp(((const cs_group_t *)a)->name, ((const cs_group_t *)b)->name);
}
static int cmp_part(const void *a, const void *b) {
    return ((const cs_part_t *)a)->id - ((const cs_part_t *)b)->id;
}
static int cmp_gpart(const void *a, const void *b) {
    const cs_gpart_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : x->partition - y->partition;
}

const cs_topic_t *cs_snap_topic(const cs_snap_t *s, const char *name) {
    if (!s || !name || !s->ntopics) return NULL; /* bsearch needs an array */
    cs_topic_t key = {.name = (char *)name};
    return bsearch(&key, s->topics, (size_t)s->ntopics, sizeof(cs_topic_t), cmp_topic);
}

const cs_group_t *cs_snap_group(const cs_snap_t *s, const char *name) {
    if (!s || !name || !s->ngroups) return NULL;
    cs_group_t key = {.name = (char *)name};
    return bsearch(&key, s->groups, (size_t)s->ngroups, sizeof(cs_group_t), cmp_group);
}

/* Fill the earliest (@p which -2) or latest (-1) offsets of every partition of @p s. */
static void sample_offsets(cs_kafka_t *k, cs_snap_t *s, int64_t which) {
    if (!s->npartitions) return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)s->npartitions);
    for (int t = 0; t < s->ntopics; t++)
        for (int p = 0; p < s->topics[t].npart; p++)
            rd_kafka_topic_partition_list_add(l, s->topics[t].name, s->topics[t].parts[p].id)->offset = which;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(k->admin, l, timeout_ms(k));
    if (err) sa_log_debug(SA_DBG_CLIENT, "console", "offsets: %s", rd_kafka_err2str(err));
    int i = 0;
    for (int t = 0; t < s->ntopics; t++)
        for (int p = 0; p < s->topics[t].npart; p++, i++) {
            const rd_kafka_topic_partition_t *e = &l->elems[i];
            int64_t v = !err && !e->err && e->offset >= 0 ? e->offset : -1;
            if (which == -2)
                s->topics[t].parts[p].earliest = v;
            else
                s->topics[t].parts[p].latest = v;
        }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Read a big-endian int of @p n bytes at *@p p within @p end. @returns 0 or -1 when short. */
static int rd_be(const unsigned char **p, const unsigned char *end, int n, int64_t *v) {
    if (end - *p < n) return -1;
    int64_t x = 0;
    for (int i = 0; i < n; i++) x = (x << 8) | (*p)[i];
    if (n == 2) x = (int16_t)x;
    if (n == 4) x = (int32_t)x;
    *p += n;
    *v = x;
    return 0;
}

/* Decode a classic ConsumerProtocol assignment (version, [topic [partition]], user data) into
 * "topic: 0, 1; topic2: 3", and mark those partitions of @p g as member @p member's.
 * @returns new text, NULL if it is not one. */
static char *decode_assignment(const void *data, int size, cs_group_t *g, int member) {
    const unsigned char *p = data, *end = p + (size > 0 ? size : 0);
    int64_t ver, ntopics;
    if (!data || rd_be(&p, end, 2, &ver) || rd_be(&p, end, 4, &ntopics) || ntopics < 0) return NULL;
    sa_buf_t out = SA_BUF_INIT(0);
    for (int64_t t = 0; t < ntopics; t++) {
        int64_t len, nparts;
        if (rd_be(&p, end, 2, &len) || len < 0 || end - p < len) break;
        char topic[256];
        snprintf(topic, sizeof(topic), "%.*s", (int)len, (const char *)p);
        p += len;
        if (rd_be(&p, end, 4, &nparts) || nparts < 0) break;
        sa_buf_printf(&out, "%s%s:", t ? "; " : "", topic);
        for (int64_t i = 0; i < nparts; i++) {
            int64_t part;
            if (rd_be(&p, end, 4, &part)) break;
            sa_buf_printf(&out, "%s %lld", i ? "," : "", (long long)part);
            for (int j = 0; j < g->nparts; j++)
                if (g->parts[j].partition == part && !strcmp(g->parts[j].topic, topic))
                    g->parts[j].member = member;
        }
    }
    return sa_buf_take(&out);
}

/* The committed offsets of @p g, joined with the topics' ends. */
static int sample_group_offsets(cs_kafka_t *k, cs_snap_t *s, cs_group_t *g) {
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(g->name, NULL);
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->admin);
    rd_kafka_AdminOptions_t *o = admin_options(k, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_ListConsumerGroupOffsets(k->admin, &req, 1, o, q);
    char errstr[256];
    rd_kafka_event_t *ev =
        admin_wait(k, q, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT, errstr, sizeof(errstr));
    int rc = -1;
    if (ev) {
        size_t n;
        const rd_kafka_group_result_t **res = rd_kafka_ListConsumerGroupOffsets_result_groups(
            rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
        const rd_kafka_topic_partition_list_t *l = n ? rd_kafka_group_result_partitions(res[0]) : NULL;
        if (l && l->cnt) {
            g->parts = sa_calloc((size_t)l->cnt, sizeof(cs_gpart_t));
            for (int i = 0; i < l->cnt; i++) {
                const rd_kafka_topic_partition_t *e = &l->elems[i];
                cs_gpart_t *gp = &g->parts[g->nparts++];
                gp->topic = sa_strdup(e->topic);
                gp->partition = e->partition;
                gp->committed = e->offset >= 0 ? e->offset : -1;
                gp->end = -1;
                gp->lag = -1;
                gp->time_lag_ms = -1;
                gp->member = -1;
                const cs_topic_t *t = cs_snap_topic(s, e->topic);
                for (int p = 0; t && p < t->npart; p++)
                    if (t->parts[p].id == e->partition) gp->end = t->parts[p].latest;
                if (gp->end >= 0 && gp->committed >= 0) gp->lag = SA_MAX(0, gp->end - gp->committed);
                if (gp->lag >= 0) g->total_lag += gp->lag;
                if (gp->committed >= 0) s->committed_sum += gp->committed;
                if (gp->lag == 0) gp->time_lag_ms = 0;
            }
            qsort(g->parts, (size_t)g->nparts, sizeof(cs_gpart_t), cmp_gpart);
            for (int i = 0; i < g->nparts; i++)
                if (!i || strcmp(g->parts[i].topic, g->parts[i - 1].topic)) g->ntopics++;
        }
        rc = 0;
        rd_kafka_event_destroy(ev);
    } else {
        sa_log_debug(SA_DBG_CLIENT, "console", "offsets of group %s: %s", g->name, errstr);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    return rc;
}

/* How old the oldest unconsumed record is, per lagging partition (at most PROBE_MAX in a sample):
 * the reader reads the record at each committed offset. */
static void sample_time_lag(cs_kafka_t *k, cs_snap_t *s) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(64);
    for (int g = 0; g < s->ngroups && l->cnt < PROBE_MAX; g++)
        for (int i = 0; i < s->groups[g].nparts && l->cnt < PROBE_MAX; i++) {
            cs_gpart_t *gp = &s->groups[g].parts[i];
            if (gp->lag > 0 && gp->committed >= 0 &&
                !rd_kafka_topic_partition_list_find(l, gp->topic, gp->partition))
                rd_kafka_topic_partition_list_add(l, gp->topic, gp->partition)->offset = gp->committed;
        }
    if (!l->cnt) {
        rd_kafka_topic_partition_list_destroy(l);
        return;
    }
    /* the timestamp found per (topic, partition, committed offset) */
    int64_t *ts = sa_calloc((size_t)l->cnt, sizeof(int64_t));
    for (int i = 0; i < l->cnt; i++) ts[i] = -1;
    pthread_mutex_lock(&k->read_lock);
    int left = l->cnt;
    if (!rd_kafka_assign(k->reader, l)) {
        int64_t deadline = sa_mono_ms() + SA_MIN(timeout_ms(k), 3000);
        while (left > 0 && sa_mono_ms() < deadline) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(k->reader, 100);
            if (!m) continue;
            if (!m->err || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
                for (int i = 0; i < l->cnt; i++)
                    if (ts[i] == -1 && l->elems[i].partition == m->partition &&
                        !strcmp(l->elems[i].topic, topic)) {
                        rd_kafka_timestamp_type_t tt;
                        ts[i] = m->err ? -2 : rd_kafka_message_timestamp(m, &tt);
                        if (ts[i] < 0) ts[i] = -2; /* answered, but no time */
                        left--;
                        break;
                    }
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_assign(k->reader, NULL);
    }
    pthread_mutex_unlock(&k->read_lock);
    int64_t now = sa_wall_ms();
    for (int g = 0; g < s->ngroups; g++) {
        cs_group_t *grp = &s->groups[g];
        for (int i = 0; i < grp->nparts; i++) {
            cs_gpart_t *gp = &grp->parts[i];
            if (gp->lag <= 0) continue;
            for (int j = 0; j < l->cnt; j++)
                if (ts[j] >= 0 && l->elems[j].partition == gp->partition &&
                    !strcmp(l->elems[j].topic, gp->topic) && l->elems[j].offset == gp->committed)
                    gp->time_lag_ms = SA_MAX(0, now - ts[j]);
        }
    }
    free(ts);
    rd_kafka_topic_partition_list_destroy(l);
}

static void sample_groups(cs_kafka_t *k, cs_snap_t *s) {
    const struct rd_kafka_group_list *gl = NULL;
    rd_kafka_resp_err_t err = rd_kafka_list_groups(k->admin, NULL, &gl, timeout_ms(k));
    if (err || !gl) {
        sa_log_debug(SA_DBG_CLIENT, "console", "list groups: %s", rd_kafka_err2str(err));
        if (gl) rd_kafka_group_list_destroy(gl);
        return;
    }
    s->groups = sa_calloc((size_t)gl->group_cnt + 1, sizeof(cs_group_t));
    for (int i = 0; i < gl->group_cnt; i++) {
        const struct rd_kafka_group_info *gi = &gl->groups[i];
        cs_group_t *g = &s->groups[s->ngroups++];
        g->name = sa_strdup(gi->group);
        g->state = sa_strdup(gi->err ? "Unknown" : gi->state ? gi->state : "");
        g->protocol_type = sa_strdup(gi->protocol_type ? gi->protocol_type : "");
        g->protocol = sa_strdup(gi->protocol ? gi->protocol : "");
        g->max_time_lag_ms = -1;
        sample_group_offsets(k, s, g);
        g->nmembers = gi->member_cnt;
        g->members = sa_calloc((size_t)gi->member_cnt + 1, sizeof(cs_member_t));
        for (int m = 0; m < gi->member_cnt; m++) {
            const struct rd_kafka_group_member_info *mi = &gi->members[m];
            cs_member_t *cm = &g->members[m];
            cm->id = sa_strdup(mi->member_id ? mi->member_id : "");
            cm->client_id = sa_strdup(mi->client_id ? mi->client_id : "");
            cm->host = sa_strdup(mi->client_host ? mi->client_host : "");
            if (!strcmp(g->protocol_type, "consumer"))
                cm->assignment = decode_assignment(mi->member_assignment, mi->member_assignment_size, g, m);
        }
    }
    rd_kafka_group_list_destroy(gl);
    qsort(s->groups, (size_t)s->ngroups, sizeof(cs_group_t), cmp_group);
}

/* The brokers' version, when their configs say it (Kafka 3.x: inter.broker.protocol.version). */
static char *sample_version(cs_kafka_t *k, int32_t broker) {
    char id[16];
    snprintf(id, sizeof(id), "%d", (int)broker);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_BROKER, id);
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->admin);
    rd_kafka_AdminOptions_t *o = admin_options(k, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(k->admin, &res, 1, o, q);
    char errstr[256], *version = NULL;
    rd_kafka_event_t *ev = admin_wait(k, q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, errstr, sizeof(errstr));
    if (ev) {
        size_t n, nc;
        const rd_kafka_ConfigResource_t **rs =
            rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
        const rd_kafka_ConfigEntry_t **ce = n ? rd_kafka_ConfigResource_configs(rs[0], &nc) : NULL;
        for (size_t i = 0; ce && i < nc && !version; i++) {
            const char *name = rd_kafka_ConfigEntry_name(ce[i]), *v = rd_kafka_ConfigEntry_value(ce[i]);
            if (v && *v && !strcmp(name, "inter.broker.protocol.version")) version = sa_strdup(v);
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    return version;
}

cs_snap_t *cs_kafka_sample(cs_kafka_t *k, char *errstr, size_t errstr_size) {
    int64_t t0 = sa_mono_ms();
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(k->admin, 1, NULL, &md, timeout_ms(k));
    if (err) {
        snprintf(errstr, errstr_size, "metadata: %s", rd_kafka_err2str(err));
        return NULL;
    }
    cs_snap_t *s = sa_new(cs_snap_t);
    atomic_init(&s->refs, 1);
    s->taken_ms = sa_wall_ms();
    s->controller = rd_kafka_controllerid(k->admin, 0);
    s->cluster_id = rd_kafka_clusterid(k->admin, 0);
    s->nbrokers = md->broker_cnt;
    s->brokers = sa_calloc((size_t)md->broker_cnt + 1, sizeof(cs_broker_t));
    for (int i = 0; i < md->broker_cnt; i++) {
        s->brokers[i].id = md->brokers[i].id;
        s->brokers[i].host = sa_strdup(md->brokers[i].host);
        s->brokers[i].port = md->brokers[i].port;
    }
    s->topics = sa_calloc((size_t)md->topic_cnt + 1, sizeof(cs_topic_t));
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *mt = &md->topics[i];
        if (mt->err && !mt->partition_cnt) continue;
        cs_topic_t *t = &s->topics[s->ntopics++];
        t->name = sa_strdup(mt->topic);
        t->internal = !strncmp(mt->topic, "__", 2);
        t->npart = mt->partition_cnt;
        t->parts = sa_calloc((size_t)mt->partition_cnt + 1, sizeof(cs_part_t));
        for (int p = 0; p < mt->partition_cnt; p++) {
            t->parts[p].id = mt->partitions[p].id;
            t->parts[p].leader = mt->partitions[p].leader;
            t->parts[p].nreplicas = mt->partitions[p].replica_cnt;
            t->parts[p].nisr = mt->partitions[p].isr_cnt;
        }
        qsort(t->parts, (size_t)t->npart, sizeof(cs_part_t), cmp_part);
        s->npartitions += t->npart;
    }
    rd_kafka_metadata_destroy(md);
    qsort(s->topics, (size_t)s->ntopics, sizeof(cs_topic_t), cmp_topic);
    sample_offsets(k, s, -2);
    sample_offsets(k, s, -1);
    int64_t in_sum = 0;
    for (int t = 0; t < s->ntopics; t++) {
        for (int p = 0; p < s->topics[t].npart; p++) {
            const cs_part_t *pp = &s->topics[t].parts[p];
            if (pp->earliest >= 0 && pp->latest >= pp->earliest)
                s->topics[t].messages += pp->latest - pp->earliest;
            if (pp->latest >= 0) in_sum += pp->latest;
        }
        s->messages += s->topics[t].messages;
    }
    sample_groups(k, s);
    sample_time_lag(k, s);
    for (int g = 0; g < s->ngroups; g++)
        for (int i = 0; i < s->groups[g].nparts; i++)
            s->groups[g].max_time_lag_ms =
                SA_MAX(s->groups[g].max_time_lag_ms, s->groups[g].parts[i].time_lag_ms);
    if (s->nbrokers) s->version = sample_version(k, s->controller >= 0 ? s->controller : s->brokers[0].id);
    /* rates: the growth of the log ends (in) and of the groups' commits (out) since the last sample */
    int64_t now = sa_mono_ms();
    s->in_rate = s->out_rate = -1;
    if (k->prev_ms >= 0 && now > k->prev_ms) {
        double dt = (double)(now - k->prev_ms) / 1000.0;
        s->in_rate = SA_MAX(0, in_sum - k->prev_in_sum) / dt;
        s->out_rate = SA_MAX(0, s->committed_sum - k->prev_out_sum) / dt;
    }
    k->prev_in_sum = in_sum;
    k->prev_out_sum = s->committed_sum;
    k->prev_ms = now;
    s->took_ms = sa_mono_ms() - t0;
    return s;
}

/* --- records --------------------------------------------------------------------------------- */

void cs_record_clear(cs_record_t *r) {
    free(r->key);
    free(r->value);
    for (int i = 0; i < r->nheaders; i++) {
        free(r->header_names[i]);
        free(r->header_values[i]);
    }
    free(r->header_names);
    free(r->header_values);
    free(r->header_lens);
    memset(r, 0, sizeof(*r));
}

static char *keep(const void *data, size_t len, size_t *kept) {
    if (!data) {
        *kept = 0;
        return NULL;
    }
    *kept = SA_MIN(len, (size_t)KEEP_BYTES);
    char *s = sa_malloc(*kept + 1);
    memcpy(s, data, *kept);
    s[*kept] = '\0';
    return s;
}

static void record_from(const rd_kafka_message_t *m, cs_record_t *r) {
    memset(r, 0, sizeof(*r));
    r->partition = m->partition;
    r->offset = m->offset;
    rd_kafka_timestamp_type_t tt;
    r->timestamp = rd_kafka_message_timestamp(m, &tt);
    r->key = keep(m->key, m->key_len, &r->key_len);
    r->key_size = m->key_len;
    r->value = keep(m->payload, m->len, &r->value_len);
    r->value_size = m->len;
    rd_kafka_headers_t *hdrs = NULL;
    if (!rd_kafka_message_headers(m, &hdrs) && hdrs) {
        size_t n = rd_kafka_header_cnt(hdrs);
        r->header_names = sa_calloc(n + 1, sizeof(char *));
        r->header_values = sa_calloc(n + 1, sizeof(char *));
        r->header_lens = sa_calloc(n + 1, sizeof(size_t));
        const char *name;
        const void *val;
        size_t size;
        for (size_t i = 0; i < n && !rd_kafka_header_get_all(hdrs, i, &name, &val, &size); i++) {
            r->header_names[i] = sa_strdup(name);
            r->header_values[i] = keep(val, size, &r->header_lens[i]);
            r->nheaders++;
        }
    }
}

/* @returns 1 if @p hay (@p len bytes) holds @p needle. */
static int contains(const void *hay, size_t len, const char *needle) {
    size_t n = strlen(needle);
    if (!n) return 1;
    if (!hay || len < n) return 0;
    return memmem(hay, len, needle, n) != NULL;
}

static int match(const cs_filter_t *f, const rd_kafka_message_t *m) {
    if (f->key && *f->key && !contains(m->key, m->key_len, f->key)) return 0;
    if (f->value && *f->value && !contains(m->payload, m->len, f->value)) return 0;
    if (f->from_ms >= 0 || f->to_ms >= 0) {
        rd_kafka_timestamp_type_t tt;
        int64_t ts = rd_kafka_message_timestamp(m, &tt);
        if (f->from_ms >= 0 && ts < f->from_ms) return 0;
        if (f->to_ms >= 0 && ts > f->to_ms) return 0;
    }
    if (f->header && *f->header) {
        const char *eq = strchr(f->header, '=');
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(eq ? (size_t)(eq - f->header) : strlen(f->header)),
                 f->header);
        rd_kafka_headers_t *hdrs = NULL;
        if (rd_kafka_message_headers(m, &hdrs) || !hdrs) return 0;
        const void *val;
        size_t size;
        int found = 0;
        for (size_t i = 0; !found && !rd_kafka_header_get(hdrs, i, name, &val, &size); i++)
            found = !eq || (val && size == strlen(eq + 1) && !memcmp(val, eq + 1, size));
        if (!found) return 0;
    }
    return 1;
}

/* --- the browser ----------------------------------------------------------------------------- */

/* The partition ids of @p topic, fresh from the cluster. @returns new array of *@p n, or NULL
 * with errstr (an unknown topic too). */
static int32_t *topic_partitions(cs_kafka_t *k, const char *topic, int *n, char *errstr, size_t errstr_size) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->admin, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(k->admin, 0, rkt, &md, timeout_ms(k));
    rd_kafka_topic_destroy(rkt);
    if (!err && !md->topic_cnt) err = RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (!err) err = md->topics[0].err;
    if (err) {
        snprintf(errstr, errstr_size, "%s", rd_kafka_err2str(err));
        if (md) rd_kafka_metadata_destroy(md);
        return NULL;
    }
    *n = md->topics[0].partition_cnt;
    int32_t *ids = sa_calloc((size_t)*n + 1, sizeof(int32_t));
    for (int i = 0; i < *n; i++) ids[i] = md->topics[0].partitions[i].id;
    rd_kafka_metadata_destroy(md);
    return ids;
}

typedef struct window_s {
    int32_t partition;
    int64_t lo, hi; /* read [lo, hi) */
    int64_t next;   /* the next offset expected; >= hi: done */
    cs_record_t *recs;
    int n, cap;
    int head; /* newest mode: a ring of the last `limit` matches */
} window_t;

static int cmp_rec_desc(const void *a, const void *b) {
    const cs_record_t *x = a, *y = b;
    if (x->timestamp != y->timestamp) return x->timestamp < y->timestamp ? 1 : -1;
    if (x->partition != y->partition) return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? 1 : x->offset > y->offset ? -1 : 0;
}

static void window_add(window_t *w, const rd_kafka_message_t *m, int newest, int limit) {
    if (!newest && w->n >= limit) return;
    if (w->n < limit) {
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 16;
            w->recs = sa_realloc(w->recs, (size_t)w->cap * sizeof(cs_record_t));
        }
        record_from(m, &w->recs[w->n++]);
        return;
    }
    /* newest mode, full: overwrite the oldest kept */
    cs_record_clear(&w->recs[w->head]);
    record_from(m, &w->recs[w->head]);
    w->head = (w->head + 1) % limit;
}

int cs_kafka_browse(cs_kafka_t *k, const cs_browse_t *b, cs_browse_result_t *out, char *errstr,
                    size_t errstr_size) {
    memset(out, 0, sizeof(*out));
    int np = 0, nw = 0;
    int32_t *ids = topic_partitions(k, b->topic, &np, errstr, errstr_size);
    if (!ids) return -1;
    window_t *w = sa_calloc((size_t)np + 1, sizeof(window_t));
    for (int i = 0; i < np; i++) {
        if (b->partition >= 0 && ids[i] != b->partition) continue;
        if (nw == CS_BROWSE_MAX_PARTS) {
            out->parts_skipped++;
            continue;
        }
        w[nw++].partition = ids[i];
    }
    free(ids);
    if (b->partition >= 0 && !nw) {
        snprintf(errstr, errstr_size, "%s has no partition %d", b->topic, (int)b->partition);
        free(w);
        return -1;
    }
    /* the windows: from the watermarks (and the offsets at a time) */
    rd_kafka_resp_err_t err;
    rd_kafka_topic_partition_list_t *at = NULL;
    if (b->seek == CS_SEEK_TIME) {
        at = rd_kafka_topic_partition_list_new(nw);
        for (int i = 0; i < nw; i++)
            rd_kafka_topic_partition_list_add(at, b->topic, w[i].partition)->offset = b->time_ms;
        if ((err = rd_kafka_offsets_for_times(k->admin, at, timeout_ms(k)))) {
            snprintf(errstr, errstr_size, "offsets for the time: %s", rd_kafka_err2str(err));
            rd_kafka_topic_partition_list_destroy(at);
            free(w);
            return -1;
        }
    }
    int scan = SA_MAX(b->scan, b->limit);
    for (int i = 0; i < nw; i++) {
        int64_t lo = 0, hi = 0;
        if ((err = rd_kafka_query_watermark_offsets(k->admin, b->topic, w[i].partition, &lo, &hi,
                                                    timeout_ms(k)))) {
            snprintf(errstr, errstr_size, "offsets of partition %d: %s", (int)w[i].partition,
                     rd_kafka_err2str(err));
            if (at) rd_kafka_topic_partition_list_destroy(at);
            free(w);
            return -1;
        }
        int64_t start;
        if (b->seek == CS_SEEK_NEWEST) {
            int64_t top = b->before >= 0 ? SA_MIN(hi, b->before) : hi;
            w[i].hi = SA_MAX(lo, top);
            start = SA_MAX(lo, w[i].hi - scan);
        } else {
            start = b->seek == CS_SEEK_OFFSET ? b->offset : at->elems[i].offset;
            if (start < 0 || start > hi) start = hi; /* after the last record */
            start = SA_MAX(lo, start);
            w[i].hi = SA_MIN(hi, start + scan);
        }
        w[i].lo = w[i].next = start;
    }
    if (at) rd_kafka_topic_partition_list_destroy(at);
    /* read every window at once */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nw);
    int left = 0;
    for (int i = 0; i < nw; i++)
        if (w[i].lo < w[i].hi) {
            rd_kafka_topic_partition_list_add(l, b->topic, w[i].partition)->offset = w[i].lo;
            left++;
        }
    int rc = 0, newest = b->seek == CS_SEEK_NEWEST;
    pthread_mutex_lock(&k->read_lock);
    if (left && (err = rd_kafka_assign(k->reader, l))) {
        snprintf(errstr, errstr_size, "assign: %s", rd_kafka_err2str(err));
        rc = -1;
    }
    int64_t deadline = sa_mono_ms() + timeout_ms(k);
    while (!rc && left > 0) {
        if (sa_mono_ms() >= deadline) {
            snprintf(errstr, errstr_size, "reading %s took longer than %d ms", b->topic, timeout_ms(k));
            rc = -1;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->reader, 100);
        if (!m) continue;
        window_t *win = NULL;
        for (int i = 0; i < nw && m->rkt; i++)
            if (w[i].partition == m->partition) win = &w[i];
        if (win && win->next < win->hi) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                win->next = win->hi;
                left--;
            } else if (m->err) {
                snprintf(errstr, errstr_size, "%s", rd_kafka_message_errstr(m));
                rc = -1;
            } else if (m->offset >= win->next) {
                out->scanned++;
                if (m->offset < win->hi && match(&b->filter, m)) window_add(win, m, newest, b->limit);
                win->next = m->offset + 1;
                if (win->next >= win->hi) left--;
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(k->reader, NULL);
    pthread_mutex_unlock(&k->read_lock);
    rd_kafka_topic_partition_list_destroy(l);
    /* merge, newest first */
    int total = 0;
    for (int i = 0; i < nw; i++) total += w[i].n;
    out->recs = sa_calloc((size_t)total + 1, sizeof(cs_record_t));
    for (int i = 0; i < nw; i++) {
        if (w[i].n) memcpy(out->recs + out->n, w[i].recs, (size_t)w[i].n * sizeof(cs_record_t));
        out->n += w[i].n;
        free(w[i].recs);
    }
    out->parts_scanned = nw;
    free(w);
    qsort(out->recs, (size_t)out->n, sizeof(cs_record_t), cmp_rec_desc);
    while (out->n > b->limit) cs_record_clear(&out->recs[--out->n]);
    if (rc) cs_browse_result_free(out);
    return rc;
}

void cs_browse_result_free(cs_browse_result_t *r) {
    for (int i = 0; i < r->n; i++) cs_record_clear(&r->recs[i]);
    free(r->recs);
    r->recs = NULL;
    r->n = 0;
}

/* --- the live tail --------------------------------------------------------------------------- */

struct cs_tail_s {
    cs_kafka_t *k;
    rd_kafka_t *rk;
};

cs_tail_t *cs_tail_new(cs_kafka_t *k, const char *topic, int32_t partition, char *errstr,
                       size_t errstr_size) {
    int np = 0;
    int32_t *ids = topic_partitions(k, topic, &np, errstr, errstr_size);
    if (!ids) return NULL;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
    for (int i = 0; i < np; i++)
        if (partition < 0 || ids[i] == partition)
            rd_kafka_topic_partition_list_add(l, topic, ids[i])->offset = RD_KAFKA_OFFSET_END;
    free(ids);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    cs_tail_t *t = sa_new(cs_tail_t);
    t->k = k;
    t->rk = client_new(k->conf, &sa_console_clients[1], errstr, errstr_size);
    if (!t->rk || (err = rd_kafka_assign(t->rk, l))) {
        if (t->rk && err) snprintf(errstr, errstr_size, "assign: %s", rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(l);
        cs_tail_free(t);
        return NULL;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return t;
}

int cs_tail_poll(cs_tail_t *t, const cs_filter_t *f, cs_record_t *r) {
    for (int i = 0; i < 256; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(t->rk, 0);
        if (!m) return 0;
        int got = 0;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            got = 0;
        } else if (m->err) {
            sa_log_debug(SA_DBG_CLIENT, "console", "tail: %s", rd_kafka_message_errstr(m));
        } else if (match(f, m)) {
            record_from(m, r);
            got = 1;
        }
        rd_kafka_message_destroy(m);
        if (got) return 1;
    }
    return 0;
}

void cs_tail_free(cs_tail_t *t) {
    if (!t) return;
    release(t->k->reaper, t->rk); /* never destroyed on the HTTP thread that ends the stream */
    free(t);
}

/* --- changes --------------------------------------------------------------------------------- */

int cs_kafka_produce(cs_kafka_t *k, const char *topic, int32_t partition, const char *key, const char *value,
                     const sa_strlist_t *headers, int32_t *partition_out, int64_t *offset_out, char *errstr,
                     size_t errstr_size) {
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(headers ? headers->n : 0);
    for (size_t i = 0; headers && i < headers->n; i++) {
        const char *h = headers->v[i], *colon = strchr(h, ':');
        if (!colon) continue;
        const char *v = colon + 1;
        while (*v == ' ') v++;
        rd_kafka_header_add(hdrs, h, colon - h, v, (ssize_t)strlen(v));
    }
    dr_t dr = {0};
    pthread_mutex_lock(&k->produce_lock);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        k->producer, RD_KAFKA_V_TOPIC(topic),
        RD_KAFKA_V_PARTITION(partition >= 0 ? partition : RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_KEY(key && *key ? key : NULL, key && *key ? strlen(key) : 0),
        RD_KAFKA_V_VALUE((void *)value, value ? strlen(value) : 0), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(&dr), RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(hdrs); /* not taken when producev fails */
    } else {
        int64_t deadline = sa_mono_ms() + timeout_ms(k) + 1000;
        while (!dr.done && sa_mono_ms() < deadline) rd_kafka_poll(k->producer, 50);
        err = dr.done ? dr.err : RD_KAFKA_RESP_ERR__TIMED_OUT;
    }
    pthread_mutex_unlock(&k->produce_lock);
    if (err) {
        snprintf(errstr, errstr_size, "%s", rd_kafka_err2str(err));
        return -1;
    }
    *partition_out = dr.partition;
    *offset_out = dr.offset;
    return 0;
}

int cs_kafka_create_topic(cs_kafka_t *k, const char *topic, int partitions, int replication,
                          const sa_strlist_t *configs, char *errstr, size_t errstr_size) {
    char es[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, replication, es, sizeof(es));
    if (!nt) {
        snprintf(errstr, errstr_size, "%s", es);
        return -1;
    }
    for (size_t i = 0; configs && i < configs->n; i++) {
        char *kv = sa_strdup(configs->v[i]), *eq = strchr(kv, '=');
        if (eq) {
            *eq = '\0';
            rd_kafka_NewTopic_set_config(nt, kv, eq + 1);
        }
        free(kv);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->admin);
    rd_kafka_AdminOptions_t *o = admin_options(k, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(k->admin, &nt, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(k, q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, errstr, errstr_size);
    int rc = -1;
    if (ev) {
        size_t n;
        const rd_kafka_topic_result_t **r =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        if (n && rd_kafka_topic_result_error(r[0]))
            snprintf(errstr, errstr_size, "%s", rd_kafka_topic_result_error_string(r[0]));
        else
            rc = 0;
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

int cs_kafka_delete_topic(cs_kafka_t *k, const char *topic, char *errstr, size_t errstr_size) {
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->admin);
    rd_kafka_AdminOptions_t *o = admin_options(k, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_DeleteTopics(k->admin, &dt, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(k, q, RD_KAFKA_EVENT_DELETETOPICS_RESULT, errstr, errstr_size);
    int rc = -1;
    if (ev) {
        size_t n;
        const rd_kafka_topic_result_t **r =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
        if (n && rd_kafka_topic_result_error(r[0]))
            snprintf(errstr, errstr_size, "%s", rd_kafka_topic_result_error_string(r[0]));
        else
            rc = 0;
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy(dt);
    return rc;
}

static int cmp_config(const void *a, const void *b) {
    return strcmp(((const cs_config_t *)a)->name, ((const cs_config_t *)b)->name);
}

cs_config_t *cs_kafka_topic_configs(cs_kafka_t *k, const char *topic, int *n, char *errstr,
                                    size_t errstr_size) {
    *n = 0;
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->admin);
    rd_kafka_AdminOptions_t *o = admin_options(k, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(k->admin, &res, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(k, q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, errstr, errstr_size);
    cs_config_t *cfg = NULL;
    if (ev) {
        size_t nr, nc = 0;
        const rd_kafka_ConfigResource_t **rs =
            rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nr);
        if (nr && rd_kafka_ConfigResource_error(rs[0])) {
            snprintf(errstr, errstr_size, "%s", rd_kafka_ConfigResource_error_string(rs[0]));
        } else if (nr) {
            const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(rs[0], &nc);
            cfg = sa_calloc(nc + 1, sizeof(cs_config_t));
            for (size_t i = 0; i < nc; i++) {
                const char *v = rd_kafka_ConfigEntry_value(ce[i]);
                cfg[i].name = sa_strdup(rd_kafka_ConfigEntry_name(ce[i]));
                cfg[i].value = v ? sa_strdup(v) : NULL;
                cfg[i].is_default = rd_kafka_ConfigEntry_is_default(ce[i]);
                cfg[i].read_only = rd_kafka_ConfigEntry_is_read_only(ce[i]);
                cfg[i].sensitive = rd_kafka_ConfigEntry_is_sensitive(ce[i]);
                cfg[i].source = rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(ce[i]));
            }
            *n = (int)nc;
            qsort(cfg, nc, sizeof(cs_config_t), cmp_config);
        } else {
            snprintf(errstr, errstr_size, "no configs in the answer");
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    return cfg;
}

void cs_configs_free(cs_config_t *cfg, int n) {
    for (int i = 0; cfg && i < n; i++) {
        free(cfg[i].name);
        free(cfg[i].value);
    }
    free(cfg);
}

int cs_kafka_alter_topic_configs(cs_kafka_t *k, const char *topic, const sa_strlist_t *configs, char *errstr,
                                 size_t errstr_size) {
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    for (size_t i = 0; i < configs->n; i++) {
        char *kv = sa_strdup(configs->v[i]), *eq = strchr(kv, '=');
        if (eq) {
            *eq = '\0';
            rd_kafka_ConfigResource_set_config(res, kv, eq + 1);
        }
        free(kv);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->admin);
    rd_kafka_AdminOptions_t *o = admin_options(k, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
    rd_kafka_AlterConfigs(k->admin, &res, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(k, q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, errstr, errstr_size);
    int rc = -1;
    if (ev) {
        size_t n;
        const rd_kafka_ConfigResource_t **rs =
            rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
        if (n && rd_kafka_ConfigResource_error(rs[0]))
            snprintf(errstr, errstr_size, "%s", rd_kafka_ConfigResource_error_string(rs[0]));
        else
            rc = 0;
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    return rc;
}

/* --- offset resets --------------------------------------------------------------------------- */

cs_reset_row_t *cs_kafka_reset_plan(cs_kafka_t *k, const char *group, const char *topic, cs_reset_t kind,
                                    int64_t value, int *n, char *errstr, size_t errstr_size) {
    *n = 0;
    /* the group's committed offsets, limited to the topic */
    cs_snap_t tmp = {0};
    cs_group_t g = {.name = (char *)group};
    /* the ends come from a fresh look at the topics' offsets below */
    if (sample_group_offsets(k, &tmp, &g)) {
        snprintf(errstr, errstr_size, "cannot read the group's committed offsets");
        return NULL;
    }
    cs_reset_row_t *rows = sa_calloc((size_t)g.nparts + 1, sizeof(cs_reset_row_t));
    rd_kafka_topic_partition_list_t *at =
        kind == CS_RESET_TIME ? rd_kafka_topic_partition_list_new(g.nparts) : NULL;
    int rc = 0;
    for (int i = 0; i < g.nparts && !rc; i++) {
        cs_gpart_t *gp = &g.parts[i];
        if (topic && *topic && strcmp(gp->topic, topic)) continue;
        int64_t lo, hi;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(k->admin, gp->topic, gp->partition, &lo, &hi, timeout_ms(k));
        if (err) {
            snprintf(errstr, errstr_size, "offsets of %s/%d: %s", gp->topic, (int)gp->partition,
                     rd_kafka_err2str(err));
            rc = -1;
            break;
        }
        cs_reset_row_t *r = &rows[(*n)++];
        r->topic = sa_strdup(gp->topic);
        r->partition = gp->partition;
        r->current = gp->committed;
        r->end = hi;
        switch (kind) {
        case CS_RESET_EARLIEST: r->target = lo; break;
        case CS_RESET_LATEST: r->target = hi; break;
        case CS_RESET_OFFSET: r->target = value; break;
        case CS_RESET_SHIFT: r->target = (gp->committed >= 0 ? gp->committed : lo) + value; break;
        case CS_RESET_TIME:
            rd_kafka_topic_partition_list_add(at, gp->topic, gp->partition)->offset = value;
            break;
        }
        r->target = SA_MIN(SA_MAX(r->target, lo), hi); /* kept within the log */
    }
    if (!rc && at && at->cnt) {
        rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(k->admin, at, timeout_ms(k));
        if (err) {
            snprintf(errstr, errstr_size, "offsets for the time: %s", rd_kafka_err2str(err));
            rc = -1;
        }
        for (int i = 0; !rc && i < *n; i++) {
            int64_t o = at->elems[i].offset;
            rows[i].target =
                o >= 0 ? SA_MIN(o, rows[i].end) : rows[i].end; /* after the last record: the end */
        }
    }
    if (at) rd_kafka_topic_partition_list_destroy(at);
    for (int i = 0; i < g.nparts; i++) free(g.parts[i].topic);
    free(g.parts);
    if (rc) {
        cs_reset_rows_free(rows, *n);
        *n = 0;
        return NULL;
    }
    return rows;
}

int cs_kafka_reset_apply(cs_kafka_t *k, const char *group, const cs_reset_row_t *rows, int n, char *errstr,
                         size_t errstr_size) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, rows[i].topic, rows[i].partition)->offset = rows[i].target;
    rd_kafka_AlterConsumerGroupOffsets_t *req = rd_kafka_AlterConsumerGroupOffsets_new(group, l);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->admin);
    rd_kafka_AdminOptions_t *o = admin_options(k, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
    rd_kafka_AlterConsumerGroupOffsets(k->admin, &req, 1, o, q);
    rd_kafka_event_t *ev =
        admin_wait(k, q, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT, errstr, errstr_size);
    int rc = -1;
    if (ev) {
        size_t nr;
        const rd_kafka_group_result_t **res = rd_kafka_AlterConsumerGroupOffsets_result_groups(
            rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &nr);
        const rd_kafka_error_t *gerr = nr ? rd_kafka_group_result_error(res[0]) : NULL;
        const rd_kafka_topic_partition_list_t *pl = nr ? rd_kafka_group_result_partitions(res[0]) : NULL;
        if (gerr) {
            snprintf(errstr, errstr_size, "%s", rd_kafka_error_string(gerr));
        } else {
            rc = 0;
            for (int i = 0; pl && i < pl->cnt; i++)
                if (pl->elems[i].err) {
                    snprintf(errstr, errstr_size, "%s/%d: %s", pl->elems[i].topic,
                             (int)pl->elems[i].partition, rd_kafka_err2str(pl->elems[i].err));
                    rc = -1;
                    break;
                }
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_AlterConsumerGroupOffsets_destroy(req);
    return rc;
}

void cs_reset_rows_free(cs_reset_row_t *rows, int n) {
    for (int i = 0; rows && i < n; i++) free(rows[i].topic);
    free(rows);
}
