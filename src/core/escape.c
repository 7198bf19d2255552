/*
 * escape.c - HTML and URL escaping (see escape.h). Runs of safe bytes are copied at once.
 */
#include "core/escape.h"

#include <string.h>

void sa_html_escape_n(sa_buf_t *out, const char *s, size_t len) {
    const char *run = s, *end = s + len;
    for (; s < end; s++) {
        const char *ent;
        switch (*s) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        default: continue;
        }
        sa_buf_append(out, run, (size_t)(s - run));
        sa_buf_append_str(out, ent);
        run = s + 1;
    }
    sa_buf_append(out, run, (size_t)(s - run));
}

void sa_html_escape(sa_buf_t *out, const char *s) { sa_html_escape_n(out, s, strlen(s)); }

void sa_url_encode(sa_buf_t *out, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~')
            sa_buf_append(out, p, 1);
        else
            sa_buf_printf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
}
