/*
 * buf.h - a growable byte buffer with a size cap.
 *
 * Buffers that grow with input (a request being read, a response being built, an HTTP body)
 * carry a cap: an append that would pass it fails with SA_ERR_TOOBIG and leaves the buffer as it
 * was, so hostile input costs at most the cap. A cap of 0 means "no cap" (for output we build
 * ourselves from bounded parts).
 *
 * Ownership: the buffer owns ->data; sa_buf_take() hands it to the caller.
 */
#ifndef SA_CORE_BUF_H
#define SA_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct sa_buf_s {
    uint8_t *data; /* bytes; NUL-terminated after sa_buf_printf (not counted in len) */
    size_t len;    /* bytes in use */
    size_t size;   /* bytes allocated */
    size_t cap;    /* largest len allowed, 0 = unlimited */
} sa_buf_t;

#define SA_BUF_INIT(cap_)                                                                                    \
    { NULL, 0, 0, (cap_) }

void sa_buf_init(sa_buf_t *buf, size_t cap);
void sa_buf_free(sa_buf_t *buf);
/** Forget the contents, keep the allocation. */
static inline void sa_buf_reset(sa_buf_t *buf) { buf->len = 0; }
/** Make room for @p more bytes past len. @returns SA_ERR_TOOBIG past the cap. */
sa_err_t sa_buf_reserve(sa_buf_t *buf, size_t more);
sa_err_t sa_buf_append(sa_buf_t *buf, const void *data, size_t len);
sa_err_t sa_buf_append_str(sa_buf_t *buf, const char *s);
sa_err_t sa_buf_putc(sa_buf_t *buf, uint8_t c);
sa_err_t sa_buf_printf(sa_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
sa_err_t sa_buf_vprintf(sa_buf_t *buf, const char *fmt, va_list ap);
/** Append @p len zero bytes and @returns a pointer to them (valid until the next append), NULL past cap. */
uint8_t *sa_buf_extend(sa_buf_t *buf, size_t len);
/** Drop the first @p n bytes (a consumed prefix). */
void sa_buf_consume(sa_buf_t *buf, size_t n);
/** @returns new: the data, NUL-terminated; the buffer is left empty. Free with free(). */
char *sa_buf_take(sa_buf_t *buf);
/** @returns the contents as a C string (valid until the next append). */
const char *sa_buf_cstr(sa_buf_t *buf);

/* Big-endian appends for binary formats; they fail only past the cap. */
sa_err_t sa_buf_put_be16(sa_buf_t *buf, uint16_t v);
sa_err_t sa_buf_put_be32(sa_buf_t *buf, uint32_t v);
sa_err_t sa_buf_put_be64(sa_buf_t *buf, uint64_t v);

/* Big-endian loads and stores on raw memory (no bounds: the caller checked). */
static inline uint16_t sa_load_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t sa_load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t sa_load_be64(const uint8_t *p) {
    return ((uint64_t)sa_load_be32(p) << 32) | sa_load_be32(p + 4);
}
static inline void sa_store_be16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void sa_store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void sa_store_be64(uint8_t *p, uint64_t v) {
    sa_store_be32(p, (uint32_t)(v >> 32));
    sa_store_be32(p + 4, (uint32_t)v);
}

#endif
