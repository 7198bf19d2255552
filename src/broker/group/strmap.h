/*
 * strmap.h - a small chained hash map from byte-string keys to borrowed pointers, used by the
 * group coordinator (groups by id), the offsets store (groups, then topic+partition) and the
 * producer-state registry.
 *
 * Keys are copied into the map (any bytes, with an explicit length); values are borrowed: the map
 * never frees them. The table doubles when it holds more than one entry per bucket, so lookups stay
 * O(1) on average. Iteration order is unspecified.
 *
 * @locality single-threaded (the broker's loop).
 */
#ifndef SA_BROKER_GROUP_STRMAP_H
#define SA_BROKER_GROUP_STRMAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct sa_strmap_ent_s {
    struct sa_strmap_ent_s *_next; /* bucket chain */
    uint64_t _hash;                /* hash of key */
    void *value;                   /* borrowed */
    size_t key_len;                /* bytes in key */
    char key[];                    /* copy of the key, NUL-terminated (not counted in key_len) */
} sa_strmap_ent_t;

typedef struct sa_strmap_s {
    sa_strmap_ent_t **_buckets; /* _nbuckets chains */
    size_t _nbuckets;           /* power of two, 0 before the first insert */
    size_t count;               /* entries */
} sa_strmap_t;

#define SA_STRMAP_INIT                                                                                       \
    { NULL, 0, 0 }

/** Free the map's entries and table (not the values). The map may be reused afterwards. */
void sa_strmap_free(sa_strmap_t *map);
/** @returns the value stored under @p key[0..len), or NULL. */
void *sa_strmap_get(const sa_strmap_t *map, const void *key, size_t len);
/** Store @p value (borrowed) under a copy of @p key, replacing any value. @returns the old value or NULL. */
void *sa_strmap_put(sa_strmap_t *map, const void *key, size_t len, void *value);
/** Remove @p key. @returns its value, or NULL if it was absent. */
void *sa_strmap_del(sa_strmap_t *map, const void *key, size_t len);

/** Iterate: start with *it = NULL; @returns the next entry (valid until the map changes) or NULL. */
sa_strmap_ent_t *sa_strmap_next(const sa_strmap_t *map, sa_strmap_ent_t *it);

/** sa_strmap_get() with a C-string key. */
static inline void *sa_strmap_gets(const sa_strmap_t *map, const char *key) {
    return sa_strmap_get(map, key, strlen(key));
}

#endif
