/*
 * record_batch.h - Kafka record batches (magic v2): parse, validate, rewrite, iterate, build.
 *
 * The broker rarely looks inside a batch: it checks the 61-byte header and the CRC, rewrites
 * BaseOffset and PartitionLeaderEpoch (both outside the CRC) and stores the bytes as they came.
 * Only LogAppendTime forces a CRC recomputation. Decompression and record iteration exist for
 * `samsa dump-log`, ListOffsets by timestamp, tests, and anything that must read records.
 *
 * Batch layout (big-endian, byte offsets from the batch start):
 *
 *    0  int64  BaseOffset            rewritten by the broker on append
 *    8  int32  BatchLength           bytes after this field (total size = 12 + BatchLength)
 *   12  int32  PartitionLeaderEpoch  rewritten by the broker
 *   16  int8   Magic                 2 (0 and 1 are the old message sets, refused)
 *   17  uint32 CRC                   CRC-32C of bytes 21 .. end
 *   21  int16  Attributes            bits 0-2 compression, 3 timestamp type (1 = LogAppendTime),
 *                                    4 transactional, 5 control, 6 delete horizon
 *   23  int32  LastOffsetDelta
 *   27  int64  BaseTimestamp
 *   35  int64  MaxTimestamp
 *   43  int64  ProducerId
 *   51  int16  ProducerEpoch
 *   53  int32  BaseSequence
 *   57  int32  RecordsCount
 *   61  ...    records (compressed as a whole when the compression bits are set)
 *
 * Record (uncompressed form): varint Length, int8 Attributes, varlong TimestampDelta,
 * varint OffsetDelta, varint KeyLength (-1 = null), Key, varint ValueLength (-1 = null), Value,
 * varint HeadersCount, then per header varint KeyLength, Key, varint ValueLength (-1 = null), Value.
 * Varints are zigzag-encoded, as in protobuf.
 *
 * Every length and count read from a batch is checked against the bytes left before it is used;
 * decompression output is capped by the caller.
 */
#ifndef SA_PROTO_RECORD_BATCH_H
#define SA_PROTO_RECORD_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define SA_RB_HEADER_SIZE      61 /* bytes before the first record */
#define SA_RB_LOG_OVERHEAD     12 /* BaseOffset + BatchLength: BatchLength counts what follows */
#define SA_RB_MIN_BATCH_LENGTH (SA_RB_HEADER_SIZE - SA_RB_LOG_OVERHEAD) /* smallest BatchLength */
#define SA_RB_MAGIC_OFFSET     16 /* Magic byte: the same place in v0/v1 message sets */
#define SA_RB_CRC_OFFSET       17 /* the stored CRC */
#define SA_RB_CRC_START        21 /* the CRC covers Attributes .. end of batch */

/* Attributes bits. */
#define SA_RB_ATTR_COMPRESSION_MASK 0x07 /* sa_rb_compression_t */
#define SA_RB_ATTR_LOG_APPEND_TIME  0x08 /* timestamps are the broker's append time */
#define SA_RB_ATTR_TRANSACTIONAL    0x10 /* part of a transaction */
#define SA_RB_ATTR_CONTROL          0x20 /* a control batch (transaction markers) */
#define SA_RB_ATTR_DELETE_HORIZON   0x40 /* BaseTimestamp is the compaction delete horizon */

typedef enum sa_rb_compression_e {
    SA_RB_COMPRESSION_NONE = 0,
    SA_RB_COMPRESSION_GZIP = 1,
    SA_RB_COMPRESSION_SNAPPY = 2, /* raw snappy, or Kafka's (Java's) xerial framing */
    SA_RB_COMPRESSION_LZ4 = 3,    /* LZ4 frame format */
    SA_RB_COMPRESSION_ZSTD = 4,
} sa_rb_compression_t;

/** @returns "none", "gzip", "snappy", "lz4", "zstd" or "unknown". */
const char *sa_rb_compression_name(int codec);

