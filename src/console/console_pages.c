/*
 * console_pages.c - the console's pages that read: overview, topics, a topic, the message
 * browser, groups, a group; /healthz and /metrics.
 *
 * Every page is plain HTML that works without JavaScript: searches, filters and ranges are GET
 * forms, paging is links, changes are POST forms (console_actions.c). console.js only adds the
 * live tail and local times. All but the browser and a topic's configs read the snapshot and
 * never wait for the cluster (console_int.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "console/console_int.h"
#include "core/escape.h"
#include "core/mem.h"
#include "core/time.h"

#define TOPICS_PAGE    200  /* topics on a page of the list */
#define BROWSE_DEFAULT 50   /* records shown by default */
#define BROWSE_MAX     500  /* ... at most */
#define SCAN_FILTERED  2000 /* records read per partition when a filter is set */
#define VALUE_SHOWN    4096 /* bytes of a value shown in the table */
#define QUERY_MAX      256  /* bytes of a search or filter */

static void esc(sa_buf_t *out, const char *s) { sa_html_escape(out, s ? s : ""); }
static void t(sa_buf_t *out, sa_http_req_t *req, cs_msg_t m) { sa_html_escape(out, cs_t(req->lang, m)); }

/* "name=VALUE" for a link (the value URL-encoded; the result is safe in an attribute). */
static void qparam(sa_buf_t *out, const char *name, const char *value) {
    sa_buf_printf(out, "%s=", name);
    sa_url_encode(out, value ? value : "");
}

static const char *query(sa_http_req_t *req, const char *name) {
    const char *v = sa_http_query(req, name);
    return v && *v && strlen(v) <= QUERY_MAX ? v : NULL;
}

/* @returns the integer query @p name, @p def when absent, or INT64_MIN when not a number. */
static int64_t query_int(sa_http_req_t *req, const char *name, int64_t def) {
    const char *v = query(req, name);
    if (!v) return def;
    char *end;
    long long x = strtoll(v, &end, 10);
    return *end ? INT64_MIN : x;
}

int64_t cs_parse_time(const char *s) {
    if (!s || !*s) return -1;
    char *end;
    long long ms = strtoll(s, &end, 10);
    if (!*end) return ms >= 0 ? ms : -1;
    struct tm tm = {0};
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M", &tm);
    if (!rest) return -1;
    if (*rest == ':') {
        int sec = 0;
        if (sscanf(rest + 1, "%2d", &sec) != 1) return -1;
        tm.tm_sec = sec;
        rest += 3;
    }
    if (*rest && strcmp(rest, "Z")) return -1;
    time_t tt = timegm(&tm);
    return tt < 0 ? -1 : (int64_t)tt * 1000;
}

static void page_done(sa_http_req_t *req, sa_buf_t *page) { cs_html_end(page, req); }

/* --- overview -------------------------------------------------------------------------------- */

static void kv_row(sa_buf_t *out, sa_http_req_t *req, cs_msg_t label, const char *id) {
    sa_buf_append_str(out, "<tr><th scope=\"row\">");
    t(out, req, label);
    sa_buf_printf(out, "</th><td id=\"%s\">", id);
}

static void rate(sa_buf_t *out, double v) {
    if (v < 0)
        sa_buf_append_str(out, "—");
    else
        sa_buf_printf(out, "%.1f", v);
}

enum MHD_Result cs_page_overview(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    cs_snap_t *s = sa_console_snap_get(c);
    sa_buf_t page = SA_BUF_INIT(0);
    cs_html_begin(&page, req, CS_NAV_OVERVIEW, cs_t(req->lang, CS_MSG_CLUSTER), "/", s);
    sa_buf_append_str(&page, "<div class=\"grid\"><section><table class=\"kv\" id=\"cluster\">");
    kv_row(&page, req, CS_MSG_CLUSTER_ID, "cluster-id");
    esc(&page, s->cluster_id ? s->cluster_id : cs_t(req->lang, CS_MSG_UNKNOWN));
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_VERSION, "version");
    esc(&page, s->version ? s->version : cs_t(req->lang, CS_MSG_UNKNOWN));
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_BROKERS, "brokers-count");
    cs_html_num(&page, s->nbrokers);
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_TOPICS, "topics-count");
    cs_html_num(&page, s->ntopics);
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_PARTITIONS, "partitions-count");
    cs_html_num(&page, s->npartitions);
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_MESSAGES, "messages-count");
    cs_html_num(&page, s->messages);
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_BYTES_ON_DISK, "bytes");
    t(&page, req, CS_MSG_BYTES_UNKNOWN);
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_GROUPS, "groups-count");
    cs_html_num(&page, s->ngroups);
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_RATE_IN, "rate-in");
    rate(&page, s->in_rate);
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_RATE_OUT, "rate-out");
    rate(&page, s->out_rate);
    sa_buf_append_str(&page, "</td></tr></table></section><section><h2>");
    t(&page, req, CS_MSG_BROKERS);
    sa_buf_append_str(&page,
                      "</h2><table id=\"brokers\"><thead><tr><th scope=\"col\">Id</th><th scope=\"col\">");
    t(&page, req, CS_MSG_ADDRESS);
    sa_buf_append_str(&page, "</th></tr></thead><tbody>");
    for (int i = 0; i < s->nbrokers; i++) {
        sa_buf_printf(&page, "<tr><td>%d", (int)s->brokers[i].id);
        if (s->brokers[i].id == s->controller) {
            sa_buf_append_str(&page, " <span class=\"badge\">");
            t(&page, req, CS_MSG_CONTROLLER);
            sa_buf_append_str(&page, "</span>");
        }
        sa_buf_append_str(&page, "</td><td>");
        esc(&page, s->brokers[i].host);
        sa_buf_printf(&page, ":%d</td></tr>", s->brokers[i].port);
    }
    sa_buf_append_str(&page, "</tbody></table></section></div>");
    int n = 0;
    cs_point_t *pts = cs_store_series(c->store, NULL, sa_wall_ms() - 3600 * 1000, 240, &n);
    char in_label[128], out_label[128];
    snprintf(in_label, sizeof(in_label), "%s", cs_t(req->lang, CS_MSG_RATE_IN));
    snprintf(out_label, sizeof(out_label), "%s", cs_t(req->lang, CS_MSG_RATE_OUT));
    cs_html_chart(&page, req->lang, pts, n, cs_t(req->lang, CS_MSG_RATES_CHART), in_label, out_label, 0);
    free(pts);
    page_done(req, &page);
    sa_console_snap_put(s);
    return sa_http_respond_page(req, 200, &page, NULL);
}

/* --- topics ---------------------------------------------------------------------------------- */

