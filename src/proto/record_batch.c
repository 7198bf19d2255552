/*
 * record_batch.c - v2 record batch header, CRC, iteration, records and building.
 *
 * Design: the hot path (Produce) only calls sa_rb_validate and the in-place setters, which read
 * the 61-byte header and run CRC-32C over the batch once; nothing is copied or allocated. The
 * record reader and the builder are for tools and tests and may allocate (decompression).
 */
#include "proto/record_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/mem.h"

#define SET_ERR(...)                                                                                         \
    do {                                                                                                     \
        if (errstr) snprintf(errstr, errstr_size, __VA_ARGS__);                                              \
    } while (0)

const char *sa_rb_compression_name(int codec) {
    static const char *const names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    return codec >= 0 && codec < (int)SA_ARRAY_LEN(names) ? names[codec] : "unknown";
}

sa_err_t sa_rb_parse_header(const uint8_t *p, size_t len, sa_rb_header_t *hdr, char *errstr,
                            size_t errstr_size) {
    memset(hdr, 0, sizeof(*hdr));
    if (len < SA_RB_LOG_OVERHEAD) {
        SET_ERR("batch truncated: %zu bytes, need at least %d", len, SA_RB_LOG_OVERHEAD);
        return SA_ERR_AGAIN;
    }
    hdr->BaseOffset = (int64_t)sa_load_be64(p);
    hdr->BatchLength = (int32_t)sa_load_be32(p + 8);
    /* Magic sits at byte 16 in every message format, so old formats are recognised even when the
     * rest of the header would not parse as v2. */
    if (len > SA_RB_MAGIC_OFFSET) {
        hdr->Magic = (int8_t)p[SA_RB_MAGIC_OFFSET];
        if (hdr->Magic == 0 || hdr->Magic == 1) {
            SET_ERR("message format v%d is not supported (record batch v2 required)", hdr->Magic);
            return SA_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
        }
        if (hdr->Magic != 2) {
            SET_ERR("unknown magic byte %d", hdr->Magic);
            return SA_ERR_CORRUPT_MESSAGE;
        }
    }
    if (hdr->BatchLength < SA_RB_MIN_BATCH_LENGTH) {
        SET_ERR("batch length %d is below the minimum %d", hdr->BatchLength, SA_RB_MIN_BATCH_LENGTH);
        return SA_ERR_CORRUPT_MESSAGE;
    }
    if (len < SA_RB_HEADER_SIZE) {
        SET_ERR("batch truncated: %zu bytes, header needs %d", len, SA_RB_HEADER_SIZE);
        return SA_ERR_AGAIN;
    }
    hdr->PartitionLeaderEpoch = (int32_t)sa_load_be32(p + 12);
    hdr->Crc = sa_load_be32(p + 17);
    hdr->Attributes = (int16_t)sa_load_be16(p + 21);
    hdr->LastOffsetDelta = (int32_t)sa_load_be32(p + 23);
    hdr->BaseTimestamp = (int64_t)sa_load_be64(p + 27);
    hdr->MaxTimestamp = (int64_t)sa_load_be64(p + 35);
    hdr->ProducerId = (int64_t)sa_load_be64(p + 43);
    hdr->ProducerEpoch = (int16_t)sa_load_be16(p + 51);
    hdr->BaseSequence = (int32_t)sa_load_be32(p + 53);
    hdr->RecordsCount = (int32_t)sa_load_be32(p + 57);
    if (hdr->RecordsCount < 0) {
        SET_ERR("negative record count %d", hdr->RecordsCount);
        return SA_ERR_CORRUPT_MESSAGE;
    }
    if (len < sa_rb_size(hdr)) {
        SET_ERR("batch truncated: %zu of %zu bytes", len, sa_rb_size(hdr));
        return SA_ERR_AGAIN;
    }
    return SA_OK;
}

