/*
 * message_set.h - the old message formats (magic v0 and v1, "message sets") converted to one v2
 * record batch, as Kafka 3.x does for Produce v0-v2 (LogValidator: a message set of an older
 * magic is rewritten as one batch of the current format before it is appended).
 *
 * A message set is a sequence of messages, each (big-endian):
 *
 *    0  int64  Offset       ignored (the broker assigns offsets)
 *    8  int32  MessageSize  bytes after this field
 *   12  uint32 Crc          CRC-32 (IEEE, zlib's) of Magic .. end of the message
 *   16  int8   Magic        0 or 1
 *   17  int8   Attributes   bits 0-2 compression (1 gzip, 2 snappy, 3 lz4), bit 3 (v1)
 *                           timestamp type (1 = LogAppendTime)
 *   18  int64  Timestamp    v1 only (ms); v0 messages have none (-1 in the v2 batch)
 *       int32  KeyLength, Key     (-1 = null)
 *       int32  ValueLength, Value (-1 = null)
 *
 * A compressed message ("wrapper") holds in its Value a compressed message set of the same
 * magic whose messages are not compressed themselves. Magic v0 LZ4 wrappers carry the frame
 * header checksum computed the wrong way (over the magic number too, KAFKA-1493); Kafka ignores
 * it for v0 and so does this conversion.
 *
 * The output is one v2 batch (offsets 0..n-1, no producer id, CreateTime with each message's
 * timestamp; a v1 wrapper with LogAppendTime gives its inner messages its own timestamp, as
 * Kafka's legacy reader does), compressed with the codec of the first compressed wrapper, or
 * none. Headers do not exist in the old formats.
 *
 * Errors (the Produce partition error): CORRUPT_MESSAGE for framing, a CRC mismatch, magic 2 or
 * mixed magics, nested compression, an empty set or a truncated last message;
 * UNSUPPORTED_COMPRESSION_TYPE for zstd (v2 only) or an unknown codec; SA_ERR_TOOBIG when the
 * decompressed messages pass @p max_bytes.
 */
#ifndef SA_PROTO_MESSAGE_SET_H
#define SA_PROTO_MESSAGE_SET_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/**
 * Convert the message set @p p / @p len (borrowed) to one v2 batch appended to @p out.
 * @p max_bytes bounds the bytes decompressed from wrappers in all (a compression bomb costs at
 * most that). On error @p out is left as it was and @p errstr says why.
 */
sa_err_t sa_msgset_to_batch(const uint8_t *p, size_t len, size_t max_bytes, sa_buf_t *out, char *errstr,
                            size_t errstr_size);

#endif
