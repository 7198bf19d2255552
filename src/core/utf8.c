/*
 * utf8.c - UTF-8 per RFC 3629 (see utf8.h). One decoder; validation and counting are loops over it.
 */
#include "core/utf8.h"

size_t sa_utf8_next(const char *s, size_t len, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c = u[0];
    size_t need;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        need = 1, min = 0x80, c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        need = 2, min = 0x800, c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        need = 3, min = 0x10000, c &= 0x07;
    } else {
        goto bad;
    }
    if (len < need + 1) goto bad;
    for (size_t i = 1; i <= need; i++) {
        if ((u[i] & 0xC0) != 0x80) goto bad;
        c = (c << 6) | (u[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) goto bad;
    *cp = c;
    return need + 1;
bad:
    *cp = SA_UTF8_REPLACEMENT;
    return 1;
}

/* A one-byte U+FFFD is the decoder's "malformed" marker; a real U+FFFD is three bytes. */
#define MALFORMED(cp, n) ((cp) == SA_UTF8_REPLACEMENT && (n) == 1)

size_t sa_utf8_valid_prefix(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = sa_utf8_next(s + i, len - i, &cp);
        if (MALFORMED(cp, n)) break;
        i += n;
    }
    return i;
}

int sa_utf8_valid(const char *s, size_t len) { return sa_utf8_valid_prefix(s, len) == len; }

long sa_utf8_count(const char *s, size_t len) {
    size_t i = 0;
    long count = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = sa_utf8_next(s + i, len - i, &cp);
        if (MALFORMED(cp, n)) return -1;
        i += n;
        count++;
    }
    return count;
}

size_t sa_utf8_length(const char *s, size_t len) {
    size_t i = 0, n = 0;
    while (i < len) {
        uint32_t cp;
        i += sa_utf8_next(s + i, len - i, &cp);
        n++;
    }
    return n;
}

size_t sa_utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