static void create_form(sa_buf_t *out, sa_http_req_t *req) {
    sa_console_t *c = req->app;
    if (c->conf->read_only) return;
    sa_buf_append_str(out, "<details class=\"form\" id=\"create-topic\"><summary>");
    t(out, req, CS_MSG_CREATE_TOPIC);
    sa_buf_append_str(out, "</summary><form method=\"post\" action=\"/topics/create\">");
    cs_html_csrf(out, req);
    sa_buf_append_str(out, "<label for=\"ct-name\">");
    t(out, req, CS_MSG_NAME);
    sa_buf_append_str(out, "</label><input id=\"ct-name\" name=\"name\" required maxlength=\"249\" "
                           "pattern=\"[a-zA-Z0-9._\\-]+\"><label for=\"ct-parts\">");
    t(out, req, CS_MSG_PARTITIONS);
    sa_buf_append_str(out, "</label><input id=\"ct-parts\" name=\"partitions\" type=\"number\" min=\"1\" "
                           "max=\"10000\" value=\"1\"><label for=\"ct-rf\">");
    t(out, req, CS_MSG_REPLICATION);
    sa_buf_append_str(out,
                      "</label><input id=\"ct-rf\" name=\"replication\" type=\"number\" min=\"1\" max=\"32\" "
                      "value=\"1\"><label for=\"ct-configs\">");
    t(out, req, CS_MSG_CONFIGS);
    sa_buf_append_str(out, " <small>(");
    t(out, req, CS_MSG_CONFIGS_HINT);
    sa_buf_append_str(out,
                      ")</small></label><textarea id=\"ct-configs\" name=\"configs\" rows=\"3\"></textarea>"
                      "<button type=\"submit\">");
    t(out, req, CS_MSG_CREATE);
    sa_buf_append_str(out, "</button></form></details>");
}

enum MHD_Result cs_page_topics(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    cs_snap_t *s = sa_console_snap_get(c);
    const char *q = query(req, "q");
    int internal = query(req, "internal") != NULL;
    int64_t pageno = query_int(req, "page", 0);
    if (pageno < 0) pageno = 0;
    sa_buf_t page = SA_BUF_INIT(0), self = SA_BUF_INIT(0);
    sa_buf_append_str(&self, "/topics?");
    qparam(&self, "q", q);
    if (internal) sa_buf_append_str(&self, "&internal=1");
    cs_html_begin(&page, req, CS_NAV_TOPICS, cs_t(req->lang, CS_MSG_TOPICS), sa_buf_cstr(&self), s);
    sa_buf_append_str(&page,
                      "<form method=\"get\" action=\"/topics\" class=\"search\" role=\"search\">"
                      "<input type=\"search\" name=\"q\" id=\"topic-q\" maxlength=\"256\" aria-label=\"");
    t(&page, req, CS_MSG_SEARCH);
    sa_buf_append_str(&page, "\" placeholder=\"");
    t(&page, req, CS_MSG_SEARCH_TOPICS);
    sa_buf_append_str(&page, "\" value=\"");
    esc(&page, q);
    sa_buf_printf(&page, "\"><label><input type=\"checkbox\" name=\"internal\" value=\"1\"%s> ",
                  internal ? " checked" : "");
    t(&page, req, CS_MSG_SHOW_INTERNAL);
    sa_buf_append_str(&page, "</label><button type=\"submit\">");
    t(&page, req, CS_MSG_SEARCH);
    sa_buf_append_str(&page, "</button></form>");
    create_form(&page, req);
    /* the matching topics, TOPICS_PAGE a page */
    int matched = 0, shown = 0;
    int64_t first = pageno * TOPICS_PAGE;
    sa_buf_t rows = SA_BUF_INIT(0);
    for (int i = 0; i < s->ntopics; i++) {
        const cs_topic_t *tp = &s->topics[i];
        if (tp->internal && !internal) continue;
        if (q && !strcasestr(tp->name, q)) continue;
        matched++;
        if (matched <= first || shown >= TOPICS_PAGE) continue;
        shown++;
        sa_buf_append_str(&rows, "<tr><td><a href=\"/topic?");
        qparam(&rows, "name", tp->name);
        sa_buf_append_str(&rows, "\">");
        esc(&rows, tp->name);
        sa_buf_append_str(&rows, "</a></td><td class=\"num\">");
        cs_html_num(&rows, tp->npart);
        sa_buf_append_str(&rows, "</td><td class=\"num\">");
        cs_html_num(&rows, tp->messages);
        sa_buf_append_str(&rows, "</td><td class=\"num\">");
        cs_html_num(&rows, tp->npart ? tp->parts[0].nreplicas : -1);
        sa_buf_append_str(&rows, "</td></tr>");
    }
    if (!matched) {
        sa_buf_append_str(&page, "<p class=\"empty\" id=\"no-topics\">");
        t(&page, req, CS_MSG_NO_TOPICS);
        sa_buf_append_str(&page, "</p>");
    } else {
        sa_buf_append_str(&page, "<p class=\"count\">");
        t(&page, req, CS_MSG_SHOWING);
        sa_buf_printf(&page, " %lld–%lld ", (long long)first + 1, (long long)first + shown);
        t(&page, req, CS_MSG_OF);
        sa_buf_printf(&page, " %d</p><table id=\"topics\" class=\"list\"><thead><tr><th scope=\"col\">",
                      matched);
        t(&page, req, CS_MSG_NAME);
        sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
        t(&page, req, CS_MSG_PARTITIONS);
        sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
        t(&page, req, CS_MSG_MESSAGES);
        sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
        t(&page, req, CS_MSG_REPLICAS);
        sa_buf_append_str(&page, "</th></tr></thead><tbody>");
        sa_buf_append(&page, rows.data, rows.len);
        sa_buf_append_str(&page, "</tbody></table><nav class=\"pager\">");
        for (int dir = -1; dir <= 1; dir += 2) {
            int64_t to = pageno + dir;
            if (to < 0 || (dir > 0 && first + shown >= matched)) continue;
            sa_buf_printf(&page, "<a id=\"%s\" href=\"", dir < 0 ? "prev-page" : "next-page");
            sa_buf_append(&page, self.data, self.len);
            sa_buf_printf(&page, "&amp;page=%lld\">", (long long)to);
            t(&page, req, dir < 0 ? CS_MSG_PREV_PAGE : CS_MSG_NEXT_PAGE);
            sa_buf_append_str(&page, "</a> ");
        }
        sa_buf_append_str(&page, "</nav>");
    }
    sa_buf_free(&rows);
    sa_buf_free(&self);
    page_done(req, &page);
    sa_console_snap_put(s);
    return sa_http_respond_page(req, 200, &page, NULL);
}

/* --- a topic --------------------------------------------------------------------------------- */

static enum MHD_Result not_found(sa_http_req_t *req, cs_snap_t *s, cs_nav_t nav, cs_msg_t msg) {
    sa_buf_t page = SA_BUF_INIT(0);
    cs_html_begin(&page, req, nav, cs_t(req->lang, msg), nav == CS_NAV_GROUPS ? "/groups" : "/topics", s);
    sa_buf_printf(&page, "<p><a href=\"%s\">", nav == CS_NAV_GROUPS ? "/groups" : "/topics");
    t(&page, req, CS_MSG_BACK);
    sa_buf_append_str(&page, "</a></p>");
    page_done(req, &page);
    sa_console_snap_put(s);
    return sa_http_respond_page(req, 404, &page, NULL);
}

