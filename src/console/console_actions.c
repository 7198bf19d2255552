/*
 * console_actions.c - the forms that change the cluster: create a topic, delete one (its name
 * typed again), replace a topic's config overrides, produce a record, reset a group's offsets
 * (a dry run that shows the plan, then the same form with apply).
 *
 * Each is a POST that has passed the shared server's rules (origin, form Content-Type, size,
 * deadlines; http.h); here: --read-only refuses it (403), the CSRF value must match the cookie
 * (403), then the change is made and answered with 303 to the page that shows it (so a reload
 * does not repeat it), or with a page that says what went wrong (4xx, or 502 when Kafka refused).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/console_int.h"
#include "core/escape.h"
#include "core/mem.h"

#define FIELD_MAX 1048576 /* a produced value's largest size (the body cap is --max-body) */

/* A page that says what went wrong, with a link back. */
static enum MHD_Result problem(sa_http_req_t *req, unsigned status, cs_nav_t nav, const char *text,
                               const char *detail, const char *back) {
    sa_console_t *c = req->app;
    cs_snap_t *s = sa_console_snap_get(c);
    sa_buf_t page = SA_BUF_INIT(0);
    cs_html_begin(&page, req, nav, cs_t(req->lang, CS_MSG_APP), back, s);
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s%s%s", text, detail ? " " : "", detail ? detail : "");
    cs_html_notice(&page, "error", msg);
    sa_buf_append_str(&page, "<p><a id=\"back\" href=\"");
    sa_html_escape(&page, back);
    sa_buf_append_str(&page, "\">");
    sa_html_escape(&page, cs_t(req->lang, CS_MSG_BACK));
    sa_buf_append_str(&page, "</a></p>");
    cs_html_end(&page, req);
    sa_console_snap_put(s);
    return sa_http_respond_page(req, status, &page, NULL);
}

static enum MHD_Result kafka_refused(sa_http_req_t *req, cs_nav_t nav, const char *errstr, const char *back) {
    char detail[700];
    snprintf(detail, sizeof(detail), "%s", errstr);
    return problem(req, 502, nav, cs_t(req->lang, CS_MSG_ERR_KAFKA), detail, back);
}

/* @returns 1 if the change may go on; else the answer is in *@p rc. */
static int allowed(sa_http_req_t *req, cs_nav_t nav, const char *back, enum MHD_Result *rc) {
    sa_console_t *c = req->app;
    if (c->conf->read_only) {
        *rc = problem(req, 403, nav, cs_t(req->lang, CS_MSG_READ_ONLY_HINT), NULL, back);
        return 0;
    }
    char *csrf = sa_http_form(req, "csrf");
    int ok = sa_http_csrf_ok(req, csrf);
    free(csrf);
    if (!ok) {
        *rc = problem(req, 403, nav, cs_t(req->lang, CS_MSG_ERR_FORM), NULL, back);
        return 0;
    }
    return 1;
}

