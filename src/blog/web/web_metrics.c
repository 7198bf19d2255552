/*
 * web_metrics.c - GET /metrics in the Prometheus text format: requests by route and status
 * code (counted by the shared HTTP server), produce latency as a histogram, posts by status, SSE
 * clients. Counters are relaxed atomics bumped on the HTTP threads; a scrape reads them without
 * stopping anyone.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "blog/web/web_int.h"
#include "core/mem.h"

static const double bounds_ms[] = {0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
#define N_BOUNDS (sizeof(bounds_ms) / sizeof(bounds_ms[0]))

struct sa_web_metrics_s {
    _Atomic uint64_t buckets[N_BOUNDS + 1]; /* produce latency, +Inf last */
    _Atomic uint64_t latency_sum_us, produced_ok, produced_failed;
};

sa_web_metrics_t *sa_web_metrics_new(void) { return sa_new(sa_web_metrics_t); }
void sa_web_metrics_free(sa_web_metrics_t *m) { free(m); }

void sa_web_metrics_produce(sa_web_metrics_t *m, int64_t latency_us, int ok) {
    atomic_fetch_add_explicit(ok ? &m->produced_ok : &m->produced_failed, 1, memory_order_relaxed);
    if (!ok) return;
    size_t b = 0;
    while (b < N_BOUNDS && latency_us > bounds_ms[b] * 1000) b++;
    atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us, (uint64_t)latency_us, memory_order_relaxed);
}

enum MHD_Result sa_web_metrics_page(req_t *req) {
    sa_web_metrics_t *m = req->srv->metrics;
    sa_buf_t out = SA_BUF_INIT(0);
    sa_http_metrics_write(req->srv->http, &out, "samsa_web_requests_total");
    sa_buf_append_str(
        &out, "# HELP samsa_web_produce_latency_seconds Time from produce to the broker's acknowledgement.\n"
              "# TYPE samsa_web_produce_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t b = 0; b <= N_BOUNDS; b++) {
        cum += atomic_load_explicit(&m->buckets[b], memory_order_relaxed);
        if (b < N_BOUNDS)
            sa_buf_printf(&out, "samsa_web_produce_latency_seconds_bucket{le=\"%g\"} %llu\n",
                          bounds_ms[b] / 1000, (unsigned long long)cum);
        else
            sa_buf_printf(&out, "samsa_web_produce_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
                          (unsigned long long)cum);
    }
    sa_buf_printf(
        &out, "samsa_web_produce_latency_seconds_sum %.6f\nsamsa_web_produce_latency_seconds_count %llu\n",
        (double)atomic_load(&m->latency_sum_us) / 1e6, (unsigned long long)cum);
    sa_buf_printf(&out,
                  "# HELP samsa_web_produce_failed_total Posts the broker did not acknowledge.\n"
                  "# TYPE samsa_web_produce_failed_total counter\nsamsa_web_produce_failed_total %llu\n",
                  (unsigned long long)atomic_load(&m->produced_failed));
    sa_db_stats_t st;
    char errstr[256];
    if (sa_db_stats(req->srv->db, &st, errstr, sizeof(errstr))) memset(&st, 0, sizeof(st));
    sa_buf_printf(&out,
                  "# HELP samsa_web_posts Posts in the store, by status.\n# TYPE samsa_web_posts gauge\n"
                  "samsa_web_posts{status=\"queued\"} %lld\nsamsa_web_posts{status=\"published\"} %lld\n"
                  "samsa_web_posts{status=\"review\"} %lld\nsamsa_web_posts{status=\"rejected\"} %lld\n",
                  (long long)st.queued, (long long)st.published, (long long)st.review,
                  (long long)st.rejected);
    int64_t lag, workers;
    sa_web_kafka_queue(req->srv->kafka, &lag, &workers);
    sa_buf_printf(
        &out,
        "# HELP samsa_web_sse_clients Open Server-Sent Events streams.\n# TYPE samsa_web_sse_clients gauge\n"
        "samsa_web_sse_clients %d\n",
        sa_http_sse_clients(req->srv->sse));
    if (lag >= 0)
        sa_buf_printf(
            &out,
            "# HELP samsa_web_consumer_lag Records of the operations topic the workers have not committed.\n"
            "# TYPE samsa_web_consumer_lag gauge\nsamsa_web_consumer_lag %lld\n",
            (long long)lag);
    if (workers >= 0)
        sa_buf_printf(&out,
                      "# HELP samsa_web_workers Members of the workers' consumer group.\n"
                      "# TYPE samsa_web_workers gauge\nsamsa_web_workers %lld\n",
                      (long long)workers);
    enum MHD_Result rc = sa_http_respond(req->http, 200, "text/plain; version=0.0.4; charset=utf-8",
                                         (const char *)out.data, out.len, NULL);
    sa_buf_free(&out);
    return rc;
}
