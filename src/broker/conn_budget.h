/*
 * conn_budget.h - the broker-wide memory budget of the connections (queued.max.request.bytes),
 * pure so it is unit-tested. conn.c charges and asks; this file only decides.
 *
 * What is charged: every byte a client can make the broker hold for it - its read buffer while
 * allocated, the request frames it sent that are not answered yet (a large frame as soon as its
 * size is known, for it is allocated whole), and the responses not yet written to its socket.
 * `used` is their sum over the open connections.
 *
 * The rule (sa_budget_admits): a connection may take something new of `size` bytes
 *   1. always when the broker holds nothing (used == 0): a frame larger than the budget still
 *      goes through, alone, so nothing is refused for good;
 *   2. while the shared half is not spent (used + size <= limit / 2): everyone, as before;
 *   3. beyond it, up to the limit, only a connection that holds less than its fair share of the
 *      other half, limit / 2 / open connections (what it holds counts its requests and unsent
 *      responses, not its read buffer).
 * So when the budget runs out it is the connections that hold the memory (they pipeline faster
 * than they are answered, or do not read their answers) that are paused, and one that holds
 * nothing - a client doing one round trip at a time - is still served: the reserved half is
 * split evenly, and a client at its share cannot take another's. Paused connections wait in
 * arrival order (conn.c's wait list) and are resumed in that order when memory is released, so
 * none starves behind later ones.
 *
 * sa_budget_room: how large a response (a Fetch's records) may be built for a connection, by the
 * same rule. It caps even the first batch that KIP-74 lets past MaxBytes: were it let through,
 * a thousand connections that never read could each pin one batch beyond the budget. While the
 * broker is short of memory a consumer therefore gets only batches that fit its fair share (a
 * larger one comes when memory is released); the share is never taken by the others.
 *
 * INVARIANTS
 *   1. used only grows through an admitted charge or a response within the hard room, so
 *      used <= limit + the last admitted size, except by rule 1 (used was 0).
 *   2. sa_budget_room(b, held) == 0 exactly when sa_budget_admits(b, held, 1) is false, and
 *      used + room <= limit whenever room > 0.
 */
#ifndef SA_BROKER_CONN_BUDGET_H
#define SA_BROKER_CONN_BUDGET_H

#include <stddef.h>
#include <stdint.h>

typedef struct sa_budget_s {
    size_t limit;  /* queued.max.request.bytes */
    size_t used;   /* charged by the open connections */
    size_t nconns; /* open connections: the fair share's divisor */
} sa_budget_t;

/** @returns the fair share of the reserved half: limit / 2 / open connections (at least 1). */
static inline size_t sa_budget_share(const sa_budget_t *b) {
    size_t share = b->limit / 2 / (b->nconns ? b->nconns : 1);
    return share ? share : 1;
}

/** May a connection that holds @p held bytes take @p size more? (Rules 1-3 above.) */
static inline int sa_budget_admits(const sa_budget_t *b, size_t held, size_t size) {
    if (b->used == 0) return 1;
    if (b->used + size <= b->limit / 2) return 1;
    return b->used + size <= b->limit && held < sa_budget_share(b);
}

/** @returns how many bytes a response for a connection holding @p held may take now (0: none).
 *  Rule 1 gives a response at most the whole budget: unlike a frame, its size is the broker's
 *  choice, so one Fetch with a huge MaxBytes cannot take more alone. */
static inline size_t sa_budget_room(const sa_budget_t *b, size_t held) {
    size_t half = b->limit / 2, share = sa_budget_share(b);
    if (b->used == 0) return b->limit;
    size_t room = b->used < half ? half - b->used : 0;
    if (b->used < b->limit && held < share) {
        size_t fair = share - held, left = b->limit - b->used;
        size_t reserve = fair < left ? fair : left;
        if (reserve > room) room = reserve;
    }
    return room;
}

#endif
