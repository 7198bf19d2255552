/*
 * proto.h - the Kafka codec's front door: api table lookups, header versions, request framing.
 *
 * Include this (it includes the generated kafka_msgs.h and wire.h). The generated structs and
 * codecs follow the conventions documented at the top of gen/kafka_msgs.h.
 *
 * Decoding a request (views into the frame, arrays in the arena; both valid until the frame is
 * freed and the arena reset):
 *
 *     sa_arena_set_cap(&arena, sa_proto_arena_cap(frame_len));
 *     sa_rd_t rd;
 *     sa_rd_init(&rd, frame, frame_len);
 *     sa_RequestHeader_t hdr;
 *     if (sa_proto_read_request_header(&rd, &arena, &hdr)) goto malformed;
 *     sa_ProduceRequest_t req;
 *     if (sa_ProduceRequest_decode(&rd, hdr.RequestApiVersion, &arena, &req)) goto malformed;
 *     for (int32_t t = 0; t < req.TopicData_count; t++)
 *         for (int32_t p = 0; p < req.TopicData[t].PartitionData_count; p++) {
 *             sa_bytes_t batch = req.TopicData[t].PartitionData[p].Records; // len -1 = null
 *             ...
 *         }
 *
 * Building and encoding a response (arrays from any allocator; init every element):
 *
 *     sa_MetadataResponse_t resp;
 *     sa_MetadataResponse_init(&resp);                       // spec defaults
 *     resp.Brokers = sa_arena_calloc(&arena, 1, sizeof(*resp.Brokers));
 *     resp.Brokers_count = 1;
 *     sa_MetadataResponse_MetadataResponseBroker_init(&resp.Brokers[0]);
 *     resp.Brokers[0].Host = sa_str(host);                   // borrowed until encoded
 *     resp.Brokers[0].Port = port;
 *     sa_proto_write_response_header(&out, SA_API_Metadata, version, hdr.CorrelationId);
 *     sa_MetadataResponse_encode(&resp, version, &out);
 *
 * Header versions (protocol guide, KIP-482): a request uses request header v2 and a response
 * response header v1 exactly when the API version is flexible; otherwise v1 / v0. The one
 * exception is the ApiVersions response, which always uses response header v0 so that a client
 * can parse it before it knows what the broker supports.
 */
#ifndef SA_PROTO_PROTO_H
#define SA_PROTO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "proto/gen/kafka_msgs.h"
#include "proto/wire.h"

/** @returns the table entry of @p api_key (static), or NULL if samsa has no codec for it. */
const sa_proto_api_t *sa_proto_api(int16_t api_key);
/** @returns the API's name ("Produce"), or "Unknown" (static strings). */
const char *sa_proto_api_name(int16_t api_key);
/** @returns 1 if @p version of @p api_key uses the flexible (compact, tagged) encodings. */
bool sa_proto_is_flexible(int16_t api_key, int16_t version);
/**
 * @returns the request header version (1 or 2) for @p api_key / @p version. Versions above what
 * the definitions know are treated like the newest (flexible if that one is), so a client asking
 * a too-new ApiVersions can still be answered; unknown APIs get 1.
 */
int16_t sa_proto_request_header_version(int16_t api_key, int16_t version);
/** @returns the response header version (0 or 1); always 0 for ApiVersions. */
int16_t sa_proto_response_header_version(int16_t api_key, int16_t version);

/**
 * Decode the request header at the start of @p rd (the frame after its 4-byte size): peeks at
 * api key and version to pick the header version, then decodes it into @p hdr (ClientId is a
 * view into the frame). On success @p rd is left at the body.
 * @returns SA_OK or SA_ERR_PARSE. An unknown API is not an error here (the caller answers it).
 */
sa_err_t sa_proto_read_request_header(sa_rd_t *rd, sa_arena_t *arena, sa_RequestHeader_t *hdr);

/**
 * Append a response header for @p correlation_id in the version @p api_key / @p version needs.
 * The caller writes the 4-byte frame size before it and the body after it.
 */
sa_err_t sa_proto_write_response_header(sa_buf_t *out, int16_t api_key, int16_t version,
                                        int32_t correlation_id);

/**
 * @returns an arena cap for decoding a request frame of @p frame_len bytes (header + body): large
 * enough for ANY well-formed request (the generator proves the bound: every request array costs
 * at most SA_PROTO_REQUEST_ARENA_FACTOR arena bytes per wire byte, see gen/kafka_msgs.h), plus
 * 64 KiB for what the caller itself puts in the arena. So a hostile frame can make the decoder
 * allocate at most this much; cap the frame sizes you accept per API to bound it further.
 * Decode with this cap, then raise or drop it (sa_arena_set_cap) before building a response in
 * the same arena: responses are not bounded by the request's size.
 */
static inline size_t sa_proto_arena_cap(size_t frame_len) {
    return 64 * 1024 + (size_t)SA_PROTO_REQUEST_ARENA_FACTOR * frame_len;
}

#endif
