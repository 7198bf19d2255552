/*
 * fetch_limits.h - the size accounting of one Fetch response (KIP-74), pure so it is unit-tested.
 *
 * Kafka's rule (ReplicaManager.readFromLocalLog; FetchRequest.json "See KIP-74"): partitions are
 * read in request order; each read is limited to min(PartitionMaxBytes, what is left of
 * MaxBytes). Only while no partition has returned records yet may a read return its first batch
 * whole even if it is larger than that limit, so a consumer always progresses; from the first
 * non-empty partition on, both limits are hard. Partitions answered with an error or with no
 * records do not end the grace.
 *
 * INVARIANTS
 *   1. The response's record bytes exceed MaxBytes only by the first batch of the first
 *      non-empty partition, and then that partition holds that one batch only.
 *   2. left >= 0.
 */
#ifndef SA_BROKER_FETCH_LIMITS_H
#define SA_BROKER_FETCH_LIMITS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sa_fetch_room_s {
    int64_t left; /* bytes of MaxBytes not yet used */
    int grace;    /* no partition returned records yet: the next read may exceed its limit */
} sa_fetch_room_t;

static inline void sa_fetch_room_init(sa_fetch_room_t *room, int32_t max_bytes) {
    room->left = max_bytes > 0 ? max_bytes : 0;
    room->grace = 1;
}

/**
 * The byte limit of the next partition's read. *whole_first is set to 1 when its first batch
 * may be returned whole beyond that limit, 0 when the limit is hard (then a first batch larger
 * than the limit means "nothing from this partition in this response").
 */
static inline int64_t sa_fetch_room_limit(const sa_fetch_room_t *room, int32_t partition_max_bytes,
                                          int *whole_first) {
    int64_t pmax = partition_max_bytes > 0 ? partition_max_bytes : 0;
    *whole_first = room->grace;
    return pmax < room->left ? pmax : room->left;
}

/** Account @p n record bytes returned for a partition. */
static inline void sa_fetch_room_used(sa_fetch_room_t *room, size_t n) {
    if (n == 0) return;
    room->grace = 0;
    room->left = (int64_t)n < room->left ? room->left - (int64_t)n : 0;
}

#endif
