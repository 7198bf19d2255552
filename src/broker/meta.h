/*
 * meta.h - the broker's identity file, DATA_DIR/meta.properties (as Kafka's KRaft brokers keep
 * one in each log dir):
 *
 *   version=1
 *   cluster.id=<22 chars: 16 random bytes in unpadded base64url>
 *   node.id=<N>
 *
 * Written once, crash-safely (temp file, fsync, rename, fsync dir), so the cluster id Metadata
 * reports survives restarts. A file naming another node id is refused: the data belongs to a
 * different broker.
 */
#ifndef SA_BROKER_META_H
#define SA_BROKER_META_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/**
 * Read DIR/meta.properties, creating it with a fresh cluster id if missing; copy the cluster id
 * into @p cluster_id (>= 23 bytes).
 * @returns SA_OK, or an error with a sentence for the operator in @p errstr.
 */
sa_err_t sa_broker_meta_load(const char *dir, int32_t node_id, char *cluster_id, size_t cluster_id_size,
                             char *errstr, size_t errstr_size);

#endif
