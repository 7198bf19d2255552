/*
 * record_batch_codec.c - the four compression codecs of Kafka record batches.
 *
 * Decompression streams into a capped sa_buf, so a small "zip bomb" batch costs at most the
 * caller's cap: the output grows in chunks and stops with SA_ERR_TOOBIG at the cap.
 *
 * Snappy comes in two shapes: a raw snappy block (librdkafka, Go clients) or the xerial framing
 * of snappy-java, which Kafka's Java client writes:
 *   8 bytes magic 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, int32 version, int32 min compatible version,
 *   then blocks of {int32 compressed length, raw snappy block}.
 */
#include "proto/record_batch.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "core/mem.h"

#define CHUNK (64 * 1024)

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

/* Make room for the next piece of output: up to CHUNK bytes, never past the cap.
 * @returns the free space, or 0 when the cap is reached. */
static size_t room(sa_buf_t *out, size_t want) {
    if (want < CHUNK) want = CHUNK;
    if (out->cap) {
        if (out->len >= out->cap) return 0;
        if (want > out->cap - out->len) want = out->cap - out->len;
    }
    if (sa_buf_reserve(out, want)) return 0;
    return want;
}

static sa_err_t gzip_inflate(const uint8_t *in, size_t len, sa_buf_t *out) {
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 32) != Z_OK) return SA_ERR_NOMEM; /* 32: gzip or zlib header */
    sa_err_t err = SA_ERR_CORRUPT;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    for (;;) {
        size_t avail = room(out, 0);
        if (!avail) {
            err = SA_ERR_TOOBIG;
            break;
        }
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)avail;
        int rc = inflate(&zs, Z_NO_FLUSH);
        out->len += avail - zs.avail_out;
        if (rc == Z_STREAM_END) {
            err = SA_OK;
            break;
        }
        if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_out == 0)) break;
        if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) break; /* truncated input */
    }
    inflateEnd(&zs);
    return err;
}

static sa_err_t gzip_deflate(const uint8_t *in, size_t len, sa_buf_t *out) {
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return SA_ERR_NOMEM;
    uLong bound = deflateBound(&zs, (uLong)len) + 32;
    sa_err_t err = sa_buf_reserve(out, bound);
    if (!err) {
        zs.next_in = (Bytef *)in;
        zs.avail_in = (uInt)len;
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)bound;
        err = deflate(&zs, Z_FINISH) == Z_STREAM_END ? SA_OK : SA_ERR_IO;
        if (!err) out->len += bound - zs.avail_out;
    }
    deflateEnd(&zs);
    return err;
}

/* Snappy's densest element is a 3-byte copy of 64 bytes: no block expands more than ~21.3x. */
#define SNAPPY_MAX_EXPANSION 22

static sa_err_t snappy_block(const uint8_t *in, size_t len, sa_buf_t *out) {
    size_t ulen;
    if (snappy_uncompressed_length((const char *)in, len, &ulen) != SNAPPY_OK) return SA_ERR_CORRUPT;
    /* The preamble is the sender's claim: check it before allocating that much. */
    if (ulen / SNAPPY_MAX_EXPANSION > len) return SA_ERR_CORRUPT;
    if (sa_buf_reserve(out, ulen)) return SA_ERR_TOOBIG;
    if (snappy_uncompress((const char *)in, len, (char *)out->data + out->len, &ulen) != SNAPPY_OK)
        return SA_ERR_CORRUPT;
    out->len += ulen;
    return SA_OK;
}

static sa_err_t snappy_inflate(const uint8_t *in, size_t len, sa_buf_t *out) {
    if (len < 16 || memcmp(in, xerial_magic, sizeof(xerial_magic))) return snappy_block(in, len, out);
    size_t pos = 16;
    while (pos < len) {
        if (len - pos < 4) return SA_ERR_CORRUPT;
        uint32_t blen = sa_load_be32(in + pos);
        pos += 4;
        if (blen > len - pos) return SA_ERR_CORRUPT;
        sa_err_t err = snappy_block(in + pos, blen, out);
        if (err) return err;
        pos += blen;
    }
    return SA_OK;
}

