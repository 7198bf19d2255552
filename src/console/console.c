/*
 * console.c - the console's life cycle: its routes on the shared HTTP server, the snapshot the
 * pages read, and the sampler thread that replaces it every --sample-interval (see console_int.h).
 *
 * Start: store, Kafka clients, sampler (its first sample starts at once), HTTP server. Pages
 * served before the first sample say that it is being taken. Stop: stop accepting, end the live
 * tails, wait for the open requests, stop the sampler, close the clients (each rd_kafka_destroy
 * returns: no DescribeConsumerGroups is used, see console_kafka.c), close the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/console_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

static const sa_http_route_t routes[] = {
    {SA_HTTP_GET, "/", 0, cs_page_overview, "/"},
    {SA_HTTP_GET, "/topics", 0, cs_page_topics, "/topics"},
    {SA_HTTP_POST, "/topics/create", SA_HTTP_CHANGES | SA_HTTP_FORM_BODY, cs_action_create_topic,
     "POST /topics/create"},
    {SA_HTTP_GET, "/topic", 0, cs_page_topic, "/topic"},
    {SA_HTTP_POST, "/topic/configs", SA_HTTP_CHANGES | SA_HTTP_FORM_BODY, cs_action_configs,
     "POST /topic/configs"},
    {SA_HTTP_POST, "/topic/delete", SA_HTTP_CHANGES | SA_HTTP_FORM_BODY, cs_action_delete_topic,
     "POST /topic/delete"},
    {SA_HTTP_GET, "/messages", 0, cs_page_messages, "/messages"},
    {SA_HTTP_GET, "/messages/tail", 0, cs_tail_open, "/messages/tail"},
    {SA_HTTP_POST, "/messages/produce", SA_HTTP_CHANGES | SA_HTTP_FORM_BODY, cs_action_produce,
     "POST /messages/produce"},
    {SA_HTTP_GET, "/groups", 0, cs_page_groups, "/groups"},
    {SA_HTTP_GET, "/group", 0, cs_page_group, "/group"},
    {SA_HTTP_POST, "/group/reset", SA_HTTP_CHANGES | SA_HTTP_FORM_BODY, cs_action_reset, "POST /group/reset"},
    {SA_HTTP_GET, "/healthz", 0, cs_page_healthz, "/healthz"},
    {SA_HTTP_GET, "/metrics", 0, cs_page_metrics, "/metrics"},
    {SA_HTTP_GET, "/static/", SA_HTTP_PREFIX, sa_http_serve_static, "/static"},
    {SA_HTTP_GET, "/favicon.ico", 0, sa_http_serve_static, "/static"},
};

/* --- snapshot -------------------------------------------------------------------------------- */

void cs_snap_free(cs_snap_t *s) {
    if (!s) return;
    free(s->cluster_id);
    free(s->version);
    for (int i = 0; i < s->nbrokers; i++) free(s->brokers[i].host);
    free(s->brokers);
    for (int i = 0; i < s->ntopics; i++) {
        free(s->topics[i].name);
        free(s->topics[i].parts);
    }
    free(s->topics);
    for (int g = 0; g < s->ngroups; g++) {
        cs_group_t *grp = &s->groups[g];
        free(grp->name);
        free(grp->state);
        free(grp->protocol_type);
        free(grp->protocol);
        for (int m = 0; m < grp->nmembers; m++) {
            free(grp->members[m].id);
            free(grp->members[m].client_id);
            free(grp->members[m].host);
            free(grp->members[m].assignment);
        }
        free(grp->members);
        for (int i = 0; i < grp->nparts; i++) free(grp->parts[i].topic);
        free(grp->parts);
    }
    free(s->groups);
    free(s);
}

cs_snap_t *sa_console_snap_get(sa_console_t *c) {
    pthread_mutex_lock(&c->snap_lock);
    cs_snap_t *s = c->snap;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&c->snap_lock);
    return s;
}

void sa_console_snap_put(cs_snap_t *s) {
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) cs_snap_free(s);
}

static void publish(sa_console_t *c, cs_snap_t *s) {
    pthread_mutex_lock(&c->snap_lock);
    cs_snap_t *old = c->snap;
    c->snap = s;
    pthread_mutex_unlock(&c->snap_lock);
    sa_console_snap_put(old);
}

void sa_console_error(sa_console_t *c, char *out, size_t size) {
    pthread_mutex_lock(&c->snap_lock);
    snprintf(out, size, "%s", c->error);
    pthread_mutex_unlock(&c->snap_lock);
}

