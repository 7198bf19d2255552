/*
 * wire.h - Kafka wire primitives: a bounds-checked reader and appending writers.
 *
 * Reader. sa_rd_t walks a byte range it does not own. Every read checks the bytes left; the
 * first failure sets rd->err (sticky: later reads return zero values and do not move), so a
 * decoder may read a whole struct and test rd->err once at the end. Strings, bytes and records
 * are returned as views INTO the input: they are valid until the input buffer (the request
 * frame) is freed or changed, and strings are NOT NUL-terminated.
 *
 * Null vs empty: sa_str_t and sa_bytes_t use len == -1 for null (ptr is NULL then) and len >= 0
 * otherwise; arrays in decoded structs use count == -1 for null.
 *
 * Sizes claimed by the input (string and bytes lengths, array counts) are checked against the
 * bytes left BEFORE anything is allocated; array counts are checked against count * min_elem,
 * where min_elem is the smallest wire size of one element, so an array cannot claim more
 * elements than its bytes could hold.
 *
 * Encodings (protocol guide): "classic" strings are int16 length + bytes (-1 = null), classic
 * bytes and arrays have an int32 length; "compact" (flexible versions) lengths are an unsigned
 * varint holding N+1 (0 = null). Varint/varlong are zigzag-encoded signed varints (record
 * format); uvarint is the plain unsigned varint (at most 5 bytes for 32 bits).
 *
 * Writers append to an sa_buf_t and return SA_OK or SA_ERR_TOOBIG (buffer cap), leaving the
 * buffer unchanged on failure.
 */
#ifndef SA_PROTO_WIRE_H
#define SA_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

/** A string view: len -1 = null (ptr NULL). Not NUL-terminated. Ownership: see where it came from. */
typedef struct sa_str_s {
    const char *ptr; /* first byte, NULL when null */
    int32_t len;     /* bytes, or -1 for null */
} sa_str_t;

/** A bytes (or records) view: len -1 = null (ptr NULL). */
typedef struct sa_bytes_s {
    const uint8_t *ptr; /* first byte, NULL when null */
    int32_t len;        /* bytes, or -1 for null */
} sa_bytes_t;

/** A 16-byte UUID as on the wire (all zero = Kafka's "zero UUID"). */
typedef struct sa_uuid_s {
    uint8_t b[16];
} sa_uuid_t;

#define SA_STR_NULL   ((sa_str_t){NULL, -1})
#define SA_BYTES_NULL ((sa_bytes_t){NULL, -1})
/** A view of a string literal: SA_STR("blog_operations"). */
#define SA_STR(lit)   ((sa_str_t){"" lit, (int32_t)(sizeof(lit) - 1)})

/** @returns a view of C string @p s (borrowed; valid as long as s is), null for NULL. */
static inline sa_str_t sa_str(const char *s) { return s ? (sa_str_t){s, (int32_t)strlen(s)} : SA_STR_NULL; }
static inline bool sa_str_is_null(sa_str_t s) { return s.len < 0; }
/** @returns 1 if @p s (non-null) equals C string @p c. */
static inline bool sa_str_eq(sa_str_t s, const char *c) {
    size_t n = strlen(c);
    return s.len >= 0 && (size_t)s.len == n && memcmp(s.ptr, c, n) == 0;
}
/** @returns 1 if both are null, or both non-null with the same bytes. */
static inline bool sa_str_same(sa_str_t a, sa_str_t b) {
    if (a.len < 0 || b.len < 0) return a.len < 0 && b.len < 0;
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}
/** @returns new: a NUL-terminated copy in @p arena ("" for null), NULL past the arena cap. */
char *sa_str_dup(sa_str_t s, sa_arena_t *arena);
/** @returns 1 if the UUID is all zero. */
static inline bool sa_uuid_is_zero(const sa_uuid_t *u) {
    static const sa_uuid_t zero;
    return memcmp(u->b, zero.b, 16) == 0;
}

/* ---- reader ---------------------------------------------------------------------------------- */

typedef struct sa_rd_s {
    const uint8_t *p;   /* next byte (borrowed) */
    const uint8_t *end; /* one past the last byte */
    sa_err_t err;       /* first error (sticky): SA_ERR_PARSE, SA_ERR_TOOBIG (arena cap) */
} sa_rd_t;

/** Read @p len bytes at @p data (borrowed; must outlive every view read from it). */
static inline void sa_rd_init(sa_rd_t *rd, const void *data, size_t len) {
    rd->p = data ? (const uint8_t *)data : (const uint8_t *)""; /* NULL + 0 is undefined */
    rd->end = rd->p + (data ? len : 0);
    rd->err = SA_OK;
}
static inline size_t sa_rd_left(const sa_rd_t *rd) { return (size_t)(rd->end - rd->p); }
/** Record @p err unless an earlier error is already recorded. */
static inline void sa_rd_fail(sa_rd_t *rd, sa_err_t err) {
    if (!rd->err) rd->err = err;
}

