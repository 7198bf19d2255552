/*
 * hash.h - the one non-cryptographic hash of samsa (FNV-1a, 64 bit), a bit mixer, and a small
 * open-addressing hash map from C-string keys to pointers.
 *
 * FNV-1a is simple and fast on short keys (post ids, words), but its high bits are weak: callers
 * that need every bit to depend on every input bit (SimHash votes per bit, MinHash permutations)
 * pass it through sa_hash_mix64 (the splitmix64 finaliser).
 *
 * sa_hmap_t: the one hash map of samsa, from byte-string keys (pointer and length: C strings,
 * binary ids, composite keys) to pointers. Keys and values are borrowed: the caller keeps them alive
 * while they are in the map, typically by keeping the key inside the value, so one allocation
 * holds both and a lookup never copies (the broker's groups, committed offsets and producer
 * states; the blog's results index). Linear probing in a power-of-two table kept at most 3/4
 * full, tombstones for removals, so lookups stay O(1) on average and a removal never moves
 * another entry. Iteration order is unspecified.
 *
 * @locality not thread-safe; callers lock.
 */
#ifndef SA_CORE_HASH_H
#define SA_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SA_FNV64_OFFSET 0xcbf29ce484222325ULL /* FNV-1a 64-bit offset basis */
#define SA_FNV64_PRIME  0x100000001b3ULL      /* FNV 64-bit prime */

/** One FNV-1a step: fold @p byte (any value up to 64 bits, e.g. a code point) into @p h. */
static inline uint64_t sa_fnv1a64_step(uint64_t h, uint64_t byte) { return (h ^ byte) * SA_FNV64_PRIME; }
/** @returns FNV-1a 64 of @p len bytes at @p data. */
uint64_t sa_fnv1a64(const void *data, size_t len);
/** @returns @p x with its bits mixed (splitmix64 finaliser): a bijection, every bit avalanches. */
uint64_t sa_hash_mix64(uint64_t x);

typedef struct sa_hmap_slot_s {
    uint64_t hash;   /* of key; meaningless in an empty slot */
    const void *key; /* borrowed; NULL = empty, a private sentinel = removed (tombstone) */
    size_t key_len;  /* bytes at key */
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
/** @returns the value under the @p len bytes at @p key, or NULL. */
void *sa_hmap_get(const sa_hmap_t *map, const void *key, size_t len);
/** Store @p value (not NULL) under @p key[0..len) (both borrowed until removed or the map is
 *  freed), replacing an existing entry's key and value. @returns the value replaced, or NULL. */
void *sa_hmap_put(sa_hmap_t *map, const void *key, size_t len, void *value);
/** Remove @p key[0..len). @returns its value, or NULL if absent. */
void *sa_hmap_del(sa_hmap_t *map, const void *key, size_t len);
/** Iterate: start with *@p pos = 0; @returns the next entry's value (its key in *@p key and
 *  *@p key_len, each if not NULL), or NULL at the end. Nothing may be put during the iteration;
 *  removing the entry just returned is allowed (it leaves a tombstone). */
void *sa_hmap_next(const sa_hmap_t *map, size_t *pos, const void **key, size_t *key_len);

/* The same with NUL-terminated keys. */
static inline void *sa_hmap_gets(const sa_hmap_t *map, const char *key) {
    return sa_hmap_get(map, key, strlen(key));
}
static inline void *sa_hmap_puts(sa_hmap_t *map, const char *key, void *value) {
    return sa_hmap_put(map, key, strlen(key), value);
}
static inline void *sa_hmap_dels(sa_hmap_t *map, const char *key) {
    return sa_hmap_del(map, key, strlen(key));
}

#endif
