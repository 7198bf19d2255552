/*
 * admin.c - storage's config terms to their wire values (see admin.h).
 */
#include "broker/admin.h"

#include "core/mem.h"

int8_t sa_admin_config_source(sa_config_origin_t origin) {
    switch (origin) {
    case SA_CONFIG_ORIGIN_TOPIC: return SA_CONFIG_SOURCE_DYNAMIC_TOPIC;
    case SA_CONFIG_ORIGIN_DYNAMIC_BROKER: return SA_CONFIG_SOURCE_DYNAMIC_BROKER;
    case SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT: return SA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER;
    case SA_CONFIG_ORIGIN_STATIC_BROKER: return SA_CONFIG_SOURCE_STATIC_BROKER;
    default: return SA_CONFIG_SOURCE_DEFAULT;
    }
}

int8_t sa_admin_config_type(sa_config_vtype_t vtype) {
    static const int8_t wire[] = {
        [SA_CONFIG_VALUE_STRING] = SA_CONFIG_TYPE_STRING, [SA_CONFIG_VALUE_BOOLEAN] = SA_CONFIG_TYPE_BOOLEAN,
        [SA_CONFIG_VALUE_INT] = SA_CONFIG_TYPE_INT,       [SA_CONFIG_VALUE_LONG] = SA_CONFIG_TYPE_LONG,
        [SA_CONFIG_VALUE_DOUBLE] = SA_CONFIG_TYPE_DOUBLE, [SA_CONFIG_VALUE_LIST] = SA_CONFIG_TYPE_LIST,
    };
    return (unsigned)vtype < SA_ARRAY_LEN(wire) ? wire[vtype] : SA_CONFIG_TYPE_STRING;
}