static sa_err_t lz4_inflate(const uint8_t *in, size_t len, sa_buf_t *out) {
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return SA_ERR_NOMEM;
    sa_err_t err = SA_ERR_CORRUPT;
    size_t pos = 0;
    for (;;) {
        size_t avail = room(out, 0);
        if (!avail) {
            err = SA_ERR_TOOBIG;
            break;
        }
        size_t dst = avail, src = len - pos;
        size_t rc = LZ4F_decompress(dctx, out->data + out->len, &dst, in + pos, &src, NULL);
        if (LZ4F_isError(rc)) break;
        pos += src;
        out->len += dst;
        if (rc == 0) { /* frame complete */
            err = pos == len ? SA_OK : SA_ERR_CORRUPT;
            break;
        }
        if (pos == len && dst == 0) break; /* truncated frame */
    }
    LZ4F_freeDecompressionContext(dctx);
    return err;
}

static sa_err_t lz4_deflate(const uint8_t *in, size_t len, sa_buf_t *out) {
    size_t bound = LZ4F_compressFrameBound(len, NULL);
    if (sa_buf_reserve(out, bound)) return SA_ERR_TOOBIG;
    size_t n = LZ4F_compressFrame(out->data + out->len, bound, in, len, NULL);
    if (LZ4F_isError(n)) return SA_ERR_IO;
    out->len += n;
    return SA_OK;
}

static sa_err_t zstd_inflate(const uint8_t *in, size_t len, sa_buf_t *out) {
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds) return SA_ERR_NOMEM;
    sa_err_t err = SA_ERR_CORRUPT;
    ZSTD_inBuffer ib = {in, len, 0};
    size_t rc = 1;
    while (rc != 0) {
        size_t avail = room(out, 0);
        if (!avail) {
            err = SA_ERR_TOOBIG;
            goto out;
        }
        ZSTD_outBuffer ob = {out->data + out->len, avail, 0};
        rc = ZSTD_decompressStream(ds, &ob, &ib);
        if (ZSTD_isError(rc)) goto out;
        out->len += ob.pos;
        if (rc != 0 && ib.pos == ib.size && ob.pos < ob.size) goto out; /* truncated */
    }
    err = ib.pos == ib.size ? SA_OK : SA_ERR_CORRUPT;
out:
    ZSTD_freeDStream(ds);
    return err;
}

static sa_err_t zstd_deflate(const uint8_t *in, size_t len, sa_buf_t *out) {
    size_t bound = ZSTD_compressBound(len);
    if (sa_buf_reserve(out, bound)) return SA_ERR_TOOBIG;
    size_t n = ZSTD_compress(out->data + out->len, bound, in, len, 3);
    if (ZSTD_isError(n)) return SA_ERR_IO;
    out->len += n;
    return SA_OK;
}

sa_err_t sa_rb_decompress(int codec, const uint8_t *in, size_t len, sa_buf_t *out) {
    size_t start = out->len;
    sa_err_t err;
    switch (codec) {
    case SA_RB_COMPRESSION_GZIP: err = gzip_inflate(in, len, out); break;
    case SA_RB_COMPRESSION_SNAPPY: err = snappy_inflate(in, len, out); break;
    case SA_RB_COMPRESSION_LZ4: err = lz4_inflate(in, len, out); break;
    case SA_RB_COMPRESSION_ZSTD: err = zstd_inflate(in, len, out); break;
    default: err = SA_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    }
    if (err) out->len = start;
    return err;
}

sa_err_t sa_rb_compress(int codec, const uint8_t *in, size_t len, sa_buf_t *out) {
    size_t start = out->len;
    sa_err_t err;
    switch (codec) {
    case SA_RB_COMPRESSION_GZIP: err = gzip_deflate(in, len, out); break;
    case SA_RB_COMPRESSION_SNAPPY: {
        size_t bound = snappy_max_compressed_length(len);
        err = sa_buf_reserve(out, bound);
        if (!err) {
            if (snappy_compress((const char *)in, len, (char *)out->data + out->len, &bound) == SNAPPY_OK)
                out->len += bound;
            else
                err = SA_ERR_IO;
        }
        break;
    }
    case SA_RB_COMPRESSION_LZ4: err = lz4_deflate(in, len, out); break;
    case SA_RB_COMPRESSION_ZSTD: err = zstd_deflate(in, len, out); break;
    default: err = SA_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    }
    if (err) out->len = start;
    return err;
}