enum MHD_Result cs_page_topic(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    cs_snap_t *s = sa_console_snap_get(c);
    const char *name = query(req, "name");
    const cs_topic_t *tp = cs_snap_topic(s, name);
    if (!tp) return not_found(req, s, CS_NAV_TOPICS, CS_MSG_NO_SUCH_TOPIC);
    sa_buf_t page = SA_BUF_INIT(0), self = SA_BUF_INIT(0);
    sa_buf_append_str(&self, "/topic?");
    qparam(&self, "name", name);
    char title[512];
    snprintf(title, sizeof(title), "%s %s", cs_t(req->lang, CS_MSG_TOPIC), tp->name);
    cs_html_begin(&page, req, CS_NAV_TOPICS, title, sa_buf_cstr(&self), s);
    const char *done = query(req, "done");
    if (done && !strcmp(done, "created")) cs_html_notice(&page, "ok", cs_t(req->lang, CS_MSG_CREATED));
    if (done && !strcmp(done, "configs")) cs_html_notice(&page, "ok", cs_t(req->lang, CS_MSG_SAVED));
    sa_buf_append_str(&page, "<p class=\"actions\"><a class=\"button\" id=\"browse-link\" href=\"/messages?");
    qparam(&page, "topic", tp->name);
    sa_buf_append_str(&page, "\">");
    t(&page, req, CS_MSG_BROWSE);
    sa_buf_append_str(&page, "</a></p><h2>");
    t(&page, req, CS_MSG_PARTITIONS);
    sa_buf_append_str(&page, "</h2><table id=\"partitions\" class=\"list\"><thead><tr><th scope=\"col\">");
    t(&page, req, CS_MSG_PARTITION);
    sa_buf_append_str(&page, "</th><th scope=\"col\">");
    t(&page, req, CS_MSG_LEADER);
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    t(&page, req, CS_MSG_REPLICAS);
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    t(&page, req, CS_MSG_ISR);
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    t(&page, req, CS_MSG_EARLIEST);
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    t(&page, req, CS_MSG_LATEST);
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    t(&page, req, CS_MSG_MESSAGES);
    sa_buf_append_str(&page, "</th></tr></thead><tbody>");
    for (int i = 0; i < tp->npart; i++) {
        const cs_part_t *p = &tp->parts[i];
        sa_buf_append_str(&page, "<tr><td><a href=\"/messages?");
        qparam(&page, "topic", tp->name);
        sa_buf_printf(
            &page,
            "&amp;partition=%d\">%d</a></td><td>%d</td><td class=\"num\">%d</td><td class=\"num\">%d</td>"
            "<td class=\"num\">",
            (int)p->id, (int)p->id, (int)p->leader, p->nreplicas, p->nisr);
        cs_html_num(&page, p->earliest);
        sa_buf_append_str(&page, "</td><td class=\"num\">");
        cs_html_num(&page, p->latest);
        sa_buf_append_str(&page, "</td><td class=\"num\">");
        cs_html_num(&page, p->earliest >= 0 && p->latest >= p->earliest ? p->latest - p->earliest : -1);
        sa_buf_append_str(&page, "</td></tr>");
    }
    sa_buf_append_str(&page, "</tbody></table><h2>");
    t(&page, req, CS_MSG_CONFIGS);
    sa_buf_append_str(&page, "</h2>");
    char errstr[512];
    int ncfg = 0;
    cs_config_t *cfg = cs_kafka_topic_configs(c->kafka, tp->name, &ncfg, errstr, sizeof(errstr));
    if (!cfg) {
        char msg[700];
        snprintf(msg, sizeof(msg), "%s: %s", cs_t(req->lang, CS_MSG_CONFIGS_UNAVAILABLE), errstr);
        cs_html_notice(&page, "error", msg);
    } else {
        sa_buf_t overrides = SA_BUF_INIT(0);
        sa_buf_append_str(&page, "<table id=\"configs\" class=\"list\"><thead><tr><th scope=\"col\">");
        t(&page, req, CS_MSG_CONFIG);
        sa_buf_append_str(&page, "</th><th scope=\"col\">");
        t(&page, req, CS_MSG_VALUE);
        sa_buf_append_str(&page, "</th><th scope=\"col\">");
        t(&page, req, CS_MSG_SOURCE);
        sa_buf_append_str(&page, "</th></tr></thead><tbody>");
        for (int i = 0; i < ncfg; i++) {
            int override = !strcmp(cfg[i].source, "DYNAMIC_TOPIC_CONFIG");
            sa_buf_printf(&page, "<tr%s><td>", override ? " class=\"override\"" : "");
            esc(&page, cfg[i].name);
            sa_buf_append_str(&page, "</td><td>");
            esc(&page, cfg[i].sensitive ? "******" : cfg[i].value ? cfg[i].value : "—");
            sa_buf_append_str(&page, "</td><td>");
            esc(&page, cfg[i].source);
            sa_buf_append_str(&page, "</td></tr>");
            if (override && cfg[i].value) sa_buf_printf(&overrides, "%s=%s\n", cfg[i].name, cfg[i].value);
        }
        sa_buf_append_str(&page, "</tbody></table>");
        if (!c->conf->read_only) {
            sa_buf_append_str(&page, "<details class=\"form\" id=\"edit-configs\"><summary>");
            t(&page, req, CS_MSG_EDIT_CONFIGS);
            sa_buf_append_str(&page, "</summary><form method=\"post\" action=\"/topic/configs\">");
            cs_html_csrf(&page, req);
            sa_buf_append_str(&page, "<input type=\"hidden\" name=\"name\" value=\"");
            esc(&page, tp->name);
            sa_buf_append_str(&page, "\"><p class=\"hint\">");
            t(&page, req, CS_MSG_EDIT_CONFIGS_HINT);
            sa_buf_append_str(&page, "</p><label for=\"cfg-text\">");
            t(&page, req, CS_MSG_CONFIGS);
            sa_buf_append_str(&page, "</label><textarea id=\"cfg-text\" name=\"configs\" rows=\"6\">");
            esc(&page, sa_buf_cstr(&overrides));
            sa_buf_append_str(&page, "</textarea><button type=\"submit\">");
            t(&page, req, CS_MSG_SAVE);
            sa_buf_append_str(&page, "</button></form></details>");
        }
        sa_buf_free(&overrides);
        cs_configs_free(cfg, ncfg);
    }
    if (!c->conf->read_only) {
        sa_buf_append_str(&page, "<details class=\"form danger\" id=\"delete-topic\"><summary>");
        t(&page, req, CS_MSG_DELETE_TOPIC);
        sa_buf_append_str(&page, "</summary><form method=\"post\" action=\"/topic/delete\">");
        cs_html_csrf(&page, req);
        sa_buf_append_str(&page, "<input type=\"hidden\" name=\"name\" value=\"");
        esc(&page, tp->name);
        sa_buf_append_str(&page, "\"><label for=\"del-confirm\">");
        t(&page, req, CS_MSG_DELETE_CONFIRM);
        sa_buf_append_str(&page,
                          "</label><input id=\"del-confirm\" name=\"confirm\" autocomplete=\"off\" required>"
                          "<button type=\"submit\" class=\"danger\">");
        t(&page, req, CS_MSG_DELETE);
        sa_buf_append_str(&page, "</button></form></details>");
    }
    sa_buf_free(&self);
    page_done(req, &page);
    sa_console_snap_put(s);
    return sa_http_respond_page(req, 200, &page, NULL);
}

