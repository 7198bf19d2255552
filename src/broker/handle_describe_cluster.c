/*
 * handle_describe_cluster.c - DescribeCluster (key 60, v0-1): the cluster id, the controller
 * and the one broker, which is all three roles at once.
 *
 * EndpointType (v1): 1 (brokers) is answered; 2 (controllers, KIP-919) is refused with
 * INVALID_REQUEST, since this node takes no controller connections. Cluster authorized
 * operations: authz.h's bitfield when IncludeClusterAuthorizedOperations, else INT32_MIN ("not
 * provided"), as Kafka does.
 */
#include "broker/handlers.h"
#include "broker/kit.h"
#include "broker/security/listener.h"

#define ENDPOINT_BROKERS 1

sa_err_t sa_handle_DescribeCluster(sa_req_t *req) {
    sa_broker_t *broker = req->broker;
    sa_DescribeClusterRequest_t creq;
    sa_err_t err = sa_kit_decode(req, &creq);
    if (err != SA_OK) return err;
    sa_DescribeClusterResponse_t resp;
    sa_DescribeClusterResponse_init(&resp);
    sa_DescribeClusterResponse_DescribeClusterBroker_t self;
    sa_DescribeClusterResponse_DescribeClusterBroker_init(&self);
    resp.EndpointType = creq.EndpointType;
    if (req->ApiVersion >= 1 && creq.EndpointType != ENDPOINT_BROKERS) {
        resp.ErrorCode = SA_ERR_INVALID_REQUEST;
        resp.ErrorMessage = sa_str("samsa serves only the broker endpoint type (1)");
        return sa_kit_encode(req, &resp);
    }
    self.BrokerId = broker->node_id;
    self.Host = sa_str(req->listener->adv_host);
    self.Port = req->listener->adv_port;
    resp.ClusterId = sa_str(broker->cluster_id);
    resp.ControllerId = broker->node_id;
    resp.Brokers = &self;
    resp.Brokers_count = 1;
    /* as Kafka: the cluster's operations only to a principal that may DESCRIBE it, else 0 */
    if (creq.IncludeClusterAuthorizedOperations)
        resp.ClusterAuthorizedOperations =
            sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_CLUSTER, "") == SA_OK
                ? sa_authz_operations(req, SA_RESOURCE_CLUSTER, "")
                : 0;
    return sa_kit_encode(req, &resp);
}
