/*
 * admin.h - the wire values of configs that the config handlers (handle_create_topics.c,
 * handle_describe_configs.c, handle_alter_configs.c) share: resource types, ConfigSource and
 * ConfigType, and their mapping from storage's terms. Internal to src/broker; everything else a
 * handler needs is in kit.h.
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_ADMIN_H
#define SA_BROKER_ADMIN_H

#include <stdint.h>

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

#endif