/* --- messages -------------------------------------------------------------------------------- */

int cs_browse_from_query(sa_http_req_t *req, cs_browse_t *b, cs_msg_t *bad) {
    memset(b, 0, sizeof(*b));
    b->topic = query(req, "topic");
    b->partition = -1;
    b->before = -1;
    b->limit = BROWSE_DEFAULT;
    b->filter.from_ms = b->filter.to_ms = -1;
    const char *seek = query(req, "seek");
    b->seek = seek && !strcmp(seek, "offset") ? CS_SEEK_OFFSET
              : seek && !strcmp(seek, "time") ? CS_SEEK_TIME
                                              : CS_SEEK_NEWEST;
    int64_t p = query_int(req, "partition", -1), lim = query_int(req, "limit", BROWSE_DEFAULT);
    int64_t off = query_int(req, "offset", 0), before = query_int(req, "before", -1);
    if (p == INT64_MIN || p < -1 || p > INT32_MAX || lim == INT64_MIN || off == INT64_MIN ||
        before == INT64_MIN) {
        *bad = CS_MSG_ERR_BAD_NUMBER;
        return -1;
    }
    b->partition = (int32_t)p;
    b->limit = (int)SA_MIN(SA_MAX(lim, 1), BROWSE_MAX);
    b->offset = SA_MAX(off, 0);
    b->before = before;
    if (b->seek == CS_SEEK_TIME && (b->time_ms = cs_parse_time(query(req, "time"))) < 0) {
        *bad = CS_MSG_ERR_BAD_TIME;
        return -1;
    }
    b->filter.key = query(req, "key");
    b->filter.value = query(req, "value");
    b->filter.header = query(req, "header");
    const char *from = query(req, "from"), *to = query(req, "to");
    if ((from && (b->filter.from_ms = cs_parse_time(from)) < 0) ||
        (to && (b->filter.to_ms = cs_parse_time(to)) < 0)) {
        *bad = CS_MSG_ERR_BAD_TIME;
        return -1;
    }
    int filtered = b->filter.key || b->filter.value || b->filter.header || from || to;
    b->scan = filtered ? SCAN_FILTERED : b->limit;
    return 0;
}

json_t *cs_record_json(const cs_record_t *r) {
    json_t *o = json_object();
    json_object_set_new(o, "partition", json_integer(r->partition));
    json_object_set_new(o, "offset", json_integer(r->offset));
    json_object_set_new(o, "timestamp", json_integer(r->timestamp));
    json_object_set_new(o, "key", r->key ? json_stringn_nocheck(r->key, r->key_len) : json_null());
    json_object_set_new(o, "value", r->value ? json_stringn_nocheck(r->value, r->value_len) : json_null());
    json_object_set_new(o, "value_size", json_integer((json_int_t)r->value_size));
    json_t *h = json_array();
    for (int i = 0; i < r->nheaders; i++)
        json_array_append_new(h, json_pack("{s:s, s:o}", "name", r->header_names[i], "value",
                                           r->header_values[i]
                                               ? json_stringn_nocheck(r->header_values[i], r->header_lens[i])
                                               : json_null()));
    json_object_set_new(o, "headers", h);
    return o;
}

static void record_row(sa_buf_t *out, sa_http_req_t *req, const cs_record_t *r) {
    sa_buf_printf(out,
                  "<tr class=\"record\" data-partition=\"%d\" data-offset=\"%lld\"><td class=\"num\">%d</td>"
                  "<td class=\"num\">%lld</td><td>",
                  (int)r->partition, (long long)r->offset, (int)r->partition, (long long)r->offset);
    cs_html_time(out, r->timestamp);
    sa_buf_append_str(out, "</td><td class=\"key\">");
    if (r->key)
        cs_html_bytes(out, r->key, r->key_len, 256, 0);
    else
        sa_buf_printf(out, "<em>%s</em>", cs_t(req->lang, CS_MSG_NULL_VALUE));
    sa_buf_append_str(out, "</td><td class=\"value\">");
    if (r->value) {
        cs_html_bytes(out, r->value, r->value_len, VALUE_SHOWN, 1);
        if (r->value_size > VALUE_SHOWN) sa_buf_printf(out, "<small>%zu B</small>", r->value_size);
    } else {
        sa_buf_printf(out, "<em>%s</em>", cs_t(req->lang, CS_MSG_NULL_VALUE));
    }
    sa_buf_append_str(out, "</td><td class=\"headers\">");
    if (r->nheaders) {
        sa_buf_append_str(out, "<dl>");
        for (int i = 0; i < r->nheaders; i++) {
            sa_buf_append_str(out, "<dt>");
            esc(out, r->header_names[i]);
            sa_buf_append_str(out, "</dt><dd>");
            if (r->header_values[i])
                cs_html_bytes(out, r->header_values[i], r->header_lens[i], 256, 0);
            else
                sa_buf_printf(out, "<em>%s</em>", cs_t(req->lang, CS_MSG_NULL_VALUE));
            sa_buf_append_str(out, "</dd>");
        }
        sa_buf_append_str(out, "</dl>");
    }
    sa_buf_append_str(out, "</td></tr>");
}

static void input(sa_buf_t *out, sa_http_req_t *req, const char *id, const char *name, cs_msg_t label,
                  const char *type, const char *value, const char *extra) {
    sa_buf_printf(out, "<div class=\"field\"><label for=\"%s\">", id);
    t(out, req, label);
    sa_buf_printf(out, "</label><input id=\"%s\" name=\"%s\" type=\"%s\" value=\"", id, name, type);
    esc(out, value);
    sa_buf_printf(out, "\"%s></div>", extra ? extra : "");
}

