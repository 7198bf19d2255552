/*
 * handle_group.h - glue between the broker and the group coordinator, shared by the group
 * handlers (handle_group*.c), and the coordinator's life cycle and timer.
 *
 * The coordinator (broker->coord) is opened at
 * start by sa_group_open(), after the metadata log (broker->metastore) they rest on; the broker
 * refuses to start if that fails, so a handler never finds them missing. One loop timer
 * (broker->_coord_timer) follows sa_gcoord_next_deadline(); every handler that calls the
 * coordinator re-arms it afterwards with sa_group_rearm(). The coordinator catches up on what
 * is due by itself at every call (its clock is passed in), so the timer only wakes the loop
 * when no request comes. Decoding, names, answering once durable: the handlers' kit (kit.h).
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_HANDLE_GROUP_H
#define SA_BROKER_HANDLE_GROUP_H

#include "broker/broker.h"
#include "broker/group/coordinator.h"
#include "broker/group/offsets.h"
#include "broker/metastore.h"
#include "broker/producer_id.h"
#include "proto/proto.h"

/**
 * Create the coordinator over broker->metastore's offsets (its groups come back Empty, or with
 * their members from their membership records), and arm the
 * coordinator timer (broker->loop must exist). No I/O: what can fail, opening the metadata log,
 * happened before.
 */
void sa_group_open(sa_broker_t *broker);
/** Stop the timer and free the coordinator and producer states (before the loop goes). */
void sa_group_close(sa_broker_t *broker);
/** Re-arm the coordinator timer after a call that may have changed its deadlines. */
void sa_group_rearm(sa_broker_t *broker);

/* The error a group request gets when the metadata log could not make its records durable:
 * NOT_COORDINATOR, as Kafka answers when its append to __consumer_offsets fails with
 * KAFKA_STORAGE_ERROR; clients look the coordinator up again and retry. */
#define SA_GROUP_STORAGE_ERROR SA_ERR_NOT_COORDINATOR

#endif
