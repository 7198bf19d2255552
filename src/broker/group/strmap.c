/*
 * strmap.c - chained hash map (see strmap.h). FNV-1a 64-bit hash; the table doubles at load 1.
 */
#include "broker/group/strmap.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static uint64_t hash_bytes(const void *key, size_t len) {
    const uint8_t *p = key;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

void sa_strmap_free(sa_strmap_t *map) {
    for (size_t i = 0; i < map->_nbuckets; i++) {
        sa_strmap_ent_t *ent = map->_buckets[i];
        while (ent) {
            sa_strmap_ent_t *next = ent->_next;
            free(ent);
            ent = next;
        }
    }
    free(map->_buckets);
    map->_buckets = NULL;
    map->_nbuckets = 0;
    map->count = 0;
}

static sa_strmap_ent_t **find_slot(const sa_strmap_t *map, const void *key, size_t len, uint64_t h) {
    sa_strmap_ent_t **slot = &map->_buckets[h & (map->_nbuckets - 1)];
    while (*slot && !((*slot)->_hash == h && (*slot)->key_len == len && !memcmp((*slot)->key, key, len)))
        slot = &(*slot)->_next;
    return slot;
}

void *sa_strmap_get(const sa_strmap_t *map, const void *key, size_t len) {
    if (!map->_nbuckets) return NULL;
    sa_strmap_ent_t *ent = *find_slot(map, key, len, hash_bytes(key, len));
    return ent ? ent->value : NULL;
}

static void grow(sa_strmap_t *map) {
    size_t n = map->_nbuckets ? map->_nbuckets * 2 : 16;
    sa_strmap_ent_t **buckets = sa_calloc(n, sizeof(*buckets));
    for (size_t i = 0; i < map->_nbuckets; i++) {
        sa_strmap_ent_t *ent = map->_buckets[i];
        while (ent) {
            sa_strmap_ent_t *next = ent->_next;
            ent->_next = buckets[ent->_hash & (n - 1)];
            buckets[ent->_hash & (n - 1)] = ent;
            ent = next;
        }
    }
    free(map->_buckets);
    map->_buckets = buckets;
    map->_nbuckets = n;
}

void *sa_strmap_put(sa_strmap_t *map, const void *key, size_t len, void *value) {
    if (map->count >= map->_nbuckets) grow(map);
    uint64_t h = hash_bytes(key, len);
    sa_strmap_ent_t **slot = find_slot(map, key, len, h);
    if (*slot) {
        void *old = (*slot)->value;
        (*slot)->value = value;
        return old;
    }
    sa_strmap_ent_t *ent = sa_malloc(sizeof(*ent) + len + 1);
    ent->_next = NULL;
    ent->_hash = h;
    ent->value = value;
    ent->key_len = len;
    memcpy(ent->key, key, len);
    ent->key[len] = '\0';
    *slot = ent;
    map->count++;
    return NULL;
}

void *sa_strmap_del(sa_strmap_t *map, const void *key, size_t len) {
    if (!map->_nbuckets) return NULL;
    sa_strmap_ent_t **slot = find_slot(map, key, len, hash_bytes(key, len));
    sa_strmap_ent_t *ent = *slot;
    if (!ent) return NULL;
    void *value = ent->value;
    *slot = ent->_next;
    free(ent);
    map->count--;
    return value;
}

sa_strmap_ent_t *sa_strmap_next(const sa_strmap_t *map, sa_strmap_ent_t *it) {
    size_t i = 0;
    if (it) {
        if (it->_next) return it->_next;
        i = (it->_hash & (map->_nbuckets - 1)) + 1;
    }
    for (; i < map->_nbuckets; i++)
        if (map->_buckets[i]) return map->_buckets[i];
    return NULL;
}