static void produce_form(sa_buf_t *out, sa_http_req_t *req, const char *topic) {
    sa_buf_append_str(out, "<details class=\"form\" id=\"produce\"><summary>");
    t(out, req, CS_MSG_PRODUCE);
    sa_buf_append_str(out, "</summary><form method=\"post\" action=\"/messages/produce\">");
    cs_html_csrf(out, req);
    sa_buf_append_str(out, "<input type=\"hidden\" name=\"topic\" value=\"");
    esc(out, topic);
    sa_buf_append_str(out, "\">");
    input(out, req, "pr-key", "key", CS_MSG_KEY, "text", "", NULL);
    sa_buf_append_str(out, "<div class=\"field\"><label for=\"pr-value\">");
    t(out, req, CS_MSG_VALUE);
    sa_buf_append_str(out, "</label><textarea id=\"pr-value\" name=\"value\" rows=\"4\"></textarea></div>"
                           "<div class=\"field\"><label for=\"pr-headers\">");
    t(out, req, CS_MSG_HEADERS);
    sa_buf_append_str(out, " <small>(");
    t(out, req, CS_MSG_HEADERS_HINT);
    sa_buf_append_str(
        out, ")</small></label><textarea id=\"pr-headers\" name=\"headers\" rows=\"2\"></textarea></div>");
    input(out, req, "pr-partition", "partition", CS_MSG_PARTITION, "number", "", " min=\"0\"");
    sa_buf_append_str(out, "<p class=\"hint\">");
    t(out, req, CS_MSG_PARTITION_AUTO);
    sa_buf_append_str(out, "</p><button type=\"submit\">");
    t(out, req, CS_MSG_SEND);
    sa_buf_append_str(out, "</button></form></details>");
}

enum MHD_Result cs_page_messages(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    cs_snap_t *s = sa_console_snap_get(c);
    cs_browse_t b;
    cs_msg_t bad = CS_MSG_ERR_BAD_NUMBER;
    int parsed = cs_browse_from_query(req, &b, &bad);
    const cs_topic_t *tp = cs_snap_topic(s, b.topic);
    sa_buf_t page = SA_BUF_INIT(0), self = SA_BUF_INIT(0);
    sa_buf_append_str(&self, "/messages?");
    qparam(&self, "topic", b.topic);
    if (b.partition >= 0) sa_buf_printf(&self, "&partition=%d", (int)b.partition);
    char title[512];
    snprintf(title, sizeof(title), "%s%s%s", cs_t(req->lang, CS_MSG_MESSAGES), b.topic ? ": " : "",
             b.topic ? b.topic : "");
    cs_html_begin(&page, req, CS_NAV_MESSAGES, title, sa_buf_cstr(&self), s);
    const char *done = query(req, "produced");
    if (done) {
        char msg[512], po[300];
        snprintf(po, sizeof(po), "%s", done);
        char *slash = strchr(po, ':');
        if (slash) {
            *slash = '\0';
            char tmpl[128];
            snprintf(tmpl, sizeof(tmpl), "%s", cs_t(req->lang, CS_MSG_PRODUCED));
            char *pp = strstr(tmpl, "{p}"), *oo = strstr(tmpl, "{o}");
            if (pp && oo && pp < oo) {
                *pp = '\0';
                *oo = '\0';
                snprintf(msg, sizeof(msg), "%s%d%s%lld%s", tmpl, atoi(po), pp + 3, atoll(slash + 1), oo + 3);
                cs_html_notice(&page, "ok", msg);
            }
        }
    }
    /* the form: a GET, so every view is a link */
    sa_buf_append_str(&page, "<form method=\"get\" action=\"/messages\" class=\"browse\" id=\"browse-form\">"
                             "<div class=\"field\"><label for=\"m-topic\">");
    t(&page, req, CS_MSG_TOPIC);
    sa_buf_append_str(&page,
                      "</label><input id=\"m-topic\" name=\"topic\" list=\"topic-names\" required value=\"");
    esc(&page, b.topic);
    sa_buf_append_str(&page, "\"><datalist id=\"topic-names\">");
    for (int i = 0; i < s->ntopics && i < 2000; i++) {
        sa_buf_append_str(&page, "<option value=\"");
        esc(&page, s->topics[i].name);
        sa_buf_append_str(&page, "\">");
    }
    sa_buf_append_str(&page, "</datalist></div><div class=\"field\"><label for=\"m-partition\">");
    t(&page, req, CS_MSG_PARTITION);
    sa_buf_append_str(&page, "</label><select id=\"m-partition\" name=\"partition\"><option value=\"-1\">");
    t(&page, req, CS_MSG_ALL_PARTITIONS);
    sa_buf_append_str(&page, "</option>");
    for (int i = 0; tp && i < tp->npart; i++)
        sa_buf_printf(&page, "<option value=\"%d\"%s>%d</option>", (int)tp->parts[i].id,
                      tp->parts[i].id == b.partition ? " selected" : "", (int)tp->parts[i].id);
    sa_buf_append_str(&page, "</select></div><div class=\"field\"><label for=\"m-seek\">");
    t(&page, req, CS_MSG_SEEK);
    sa_buf_append_str(&page, "</label><select id=\"m-seek\" name=\"seek\">");
    static const struct {
        const char *v;
        cs_msg_t label;
    } seeks[] = {{"newest", CS_MSG_SEEK_NEWEST}, {"offset", CS_MSG_SEEK_OFFSET}, {"time", CS_MSG_SEEK_TIME}};
    for (int i = 0; i < 3; i++) {
        sa_buf_printf(&page, "<option value=\"%s\"%s>", seeks[i].v, (int)b.seek == i ? " selected" : "");
        t(&page, req, seeks[i].label);
        sa_buf_append_str(&page, "</option>");
    }
    sa_buf_append_str(&page, "</select></div>");
    char num[32];
    snprintf(num, sizeof(num), "%lld", (long long)b.offset);
    input(&page, req, "m-offset", "offset", CS_MSG_OFFSET, "number", b.seek == CS_SEEK_OFFSET ? num : "",
          " min=\"0\"");
    input(&page, req, "m-time", "time", CS_MSG_TIME_UTC, "datetime-local", query(req, "time"), " step=\"1\"");
    snprintf(num, sizeof(num), "%d", b.limit);
    input(&page, req, "m-limit", "limit", CS_MSG_LIMIT, "number", num, " min=\"1\" max=\"500\"");
    sa_buf_append_str(&page, "<fieldset class=\"filters\"><legend>");
    t(&page, req, CS_MSG_FILTERS);
    sa_buf_append_str(&page, "</legend>");
    input(&page, req, "m-key", "key", CS_MSG_KEY_CONTAINS, "text", b.filter.key, " maxlength=\"256\"");
    input(&page, req, "m-value", "value", CS_MSG_VALUE_CONTAINS, "text", b.filter.value,
          " maxlength=\"256\"");
    input(&page, req, "m-header", "header", CS_MSG_HEADER_FILTER, "text", b.filter.header,
          " maxlength=\"256\"");
    input(&page, req, "m-from", "from", CS_MSG_FROM_TIME, "datetime-local", query(req, "from"),
          " step=\"1\"");
    input(&page, req, "m-to", "to", CS_MSG_TO_TIME, "datetime-local", query(req, "to"), " step=\"1\"");
    sa_buf_append_str(&page, "</fieldset><button type=\"submit\" id=\"browse-submit\">");
    t(&page, req, CS_MSG_SHOW);
    sa_buf_append_str(&page, "</button></form>");
    unsigned status = 200;
    if (parsed) {
        cs_html_notice(&page, "error", cs_t(req->lang, bad));
        status = 400;
    } else if (b.topic && !tp) {
        cs_html_notice(&page, "error", cs_t(req->lang, CS_MSG_NO_SUCH_TOPIC));
        status = 404;
    } else if (b.topic) {
        /* the live tail (console.js), then what the browser read */
        sa_buf_append_str(&page, "<section class=\"tail\" id=\"tail\" data-src=\"/messages/tail?");
        qparam(&page, "topic", b.topic);
        sa_buf_printf(&page, "&amp;partition=%d", (int)b.partition);
        if (b.filter.key) sa_buf_append_str(&page, "&amp;"), qparam(&page, "key", b.filter.key);
        if (b.filter.value) sa_buf_append_str(&page, "&amp;"), qparam(&page, "value", b.filter.value);
        if (b.filter.header) sa_buf_append_str(&page, "&amp;"), qparam(&page, "header", b.filter.header);
        sa_buf_append_str(&page, "\" data-start=\"");
        t(&page, req, CS_MSG_LIVE_START);
        sa_buf_append_str(&page, "\" data-stop=\"");
        t(&page, req, CS_MSG_LIVE_STOP);
        sa_buf_append_str(&page, "\" data-waiting=\"");
        t(&page, req, CS_MSG_LIVE_WAITING);
        sa_buf_append_str(&page, "\"><h2>");
        t(&page, req, CS_MSG_LIVE_TAIL);
        sa_buf_append_str(&page, "</h2><noscript><p>");
        t(&page, req, CS_MSG_LIVE_NOSCRIPT);
        sa_buf_append_str(&page,
                          "</p></noscript><p class=\"tail-status\" aria-live=\"polite\"></p></section>");
        cs_browse_result_t res;
        char errstr[512];
        if (cs_kafka_browse(c->kafka, &b, &res, errstr, sizeof(errstr))) {
            char msg[700];
            snprintf(msg, sizeof(msg), "%s: %s", cs_t(req->lang, CS_MSG_ERR_KAFKA), errstr);
            cs_html_notice(&page, "error", msg);
            status = 503;
        } else {
            sa_buf_printf(&page, "<p class=\"count\" id=\"scanned\">%lld ", (long long)res.scanned);
            t(&page, req, CS_MSG_SCANNED);
            if (res.parts_skipped) {
                sa_buf_printf(&page, "; %d ", res.parts_skipped);
                t(&page, req, CS_MSG_PARTS_SKIPPED);
            }
            sa_buf_append_str(&page, "</p><table id=\"messages\" class=\"list records\"><thead><tr>"
                                     "<th scope=\"col\" class=\"num\">");
            t(&page, req, CS_MSG_PARTITION);
            sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
            t(&page, req, CS_MSG_OFFSET);
            sa_buf_append_str(&page, "</th><th scope=\"col\">");
            t(&page, req, CS_MSG_TIMESTAMP);
            sa_buf_append_str(&page, "</th><th scope=\"col\">");
            t(&page, req, CS_MSG_KEY);
            sa_buf_append_str(&page, "</th><th scope=\"col\">");
            t(&page, req, CS_MSG_VALUE);
            sa_buf_append_str(&page, "</th><th scope=\"col\">");
            t(&page, req, CS_MSG_HEADERS);
            sa_buf_append_str(&page, "</th></tr></thead><tbody id=\"records\">");
            for (int i = 0; i < res.n; i++) record_row(&page, req, &res.recs[i]);
            sa_buf_append_str(&page, "</tbody></table>");
            if (!res.n) {
                sa_buf_append_str(&page, "<p class=\"empty\" id=\"no-messages\">");
                t(&page, req, CS_MSG_NO_MESSAGES);
                sa_buf_append_str(&page, "</p>");
            }
            /* older: one partition, newest mode, more below */
            if (b.seek == CS_SEEK_NEWEST && b.partition >= 0 && res.n) {
                int64_t lowest = res.recs[res.n - 1].offset;
                int64_t earliest = -1;
                for (int i = 0; tp && i < tp->npart; i++)
                    if (tp->parts[i].id == b.partition) earliest = tp->parts[i].earliest;
                if (lowest > earliest && lowest > 0) {
                    sa_buf_append_str(&page, "<nav class=\"pager\"><a id=\"older\" href=\"");
                    sa_buf_append(&page, self.data, self.len);
                    sa_buf_printf(&page, "&amp;limit=%d&amp;before=%lld", b.limit, (long long)lowest);
                    if (b.filter.key) sa_buf_append_str(&page, "&amp;"), qparam(&page, "key", b.filter.key);
                    if (b.filter.value)
                        sa_buf_append_str(&page, "&amp;"), qparam(&page, "value", b.filter.value);
                    if (b.filter.header)
                        sa_buf_append_str(&page, "&amp;"), qparam(&page, "header", b.filter.header);
                    sa_buf_append_str(&page, "\">");
                    t(&page, req, CS_MSG_OLDER);
                    sa_buf_append_str(&page, "</a></nav>");
                }
            }
            cs_browse_result_free(&res);
        }
        if (!c->conf->read_only) produce_form(&page, req, b.topic);
    } else {
        sa_buf_append_str(&page, "<p class=\"empty\">");
        t(&page, req, CS_MSG_ERR_NO_TOPIC);
        sa_buf_append_str(&page, "</p>");
    }
    sa_buf_free(&self);
    page_done(req, &page);
    sa_console_snap_put(s);
    return sa_http_respond_page(req, status, &page, NULL);
}

