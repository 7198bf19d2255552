/*
 * message_set.c - magic v0/v1 message sets to one v2 record batch (see message_set.h).
 *
 * DESIGN. One pass collects every message as a sa_rb_rec_in_t pointing into the input or into
 * the decompressed copy of its wrapper (kept until the batch is built), then sa_rb_build()
 * writes the batch. Every length is checked against the bytes left before it is used.
 */
#include "proto/message_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/mem.h"
#include "proto/record_batch.h"

#define MSG_LOG_OVERHEAD         12 /* Offset + MessageSize */
#define MSG_V0_MIN               14 /* Crc Magic Attributes KeyLength ValueLength */
#define MSG_V1_MIN               22 /* ... + Timestamp */
#define MSG_ATTR_CODEC           0x07
#define MSG_ATTR_LOG_APPEND_TIME 0x08

typedef struct conv_s {
    sa_rb_rec_in_t *recs; /* owned array; the records borrow the input and inflated[] */
    size_t n, cap;
    sa_buf_t *inflated; /* owned: decompressed wrapper contents */
    size_t ninflated;
    size_t inflated_bytes; /* in all, against max_bytes */
    size_t max_bytes;
    int magic; /* of the first message; every other must match */
    int codec; /* of the first compressed wrapper, 0 if none */
    char *errstr;
    size_t errstr_size;
} conv_t;

static sa_err_t refuse(conv_t *cv, sa_err_t err, const char *what, size_t at) {
    snprintf(cv->errstr, cv->errstr_size, "message set: %s at byte %zu", what, at);
    return err;
}

/* XXH32 of fewer than 16 bytes (seed 0): enough for an LZ4 frame descriptor (at most 15 bytes). */
static uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static uint32_t xxh32_short(const uint8_t *p, size_t len) {
    const uint32_t P1 = 2654435761U, P2 = 2246822519U, P3 = 3266489917U, P4 = 668265263U, P5 = 374761393U;
    uint32_t h = P5 + (uint32_t)len;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t k =
            (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24;
        h = rotl32(h + k * P3, 17) * P4;
    }
    for (; i < len; i++) h = rotl32(h + p[i] * P5, 11) * P1;
    h ^= h >> 15;
    h *= P2;
    h ^= h >> 13;
    h *= P3;
    h ^= h >> 16;
    return h;
}

/*
 * Magic v0 LZ4: rewrite the frame header checksum (HC) of @p z (a private copy) to the correct
 * one, since Kafka's old clients computed it over the magic number too. @returns 0, or -1 if the
 * frame header is too short to hold one (the decompressor then reports the damage).
 */
static int lz4_fix_header_checksum(uint8_t *z, size_t len) {
    if (len < 7) return -1;
    uint8_t flg = z[4];
    size_t desc = 2 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0); /* FLG BD [size] [dict id] */
    if (len < 4 + desc + 1) return -1;
    z[4 + desc] = (uint8_t)(xxh32_short(z + 4, desc) >> 8);
    return 0;
}

static sa_err_t add_record(conv_t *cv, const sa_rb_rec_in_t *rec) {
    if (cv->n == cv->cap) {
        cv->cap = cv->cap ? cv->cap * 2 : 16;
        cv->recs = sa_realloc(cv->recs, cv->cap * sizeof(*cv->recs));
    }
    cv->recs[cv->n++] = *rec;
    return SA_OK;
}

static sa_err_t read_set(conv_t *cv, const uint8_t *p, size_t len, int depth, int64_t wrapper_ts,
                         size_t base);

/* Decompress wrapper @p value and read its messages. */
static sa_err_t read_wrapper(conv_t *cv, int codec, int magic, const uint8_t *value, int32_t value_len,
                             int64_t wrapper_ts, size_t at) {
    if (codec == SA_RB_COMPRESSION_ZSTD)
        return refuse(cv, SA_ERR_UNSUPPORTED_COMPRESSION_TYPE, "zstd needs magic 2", at);
    if (codec > SA_RB_COMPRESSION_ZSTD)
        return refuse(cv, SA_ERR_UNSUPPORTED_COMPRESSION_TYPE, "unknown codec", at);
    if (value_len <= 0) return refuse(cv, SA_ERR_CORRUPT_MESSAGE, "compressed message without a value", at);
    if (!cv->codec) cv->codec = codec;
    cv->inflated = sa_realloc(cv->inflated, (cv->ninflated + 1) * sizeof(*cv->inflated));
    sa_buf_t *buf = &cv->inflated[cv->ninflated++];
    sa_buf_init(buf, cv->max_bytes - cv->inflated_bytes + 1); /* +1: so exactly max_bytes fits */
    const uint8_t *z = value;
    uint8_t *fixed = NULL;
    if (codec == SA_RB_COMPRESSION_LZ4 && magic == 0) {
        fixed = sa_malloc((size_t)value_len);
        memcpy(fixed, value, (size_t)value_len);
        lz4_fix_header_checksum(fixed, (size_t)value_len);
        z = fixed;
    }
    sa_err_t err = sa_rb_decompress(codec, z, (size_t)value_len, buf);
    free(fixed);
    if (err == SA_ERR_TOOBIG || (!err && cv->inflated_bytes + buf->len > cv->max_bytes))
        return refuse(cv, SA_ERR_TOOBIG, "decompressed messages too large", at);
    if (err == SA_ERR_UNSUPPORTED_COMPRESSION_TYPE) return refuse(cv, err, "unsupported codec", at);
    if (err) return refuse(cv, SA_ERR_CORRUPT_MESSAGE, "compressed message does not decompress", at);
    cv->inflated_bytes += buf->len;
    return read_set(cv, buf->data, buf->len, 1, wrapper_ts, at);
}