uint32_t sa_rb_crc_compute(const uint8_t *p, size_t size) {
    return sa_crc32c(0, p + SA_RB_CRC_START, size - SA_RB_CRC_START);
}

int sa_rb_crc_ok(const uint8_t *p, size_t size) {
    return size >= SA_RB_HEADER_SIZE && sa_load_be32(p + SA_RB_CRC_OFFSET) == sa_rb_crc_compute(p, size);
}

sa_err_t sa_rb_validate(const uint8_t *p, size_t len, sa_rb_header_t *hdr, char *errstr, size_t errstr_size) {
    sa_err_t err = sa_rb_parse_header(p, len, hdr, errstr, errstr_size);
    if (err == SA_ERR_AGAIN) return SA_ERR_CORRUPT_MESSAGE; /* a produced batch must be whole */
    if (err) return err;
    if (!sa_rb_crc_ok(p, sa_rb_size(hdr))) {
        SET_ERR("CRC mismatch in batch at offset %lld (stored 0x%08x, computed 0x%08x)",
                (long long)hdr->BaseOffset, hdr->Crc, sa_rb_crc_compute(p, sa_rb_size(hdr)));
        return SA_ERR_CORRUPT_MESSAGE;
    }
    if (hdr->RecordsCount < 1 || hdr->LastOffsetDelta != hdr->RecordsCount - 1) {
        SET_ERR("batch holds %d records but LastOffsetDelta is %d", hdr->RecordsCount, hdr->LastOffsetDelta);
        return SA_ERR_INVALID_RECORD;
    }
    return SA_OK;
}

void sa_rb_set_base_offset(uint8_t *p, int64_t base_offset) { sa_store_be64(p, (uint64_t)base_offset); }

void sa_rb_set_leader_epoch(uint8_t *p, int32_t epoch) { sa_store_be32(p + 12, (uint32_t)epoch); }

void sa_rb_set_log_append_time(uint8_t *p, size_t size, int64_t ts) {
    uint16_t attr = sa_load_be16(p + 21);
    sa_store_be16(p + 21, (uint16_t)(attr | SA_RB_ATTR_LOG_APPEND_TIME));
    sa_store_be64(p + 35, (uint64_t)ts);
    sa_store_be32(p + SA_RB_CRC_OFFSET, sa_rb_crc_compute(p, size));
}

void sa_rb_iter_init(sa_rb_iter_t *it, const uint8_t *buf, size_t len) {
    it->buf = buf;
    it->len = len;
    it->pos = 0;
}

sa_err_t sa_rb_iter_next(sa_rb_iter_t *it, sa_rb_header_t *hdr, const uint8_t **batch) {
    if (it->pos >= it->len) return SA_ERR_NOT_FOUND;
    const uint8_t *p = it->buf + it->pos;
    sa_err_t err = sa_rb_parse_header(p, it->len - it->pos, hdr, NULL, 0);
    if (err) return err;
    if (batch) *batch = p;
    it->pos += sa_rb_size(hdr);
    return SA_OK;
}

/* ---- varints ---- */

