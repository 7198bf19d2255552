/*
 * wire.c - Kafka wire primitives (see wire.h for the encodings and the sticky-error reader).
 */
#include "proto/wire.h"

#include <limits.h>

char *sa_str_dup(sa_str_t s, sa_arena_t *arena) {
    return sa_arena_strndup(arena, s.len > 0 ? s.ptr : "", s.len > 0 ? (size_t)s.len : 0);
}

/* ---- reader ---------------------------------------------------------------------------------- */

/* @returns the next n bytes and consumes them, or NULL (recording the error). */
static const uint8_t *take(sa_rd_t *rd, size_t n) {
    if (rd->err) return NULL;
    if (sa_rd_left(rd) < n) {
        rd->err = SA_ERR_PARSE;
        return NULL;
    }
    const uint8_t *p = rd->p;
    rd->p += n;
    return p;
}

int8_t sa_rd_i8(sa_rd_t *rd) {
    const uint8_t *p = take(rd, 1);
    return p ? (int8_t)p[0] : 0;
}

int16_t sa_rd_i16(sa_rd_t *rd) { return (int16_t)sa_rd_u16(rd); }

uint16_t sa_rd_u16(sa_rd_t *rd) {
    const uint8_t *p = take(rd, 2);
    return p ? sa_load_be16(p) : 0;
}

int32_t sa_rd_i32(sa_rd_t *rd) { return (int32_t)sa_rd_u32(rd); }

uint32_t sa_rd_u32(sa_rd_t *rd) {
    const uint8_t *p = take(rd, 4);
    return p ? sa_load_be32(p) : 0;
}

int64_t sa_rd_i64(sa_rd_t *rd) {
    const uint8_t *p = take(rd, 8);
    return p ? (int64_t)sa_load_be64(p) : 0;
}

bool sa_rd_bool(sa_rd_t *rd) { return sa_rd_i8(rd) != 0; }

double sa_rd_f64(sa_rd_t *rd) {
    const uint8_t *p = take(rd, 8);
    double d = 0;
    if (p) {
        uint64_t u = sa_load_be64(p);
        memcpy(&d, &u, sizeof(d));
    }
    return d;
}

sa_uuid_t sa_rd_uuid(sa_rd_t *rd) {
    sa_uuid_t u = {{0}};
    const uint8_t *p = take(rd, 16);
    if (p) memcpy(u.b, p, 16);
    return u;
}

