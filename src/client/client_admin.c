/*
 * client_admin.c - admin requests through librdkafka's Admin API: the options and the wait for the
 * result, shared by the tools and the console so both bound and report a request alike.
 */
#include <stdio.h>

#include "client/client.h"

#define QUEUE_MARGIN_MS 2000 /* beyond the request timeout: the hop through the result queue */

rd_kafka_AdminOptions_t *sa_client_admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op, int timeout_ms) {
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, op);
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof(errstr));
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
        op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS || op == RD_KAFKA_ADMIN_OP_DELETERECORDS)
        rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr, sizeof(errstr));
    return opts;
}

rd_kafka_event_t *sa_client_admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t type, int timeout_ms,
                                       int *timed_out, char *errstr, size_t errstr_size) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + QUEUE_MARGIN_MS);
    if (timed_out) *timed_out = ev == NULL;
    if (!ev) {
        snprintf(errstr, errstr_size, "no answer within %.1f s", (double)timeout_ms / 1000.0);
        return NULL;
    }
    if (rd_kafka_event_type(ev) != type) {
        snprintf(errstr, errstr_size, "unexpected event %s", rd_kafka_event_name(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        snprintf(errstr, errstr_size, "%s", rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}
