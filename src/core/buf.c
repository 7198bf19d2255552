#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

void sa_buf_init(sa_buf_t *buf, size_t cap) {
    buf->data = NULL;
    buf->len = buf->size = 0;
    buf->cap = cap;
}

void sa_buf_free(sa_buf_t *buf) {
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->size = 0;
}

sa_err_t sa_buf_reserve(sa_buf_t *buf, size_t more) {
    if (more > SIZE_MAX / 2 - buf->len) return SA_ERR_TOOBIG;
    size_t need = buf->len + more;
    if (buf->cap && need > buf->cap) return SA_ERR_TOOBIG;
    if (need + 1 <= buf->size) return SA_OK; /* +1 keeps room for a terminating NUL */
    size_t size = buf->size ? buf->size : 64;
    while (size < need + 1) size *= 2;
    if (buf->cap && size > buf->cap + 1) size = buf->cap + 1;
    buf->data = sa_realloc(buf->data, size);
    buf->size = size;
    return SA_OK;
}

sa_err_t sa_buf_append(sa_buf_t *buf, const void *data, size_t len) {
    sa_err_t err = sa_buf_reserve(buf, len);
    if (err) return err;
    if (len) memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    return SA_OK;
}

sa_err_t sa_buf_append_str(sa_buf_t *buf, const char *s) { return sa_buf_append(buf, s, strlen(s)); }

sa_err_t sa_buf_putc(sa_buf_t *buf, uint8_t c) { return sa_buf_append(buf, &c, 1); }

sa_err_t sa_buf_vprintf(sa_buf_t *buf, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return SA_ERR_INVALID_ARG;
    sa_err_t err = sa_buf_reserve(buf, (size_t)n);
    if (err) return err;
    vsnprintf((char *)buf->data + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return SA_OK;
}

sa_err_t sa_buf_printf(sa_buf_t *buf, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sa_err_t err = sa_buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return err;
}

uint8_t *sa_buf_extend(sa_buf_t *buf, size_t len) {
    if (sa_buf_reserve(buf, len)) return NULL;
    uint8_t *p = buf->data + buf->len;
    memset(p, 0, len);
    buf->len += len;
    return p;
}

void sa_buf_consume(sa_buf_t *buf, size_t n) {
    if (n >= buf->len) {
        buf->len = 0;
        return;
    }
    memmove(buf->data, buf->data + n, buf->len - n);
    buf->len -= n;
}

const char *sa_buf_cstr(sa_buf_t *buf) {
    /* sa_buf_reserve always allocates one byte past len, even at the cap, for this NUL. */
    if (!buf->data) return "";
    buf->data[buf->len] = '\0';
    return (const char *)buf->data;
}

char *sa_buf_take(sa_buf_t *buf) {
    sa_buf_cstr(buf);
    char *s = buf->data ? (char *)buf->data : sa_strdup("");
    buf->data = NULL;
    buf->len = buf->size = 0;
    return s;
}

sa_err_t sa_buf_put_be16(sa_buf_t *buf, uint16_t v) {
    uint8_t b[2];
    sa_store_be16(b, v);
    return sa_buf_append(buf, b, 2);
}

sa_err_t sa_buf_put_be32(sa_buf_t *buf, uint32_t v) {
    uint8_t b[4];
    sa_store_be32(b, v);
    return sa_buf_append(buf, b, 4);
}

sa_err_t sa_buf_put_be64(sa_buf_t *buf, uint64_t v) {
    uint8_t b[8];
    sa_store_be64(b, v);
    return sa_buf_append(buf, b, 8);
}
