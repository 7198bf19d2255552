/*
 * handle_txn.h - glue between the broker and the transaction coordinator (broker/txn/), shared by
 * the transaction handlers (handle_txn*.c, handle_init_producer_id.c, handle_produce.c): the
 * coordinator's life cycle, its timer, its wait for the group commit, and how it writes markers.
 *
 * The coordinator (broker->metastore.txns) exists from the metadata log's open on (its state is
 * its records); sa_txn_open() gives it its configuration and the partitions (markers go through
 * storage's sa_partition_append_marker, which also moves the producer's epoch in its state) and
 * finishes the transactions a restart found decided. Every handler that calls the coordinator
 * calls sa_txn_rearm() afterwards: the timer follows sa_tcoord_next_deadline() (wall clock), and
 * while a transaction's ending waits for a group commit the broker's sync list holds a waiter
 * that moves it on (sa_tcoord_synced).
 *
 * Errors: a record the metadata log could not append or make durable answers NOT_COORDINATOR
 * (SA_GROUP_STORAGE_ERROR), as Kafka does when its append to __transaction_state fails with
 * KAFKA_STORAGE_ERROR; clients find the coordinator again and retry.
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_HANDLE_TXN_H
#define SA_BROKER_HANDLE_TXN_H

#include "broker/broker.h"
#include "broker/txn/coordinator.h"

/** Configure the coordinator from broker->conf, connect it to the partitions, finish what a
 *  restart found decided, arm the timer (broker->loop, store and producers must exist). */
void sa_txn_open(sa_broker_t *broker);
/** Stop the timer and the sync wait (before the loop goes). */
void sa_txn_close(sa_broker_t *broker);
/** Re-arm the timer and the group-commit wait after a call that may have changed them. */
void sa_txn_rearm(sa_broker_t *broker);
/** A failed sync rebuilt the metadata log's owners: the coordinator starts over from its records. */
void sa_txn_rebuilt(sa_broker_t *broker);

/** @returns the coordinator (never NULL once the broker runs). */
static inline sa_tcoord_t *sa_txn_coord(const sa_broker_t *broker) { return broker->metastore.txns; }

/** The wire error for a coordinator result @p err: KAFKA_STORAGE_ERROR becomes NOT_COORDINATOR;
 *  PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH below @p fenced_since (the first version of the
 *  API that knows PRODUCER_FENCED, KIP-588), as Kafka answers older clients. */
int16_t sa_txn_wire_error(sa_err_t err, int16_t version, int16_t fenced_since);

#endif
