/*
 * hash.h - the one non-cryptographic hash of samsa (FNV-1a, 64 bit), a bit mixer, and a small
 * open-addressing hash map from C-string keys to pointers.
 *
 * FNV-1a is simple and fast on short keys (post ids, words), but its high bits are weak: callers
 * that need every bit to depend on every input bit (SimHash votes per bit, MinHash permutations)
 * pass it through sa_hash_mix64 (the splitmix64 finaliser).
 *
 * sa_hmap_t: keys and values are borrowed (the caller keeps them alive while they are in the map;
 * typically the key lives inside the value, so one allocation holds both). Linear probing in a
 * power-of-two table kept at most 3/4 full, tombstones for removals (rare in our uses), so
 * lookups stay O(1) on average. Iteration order is unspecified.
 *
 * @locality not thread-safe; callers lock.
 */
#ifndef SA_CORE_HASH_H
#define SA_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SA_FNV64_OFFSET 0xcbf29ce484222325ULL /* FNV-1a 64-bit offset basis */
#define SA_FNV64_PRIME  0x100000001b3ULL      /* FNV 64-bit prime */

/** One FNV-1a step: fold @p byte (any value up to 64 bits, e.g. a code point) into @p h. */
static inline uint64_t sa_fnv1a64_step(uint64_t h, uint64_t byte) { return (h ^ byte) * SA_FNV64_PRIME; }
/** @returns FNV-1a 64 of @p len bytes at @p data. */
uint64_t sa_fnv1a64(const void *data, size_t len);
/** @returns FNV-1a 64 of the NUL-terminated @p s. */
uint64_t sa_fnv1a64_str(const char *s);
/** @returns @p x with its bits mixed (splitmix64 finaliser): a bijection, every bit avalanches. */
uint64_t sa_hash_mix64(uint64_t x);

typedef struct sa_hmap_slot_s {
    uint64_t hash;   /* of key; meaningless in an empty slot */
    const char *key; /* borrowed; NULL = empty, SA_HMAP_TOMBSTONE = removed */
    void *value;     /* borrowed */
} sa_hmap_slot_t;

typedef struct sa_hmap_s {
    sa_hmap_slot_t *_slots; /* _nslots slots */
    size_t _nslots;         /* power of two, 0 before the first put */
    size_t _used;           /* slots not empty (entries + tombstones) */
    size_t count;           /* entries */
} sa_hmap_t;

#define SA_HMAP_INIT                                                                                         \
    { NULL, 0, 0, 0 }

/** Free the table (not the keys or values). The map is empty and reusable afterwards. */
void sa_hmap_free(sa_hmap_t *map);
/** @returns the value under @p key, or NULL. */
void *sa_hmap_get(const sa_hmap_t *map, const char *key);
/** Store @p value (not NULL) under @p key (both borrowed until removed or the map is freed),
 *  replacing an existing entry's key and value. @returns the value replaced, or NULL. */
void *sa_hmap_put(sa_hmap_t *map, const char *key, void *value);
/** Remove @p key. @returns its value, or NULL if absent. */
void *sa_hmap_del(sa_hmap_t *map, const char *key);
/** Iterate: start with *@p pos = 0; @returns the next entry's value (its key in *@p key if not
 *  NULL), or NULL at the end. The map must not change during the iteration. */
void *sa_hmap_next(const sa_hmap_t *map, size_t *pos, const char **key);

#endif
