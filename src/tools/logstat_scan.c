/*
 * logstat_scan.c - validating one-pass JSON scanner for log records; see logstat_scan.h.
 *
 * Every read checks the cursor against the end first; depth is bounded so hostile nesting
 * cannot exhaust the stack.
 */
#include "tools/logstat_scan.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

typedef struct cur_s {
    const char *p, *end;
} cur_t;

static void ws(cur_t *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int hex(char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* Bytes that end the fast path inside a string: controls, '"' and '\\'. */
static const unsigned char stops_string[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
    [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
    [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1};

/* A string at the cursor ('"' included); its raw body goes to *s / *n. */
static int string(cur_t *c, const char **s, size_t *n) {
    if (c->p >= c->end || *c->p != '"') return -1;
    const char *start = ++c->p;
    while (c->p < c->end) {
        /* fast path: plain bytes (most of every record) */
        while (c->p < c->end && !stops_string[(unsigned char)*c->p]) c->p++;
        if (c->p >= c->end) break;
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            if (s) *s = start, *n = (size_t)(c->p - start);
            c->p++;
            return 0;
        }
        if (ch < 0x20) return -1;
        if (++c->p >= c->end) return -1; /* a backslash: one escape */
        switch (*c->p) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't': c->p++; break;
        case 'u':
            if (c->end - c->p < 5 || !hex(c->p[1]) || !hex(c->p[2]) || !hex(c->p[3]) || !hex(c->p[4]))
                return -1;
            c->p += 5;
            break;
        default: return -1;
        }
    }
    return -1;
}

/* A number; if it is an integer that fits, its value goes to *v (else *v = -1). */
static int number(cur_t *c, int64_t *v) {
    const char *s = c->p;
    int integral = 1, neg = 0;
    int64_t acc = 0;
    if (c->p < c->end && *c->p == '-') neg = 1, c->p++;
    if (c->p >= c->end) return -1;
    if (*c->p == '0')
        c->p++;
    else if (*c->p >= '1' && *c->p <= '9')
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (acc > (INT64_MAX - 9) / 10)
                integral = 0;
            else
                acc = acc * 10 + (*c->p - '0');
            c->p++;
        }
    else
        return -1;
    if (c->p < c->end && *c->p == '.') {
        integral = 0;
        c->p++;
        const char *d = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
        if (c->p == d) return -1;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        integral = 0;
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
        const char *d = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
        if (c->p == d) return -1;
    }
    if (v) *v = integral && !neg ? acc : -1;
    return c->p > s ? 0 : -1;
}

static int literal(cur_t *c, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n)) return -1;
    c->p += n;
    return 0;
}

static int value(cur_t *c, int depth, int64_t *num);

static int container(cur_t *c, int depth) {
    char close = *c->p == '{' ? '}' : ']';
    int obj = close == '}';
    if (depth >= MAX_DEPTH) return -1;
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 0;
    }
    for (;;) {
        if (obj) {
            ws(c);
            if (string(c, NULL, NULL)) return -1;
            ws(c);
            if (c->p >= c->end || *c->p != ':') return -1;
            c->p++;
        }
        ws(c);
        if (value(c, depth + 1, NULL)) return -1;
        ws(c);
        if (c->p >= c->end) return -1;
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        if (*c->p != close) return -1;
        c->p++;
        return 0;
    }
}

static int value(cur_t *c, int depth, int64_t *num) {
    if (num) *num = -1;
    if (c->p >= c->end) return -1;
    switch (*c->p) {
    case '"': return string(c, NULL, NULL);
    case '{':
    case '[': return container(c, depth);
    case 't': return literal(c, "true");
    case 'f': return literal(c, "false");
    case 'n': return literal(c, "null");
    default: return number(c, num);
    }
}

/* A JSON number already validated by number(), as a double; -1 if it is negative or too long. */
static double seconds(const char *s, size_t n) {
    char copy[64];
    if (n >= sizeof(copy) || *s == '-') return -1;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return strtod(copy, NULL);
}

static int key_is(const char *k, size_t n, const char *want) {
    return n == strlen(want) && !memcmp(k, want, n);
}

int sa_logscan(const char *json, size_t len, sa_logscan_t *out) {
    cur_t c = {json, json + len};
    memset(out, 0, sizeof(*out));
    out->response_ms = out->status_code = -1;
    out->time_s = -1;
    ws(&c);
    if (c.p >= c.end || *c.p != '{') return -1;
    c.p++;
    ws(&c);
    if (c.p < c.end && *c.p == '}') {
        c.p++;
        goto tail;
    }
    for (;;) {
        const char *k;
        size_t kn;
        ws(&c);
        if (string(&c, &k, &kn)) return -1;
        ws(&c);
        if (c.p >= c.end || *c.p != ':') return -1;
        c.p++;
        ws(&c);
        if (c.p < c.end && *c.p == '"' &&
            (key_is(k, kn, "level") || key_is(k, kn, "service") || key_is(k, kn, "message"))) {
            const char *s;
            size_t n;
            if (string(&c, &s, &n)) return -1;
            if (k[0] == 'l')
                out->level = s, out->level_len = n;
            else if (k[0] == 's')
                out->service = s, out->service_len = n;
            else
                out->message = s, out->message_len = n;
        } else {
            int64_t num;
            const char *v = c.p;
            if (value(&c, 1, &num)) return -1;
            if (key_is(k, kn, "response_time_ms"))
                out->response_ms = num;
            else if (key_is(k, kn, "status_code"))
                out->status_code = num;
            else if (key_is(k, kn, "timestamp_unix") && (*v == '-' || (*v >= '0' && *v <= '9')))
                out->time_s = seconds(v, (size_t)(c.p - v));
        }
        ws(&c);
        if (c.p >= c.end) return -1;
        if (*c.p == ',') {
            c.p++;
            continue;
        }
        if (*c.p != '}') return -1;
        c.p++;
        break;
    }
tail:
    ws(&c);
    return c.p == c.end ? 0 : -1;
}