void sa_console_resample(sa_console_t *c) {
    pthread_mutex_lock(&c->wake_lock);
    c->sample_now = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->wake_lock);
}

/* --- sampler --------------------------------------------------------------------------------- */

static void *sampler_main(void *arg) {
    sa_console_t *c = arg;
    for (;;) {
        char errstr[512];
        cs_snap_t *s = cs_kafka_sample(c->kafka, errstr, sizeof(errstr));
        if (s) {
            cs_store_record(c->store, s, c->conf->history_keep_ms);
            sa_log_debug(SA_DBG_CLIENT, "console", "sample: %d topics, %lld partitions, %d groups in %lld ms",
                         s->ntopics, (long long)s->npartitions, s->ngroups, (long long)s->took_ms);
            publish(c, s);
            pthread_mutex_lock(&c->snap_lock);
            c->error[0] = '\0';
            pthread_mutex_unlock(&c->snap_lock);
        } else { /* the pages keep the last good sample and say why it is old */
            pthread_mutex_lock(&c->snap_lock);
            snprintf(c->error, sizeof(c->error), "%s", errstr);
            pthread_mutex_unlock(&c->snap_lock);
            sa_log_debug(SA_DBG_CLIENT, "console", "sample failed: %s", errstr);
        }
        pthread_mutex_lock(&c->wake_lock);
        int64_t until = sa_mono_ms() + c->conf->sample_ms;
        while (!c->stopping && !c->sample_now && sa_mono_ms() < until) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t left = until - sa_mono_ms();
            ts.tv_sec += left / 1000;
            ts.tv_nsec += (left % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&c->wake, &c->wake_lock, &ts);
        }
        int stop = c->stopping;
        c->sample_now = 0;
        pthread_mutex_unlock(&c->wake_lock);
        if (stop) return NULL;
    }
}

static int cs_sampler_start(sa_console_t *c) {
    c->sampler_started = !pthread_create(&c->sampler, NULL, sampler_main, c);
    return c->sampler_started ? 0 : -1;
}

static void cs_sampler_stop(sa_console_t *c) {
    pthread_mutex_lock(&c->wake_lock);
    c->stopping = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->wake_lock);
    if (c->sampler_started) pthread_join(c->sampler, NULL);
    c->sampler_started = 0;
}

/* --- life cycle ------------------------------------------------------------------------------ */

sa_console_t *sa_console_start(const sa_console_conf_t *conf, char *errstr, size_t errstr_size) {
    sa_console_t *c = sa_new(sa_console_t);
    c->conf = conf;
    pthread_mutex_init(&c->snap_lock, NULL);
    pthread_mutex_init(&c->wake_lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    c->snap = sa_new(cs_snap_t); /* empty until the first sample: taken_ms 0 */
    atomic_init(&c->snap->refs, 1);
    c->snap->controller = -1;
    c->snap->in_rate = c->snap->out_rate = -1;
    c->sse = sa_http_sse_new();
    if (!(c->store = cs_store_open(conf->history, errstr, errstr_size))) goto err;
    if (!(c->kafka = cs_kafka_new(conf, errstr, errstr_size))) goto err;
    if (cs_sampler_start(c)) {
        snprintf(errstr, errstr_size, "cannot start a thread");
        goto err;
    }
    c->http_conf = (sa_http_conf_t){.listen = conf->http,
                                    .log_name = "console",
                                    .routes = routes,
                                    .nroutes = SA_ARRAY_LEN(routes),
                                    .app = c,
                                    .max_body = conf->max_body,
                                    .threads = conf->threads,
                                    .max_per_ip = conf->max_per_ip,
                                    .header_timeout_ms = conf->header_timeout_ms,
                                    .body_timeout_ms = conf->body_timeout_ms,
                                    .allowed_origins = &conf->allowed_origins};
    if (!(c->http = sa_http_start(&c->http_conf, errstr, errstr_size))) goto err;
    return c;
err:
    sa_console_stop(c);
    return NULL;
}

void sa_console_stop(sa_console_t *c) {
    if (!c) return;
    sa_http_quiesce(c->http);
    if (c->sse) sa_http_sse_close_all(c->sse); /* the tails end; their consumers close */
    sa_http_stop(c->http, 2000);
    cs_sampler_stop(c);
    cs_kafka_free(c->kafka);
    cs_store_close(c->store);
    sa_http_sse_free(c->sse);
    sa_console_snap_put(c->snap);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->wake_lock);
    pthread_mutex_destroy(&c->snap_lock);
    free(c);
}
