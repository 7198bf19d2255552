/*
 * http_form.c - form decoding and the form's random tokens (see http_form.h).
 */
#include "http/http_form.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/mem.h"

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode @p len bytes of @p s into a new string. */
static char *decode(const char *s, size_t len) {
    char *out = sa_malloc(len + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+')
            *o++ = ' ';
        else if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else
            *o++ = s[i];
    }
    *o = '\0';
    return out;
}

char *sa_form_get(const char *body, size_t len, const char *name) {
    size_t nlen = strlen(name);
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *kend = eq ? eq : stop;
        char *key = decode(p, (size_t)(kend - p));
        int match = strlen(key) == nlen && !memcmp(key, name, nlen);
        free(key);
        if (match) return eq ? decode(eq + 1, (size_t)(stop - eq - 1)) : sa_strdup("");
        p = stop + 1;
    }
    return NULL;
}

void sa_random_hex(char *out, size_t n) {
    unsigned char rnd[64];
    if (n > sizeof(rnd)) n = sizeof(rnd);
    if (getrandom(rnd, n, 0) != (ssize_t)n) abort(); /* cannot happen for <= 256 bytes on Linux */
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = "0123456789abcdef"[rnd[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[rnd[i] & 15];
    }
    out[2 * n] = '\0';
}

int sa_is_hex(const char *s, size_t max) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}