/** A decoded batch header; field names follow the spec. */
typedef struct sa_rb_header_s {
    int64_t BaseOffset;
    int32_t BatchLength;
    int32_t PartitionLeaderEpoch;
    int8_t Magic;
    uint32_t Crc;
    int16_t Attributes;
    int32_t LastOffsetDelta;
    int64_t BaseTimestamp;
    int64_t MaxTimestamp;
    int64_t ProducerId;
    int16_t ProducerEpoch;
    int32_t BaseSequence;
    int32_t RecordsCount;
} sa_rb_header_t;

/** Total size of the batch on the wire / on disk. */
static inline size_t sa_rb_size(const sa_rb_header_t *hdr) {
    return SA_RB_LOG_OVERHEAD + (size_t)hdr->BatchLength;
}
/** Offset of the batch's last record (BaseOffset + LastOffsetDelta; wraps, never UB, on hostile input). */
static inline int64_t sa_rb_last_offset(const sa_rb_header_t *hdr) {
    return (int64_t)((uint64_t)hdr->BaseOffset + (uint64_t)(int64_t)hdr->LastOffsetDelta);
}
static inline int sa_rb_compression(const sa_rb_header_t *hdr) {
    return hdr->Attributes & SA_RB_ATTR_COMPRESSION_MASK;
}

/**
 * Decode the header of the batch at @p p (borrowed) with @p len bytes available, checking the
 * framing only (no CRC).
 * @returns SA_OK, and *hdr filled;
 *          SA_ERR_AGAIN if fewer than the batch's bytes are available (a short/torn tail: len < 12,
 *                        or < 12 + BatchLength, or < 61). *hdr is filled as far as the bytes go;
 *          UNSUPPORTED_FOR_MESSAGE_FORMAT for magic 0 or 1 (old message sets);
 *          CORRUPT_MESSAGE for another magic, BatchLength < 49, or a negative RecordsCount.
 * Detail goes to @p errstr (may be NULL).
 */
sa_err_t sa_rb_parse_header(const uint8_t *p, size_t len, sa_rb_header_t *hdr, char *errstr,
                            size_t errstr_size);

/** CRC-32C over bytes 21 .. @p size of the batch at @p p (what the CRC field must hold). */
uint32_t sa_rb_crc_compute(const uint8_t *p, size_t size);

/** @returns 1 if the stored CRC of the complete batch at @p p (@p size bytes) matches. */
int sa_rb_crc_ok(const uint8_t *p, size_t size);

/**
 * Full check of one batch as a producer sent it: framing (sa_rb_parse_header; a short batch is
 * CORRUPT_MESSAGE here), CRC (CORRUPT_MESSAGE), RecordsCount >= 1 and
 * LastOffsetDelta == RecordsCount - 1 (INVALID_RECORD), BaseTimestamp <= MaxTimestamp is not
 * required (clients leave MaxTimestamp as they like).
 * @returns SA_OK or the Kafka error, with detail in @p errstr (may be NULL).
 */
sa_err_t sa_rb_validate(const uint8_t *p, size_t len, sa_rb_header_t *hdr, char *errstr, size_t errstr_size);

/* In-place rewrites of a complete batch at @p p (borrowed, writable). */
/** Set BaseOffset; outside the CRC, so no recomputation. */
void sa_rb_set_base_offset(uint8_t *p, int64_t base_offset);
/** Set PartitionLeaderEpoch; outside the CRC. */
void sa_rb_set_leader_epoch(uint8_t *p, int32_t epoch);
/** Mark the batch LogAppendTime with MaxTimestamp = @p ts and recompute the CRC (@p size bytes). */
void sa_rb_set_log_append_time(uint8_t *p, size_t size, int64_t ts);

/**
 * Iterate a buffer of concatenated batches (a Produce request's records, a segment, a Fetch
 * response's records):
 *
 *   sa_rb_iter_t it;
 *   sa_rb_iter_init(&it, buf, len);
 *   while ((err = sa_rb_iter_next(&it, &hdr, &batch)) == SA_OK) { ... }
 *   // err: SA_ERR_NOT_FOUND at a clean end; SA_ERR_AGAIN for a torn tail at it.pos;
 *   //      another error: a malformed batch at it.pos.
 *
 * Framing only; call sa_rb_crc_ok()/sa_rb_validate() on each batch as needed.
 */