static int valid_topic_name(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (!n || n > 249 || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-') return 0;
    return 1;
}

/* Split @p text into its non-empty lines (CR LF or LF), trimmed, into @p out. */
static void lines(const char *text, sa_strlist_t *out) {
    const char *p = text ? text : "";
    while (*p) {
        const char *e = p + strcspn(p, "\r\n");
        const char *a = p, *b = e;
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        if (b > a) {
            char *line = sa_strndup(a, (size_t)(b - a));
            sa_strlist_add(out, line);
            free(line);
        }
        p = *e ? e + 1 : e;
    }
}

/* @returns 0 if every line is key=value with a key, else -1. */
static int check_configs(const sa_strlist_t *l) {
    for (size_t i = 0; i < l->n; i++) {
        const char *eq = strchr(l->v[i], '=');
        if (!eq || eq == l->v[i]) return -1;
    }
    return 0;
}

/* @returns the field @p name as a number in [lo, hi], @p def when blank, or INT64_MIN. */
static int64_t form_int(sa_http_req_t *req, const char *name, int64_t def, int64_t lo, int64_t hi) {
    char *v = sa_http_form(req, name), *end;
    if (!v || !*v) {
        free(v);
        return def;
    }
    long long x = strtoll(v, &end, 10);
    int ok = !*end && x >= lo && x <= hi;
    free(v);
    return ok ? x : INT64_MIN;
}

static void topic_url(sa_buf_t *out, const char *path, const char *param, const char *topic) {
    sa_buf_printf(out, "%s?%s=", path, param);
    sa_url_encode(out, topic);
}

enum MHD_Result cs_action_create_topic(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    enum MHD_Result rc;
    if (!allowed(req, CS_NAV_TOPICS, "/topics", &rc)) return rc;
    char *name = sa_http_form(req, "name"), *configs = sa_http_form(req, "configs");
    int64_t parts = form_int(req, "partitions", 1, 1, 100000), rf = form_int(req, "replication", 1, 1, 32);
    sa_strlist_t cfg = {0};
    lines(configs, &cfg);
    char errstr[512];
    if (!valid_topic_name(name))
        rc = problem(req, 422, CS_NAV_TOPICS, cs_t(req->lang, CS_MSG_ERR_NAME), NULL, "/topics");
    else if (parts == INT64_MIN || rf == INT64_MIN)
        rc = problem(req, 422, CS_NAV_TOPICS, cs_t(req->lang, CS_MSG_ERR_BAD_NUMBER), NULL, "/topics");
    else if (check_configs(&cfg))
        rc = problem(req, 422, CS_NAV_TOPICS, cs_t(req->lang, CS_MSG_ERR_BAD_CONFIG), NULL, "/topics");
    else if (cs_kafka_create_topic(c->kafka, name, (int)parts, (int)rf, &cfg, errstr, sizeof(errstr)))
        rc = kafka_refused(req, CS_NAV_TOPICS, errstr, "/topics");
    else {
        sa_console_resample(c);
        sa_buf_t loc = SA_BUF_INIT(0);
        topic_url(&loc, "/topic", "name", name);
        sa_buf_append_str(&loc, "&done=created");
        rc = sa_http_redirect(req, sa_buf_cstr(&loc));
        sa_buf_free(&loc);
    }
    sa_strlist_free(&cfg);
    free(name);
    free(configs);
    return rc;
}

enum MHD_Result cs_action_delete_topic(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    enum MHD_Result rc;
    if (!allowed(req, CS_NAV_TOPICS, "/topics", &rc)) return rc;
    char *name = sa_http_form(req, "name"), *confirm = sa_http_form(req, "confirm");
    char errstr[512];
    sa_buf_t back = SA_BUF_INIT(0);
    topic_url(&back, "/topic", "name", name ? name : "");
    if (!name || !confirm || strcmp(name, confirm))
        rc = problem(req, 422, CS_NAV_TOPICS, cs_t(req->lang, CS_MSG_DELETE_MISMATCH), NULL,
                     sa_buf_cstr(&back));
    else if (cs_kafka_delete_topic(c->kafka, name, errstr, sizeof(errstr)))
        rc = kafka_refused(req, CS_NAV_TOPICS, errstr, sa_buf_cstr(&back));
    else {
        sa_console_resample(c);
        rc = sa_http_redirect(req, "/topics?deleted=1");
    }
    sa_buf_free(&back);
    free(name);
    free(confirm);
    return rc;
}

enum MHD_Result cs_action_configs(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    enum MHD_Result rc;
    if (!allowed(req, CS_NAV_TOPICS, "/topics", &rc)) return rc;
    char *name = sa_http_form(req, "name"), *configs = sa_http_form(req, "configs");
    sa_strlist_t cfg = {0};
    lines(configs, &cfg);
    char errstr[512];
    sa_buf_t back = SA_BUF_INIT(0);
    topic_url(&back, "/topic", "name", name ? name : "");
    if (!valid_topic_name(name))
        rc = problem(req, 422, CS_NAV_TOPICS, cs_t(req->lang, CS_MSG_ERR_NAME), NULL, "/topics");
    else if (check_configs(&cfg))
        rc = problem(req, 422, CS_NAV_TOPICS, cs_t(req->lang, CS_MSG_ERR_BAD_CONFIG), NULL,
                     sa_buf_cstr(&back));
    else if (cs_kafka_alter_topic_configs(c->kafka, name, &cfg, errstr, sizeof(errstr)))
        rc = kafka_refused(req, CS_NAV_TOPICS, errstr, sa_buf_cstr(&back));
    else {
        sa_buf_append_str(&back, "&done=configs");
        rc = sa_http_redirect(req, sa_buf_cstr(&back));
    }
    sa_buf_free(&back);
    sa_strlist_free(&cfg);
    free(name);
    free(configs);
    return rc;
}

enum MHD_Result cs_action_produce(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    enum MHD_Result rc;
    if (!allowed(req, CS_NAV_MESSAGES, "/messages", &rc)) return rc;
    char *topic = sa_http_form(req, "topic"), *key = sa_http_form(req, "key"),
         *value = sa_http_form(req, "value");
    char *headers = sa_http_form(req, "headers");
    int64_t partition = form_int(req, "partition", -1, 0, INT32_MAX);
    sa_strlist_t hdrs = {0};
    lines(headers, &hdrs);
    int bad_header = 0;
    for (size_t i = 0; i < hdrs.n; i++)
        if (!strchr(hdrs.v[i], ':') || hdrs.v[i][0] == ':') bad_header = 1;
    sa_buf_t back = SA_BUF_INIT(0);
    topic_url(&back, "/messages", "topic", topic ? topic : "");
    char errstr[512];
    int32_t p_out;
    int64_t o_out;
    if (!valid_topic_name(topic))
        rc = problem(req, 422, CS_NAV_MESSAGES, cs_t(req->lang, CS_MSG_ERR_NAME), NULL, "/messages");
    else if (partition == INT64_MIN)
        rc = problem(req, 422, CS_NAV_MESSAGES, cs_t(req->lang, CS_MSG_ERR_BAD_NUMBER), NULL,
                     sa_buf_cstr(&back));
    else if (bad_header)
        rc = problem(req, 422, CS_NAV_MESSAGES, cs_t(req->lang, CS_MSG_ERR_BAD_HEADER), NULL,
                     sa_buf_cstr(&back));
    else if (cs_kafka_produce(c->kafka, topic, (int32_t)partition, key, value ? value : "", &hdrs, &p_out,
                              &o_out, errstr, sizeof(errstr)))
        rc = kafka_refused(req, CS_NAV_MESSAGES, errstr, sa_buf_cstr(&back));
    else {
        sa_buf_printf(&back, "&partition=%d&produced=%d:%lld", (int)p_out, (int)p_out, (long long)o_out);
        rc = sa_http_redirect(req, sa_buf_cstr(&back));
    }
    sa_buf_free(&back);
    sa_strlist_free(&hdrs);
    free(topic);
    free(key);
    free(value);
    free(headers);
    return rc;
}

/* The plan of a reset as a table, and (dry run) the form that applies it. */
static enum MHD_Result plan_page(sa_http_req_t *req, const char *group, const char *topic, const char *to,
                                 const char *value, const cs_reset_row_t *rows, int n) {
    sa_console_t *c = req->app;
    cs_snap_t *s = sa_console_snap_get(c);
    sa_buf_t page = SA_BUF_INIT(0), self = SA_BUF_INIT(0);
    topic_url(&self, "/group", "name", group);
    cs_html_begin(&page, req, CS_NAV_GROUPS, cs_t(req->lang, CS_MSG_PLAN), sa_buf_cstr(&self), s);
    sa_buf_append_str(&page, "<table id=\"plan\" class=\"list\"><thead><tr><th scope=\"col\">");
    sa_html_escape(&page, cs_t(req->lang, CS_MSG_TOPIC));
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    sa_html_escape(&page, cs_t(req->lang, CS_MSG_PARTITION));
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    sa_html_escape(&page, cs_t(req->lang, CS_MSG_CURRENT));
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    sa_html_escape(&page, cs_t(req->lang, CS_MSG_NEW));
    sa_buf_append_str(&page, "</th><th scope=\"col\" class=\"num\">");
    sa_html_escape(&page, cs_t(req->lang, CS_MSG_LAG));
    sa_buf_append_str(&page, "</th></tr></thead><tbody>");
    for (int i = 0; i < n; i++) {
        sa_buf_append_str(&page, "<tr><td>");
        sa_html_escape(&page, rows[i].topic);
        sa_buf_printf(&page, "</td><td class=\"num\">%d</td><td class=\"num\">", (int)rows[i].partition);
        cs_html_num(&page, rows[i].current);
        sa_buf_append_str(&page, "</td><td class=\"num new\">");
        cs_html_num(&page, rows[i].target);
        sa_buf_append_str(&page, "</td><td class=\"num\">");
        cs_html_num(&page, rows[i].end - rows[i].target);
        sa_buf_append_str(&page, "</td></tr>");
    }
    sa_buf_append_str(&page,
                      "</tbody></table><form method=\"post\" action=\"/group/reset\" id=\"apply-form\">");
    cs_html_csrf(&page, req);
    const char *fields[][2] = {{"group", group}, {"topic", topic}, {"to", to}, {"value", value}};
    for (size_t i = 0; i < SA_ARRAY_LEN(fields); i++) {
        sa_buf_printf(&page, "<input type=\"hidden\" name=\"%s\" value=\"", fields[i][0]);
        sa_html_escape(&page, fields[i][1] ? fields[i][1] : "");
        sa_buf_append_str(&page, "\">");
    }
    sa_buf_append_str(&page, "<button type=\"submit\" id=\"apply\" class=\"danger\">");
    sa_html_escape(&page, cs_t(req->lang, CS_MSG_APPLY));
    sa_buf_append_str(&page, "</button> <a href=\"");
    sa_buf_append(&page, self.data, self.len);
    sa_buf_append_str(&page, "\">");
    sa_html_escape(&page, cs_t(req->lang, CS_MSG_BACK));
    sa_buf_append_str(&page, "</a></form>");
    cs_html_end(&page, req);
    sa_buf_free(&self);
    sa_console_snap_put(s);
    return sa_http_respond_page(req, 200, &page, NULL);
}

enum MHD_Result cs_action_reset(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    enum MHD_Result rc;
    if (!allowed(req, CS_NAV_GROUPS, "/groups", &rc)) return rc;
    char *group = sa_http_form(req, "group"), *topic = sa_http_form(req, "topic"),
         *to = sa_http_form(req, "to");
    char *value = sa_http_form(req, "value"), *dry = sa_http_form(req, "dry_run");
    sa_buf_t back = SA_BUF_INIT(0);
    topic_url(&back, "/group", "name", group ? group : "");
    cs_reset_t kind = CS_RESET_EARLIEST;
    int64_t v = 0;
    int bad = !group || !*group || !to;
    cs_msg_t why = CS_MSG_ERR_BAD_NUMBER;
    if (!bad) {
        if (!strcmp(to, "earliest"))
            kind = CS_RESET_EARLIEST;
        else if (!strcmp(to, "latest"))
            kind = CS_RESET_LATEST;
        else if (!strcmp(to, "time")) {
            kind = CS_RESET_TIME;
            v = cs_parse_time(value);
            if (v < 0) bad = 1, why = CS_MSG_ERR_BAD_TIME;
        } else if (!strcmp(to, "offset") || !strcmp(to, "shift")) {
            kind = !strcmp(to, "offset") ? CS_RESET_OFFSET : CS_RESET_SHIFT;
            char *end;
            v = value && *value ? strtoll(value, &end, 10) : 0;
            if (!value || !*value || *end || (kind == CS_RESET_OFFSET && v < 0)) bad = 1;
        } else {
            bad = 1;
        }
    }
    if (bad) {
        rc = problem(req, 422, CS_NAV_GROUPS, cs_t(req->lang, why), NULL, sa_buf_cstr(&back));
    } else {
        char errstr[512];
        int n = 0;
        cs_reset_row_t *rows =
            cs_kafka_reset_plan(c->kafka, group, topic, kind, v, &n, errstr, sizeof(errstr));
        if (!rows)
            rc = kafka_refused(req, CS_NAV_GROUPS, errstr, sa_buf_cstr(&back));
        else if (!n)
            rc = problem(req, 422, CS_NAV_GROUPS, cs_t(req->lang, CS_MSG_RESET_EMPTY), NULL,
                         sa_buf_cstr(&back));
        else if (dry && !strcmp(dry, "1"))
            rc = plan_page(req, group, topic, to, value, rows, n);
        else if (cs_kafka_reset_apply(c->kafka, group, rows, n, errstr, sizeof(errstr)))
            rc = kafka_refused(req, CS_NAV_GROUPS, errstr, sa_buf_cstr(&back));
        else {
            sa_console_resample(c);
            sa_buf_append_str(&back, "&done=reset");
            rc = sa_http_redirect(req, sa_buf_cstr(&back));
        }
        cs_reset_rows_free(rows, n);
    }
    sa_buf_free(&back);
    free(group);
    free(topic);
    free(to);
    free(value);
    free(dry);
    return rc;
}
