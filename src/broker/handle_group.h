/*
 * handle_group.h - glue between the broker and the group coordinator, shared by the group
 * handlers (handle_group*.c) and InitProducerId; and the one entry point the produce handler
 * needs for idempotence.
 *
 * The coordinator state (sa_group_ctx_t, in broker->group) is created on first use: it opens
 * DATA_DIR/coordinator/offsets.log (replaying committed offsets) and the producer-id file.
 * If that fails the group APIs answer COORDINATOR_NOT_AVAILABLE and opening is retried later.
 * One loop timer follows sa_gcoord_next_deadline(); every handler that calls the coordinator
 * re-arms it afterwards.
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_HANDLE_GROUP_H
#define SA_BROKER_HANDLE_GROUP_H

#include "broker/broker.h"
#include "broker/group/coordinator.h"
#include "broker/group/offsets.h"
#include "broker/producer_id.h"
#include "broker/producer_state.h"
#include "proto/proto.h"

typedef struct sa_group_ctx_s {
    sa_broker_t *broker;           /* borrowed */
    sa_gcoord_t *coord;            /* owned */
    sa_offsets_t *offsets;         /* owned */
    sa_pid_alloc_t *pids;          /* owned */
    sa_producer_states_t *pstates; /* owned */
    sa_timer_t timer;              /* the coordinator's next deadline */
} sa_group_ctx_t;

/** @returns the coordinator state (created on first use), or NULL if it cannot open (logged). */
sa_group_ctx_t *sa_group_ctx(sa_broker_t *broker);
/** Re-arm the coordinator timer after a call that may have changed its deadlines. */
void sa_group_ctx_rearm(sa_group_ctx_t *ctx);
/** Free the coordinator state of @p broker (at shutdown, before the loop is freed). NULL-safe. */
void sa_group_ctx_free(sa_broker_t *broker);

/**
 * The producer-state registry for the produce handler's idempotence checks (producer_state.h).
 * @returns NULL only if the coordinator state cannot open (then skip the checks).
 */
sa_producer_states_t *sa_broker_producer_states(sa_broker_t *broker);

/* Helpers for the handlers: NUL-terminated copies of wire strings in the request's arena. */
/** @returns a copy of @p s, "" for null (never NULL). */
const char *sa_hg_str(sa_req_t *req, sa_str_t s);
/** @returns a copy of @p s, NULL for null. */
const char *sa_hg_nstr(sa_req_t *req, sa_str_t s);
/** @returns new in the request arena: "/IP" of the peer, as Kafka's ClientHost. */
const char *sa_hg_client_host(sa_req_t *req);

#endif