typedef struct sa_rb_iter_s {
    const uint8_t *buf; /* borrowed */
    size_t len;
    size_t pos; /* start of the next batch (of the bad one after an error) */
} sa_rb_iter_t;

void sa_rb_iter_init(sa_rb_iter_t *it, const uint8_t *buf, size_t len);
/** @p batch (may be NULL) points into the buffer; the batch is sa_rb_size(hdr) bytes. */
sa_err_t sa_rb_iter_next(sa_rb_iter_t *it, sa_rb_header_t *hdr, const uint8_t **batch);

/* ---- records ---- */

/** One record header (key/value pair); pointers borrow the batch or its decompressed copy. */
typedef struct sa_rb_kv_s {
    const uint8_t *key;
    int32_t key_len; /* >= 0 (header keys are never null) */
    const uint8_t *value;
    int32_t value_len; /* -1 = null */
} sa_rb_kv_t;

/** One decoded record; pointers are valid until the sa_rb_records_t is closed. */
typedef struct sa_rb_record_s {
    int64_t Offset;    /* absolute: BaseOffset + OffsetDelta */
    int64_t Timestamp; /* absolute: BaseTimestamp + TimestampDelta (or MaxTimestamp for LogAppendTime) */
    int8_t Attributes;
    int64_t TimestampDelta;
    int32_t OffsetDelta;
    const uint8_t *Key;
    int32_t KeyLength; /* -1 = null */
    const uint8_t *Value;
    int32_t ValueLength; /* -1 = null */
    int32_t HeadersCount;
    const uint8_t *headers; /* the encoded headers; walk them with sa_rb_kv_next */
    size_t headers_len;
    const uint8_t *raw; /* the whole encoded record, its Length varint included (copied as is by
                           the log cleaner) */
    size_t raw_len;
} sa_rb_record_t;

/** Record reader over one batch, decompressing it first when needed. */
typedef struct sa_rb_records_s {
    sa_rb_header_t hdr;
    uint8_t *_owned;   /* decompressed records, owned; NULL when uncompressed */
    const uint8_t *_p; /* records area */
    size_t _len, _pos;
    int32_t _left; /* records still to read */
} sa_rb_records_t;

/**
 * Open the records of the complete batch at @p batch (@p len bytes; borrowed, must outlive the
 * reader). Decompressed output is capped at @p max_bytes (SA_ERR_TOOBIG past it).
 * @returns SA_OK, CORRUPT_MESSAGE (bad framing or undecodable compressed data),
 *          UNSUPPORTED_COMPRESSION_TYPE, SA_ERR_TOOBIG; detail in @p errstr (may be NULL).
 * Close with sa_rb_records_close() on every path (safe after a failed open).
 */
sa_err_t sa_rb_records_open(sa_rb_records_t *rr, const uint8_t *batch, size_t len, size_t max_bytes,
                            char *errstr, size_t errstr_size);
/** @returns SA_OK with *rec filled, SA_ERR_NOT_FOUND after the last record, CORRUPT_MESSAGE. */
sa_err_t sa_rb_records_next(sa_rb_records_t *rr, sa_rb_record_t *rec);
void sa_rb_records_close(sa_rb_records_t *rr);

/** Decode the next header from *@p p / *@p len (advanced). @returns SA_OK or CORRUPT_MESSAGE. */
sa_err_t sa_rb_kv_next(const uint8_t **p, size_t *len, sa_rb_kv_t *kv);

/* ---- building ---- */

/** One record to build (borrowed); lengths of -1 mean null. */
typedef struct sa_rb_rec_in_s {
    const void *key;
    int32_t key_len;
    const void *value;
    int32_t value_len;
    const sa_rb_kv_t *headers; /* borrowed, header_count entries */
    int32_t header_count;
    int64_t timestamp; /* CreateTime in ms */
} sa_rb_rec_in_t;