/* --- groups ---------------------------------------------------------------------------------- */

enum MHD_Result cs_page_groups(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    cs_snap_t *s = sa_console_snap_get(c);
    sa_buf_t page = SA_BUF_INIT(0);
    cs_html_begin(&page, req, CS_NAV_GROUPS, cs_t(req->lang, CS_MSG_GROUPS), "/groups", s);
    if (!s->ngroups) {
        sa_buf_append_str(&page, "<p class=\"empty\" id=\"no-groups\">");
        t(&page, req, CS_MSG_NO_GROUPS);
        sa_buf_append_str(&page, "</p>");
    } else {
        sa_buf_append_str(&page, "<table id=\"groups\" class=\"list\"><thead><tr><th scope=\"col\">");
        t(&page, req, CS_MSG_NAME);
        sa_buf_append_str(&page, "</th><th scope=\"col\">");
        t(&page, req, CS_MSG_STATE);
        sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
        t(&page, req, CS_MSG_MEMBERS);
        sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
        t(&page, req, CS_MSG_TOPICS);
        sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
        t(&page, req, CS_MSG_TOTAL_LAG);
        sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
        t(&page, req, CS_MSG_TIME_LAG);
        sa_buf_append_str(&page, "</th></tr></thead><tbody>");
        for (int g = 0; g < s->ngroups; g++) {
            const cs_group_t *grp = &s->groups[g];
            sa_buf_append_str(&page, "<tr><td><a href=\"/group?");
            qparam(&page, "name", grp->name);
            sa_buf_append_str(&page, "\">");
            esc(&page, grp->name);
            sa_buf_append_str(&page, "</a></td><td><span class=\"state\">");
            esc(&page, grp->state);
            sa_buf_append_str(&page, "</span></td><td class=\"num\">");
            cs_html_num(&page, grp->nmembers);
            sa_buf_append_str(&page, "</td><td class=\"num\">");
            cs_html_num(&page, grp->ntopics);
            sa_buf_append_str(&page, "</td><td class=\"num lag\">");
            cs_html_num(&page, grp->total_lag);
            sa_buf_append_str(&page, "</td><td class=\"num\">");
            cs_html_duration(&page, req->lang, grp->max_time_lag_ms);
            sa_buf_append_str(&page, "</td></tr>");
        }
        sa_buf_append_str(&page, "</tbody></table>");
    }
    page_done(req, &page);
    sa_console_snap_put(s);
    return sa_http_respond_page(req, 200, &page, NULL);
}