/* Unsigned LEB128 of at most max_bytes; the last byte may only carry the bits that fit. */
static uint64_t read_uleb(sa_rd_t *rd, int max_bytes, int bits) {
    uint64_t v = 0;
    if (rd->err) return 0;
    for (int i = 0; i < max_bytes; i++) {
        if (rd->p >= rd->end) break;
        uint8_t b = *rd->p++;
        int shift = 7 * i;
        if (shift + 7 > bits && (b & 0x7f) >> (bits - shift)) break; /* overflow */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    rd->err = SA_ERR_PARSE;
    return 0;
}

uint32_t sa_rd_uvarint(sa_rd_t *rd) { return (uint32_t)read_uleb(rd, 5, 32); }

int32_t sa_rd_varint(sa_rd_t *rd) {
    uint32_t u = (uint32_t)read_uleb(rd, 5, 32);
    return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

int64_t sa_rd_varlong(sa_rd_t *rd) {
    uint64_t u = read_uleb(rd, 10, 64);
    return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

/* A length: classic int16/int32 (-1 null, other negatives malformed) or compact N+1.
 * @returns -1 for null, -2 on error; otherwise the length, already checked against the bytes left
 * divided by unit (so unit = min bytes per item). */
static int64_t read_len(sa_rd_t *rd, bool compact, int classic_bits, bool nullable, size_t unit) {
    int64_t n;
    if (compact) {
        n = (int64_t)sa_rd_uvarint(rd) - 1;
    } else {
        n = classic_bits == 16 ? sa_rd_i16(rd) : sa_rd_i32(rd);
    }
    if (rd->err) return -2;
    if (n < -1 || (n == -1 && !nullable) || n > INT32_MAX) goto bad;
    if (n > 0 && (uint64_t)n > sa_rd_left(rd) / (unit ? unit : 1)) goto bad;
    return n;
bad:
    rd->err = SA_ERR_PARSE;
    return -2;
}

sa_str_t sa_rd_string(sa_rd_t *rd, bool compact, bool nullable) {
    int64_t n = read_len(rd, compact, 16, nullable, 1);
    if (n < 0) return SA_STR_NULL;
    return (sa_str_t){(const char *)take(rd, (size_t)n), (int32_t)n};
}

sa_bytes_t sa_rd_bytes(sa_rd_t *rd, bool compact, bool nullable) {
    int64_t n = read_len(rd, compact, 32, nullable, 1);
    if (n < 0) return SA_BYTES_NULL;
    return (sa_bytes_t){take(rd, (size_t)n), (int32_t)n};
}

int32_t sa_rd_array_len(sa_rd_t *rd, bool compact, bool nullable, size_t min_elem) {
    int64_t n = read_len(rd, compact, 32, nullable, min_elem);
    return n < 0 ? -1 : (int32_t)n;
}

void *sa_rd_array(sa_rd_t *rd, bool compact, bool nullable, size_t min_elem, sa_arena_t *arena,
                  size_t elem_size, int32_t *count) {
    int32_t n = sa_rd_array_len(rd, compact, nullable, min_elem);
    *count = rd->err ? 0 : n;
    if (n <= 0) return NULL;
    void *elems = sa_arena_calloc(arena, (size_t)n, elem_size);
    if (!elems) {
        rd->err = SA_ERR_TOOBIG;
        *count = 0;
    }
    return elems;
}

uint32_t sa_rd_tag(sa_rd_t *rd, sa_rd_t *sub) {
    uint32_t tag = sa_rd_uvarint(rd);
    uint32_t size = sa_rd_uvarint(rd);
    const uint8_t *p = take(rd, size);
    sa_rd_init(sub, p, p ? size : 0);
    if (!p) sub->err = rd->err;
    return rd->err ? 0 : tag;
}

void sa_rd_skip_tags(sa_rd_t *rd) {
    uint32_t n = sa_rd_uvarint(rd);
    /* Each field consumes at least two bytes or fails, so the loop is bounded by the input. */
    for (uint32_t i = 0; i < n && !rd->err; i++) {
        sa_rd_t sub;
        (void)sa_rd_tag(rd, &sub);
    }
}

/* ---- writers --------------------------------------------------------------------------------- */

sa_err_t sa_wr_i8(sa_buf_t *out, int8_t v) { return sa_buf_putc(out, (uint8_t)v); }
sa_err_t sa_wr_i16(sa_buf_t *out, int16_t v) { return sa_buf_put_be16(out, (uint16_t)v); }
sa_err_t sa_wr_u16(sa_buf_t *out, uint16_t v) { return sa_buf_put_be16(out, v); }
sa_err_t sa_wr_i32(sa_buf_t *out, int32_t v) { return sa_buf_put_be32(out, (uint32_t)v); }
sa_err_t sa_wr_u32(sa_buf_t *out, uint32_t v) { return sa_buf_put_be32(out, v); }
sa_err_t sa_wr_i64(sa_buf_t *out, int64_t v) { return sa_buf_put_be64(out, (uint64_t)v); }
sa_err_t sa_wr_bool(sa_buf_t *out, bool v) { return sa_buf_putc(out, v ? 1 : 0); }

sa_err_t sa_wr_f64(sa_buf_t *out, double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return sa_buf_put_be64(out, u);
}

sa_err_t sa_wr_uuid(sa_buf_t *out, const sa_uuid_t *v) { return sa_buf_append(out, v->b, 16); }

static sa_err_t write_uleb(sa_buf_t *out, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        tmp[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return sa_buf_append(out, tmp, n);
}

sa_err_t sa_wr_uvarint(sa_buf_t *out, uint32_t v) { return write_uleb(out, v); }

sa_err_t sa_wr_varint(sa_buf_t *out, int32_t v) {
    uint32_t u = (uint32_t)v;
    return write_uleb(out, (u << 1) ^ (0u - (u >> 31))); /* zigzag: sign into bit 0 */
}

sa_err_t sa_wr_varlong(sa_buf_t *out, int64_t v) {
    uint64_t u = (uint64_t)v;
    return write_uleb(out, (u << 1) ^ (0u - (u >> 63)));
}

size_t sa_uvarint_size(uint32_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Length prefix for strings (classic_bits 16) and bytes/arrays (32); len -1 = null. */
static sa_err_t write_len(sa_buf_t *out, int64_t len, bool compact, int classic_bits) {
    if (compact) return sa_wr_uvarint(out, (uint32_t)(len + 1));
    return classic_bits == 16 ? sa_wr_i16(out, (int16_t)len) : sa_wr_i32(out, (int32_t)len);
}

static sa_err_t write_blob(sa_buf_t *out, const void *p, int32_t len, bool compact, bool nullable,
                           int classic_bits) {
    if (len < 0 && !nullable) len = 0;
    if (len > 0 && !p) return SA_ERR_INVALID_ARG; /* a length without bytes: a caller's bug */
    if (len > 0 && classic_bits == 16 && !compact && len > INT16_MAX) return SA_ERR_INVALID_ARG;
    sa_err_t err = sa_buf_reserve(out, 5 + (len > 0 ? (size_t)len : 0));
    if (err) return err;
    err = write_len(out, len, compact, classic_bits);
    if (!err && len > 0) err = sa_buf_append(out, p, (size_t)len);
    return err;
}

sa_err_t sa_wr_string(sa_buf_t *out, sa_str_t s, bool compact, bool nullable) {
    return write_blob(out, s.ptr, s.len, compact, nullable, 16);
}

sa_err_t sa_wr_bytes(sa_buf_t *out, sa_bytes_t b, bool compact, bool nullable) {
    return write_blob(out, b.ptr, b.len, compact, nullable, 32);
}

sa_err_t sa_wr_array_len(sa_buf_t *out, int32_t count, bool compact, bool nullable) {
    if (count < 0 && !nullable) count = 0;
    return write_len(out, count, compact, 32);
}

sa_err_t sa_wr_tag(sa_buf_t *out, uint32_t tag, const void *data, size_t len) {
    if (len > UINT32_MAX) return SA_ERR_TOOBIG;
    sa_err_t err = sa_buf_reserve(out, 10 + len);
    if (!err) err = sa_wr_uvarint(out, tag);
    if (!err) err = sa_wr_uvarint(out, (uint32_t)len);
    if (!err && len) err = sa_buf_append(out, data, len);
    return err;
}