/* Read the messages of @p p / @p len; @p depth 1 inside a wrapper (whose timestamp, if it is
 * LogAppendTime, is @p wrapper_ts, else INT64_MIN). @p base: offset of @p p for messages. */
static sa_err_t read_set(conv_t *cv, const uint8_t *p, size_t len, int depth, int64_t wrapper_ts,
                         size_t base) {
    size_t pos = 0;
    if (!len)
        return refuse(cv, SA_ERR_CORRUPT_MESSAGE,
                      depth ? "empty compressed message set" : "empty message set", base);
    while (pos < len) {
        size_t at = base + (depth ? 0 : pos);
        if (len - pos < MSG_LOG_OVERHEAD) return refuse(cv, SA_ERR_CORRUPT_MESSAGE, "truncated message", at);
        int32_t size = (int32_t)sa_load_be32(p + pos + 8);
        const uint8_t *m = p + pos + MSG_LOG_OVERHEAD;
        if (size < MSG_V0_MIN || (size_t)size > len - pos - MSG_LOG_OVERHEAD)
            return refuse(cv, SA_ERR_CORRUPT_MESSAGE, "bad or truncated MessageSize", at);
        int magic = m[4];
        if (magic > 1) return refuse(cv, SA_ERR_CORRUPT_MESSAGE, "magic 2 inside an old message set", at);
        if (cv->magic < 0) cv->magic = magic;
        if (magic != cv->magic) return refuse(cv, SA_ERR_CORRUPT_MESSAGE, "mixed message magics", at);
        if (magic == 1 && size < MSG_V1_MIN)
            return refuse(cv, SA_ERR_CORRUPT_MESSAGE, "v1 message too short", at);
        if ((uint32_t)crc32(0L, m + 4, (uInt)(size - 4)) != sa_load_be32(m))
            return refuse(cv, SA_ERR_CORRUPT_MESSAGE, "CRC mismatch", at);
        int attr = m[5];
        size_t q = 6;
        int64_t ts = -1;
        if (magic == 1) {
            ts = (int64_t)sa_load_be64(m + q);
            q += 8;
        }
        int32_t klen = (int32_t)sa_load_be32(m + q);
        q += 4;
        if (klen < -1 || (klen > 0 && (size_t)klen > (size_t)size - q - 4))
            return refuse(cv, SA_ERR_CORRUPT_MESSAGE, "bad KeyLength", at);
        const uint8_t *key = m + q;
        q += klen > 0 ? (size_t)klen : 0;
        int32_t vlen = (int32_t)sa_load_be32(m + q);
        q += 4;
        if (vlen < -1 || (vlen > 0 && (size_t)vlen != (size_t)size - q) || (vlen <= 0 && q != (size_t)size))
            return refuse(cv, SA_ERR_CORRUPT_MESSAGE, "bad ValueLength", at);
        const uint8_t *value = m + q;
        int codec = attr & MSG_ATTR_CODEC;
        sa_err_t err;
        if (codec) {
            if (depth) return refuse(cv, SA_ERR_CORRUPT_MESSAGE, "nested compressed message", at);
            int64_t inner_ts = magic == 1 && (attr & MSG_ATTR_LOG_APPEND_TIME) ? ts : INT64_MIN;
            if ((err = read_wrapper(cv, codec, magic, value, vlen, inner_ts, at))) return err;
        } else {
            sa_rb_rec_in_t rec = {.key = key,
                                  .key_len = klen,
                                  .value = value,
                                  .value_len = vlen,
                                  .timestamp = wrapper_ts != INT64_MIN ? wrapper_ts : ts};
            if ((err = add_record(cv, &rec))) return err;
        }
        pos += MSG_LOG_OVERHEAD + (size_t)size;
    }
    return SA_OK;
}

sa_err_t sa_msgset_to_batch(const uint8_t *p, size_t len, size_t max_bytes, sa_buf_t *out, char *errstr,
                            size_t errstr_size) {
    conv_t cv = {.magic = -1, .max_bytes = max_bytes, .errstr = errstr, .errstr_size = errstr_size};
    if (errstr_size) errstr[0] = '\0';
    sa_err_t err = read_set(&cv, p, len, 0, INT64_MIN, 0);
    if (!err) {
        sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
        opts.compression = cv.codec;
        err = sa_rb_build(out, &opts, cv.recs, cv.n);
        if (err)
            err = refuse(&cv, err == SA_ERR_TOOBIG ? err : SA_ERR_CORRUPT_MESSAGE,
                         "cannot build the v2 batch", 0);
    }
    for (size_t i = 0; i < cv.ninflated; i++) sa_buf_free(&cv.inflated[i]);
    free(cv.inflated);
    free(cv.recs);
    return err;
}