static void reset_form(sa_buf_t *out, sa_http_req_t *req, const cs_group_t *g) {
    sa_buf_append_str(out, "<section id=\"reset\"><h2>");
    t(out, req, CS_MSG_RESET);
    sa_buf_append_str(out, "</h2><p class=\"hint\">");
    t(out, req, CS_MSG_RESET_HINT);
    sa_buf_append_str(out, "</p><form method=\"post\" action=\"/group/reset\" id=\"reset-form\">");
    cs_html_csrf(out, req);
    sa_buf_append_str(out, "<input type=\"hidden\" name=\"group\" value=\"");
    esc(out, g->name);
    sa_buf_append_str(out, "\"><div class=\"field\"><label for=\"r-topic\">");
    t(out, req, CS_MSG_TOPIC);
    sa_buf_append_str(out, "</label><select id=\"r-topic\" name=\"topic\"><option value=\"\">");
    t(out, req, CS_MSG_ALL_TOPICS);
    sa_buf_append_str(out, "</option>");
    for (int i = 0; i < g->nparts; i++)
        if (!i || strcmp(g->parts[i].topic, g->parts[i - 1].topic)) {
            sa_buf_append_str(out, "<option>");
            esc(out, g->parts[i].topic);
            sa_buf_append_str(out, "</option>");
        }
    sa_buf_append_str(out, "</select></div><div class=\"field\"><label for=\"r-to\">");
    t(out, req, CS_MSG_TO);
    sa_buf_append_str(out, "</label><select id=\"r-to\" name=\"to\">");
    static const struct {
        const char *v;
        cs_msg_t label;
    } tos[] = {{"earliest", CS_MSG_RESET_EARLIEST},
               {"latest", CS_MSG_RESET_LATEST},
               {"offset", CS_MSG_RESET_OFFSET},
               {"time", CS_MSG_RESET_TIME},
               {"shift", CS_MSG_RESET_SHIFT}};
    for (size_t i = 0; i < SA_ARRAY_LEN(tos); i++) {
        sa_buf_printf(out, "<option value=\"%s\">", tos[i].v);
        t(out, req, tos[i].label);
        sa_buf_append_str(out, "</option>");
    }
    sa_buf_append_str(out, "</select></div>");
    input(out, req, "r-value", "value", CS_MSG_RESET_VALUE, "text", "",
          " placeholder=\"42 | 2024-05-01T12:00 | -100\"");
    sa_buf_append_str(
        out, "<input type=\"hidden\" name=\"dry_run\" value=\"1\"><button type=\"submit\" id=\"dry-run\">");
    t(out, req, CS_MSG_DRY_RUN);
    sa_buf_append_str(out, "</button></form></section>");
}