static size_t uvarint_get(const uint8_t *p, size_t len, size_t max_bytes, uint64_t *v) {
    uint64_t x = 0;
    for (size_t i = 0; i < len && i < max_bytes; i++) {
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

size_t sa_rb_varint_get(const uint8_t *p, size_t len, int32_t *v) {
    uint64_t u;
    size_t n = uvarint_get(p, len, 5, &u);
    if (!n || u > 0xffffffffu) return 0;
    *v = (int32_t)((uint32_t)(u >> 1) ^ (uint32_t) - (int32_t)(u & 1));
    return n;
}

size_t sa_rb_varlong_get(const uint8_t *p, size_t len, int64_t *v) {
    uint64_t u;
    size_t n = uvarint_get(p, len, 10, &u);
    if (!n) return 0;
    *v = (int64_t)((u >> 1) ^ (uint64_t) - (int64_t)(u & 1));
    return n;
}

size_t sa_rb_varlong_put(uint8_t *out, int64_t v) {
    uint64_t u = ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63)); /* zigzag, no signed shift */
    size_t n = 0;
    while (u >= 0x80) {
        out[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    out[n++] = (uint8_t)u;
    return n;
}

/* ---- records ---- */

sa_err_t sa_rb_records_open(sa_rb_records_t *rr, const uint8_t *batch, size_t len, size_t max_bytes,
                            char *errstr, size_t errstr_size) {
    memset(rr, 0, sizeof(*rr));
    sa_err_t err = sa_rb_parse_header(batch, len, &rr->hdr, errstr, errstr_size);
    if (err == SA_ERR_AGAIN) return SA_ERR_CORRUPT_MESSAGE;
    if (err) return err;
    const uint8_t *body = batch + SA_RB_HEADER_SIZE;
    size_t body_len = sa_rb_size(&rr->hdr) - SA_RB_HEADER_SIZE;
    int codec = sa_rb_compression(&rr->hdr);
    rr->_left = rr->hdr.RecordsCount;
    if (codec == SA_RB_COMPRESSION_NONE) {
        rr->_p = body;
        rr->_len = body_len;
        return SA_OK;
    }
    sa_buf_t out = SA_BUF_INIT(max_bytes ? max_bytes : (size_t)256 << 20); /* never unbounded */
    err = sa_rb_decompress(codec, body, body_len, &out);
    if (err) {
        sa_buf_free(&out);
        if (err == SA_ERR_CORRUPT) err = SA_ERR_CORRUPT_MESSAGE;
        SET_ERR("cannot decompress %s batch at offset %lld: %s", sa_rb_compression_name(codec),
                (long long)rr->hdr.BaseOffset, sa_err2str(err));
        return err;
    }
    rr->_len = out.len;
    rr->_owned = out.data ? out.data : sa_malloc(1);
    rr->_p = rr->_owned;
    return SA_OK;
}

/* Read a varint length-prefixed byte string (-1 = null) from p[*pos..len). */
static int get_bytes(const uint8_t *p, size_t len, size_t *pos, const uint8_t **data, int32_t *dlen) {
    size_t n = sa_rb_varint_get(p + *pos, len - *pos, dlen);
    if (!n) return -1;
    *pos += n;
    if (*dlen < -1) return -1;
    if (*dlen == -1) {
        *data = NULL;
        return 0;
    }
    if ((size_t)*dlen > len - *pos) return -1;
    *data = p + *pos;
    *pos += (size_t)*dlen;
    return 0;
}

sa_err_t sa_rb_kv_next(const uint8_t **p, size_t *len, sa_rb_kv_t *kv) {
    size_t pos = 0;
    if (get_bytes(*p, *len, &pos, &kv->key, &kv->key_len) || kv->key_len < 0 ||
        get_bytes(*p, *len, &pos, &kv->value, &kv->value_len))
        return SA_ERR_CORRUPT_MESSAGE;
    *p += pos;
    *len -= pos;
    return SA_OK;
}

sa_err_t sa_rb_records_next(sa_rb_records_t *rr, sa_rb_record_t *rec) {
    if (rr->_left <= 0) return SA_ERR_NOT_FOUND;
    const uint8_t *p = rr->_p + rr->_pos;
    size_t left = rr->_len - rr->_pos, pos = 0, n;
    int32_t rec_len;
    if (!(n = sa_rb_varint_get(p, left, &rec_len)) || rec_len < 0 || (size_t)rec_len > left - n)
        return SA_ERR_CORRUPT_MESSAGE;
    memset(rec, 0, sizeof(*rec));
    rec->raw = p;
    rec->raw_len = n + (size_t)rec_len;
    p += n;
    size_t len = (size_t)rec_len;
    if (len < 1) return SA_ERR_CORRUPT_MESSAGE;
    rec->Attributes = (int8_t)p[pos++];
    if (!(n = sa_rb_varlong_get(p + pos, len - pos, &rec->TimestampDelta))) return SA_ERR_CORRUPT_MESSAGE;
    pos += n;
    if (!(n = sa_rb_varint_get(p + pos, len - pos, &rec->OffsetDelta))) return SA_ERR_CORRUPT_MESSAGE;
    pos += n;
    if (get_bytes(p, len, &pos, &rec->Key, &rec->KeyLength) ||
        get_bytes(p, len, &pos, &rec->Value, &rec->ValueLength))
        return SA_ERR_CORRUPT_MESSAGE;
    if (!(n = sa_rb_varint_get(p + pos, len - pos, &rec->HeadersCount)) || rec->HeadersCount < 0)
        return SA_ERR_CORRUPT_MESSAGE;
    pos += n;
    rec->headers = p + pos;
    rec->headers_len = len - pos;
    /* Check the headers now so a caller walking them never meets a bad one. */
    const uint8_t *hp = rec->headers;
    size_t hl = rec->headers_len;
    for (int32_t i = 0; i < rec->HeadersCount; i++) {
        sa_rb_kv_t kv;
        if (sa_rb_kv_next(&hp, &hl, &kv)) return SA_ERR_CORRUPT_MESSAGE;
    }
    if (hl != 0) return SA_ERR_CORRUPT_MESSAGE; /* trailing bytes inside the record */
    /* Hostile deltas may overflow: wrap (unsigned) rather than invoke undefined behaviour. */
    rec->Offset = (int64_t)((uint64_t)rr->hdr.BaseOffset + (uint64_t)(int64_t)rec->OffsetDelta);
    rec->Timestamp = (rr->hdr.Attributes & SA_RB_ATTR_LOG_APPEND_TIME)
                         ? rr->hdr.MaxTimestamp
                         : (int64_t)((uint64_t)rr->hdr.BaseTimestamp + (uint64_t)rec->TimestampDelta);
    rr->_pos = (size_t)((p + len) - rr->_p);
    rr->_left--;
    return SA_OK;
}

void sa_rb_records_close(sa_rb_records_t *rr) {
    free(rr->_owned);
    rr->_owned = NULL;
    rr->_p = NULL;
    rr->_left = 0;
}

/* ---- building ---- */

static void put_varlong(sa_buf_t *b, int64_t v, sa_err_t *err) {
    uint8_t tmp[10];
    size_t n = sa_rb_varlong_put(tmp, v);
    if (!*err) *err = sa_buf_append(b, tmp, n);
}

static void put_bytes(sa_buf_t *b, const void *data, int32_t len, sa_err_t *err) {
    put_varlong(b, len < 0 ? -1 : len, err);
    if (len > 0 && !*err) *err = sa_buf_append(b, data, (size_t)len);
}

/* Encode the records (uncompressed form) into @p body. */
static sa_err_t encode_records(sa_buf_t *body, const sa_rb_rec_in_t *recs, size_t n, int64_t base_ts) {
    sa_err_t err = SA_OK;
    sa_buf_t rec = SA_BUF_INIT(0);
    for (size_t i = 0; i < n && !err; i++) {
        const sa_rb_rec_in_t *r = &recs[i];
        if (r->key_len < -1 || r->value_len < -1 || r->header_count < 0) {
            err = SA_ERR_INVALID_ARG;
            break;
        }
        sa_buf_reset(&rec);
        err = sa_buf_putc(&rec, 0); /* record attributes: unused */
        put_varlong(&rec, (int64_t)((uint64_t)r->timestamp - (uint64_t)base_ts), &err);
        put_varlong(&rec, (int64_t)i, &err);
        put_bytes(&rec, r->key, r->key_len, &err);
        put_bytes(&rec, r->value, r->value_len, &err);
        put_varlong(&rec, r->header_count, &err);
        for (int32_t h = 0; h < r->header_count; h++) {
            put_bytes(&rec, r->headers[h].key, r->headers[h].key_len, &err);
            put_bytes(&rec, r->headers[h].value, r->headers[h].value_len, &err);
        }
        put_varlong(body, (int64_t)rec.len, &err);
        if (!err) err = sa_buf_append(body, rec.data, rec.len);
    }
    sa_buf_free(&rec);
    return err;
}

sa_err_t sa_rb_build(sa_buf_t *out, const sa_rb_build_opts_t *opts, const sa_rb_rec_in_t *recs, size_t n) {
    if (n == 0 || n > INT32_MAX) return SA_ERR_INVALID_ARG;
    if (opts->compression < 0 || opts->compression > SA_RB_COMPRESSION_ZSTD)
        return SA_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    size_t start = out->len;
    int64_t base_ts = recs[0].timestamp;
    int64_t max_ts = base_ts;
    for (size_t i = 1; i < n; i++) {
        if (recs[i].timestamp < base_ts) base_ts = recs[i].timestamp;
        if (recs[i].timestamp > max_ts) max_ts = recs[i].timestamp;
    }
    sa_buf_t body = SA_BUF_INIT(0), packed = SA_BUF_INIT(0);
    sa_err_t err = encode_records(&body, recs, n, base_ts);
    const sa_buf_t *payload = &body;
    if (!err && opts->compression != SA_RB_COMPRESSION_NONE) {
        err = sa_rb_compress(opts->compression, body.data, body.len, &packed);
        payload = &packed;
    }
    if (err) goto out;
    size_t total = SA_RB_HEADER_SIZE + payload->len;
    if (total - SA_RB_LOG_OVERHEAD > INT32_MAX) {
        err = SA_ERR_TOOBIG;
        goto out;
    }
    uint8_t *p = sa_buf_extend(out, total);
    if (!p) {
        err = SA_ERR_TOOBIG;
        goto out;
    }
    uint16_t attr = (uint16_t)((opts->attributes & ~SA_RB_ATTR_COMPRESSION_MASK) | opts->compression);
    sa_store_be64(p, (uint64_t)opts->base_offset);
    sa_store_be32(p + 8, (uint32_t)(total - SA_RB_LOG_OVERHEAD));
    sa_store_be32(p + 12, (uint32_t)opts->leader_epoch);
    p[16] = 2;
    sa_store_be16(p + 21, attr);
    sa_store_be32(p + 23, (uint32_t)(n - 1));
    sa_store_be64(p + 27, (uint64_t)base_ts);
    sa_store_be64(p + 35, (uint64_t)max_ts);
    sa_store_be64(p + 43, (uint64_t)opts->producer_id);
    sa_store_be16(p + 51, (uint16_t)opts->producer_epoch);
    sa_store_be32(p + 53, (uint32_t)opts->base_sequence);
    sa_store_be32(p + 57, (uint32_t)n);
    if (payload->len) memcpy(p + SA_RB_HEADER_SIZE, payload->data, payload->len);
    sa_store_be32(p + SA_RB_CRC_OFFSET, sa_rb_crc_compute(p, total));
out:
    if (err) out->len = start;
    sa_buf_free(&body);
    sa_buf_free(&packed);
    return err;
}

/* Append record @p r re-encoded with TimestampDelta @p ts_delta (everything else as it was). */
static sa_err_t reencode_record(sa_buf_t *body, const sa_rb_record_t *r, int64_t ts_delta) {
    sa_err_t err = SA_OK;
    uint8_t head[1 + 10 + 10];
    size_t h = 0;
    head[h++] = (uint8_t)r->Attributes;
    h += sa_rb_varlong_put(head + h, ts_delta);
    h += sa_rb_varlong_put(head + h, r->OffsetDelta);
    sa_buf_t rest = SA_BUF_INIT(0);
    put_bytes(&rest, r->Key, r->KeyLength, &err);
    put_bytes(&rest, r->Value, r->ValueLength, &err);
    put_varlong(&rest, r->HeadersCount, &err);
    if (!err && r->headers_len) err = sa_buf_append(&rest, r->headers, r->headers_len);
    put_varlong(body, (int64_t)(h + rest.len), &err);
    if (!err) err = sa_buf_append(body, head, h);
    if (!err) err = sa_buf_append(body, rest.data, rest.len);
    sa_buf_free(&rest);
    return err;
}

sa_err_t sa_rb_rebuild(sa_buf_t *out, const sa_rb_header_t *orig, int16_t attributes, int64_t base_ts,
                       int64_t max_ts, const sa_rb_record_t *recs, size_t n) {
    if (n > INT32_MAX) return SA_ERR_INVALID_ARG;
    int codec = sa_rb_compression(orig);
    if (codec > SA_RB_COMPRESSION_ZSTD) return SA_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    size_t start = out->len;
    sa_buf_t body = SA_BUF_INIT(0), packed = SA_BUF_INIT(0);
    sa_err_t err = SA_OK;
    int lat = (orig->Attributes & SA_RB_ATTR_LOG_APPEND_TIME) != 0;
    for (size_t i = 0; i < n && !err; i++) {
        if (base_ts == orig->BaseTimestamp) {
            err = sa_buf_append(&body, recs[i].raw, recs[i].raw_len);
        } else {
            /* LogAppendTime records take the batch's MaxTimestamp: their deltas mean nothing. */
            int64_t ts = lat ? 0 : recs[i].Timestamp;
            err = reencode_record(&body, &recs[i], (int64_t)((uint64_t)ts - (uint64_t)base_ts));
        }
    }
    const sa_buf_t *payload = &body;
    if (!err && codec != SA_RB_COMPRESSION_NONE && n > 0) {
        err = sa_rb_compress(codec, body.data, body.len, &packed);
        payload = &packed;
    }
    if (err) goto out;
    size_t total = SA_RB_HEADER_SIZE + payload->len;
    if (total - SA_RB_LOG_OVERHEAD > INT32_MAX) {
        err = SA_ERR_TOOBIG;
        goto out;
    }
    uint8_t *p = sa_buf_extend(out, total);
    if (!p) {
        err = SA_ERR_TOOBIG;
        goto out;
    }
    /* An empty batch carries no records, so no codec either (as Kafka writes them). */
    uint16_t attr = (uint16_t)((attributes & ~SA_RB_ATTR_COMPRESSION_MASK) | (n > 0 ? codec : 0));
    sa_store_be64(p, (uint64_t)orig->BaseOffset);
    sa_store_be32(p + 8, (uint32_t)(total - SA_RB_LOG_OVERHEAD));
    sa_store_be32(p + 12, (uint32_t)orig->PartitionLeaderEpoch);
    p[16] = 2;
    sa_store_be16(p + 21, attr);
    sa_store_be32(p + 23, (uint32_t)orig->LastOffsetDelta);
    sa_store_be64(p + 27, (uint64_t)base_ts);
    sa_store_be64(p + 35, (uint64_t)max_ts);
    sa_store_be64(p + 43, (uint64_t)orig->ProducerId);
    sa_store_be16(p + 51, (uint16_t)orig->ProducerEpoch);
    sa_store_be32(p + 53, (uint32_t)orig->BaseSequence);
    sa_store_be32(p + 57, (uint32_t)n);
    if (payload->len) memcpy(p + SA_RB_HEADER_SIZE, payload->data, payload->len);
    sa_store_be32(p + SA_RB_CRC_OFFSET, sa_rb_crc_compute(p, total));
out:
    if (err) out->len = start;
    sa_buf_free(&body);
    sa_buf_free(&packed);
    return err;
}