int8_t sa_rd_i8(sa_rd_t *rd);
int16_t sa_rd_i16(sa_rd_t *rd);
int32_t sa_rd_i32(sa_rd_t *rd);
int64_t sa_rd_i64(sa_rd_t *rd);
uint16_t sa_rd_u16(sa_rd_t *rd);
uint32_t sa_rd_u32(sa_rd_t *rd);
/** A bool is one byte; any non-zero byte reads as true (as Kafka does). */
bool sa_rd_bool(sa_rd_t *rd);
double sa_rd_f64(sa_rd_t *rd);
sa_uuid_t sa_rd_uuid(sa_rd_t *rd);
/** Unsigned varint up to 32 bits (5 bytes); longer or overflowing encodings fail. */
uint32_t sa_rd_uvarint(sa_rd_t *rd);
/** Zigzag varint (32 bits, record format). */
int32_t sa_rd_varint(sa_rd_t *rd);
/** Zigzag varlong (64 bits, record format, at most 10 bytes). */
int64_t sa_rd_varlong(sa_rd_t *rd);

/**
 * Read a string (classic int16 length or compact uvarint N+1). A null where @p nullable is false
 * fails. @returns a view valid as long as the input.
 */
sa_str_t sa_rd_string(sa_rd_t *rd, bool compact, bool nullable);
/** Read bytes or records (classic int32 length or compact uvarint N+1); as sa_rd_string(). */
sa_bytes_t sa_rd_bytes(sa_rd_t *rd, bool compact, bool nullable);

/**
 * Read an array length (classic int32, compact uvarint N+1) and check that @p min_elem bytes per
 * element fit in what is left (min_elem 0 counts as 1). @returns the count, or -1 for null (only
 * when @p nullable; otherwise a null fails) and -1 on error.
 */
int32_t sa_rd_array_len(sa_rd_t *rd, bool compact, bool nullable, size_t min_elem);
/**
 * Read an array length as sa_rd_array_len() and allocate count * elem_size bytes (zeroed) from
 * @p arena. @returns the elements (NULL for null, empty or error), *count set (-1 for null).
 * Past the arena cap rd->err becomes SA_ERR_TOOBIG.
 */
void *sa_rd_array(sa_rd_t *rd, bool compact, bool nullable, size_t min_elem, sa_arena_t *arena,
                  size_t elem_size, int32_t *count);

/**
 * Start the next tagged field of a tagged-field section: reads its tag and size and sets @p sub to
 * a reader over exactly its bytes (which are consumed from @p rd). @returns the tag (0 on error).
 */
uint32_t sa_rd_tag(sa_rd_t *rd, sa_rd_t *sub);
/** Skip a whole tagged-field section (for structs with no tags known in this version). */
void sa_rd_skip_tags(sa_rd_t *rd);

/* ---- writers --------------------------------------------------------------------------------- */

sa_err_t sa_wr_i8(sa_buf_t *out, int8_t v);
sa_err_t sa_wr_i16(sa_buf_t *out, int16_t v);
sa_err_t sa_wr_i32(sa_buf_t *out, int32_t v);
sa_err_t sa_wr_i64(sa_buf_t *out, int64_t v);
sa_err_t sa_wr_u16(sa_buf_t *out, uint16_t v);
sa_err_t sa_wr_u32(sa_buf_t *out, uint32_t v);
sa_err_t sa_wr_bool(sa_buf_t *out, bool v);
sa_err_t sa_wr_f64(sa_buf_t *out, double v);
sa_err_t sa_wr_uuid(sa_buf_t *out, const sa_uuid_t *v);
sa_err_t sa_wr_uvarint(sa_buf_t *out, uint32_t v);
sa_err_t sa_wr_varint(sa_buf_t *out, int32_t v);
sa_err_t sa_wr_varlong(sa_buf_t *out, int64_t v);
/** @returns the bytes sa_wr_uvarint() would write for @p v (1..5). */
size_t sa_uvarint_size(uint32_t v);

/**
 * Write a string; a null where @p nullable is false is written as the empty string.
 * @returns SA_ERR_INVALID_ARG for len > 0 with a NULL ptr, or a classic string over 32767 bytes.
 */
sa_err_t sa_wr_string(sa_buf_t *out, sa_str_t s, bool compact, bool nullable);
/** Write bytes or records; a null where @p nullable is false is written as empty. */
sa_err_t sa_wr_bytes(sa_buf_t *out, sa_bytes_t b, bool compact, bool nullable);
/** Write an array length; -1 (null) where @p nullable is false is written as 0. */
sa_err_t sa_wr_array_len(sa_buf_t *out, int32_t count, bool compact, bool nullable);
/** Write one tagged field: tag, size, then @p len bytes of @p data (borrowed). */
sa_err_t sa_wr_tag(sa_buf_t *out, uint32_t tag, const void *data, size_t len);

#endif