enum MHD_Result cs_page_group(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    cs_snap_t *s = sa_console_snap_get(c);
    const char *name = sa_http_query(req, "name");
    const cs_group_t *g = cs_snap_group(s, name);
    if (!g) return not_found(req, s, CS_NAV_GROUPS, CS_MSG_NO_SUCH_GROUP);
    const char *range = query(req, "range");
    static const struct {
        const char *name;
        int64_t ms;
    } ranges[] = {{"1h", 3600000LL}, {"6h", 6 * 3600000LL}, {"24h", 24 * 3600000LL}, {"7d", 7 * 86400000LL}};
    size_t ri = 0;
    for (size_t i = 0; range && i < SA_ARRAY_LEN(ranges); i++)
        if (!strcmp(range, ranges[i].name)) ri = i;
    sa_buf_t page = SA_BUF_INIT(0), self = SA_BUF_INIT(0);
    sa_buf_append_str(&self, "/group?");
    qparam(&self, "name", g->name);
    char title[512];
    snprintf(title, sizeof(title), "%s %s", cs_t(req->lang, CS_MSG_GROUP), g->name);
    cs_html_begin(&page, req, CS_NAV_GROUPS, title, sa_buf_cstr(&self), s);
    const char *done = query(req, "done");
    if (done && !strcmp(done, "reset")) cs_html_notice(&page, "ok", cs_t(req->lang, CS_MSG_RESET_DONE));
    sa_buf_append_str(&page, "<table class=\"kv\" id=\"group-summary\">");
    kv_row(&page, req, CS_MSG_STATE, "group-state");
    esc(&page, g->state);
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_PROTOCOL, "group-protocol");
    esc(&page, g->protocol_type);
    if (g->protocol[0]) sa_buf_append_str(&page, " / "), esc(&page, g->protocol);
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_MEMBERS, "group-members");
    cs_html_num(&page, g->nmembers);
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_TOTAL_LAG, "group-lag");
    cs_html_num(&page, g->total_lag);
    sa_buf_append_str(&page, "</td></tr>");
    kv_row(&page, req, CS_MSG_TIME_LAG, "group-time-lag");
    cs_html_duration(&page, req->lang, g->max_time_lag_ms);
    sa_buf_append_str(&page, " <small>(");
    t(&page, req, CS_MSG_TIME_LAG_HINT);
    sa_buf_append_str(&page, ")</small></td></tr></table>");
    if (!strcmp(g->state, "Unknown") || (g->protocol_type[0] && strcmp(g->protocol_type, "consumer")))
        cs_html_notice(&page, "info", cs_t(req->lang, CS_MSG_KIP848_NOTE));
    /* the lag history */
    sa_buf_append_str(&page, "<section id=\"history\"><h2>");
    t(&page, req, CS_MSG_LAG_HISTORY);
    sa_buf_append_str(&page, "</h2><nav class=\"ranges\" aria-label=\"");
    t(&page, req, CS_MSG_RANGE);
    sa_buf_append_str(&page, "\">");
    for (size_t i = 0; i < SA_ARRAY_LEN(ranges); i++) {
        sa_buf_append_str(&page, "<a href=\"");
        sa_buf_append(&page, self.data, self.len);
        sa_buf_printf(&page, "&amp;range=%s\"%s>%s</a> ", ranges[i].name,
                      i == ri ? " aria-current=\"true\"" : "", ranges[i].name);
    }
    sa_buf_append_str(&page, "</nav>");
    int n = 0;
    cs_point_t *pts = cs_store_series(c->store, g->name, sa_wall_ms() - ranges[ri].ms, 240, &n);
    cs_html_chart(&page, req->lang, pts, n, cs_t(req->lang, CS_MSG_LAG_CHART),
                  cs_t(req->lang, CS_MSG_TOTAL_LAG), cs_t(req->lang, CS_MSG_TIME_LAG), 1);
    free(pts);
    sa_buf_append_str(&page, "</section><section><h2>");
    t(&page, req, CS_MSG_MEMBERS);
    sa_buf_append_str(&page, "</h2><table id=\"members\" class=\"list\"><thead><tr><th scope=\"col\">");
    t(&page, req, CS_MSG_MEMBER);
    sa_buf_append_str(&page, "</th><th scope=\"col\">");
    t(&page, req, CS_MSG_CLIENT_ID);
    sa_buf_append_str(&page, "</th><th scope=\"col\">");
    t(&page, req, CS_MSG_HOST);
    sa_buf_append_str(&page, "</th><th scope=\"col\">");
    t(&page, req, CS_MSG_ASSIGNMENT);
    sa_buf_append_str(&page, "</th></tr></thead><tbody>");
    for (int m = 0; m < g->nmembers; m++) {
        sa_buf_append_str(&page, "<tr><td><code>");
        esc(&page, g->members[m].id);
        sa_buf_append_str(&page, "</code></td><td>");
        esc(&page, g->members[m].client_id);
        sa_buf_append_str(&page, "</td><td>");
        esc(&page, g->members[m].host);
        sa_buf_append_str(&page, "</td><td>");
        esc(&page, g->members[m].assignment);
        sa_buf_append_str(&page, "</td></tr>");
    }
    sa_buf_append_str(&page, "</tbody></table>");
    if (!g->nmembers) {
        sa_buf_append_str(&page, "<p class=\"empty\" id=\"no-members\">");
        t(&page, req, CS_MSG_NO_MEMBERS);
        sa_buf_append_str(&page, "</p>");
    }
    sa_buf_append_str(&page, "</section><section><h2>");
    t(&page, req, CS_MSG_LAG);
    sa_buf_append_str(&page, "</h2><table id=\"lag\" class=\"list\"><thead><tr><th scope=\"col\">");
    t(&page, req, CS_MSG_TOPIC);
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    t(&page, req, CS_MSG_PARTITION);
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    t(&page, req, CS_MSG_COMMITTED);
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    t(&page, req, CS_MSG_LOG_END);
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    t(&page, req, CS_MSG_LAG);
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    t(&page, req, CS_MSG_TIME_LAG);
    sa_buf_append_str(&page, "</th><th scope=\"col\">");
    t(&page, req, CS_MSG_MEMBER);
    sa_buf_append_str(&page, "</th></tr></thead><tbody>");
    for (int i = 0; i < g->nparts; i++) {
        const cs_gpart_t *gp = &g->parts[i];
        sa_buf_append_str(&page, "<tr><td><a href=\"/topic?");
        qparam(&page, "name", gp->topic);
        sa_buf_append_str(&page, "\">");
        esc(&page, gp->topic);
        sa_buf_printf(&page, "</a></td><td class=\"num\">%d</td><td class=\"num\">", (int)gp->partition);
        cs_html_num(&page, gp->committed);
        sa_buf_append_str(&page, "</td><td class=\"num\">");
        cs_html_num(&page, gp->end);
        sa_buf_append_str(&page, "</td><td class=\"num lag\">");
        cs_html_num(&page, gp->lag);
        sa_buf_append_str(&page, "</td><td class=\"num\">");
        cs_html_duration(&page, req->lang, gp->time_lag_ms);
        sa_buf_append_str(&page, "</td><td>");
        if (gp->member >= 0)
            esc(&page, g->members[gp->member].client_id);
        else
            sa_buf_printf(&page, "<em>%s</em>", cs_t(req->lang, CS_MSG_UNASSIGNED));
        sa_buf_append_str(&page, "</td></tr>");
    }
    sa_buf_append_str(&page, "</tbody></table></section>");
    if (!c->conf->read_only) reset_form(&page, req, g);
    sa_buf_free(&self);
    page_done(req, &page);
    sa_console_snap_put(s);
    return sa_http_respond_page(req, 200, &page, NULL);
}

/* --- health and metrics ---------------------------------------------------------------------- */

enum MHD_Result cs_page_healthz(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    cs_snap_t *s = sa_console_snap_get(c);
    char err[512];
    sa_console_error(c, err, sizeof(err));
    int ok = s->taken_ms && !err[0];
    json_t *doc = json_pack("{s:b, s:I, s:i, s:s?}", "ok", ok, "sampled_at_ms", (json_int_t)s->taken_ms,
                            "topics", s->ntopics, "error", err[0] ? err : NULL);
    sa_console_snap_put(s);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    enum MHD_Result rc = sa_http_respond_json_text(req, ok ? 200 : 503, text ? text : "{}", NULL);
    free(text);
    return rc;
}

enum MHD_Result cs_page_metrics(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    cs_snap_t *s = sa_console_snap_get(c);
    sa_buf_t out = SA_BUF_INIT(0);
    sa_http_metrics_write(c->http, &out, "samsa_console_requests_total");
    sa_buf_printf(
        &out,
        "# HELP samsa_console_sample_seconds How long the last sample of the cluster took.\n"
        "# TYPE samsa_console_sample_seconds gauge\nsamsa_console_sample_seconds %.3f\n"
        "# HELP samsa_console_topics Topics in the last sample.\n# TYPE samsa_console_topics gauge\n"
        "samsa_console_topics %d\n"
        "# HELP samsa_console_partitions Partitions in the last sample.\n"
        "# TYPE samsa_console_partitions gauge\nsamsa_console_partitions %lld\n"
        "# HELP samsa_console_tails Open live tails.\n# TYPE samsa_console_tails gauge\n"
        "samsa_console_tails %d\n"
        "# HELP samsa_console_group_lag Records a group has not committed, by group.\n"
        "# TYPE samsa_console_group_lag gauge\n",
        s->took_ms / 1000.0, s->ntopics, (long long)s->npartitions, sa_http_sse_clients(c->sse));
    for (int g = 0; g < s->ngroups; g++) {
        sa_buf_append_str(&out, "samsa_console_group_lag{group=\"");
        for (const char *p = s->groups[g].name; *p; p++) /* label value escaping: \ " and newline */
            if (*p == '\\' || *p == '"')
                sa_buf_printf(&out, "\\%c", *p);
            else if (*p == '\n')
                sa_buf_append_str(&out, "\\n");
            else
                sa_buf_putc(&out, (uint8_t)*p);
        sa_buf_printf(&out, "\"} %lld\n", (long long)s->groups[g].total_lag);
    }
    sa_console_snap_put(s);
    enum MHD_Result rc = sa_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                                         (const char *)out.data, out.len, NULL);
    sa_buf_free(&out);
    return rc;
}
