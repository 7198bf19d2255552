/*
 * hash.c - FNV-1a, the splitmix64 mixer and the open-addressing map (see hash.h).
 *
 * Invariants of sa_hmap_t:
 *  1. _nslots is 0 or a power of two, and _used < _nslots (so every probe meets an empty slot);
 *  2. a key is in at most one slot, found by probing from hash & mask without crossing an empty
 *     slot (tombstones are crossed);
 *  3. count <= _used; a grow rehashes the entries and drops the tombstones.
 */
#include "core/hash.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static char tombstone_;
#define TOMBSTONE ((const void *)&tombstone_)

uint64_t sa_fnv1a64(const void *data, size_t len) {
    const unsigned char *p = data;
    uint64_t h = SA_FNV64_OFFSET;
    for (size_t i = 0; i < len; i++) h = sa_fnv1a64_step(h, p[i]);
    return h;
}

uint64_t sa_hash_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

void sa_hmap_free(sa_hmap_t *map) {
    free(map->_slots);
    *map = (sa_hmap_t)SA_HMAP_INIT;
}

/* The slot holding @p key, or NULL. */
static sa_hmap_slot_t *find(const sa_hmap_t *map, const void *key, size_t len, uint64_t h) {
    if (!map->_nslots) return NULL;
    size_t mask = map->_nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        sa_hmap_slot_t *s = &map->_slots[i];
        if (!s->key) return NULL;
        if (s->key != TOMBSTONE && s->hash == h && s->key_len == len && !memcmp(s->key, key, len)) return s;
    }
}

static void grow(sa_hmap_t *map) {
    sa_hmap_slot_t *old = map->_slots;
    size_t nold = map->_nslots;
    /* double only when entries (not tombstones) fill the table: otherwise rehash in place size */
    map->_nslots = !nold ? 16 : (map->count + 1) * 2 > nold ? nold * 2 : nold;
    map->_slots = sa_calloc(map->_nslots, sizeof(sa_hmap_slot_t));
    map->_used = map->count;
    size_t mask = map->_nslots - 1;
    for (size_t i = 0; i < nold; i++) {
        if (!old[i].key || old[i].key == TOMBSTONE) continue;
        size_t k = old[i].hash & mask;
        while (map->_slots[k].key) k = (k + 1) & mask;
        map->_slots[k] = old[i];
    }
    free(old);
}

void *sa_hmap_get(const sa_hmap_t *map, const void *key, size_t len) {
    sa_hmap_slot_t *s = find(map, key, len, sa_fnv1a64(key, len));
    return s ? s->value : NULL;
}

void *sa_hmap_put(sa_hmap_t *map, const void *key, size_t len, void *value) {
    assert(key && key != TOMBSTONE && value);
    uint64_t h = sa_fnv1a64(key, len);
    sa_hmap_slot_t *s = find(map, key, len, h);
    if (s) {
        void *old = s->value;
        s->key = key;
        s->value = value;
        return old;
    }
    if ((map->_used + 1) * 4 > map->_nslots * 3) grow(map);
    size_t mask = map->_nslots - 1, k = h & mask;
    while (map->_slots[k].key && map->_slots[k].key != TOMBSTONE) k = (k + 1) & mask;
    if (!map->_slots[k].key) map->_used++;
    map->_slots[k] = (sa_hmap_slot_t){h, key, len, value};
    map->count++;
    assert(map->_used < map->_nslots);
    return NULL;
}

void *sa_hmap_del(sa_hmap_t *map, const void *key, size_t len) {
    sa_hmap_slot_t *s = find(map, key, len, sa_fnv1a64(key, len));
    if (!s) return NULL;
    void *old = s->value;
    s->key = TOMBSTONE;
    s->value = NULL;
    map->count--;
    return old;
}

void *sa_hmap_next(const sa_hmap_t *map, size_t *pos, const void **key, size_t *key_len) {
    for (; *pos < map->_nslots; (*pos)++) {
        const sa_hmap_slot_t *s = &map->_slots[*pos];
        if (!s->key || s->key == TOMBSTONE) continue;
        (*pos)++;
        if (key) *key = s->key;
        if (key_len) *key_len = s->key_len;
        return s->value;
    }
    return NULL;
}
