/*
 * handle_group.c - the coordinator's life cycle and timer, and FindCoordinator (key 10,
 * v0-4): a single node coordinates every group and every transactional id, so the answer is
 * always this broker; v4 batches several keys in one request.
 */
#include "broker/handle_group.h"

#include "broker/handle_txn.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "broker/security/listener.h"
#include "core/mem.h"
#include "core/time.h"

static void on_timer(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    (void)loop;
    (void)timer;
    sa_broker_t *broker = arg;
    sa_gcoord_tick(broker->coord, sa_mono_ms());
    sa_group_rearm(broker);
}

void sa_group_rearm(sa_broker_t *broker) {
    int64_t next = sa_gcoord_next_deadline(broker->coord);
    if (next == INT64_MAX) {
        sa_timer_stop(broker->loop, &broker->_coord_timer);
        return;
    }
    int64_t delay = next - sa_mono_ms();
    sa_timer_start(broker->loop, &broker->_coord_timer, delay > 0 ? delay : 0, on_timer, broker);
}

/* A failed sync rebuilt the offsets from the metadata log: groups they name come back, and the
 * transaction coordinator starts over from its records. */
static void on_offsets_rebuilt(void *arg) {
    sa_broker_t *broker = arg;
    sa_gcoord_load_groups(broker->coord, sa_mono_ms());
    sa_group_rearm(broker);
    sa_txn_rebuilt(broker);
}

void sa_group_open(sa_broker_t *broker) {
    const sa_broker_conf_t *conf = broker->conf;
    sa_gcoord_conf_t gconf;
    sa_gcoord_conf_defaults(&gconf);
    gconf.min_session_timeout_ms = (int32_t)SA_MIN(conf->group_min_session_timeout_ms, INT32_MAX);
    gconf.max_session_timeout_ms = (int32_t)SA_MIN(conf->group_max_session_timeout_ms, INT32_MAX);
    gconf.initial_rebalance_delay_ms = (int32_t)SA_MIN(conf->group_initial_rebalance_delay_ms, INT32_MAX);
    gconf.offsets_retention_ms = conf->offsets_retention_minutes * 60000;
    broker->coord = sa_gcoord_new(&gconf, broker->metastore.offsets, sa_mono_ms());
    broker->metastore.on_rebuilt = on_offsets_rebuilt;
    broker->metastore.on_rebuilt_arg = broker;
    sa_group_rearm(broker);
}

void sa_group_close(sa_broker_t *broker) {
    if (broker->loop) sa_timer_stop(broker->loop, &broker->_coord_timer);
    broker->metastore.on_rebuilt = NULL;
    sa_gcoord_free(broker->coord);
    broker->coord = NULL;
}

/* ---- FindCoordinator ---------------------------------------------------------------------- */

/* A key's error: its type, its value, then DESCRIBE on the group or transactional id it names. */
static int16_t key_error(sa_req_t *req, int8_t key_type, sa_str_t key) {
    if (key_type != 0 && key_type != 1) return SA_ERR_INVALID_REQUEST;
    if (key_type == 0 && key.len <= 0) return SA_ERR_INVALID_GROUP_ID;
    return sa_kit_code(sa_kit_authorize(req, SA_ACL_DESCRIBE,
                                        key_type == 0 ? SA_RESOURCE_GROUP : SA_RESOURCE_TRANSACTIONAL_ID,
                                        sa_kit_str(req, key)));
}

sa_err_t sa_handle_FindCoordinator(sa_req_t *req) {
    sa_FindCoordinatorRequest_t in;
    sa_FindCoordinatorResponse_t out;
    sa_broker_t *broker = req->broker;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_FindCoordinatorResponse_init(&out);
    sa_str_t host = sa_str(req->listener->adv_host);
    if (req->ApiVersion < 4) {
        out.ErrorCode = key_error(req, in.KeyType, in.Key);
        out.ErrorMessage = SA_STR_NULL;
        out.NodeId = out.ErrorCode ? -1 : broker->node_id;
        out.Host = out.ErrorCode ? SA_STR("") : host;
        out.Port = out.ErrorCode ? -1 : req->listener->adv_port;
    } else {
        if (!SA_KIT_ARRAY(req, out.Coordinators, in.CoordinatorKeys_count)) return SA_ERR_TOOBIG;
        for (int32_t i = 0; i < out.Coordinators_count; i++) {
            sa_FindCoordinatorResponse_Coordinator_t *c = &out.Coordinators[i];
            sa_FindCoordinatorResponse_Coordinator_init(c);
            c->Key = in.CoordinatorKeys[i];
            c->ErrorCode = key_error(req, in.KeyType, in.CoordinatorKeys[i]);
            c->ErrorMessage = SA_STR_NULL;
            c->NodeId = c->ErrorCode ? -1 : broker->node_id;
            c->Host = c->ErrorCode ? SA_STR("") : host;
            c->Port = c->ErrorCode ? -1 : req->listener->adv_port;
        }
    }
    return sa_kit_encode(req, &out);
}