typedef struct sa_rb_build_opts_s {
    int64_t base_offset;
    int32_t leader_epoch;   /* PartitionLeaderEpoch (0 on a single node; -1 from producers) */
    int compression;        /* sa_rb_compression_t */
    int16_t attributes;     /* extra bits: SA_RB_ATTR_TRANSACTIONAL / _CONTROL / _LOG_APPEND_TIME */
    int64_t producer_id;    /* -1: none */
    int16_t producer_epoch; /* -1: none */
    int32_t base_sequence;  /* -1: none */
} sa_rb_build_opts_t;

/** Options for a plain batch: offset 0, no compression, no producer id. */
#define SA_RB_BUILD_OPTS_INIT                                                                                \
    { 0, 0, SA_RB_COMPRESSION_NONE, 0, -1, -1, -1 }

/**
 * Append one v2 batch of the @p n (>= 1) records @p recs to @p out, compressed as @p opts says,
 * with offsets base_offset .. base_offset+n-1 and a correct CRC.
 * @returns SA_OK; SA_ERR_INVALID_ARG (n == 0, a bad length); SA_ERR_TOOBIG past the buffer's cap
 *          (out is then left as it was); UNSUPPORTED_COMPRESSION_TYPE.
 */
sa_err_t sa_rb_build(sa_buf_t *out, const sa_rb_build_opts_t *opts, const sa_rb_rec_in_t *recs, size_t n);

/**
 * Rebuild the batch of header @p orig keeping only the @p n (>= 0) records @p recs (decoded from
 * it, in order), for the log cleaner: BaseOffset, LastOffsetDelta (so the producer's last
 * sequence survives), PartitionLeaderEpoch, ProducerId/Epoch, BaseSequence and the codec are
 * kept; Attributes become @p attributes (codec bits ignored), BaseTimestamp @p base_ts,
 * MaxTimestamp @p max_ts, RecordsCount @p n; records are copied as encoded unless @p base_ts
 * differs from orig->BaseTimestamp (a delete horizon), then their TimestampDelta is re-encoded so
 * every record keeps its timestamp. The CRC is computed. Appended to @p out.
 * @returns SA_OK, SA_ERR_TOOBIG (past out's cap; out unchanged), UNSUPPORTED_COMPRESSION_TYPE.
 */
sa_err_t sa_rb_rebuild(sa_buf_t *out, const sa_rb_header_t *orig, int16_t attributes, int64_t base_ts,
                       int64_t max_ts, const sa_rb_record_t *recs, size_t n);

/* ---- codecs (record_batch_codec.c) ---- */

/**
 * Decompress @p len bytes of @p codec data into @p out (appended; its cap bounds the output).
 * Snappy accepts raw blocks and the xerial framing Kafka's Java client writes.
 * @returns SA_OK, SA_ERR_TOOBIG, SA_ERR_CORRUPT, UNSUPPORTED_COMPRESSION_TYPE.
 */
sa_err_t sa_rb_decompress(int codec, const uint8_t *in, size_t len, sa_buf_t *out);
/** Compress @p len bytes with @p codec, appended to @p out (snappy: raw block). */
sa_err_t sa_rb_compress(int codec, const uint8_t *in, size_t len, sa_buf_t *out);

/* ---- varints (zigzag), exported for the record codec's tests ---- */
/** Decode a zigzag varint of at most 5 bytes. @returns bytes used, or 0 if malformed/short. */
size_t sa_rb_varint_get(const uint8_t *p, size_t len, int32_t *v);
/** Decode a zigzag varlong of at most 10 bytes. @returns bytes used, or 0 if malformed/short. */
size_t sa_rb_varlong_get(const uint8_t *p, size_t len, int64_t *v);
/** Encode a zigzag varlong into @p out (>= 10 bytes). @returns bytes written. */
size_t sa_rb_varlong_put(uint8_t *out, int64_t v);

#endif
