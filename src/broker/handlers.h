/*
 * handlers.h - every request handler the dispatch table (dispatch.c) points at.
 *
 * Contract of a handler (kit.h; broker.h, "ADDING A HANDLER"): decode req->body at
 * req->ApiVersion with sa_kit_decode, encode the response body with sa_kit_encode and return
 * SA_OK; or park the request (sa_kit_answer_*, sa_req_defer) and return SA_ERR_AGAIN; the
 * decoder's error for a malformed body.
 */
#ifndef SA_BROKER_HANDLERS_H
#define SA_BROKER_HANDLERS_H

#include "broker/broker.h"

/* Data path (this module). */
sa_err_t sa_handle_ApiVersions(sa_req_t *req); /* handle_apiversions.c */
sa_err_t sa_handle_Metadata(sa_req_t *req);    /* handle_metadata.c */
sa_err_t sa_handle_Produce(sa_req_t *req);     /* handle_produce.c */
sa_err_t sa_handle_Fetch(sa_req_t *req);       /* handle_fetch.c */
sa_err_t sa_handle_ListOffsets(sa_req_t *req); /* handle_listoffsets.c */

/* Groups and idempotence (the coordinator's life cycle in handle_group.h). */
sa_err_t sa_handle_FindCoordinator(sa_req_t *req); /* handle_group.c */
sa_err_t sa_handle_JoinGroup(sa_req_t *req);       /* handle_group_join.c */
sa_err_t sa_handle_SyncGroup(sa_req_t *req);       /* handle_group_join.c */
sa_err_t sa_handle_Heartbeat(sa_req_t *req);       /* handle_group_member.c */
sa_err_t sa_handle_LeaveGroup(sa_req_t *req);      /* handle_group_member.c */
sa_err_t sa_handle_OffsetCommit(sa_req_t *req);    /* handle_group_offsets.c */
sa_err_t sa_handle_OffsetFetch(sa_req_t *req);     /* handle_group_offsets.c */
sa_err_t sa_handle_OffsetDelete(sa_req_t *req);    /* handle_group_offsets.c */
sa_err_t sa_handle_ListGroups(sa_req_t *req);      /* handle_group_admin.c */
sa_err_t sa_handle_DescribeGroups(sa_req_t *req);  /* handle_group_admin.c */
sa_err_t sa_handle_DeleteGroups(sa_req_t *req);    /* handle_group_admin.c */
sa_err_t sa_handle_InitProducerId(sa_req_t *req);  /* handle_init_producer_id.c */

/* Transactions (glue in handle_txn.h). */
sa_err_t sa_handle_AddPartitionsToTxn(sa_req_t *req);   /* handle_txn.c */
sa_err_t sa_handle_AddOffsetsToTxn(sa_req_t *req);      /* handle_txn.c */
sa_err_t sa_handle_EndTxn(sa_req_t *req);               /* handle_txn.c */
sa_err_t sa_handle_TxnOffsetCommit(sa_req_t *req);      /* handle_txn_offsets.c */
sa_err_t sa_handle_DescribeTransactions(sa_req_t *req); /* handle_txn_admin.c */
sa_err_t sa_handle_ListTransactions(sa_req_t *req);     /* handle_txn_admin.c */
sa_err_t sa_handle_DescribeProducers(sa_req_t *req);    /* handle_txn_admin.c */
sa_err_t sa_handle_WriteTxnMarkers(sa_req_t *req);      /* handle_txn_markers.c */

/* Admin (the configs' wire values in admin.h). */
sa_err_t sa_handle_CreateTopics(sa_req_t *req);            /* handle_create_topics.c */
sa_err_t sa_handle_DeleteTopics(sa_req_t *req);            /* handle_delete_topics.c */
sa_err_t sa_handle_CreatePartitions(sa_req_t *req);        /* handle_create_partitions.c */
sa_err_t sa_handle_DescribeConfigs(sa_req_t *req);         /* handle_describe_configs.c */
sa_err_t sa_handle_AlterConfigs(sa_req_t *req);            /* handle_alter_configs.c */
sa_err_t sa_handle_IncrementalAlterConfigs(sa_req_t *req); /* handle_alter_configs.c */
sa_err_t sa_handle_DescribeCluster(sa_req_t *req);         /* handle_describe_cluster.c */
sa_err_t sa_handle_OffsetForLeaderEpoch(sa_req_t *req);    /* handle_offset_for_leader_epoch.c */
sa_err_t sa_handle_DeleteRecords(sa_req_t *req);           /* handle_delete_records.c */
sa_err_t sa_handle_CreateAcls(sa_req_t *req);              /* handle_acls.c */
sa_err_t sa_handle_DescribeAcls(sa_req_t *req);            /* handle_acls.c */
sa_err_t sa_handle_DeleteAcls(sa_req_t *req);              /* handle_acls.c */

/* Security (SaslHandshake and SaslAuthenticate are in security/sasl.h). */
sa_err_t sa_handle_DescribeUserScramCredentials(sa_req_t *req); /* security/handle_scram.c */
sa_err_t sa_handle_AlterUserScramCredentials(sa_req_t *req);    /* security/handle_scram.c */

#endif
