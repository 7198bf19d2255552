/*
 * admin.h - what the admin handlers (handle_create_topics.c, handle_delete_topics.c,
 * handle_create_partitions.c, handle_describe_configs.c, handle_alter_configs.c,
 * handle_describe_cluster.c, handle_offset_for_leader_epoch.c, handle_delete_records.c) share:
 * decoding/encoding through the codec table, topic names from the wire, and the error code and
 * message that go into a result. Internal to src/broker.
 *
 * Every admin API answers per topic or per resource: a bad entry gets its own ErrorCode (and
 * ErrorMessage where the version has one) and the others still run, as in Kafka. Only a body
 * that does not decode closes the connection.
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_ADMIN_H
#define SA_BROKER_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"
#include "proto/proto.h"
#include "storage/storage.h"

/* ResourceType values of DescribeConfigs / AlterConfigs / IncrementalAlterConfigs. */
#define SA_ADMIN_RESOURCE_TOPIC         2
#define SA_ADMIN_RESOURCE_BROKER        4
#define SA_ADMIN_RESOURCE_BROKER_LOGGER 8

/* DescribeConfigs / CreateTopics ConfigSource values (the wire values). */
typedef enum sa_config_source_e {
    SA_CONFIG_SOURCE_DYNAMIC_TOPIC = 1,          /* set on the topic */
    SA_CONFIG_SOURCE_DYNAMIC_BROKER = 2,         /* dynamic config of this broker (resource "<node id>") */
    SA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER = 3, /* dynamic cluster-wide default (resource "") */
    SA_CONFIG_SOURCE_STATIC_BROKER = 4,          /* from the broker's config (log.retention.ms ...) */
    SA_CONFIG_SOURCE_DEFAULT = 5,                /* Kafka's default */
} sa_config_source_t;

/* DescribeConfigs ConfigType values (the wire values, v3+). */
typedef enum sa_config_type_e {
    SA_CONFIG_TYPE_BOOLEAN = 1,
    SA_CONFIG_TYPE_STRING = 2,
    SA_CONFIG_TYPE_INT = 3,
    SA_CONFIG_TYPE_LONG = 5,
    SA_CONFIG_TYPE_DOUBLE = 6,
    SA_CONFIG_TYPE_LIST = 7,
} sa_config_type_t;

/** @returns the ConfigSource of a config whose value comes from @p origin (storage.h). */
int8_t sa_admin_config_source(sa_config_origin_t origin);
/** @returns the ConfigType of a config holding a @p vtype value (storage.h). */
int8_t sa_admin_config_type(sa_config_vtype_t vtype);

/**
 * Decode req->body as the request message of req->ApiKey at req->ApiVersion into @p msg (the
 * API's sa_<Api>Request_t). Strings point into the frame, arrays into req->arena.
 * @returns SA_OK, SA_ERR_TOOBIG (arena cap) or SA_ERR_PARSE: return it from the handler.
 */
sa_err_t sa_admin_decode(sa_req_t *req, void *msg);

/** Encode @p msg (the API's sa_<Api>Response_t, borrowed) onto req->resp. @returns SA_OK or an error. */
sa_err_t sa_admin_encode(sa_req_t *req, const void *msg);

/**
 * Turn topic name @p s into a C string: *name (returns new, in req->arena) is NUL-terminated.
 * @returns SA_OK; INVALID_TOPIC_EXCEPTION for a null name or one holding a NUL byte (it could
 *          not be the name it looks like; *name is then "" so lookups fail cleanly);
 *          SA_ERR_NOMEM past the arena cap.
 */
sa_err_t sa_admin_name(sa_req_t *req, sa_str_t s, const char **name);

/** @returns the wire ErrorCode for @p err: Kafka codes as they are, internal ones UNKNOWN_SERVER_ERROR. */
int16_t sa_admin_code(sa_err_t err);

/**
 * @returns the ErrorMessage for @p err: null for SA_OK, else @p errstr (copied into req->arena)
 * when non-empty, else the code's description (static). Never fails: past the arena cap it
 * falls back to the static description.
 */
sa_str_t sa_admin_message(sa_req_t *req, sa_err_t err, const char *errstr);

/**
 * Find the names given more than once in a request (Kafka fails every copy of a repeated name):
 * @p items is an array of @p count elements of @p stride bytes, each holding an sa_str_t at
 * @p name_off. *repeated gets count flags (returns new, in req->arena): 1 where that element's
 * name appears elsewhere too; *nrepeated (may be NULL) how many are flagged. O(n log n), so
 * a request with a million names stays cheap.
 * @returns SA_OK or SA_ERR_NOMEM. Use SA_ADMIN_MARK_REPEATED.
 */
sa_err_t sa_admin_mark_repeated(sa_req_t *req, const void *items, int32_t count, size_t stride,
                                size_t name_off, uint8_t **repeated, size_t *nrepeated);
#define SA_ADMIN_MARK_REPEATED(req, arr, count, field, repeated, nrepeated)                                  \
    sa_admin_mark_repeated((req), (arr), (count), sizeof(*(arr)), offsetof(__typeof__(*(arr)), field),       \
                           (repeated), (nrepeated))

/** @returns the topic whose id is @p id, or NULL (valid as sa_store_topic_at's result). */
sa_topic_t *sa_admin_topic_by_id(sa_store_t *store, const sa_uuid_t *id);

#endif
