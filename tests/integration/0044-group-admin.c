/*
 * 0044-group-admin: what Kafka's admin tools see, through librdkafka's admin API.
 * ListConsumerGroups lists a stable group and an Empty group that only holds offsets (with the
 * state filter of ListGroups v4, too); DescribeConsumerGroups shows the stable group's
 * assignor, its members with client id, host and assignment, and the Empty group's state;
 * DeleteGroups refuses a group with members (NON_EMPTY_GROUP) and deletes the Empty one.
 */
#include "group_test.h"

#define TOPIC "adm"

static rd_kafka_event_t *wait_event(rd_kafka_queue_t *q, int type) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, th_scaled_ms(20000));
    GT_ASSERT(ev, "no admin result");
    GT_ASSERT(rd_kafka_event_type(ev) == type, "event type %d, expected %d", rd_kafka_event_type(ev), type);
    GT_ASSERT(!rd_kafka_event_error(ev), "admin call: %s", rd_kafka_event_error_string(ev));
    return ev;
}

/* @returns the state of @p group in a ListConsumerGroups answer, -1 if absent. */
static int list_state(rd_kafka_t *adm, const char *group, int filter_state) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(adm, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    if (filter_state >= 0) {
        rd_kafka_consumer_group_state_t st = (rd_kafka_consumer_group_state_t)filter_state;
        rd_kafka_error_t *e = rd_kafka_AdminOptions_set_match_consumer_group_states(opt, &st, 1);
        GT_ASSERT(!e, "state filter");
    }
    rd_kafka_ListConsumerGroups(adm, opt, q);
    rd_kafka_event_t *ev = wait_event(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT);
    const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
    size_t n, nerr;
    const rd_kafka_ConsumerGroupListing_t **l = rd_kafka_ListConsumerGroups_result_valid(res, &n);
    rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    GT_ASSERT(nerr == 0, "%zu errors listing groups", nerr);
    int state = -1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rd_kafka_ConsumerGroupListing_group_id(l[i]), group)) {
            state = rd_kafka_ConsumerGroupListing_state(l[i]);
            /* a group that never had members has no protocol type: Kafka lists it as "simple" */
            int simple = rd_kafka_ConsumerGroupListing_is_simple_consumer_group(l[i]);
            GT_ASSERT(simple == !strcmp(group, "offsets_only"), "%s listed with simple=%d", group, simple);
        }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_queue_destroy(q);
    return state;
}

static rd_kafka_resp_err_t delete_group(rd_kafka_t *adm, const char *group) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    rd_kafka_DeleteGroup_t *dg = rd_kafka_DeleteGroup_new(group);
    rd_kafka_DeleteGroups(adm, &dg, 1, NULL, q);
    rd_kafka_DeleteGroup_destroy(dg);
    rd_kafka_event_t *ev = wait_event(q, RD_KAFKA_EVENT_DELETEGROUPS_RESULT);
    size_t n;
    const rd_kafka_group_result_t **gr =
        rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
    GT_ASSERT(n == 1, "%zu results", n);
    const rd_kafka_error_t *e = rd_kafka_group_result_error(gr[0]);
    rd_kafka_resp_err_t err = e ? rd_kafka_error_code(e) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    return err;
}

int main(void) {
    th_proc_t broker;
    const char *args[] = {"-o", "num.partitions=3", "-o", "auto.create.topics.enable=true", NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    rd_kafka_t *p = gt_producer(broker.addr, NULL);
    for (int i = 0; i < 30; i++) gt_produce(p, TOPIC, i % 3, "x", 1);
    gt_flush(p);
    rd_kafka_destroy(p);

    /* a stable group of two */
    rd_kafka_t *c1 = gt_consumer(broker.addr, "admin_group", (const char *[]){"client.id", "c-one", NULL});
    rd_kafka_t *c2 = gt_consumer(broker.addr, "admin_group", (const char *[]){"client.id", "c-two", NULL});
    gt_subscribe(c1, TOPIC);
    gt_subscribe(c2, TOPIC);
    int64_t deadline = th_now_ms() + th_scaled_ms(30000);
    while (!(gt_assigned(c1) > 0 && gt_assigned(c2) > 0 && gt_assigned(c1) + gt_assigned(c2) == 3)) {
        GT_ASSERT(th_now_ms() < deadline, "group did not settle");
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c1, 20);
        if (m) rd_kafka_message_destroy(m);
        m = rd_kafka_consumer_poll(c2, 20);
        if (m) rd_kafka_message_destroy(m);
    }
    /* a group that only holds offsets: a simple consumer commits without joining */
    rd_kafka_t *s = gt_consumer(broker.addr, "offsets_only", NULL);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, TOPIC, 1)->offset = 7;
    GT_ASSERT(rd_kafka_commit(s, tl, 0) == 0, "simple commit");
    rd_kafka_topic_partition_list_destroy(tl);
    rd_kafka_destroy(s);

    rd_kafka_t *adm = gt_client(RD_KAFKA_PRODUCER, broker.addr, NULL);
    GT_ASSERT(list_state(adm, "admin_group", -1) == RD_KAFKA_CONSUMER_GROUP_STATE_STABLE,
              "admin_group listed Stable");
    GT_ASSERT(list_state(adm, "offsets_only", -1) == RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY,
              "offsets_only listed Empty");
    GT_ASSERT(list_state(adm, "offsets_only", RD_KAFKA_CONSUMER_GROUP_STATE_STABLE) == -1, "state filter");
    GT_ASSERT(list_state(adm, "admin_group", RD_KAFKA_CONSUMER_GROUP_STATE_STABLE) ==
                  RD_KAFKA_CONSUMER_GROUP_STATE_STABLE,
              "state filter keeps Stable");

    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    const char *names[] = {"admin_group", "offsets_only"};
    rd_kafka_DescribeConsumerGroups(adm, names, 2, NULL, q);
    rd_kafka_event_t *ev = wait_event(q, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT);
    size_t n;
    const rd_kafka_ConsumerGroupDescription_t **gd =
        rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    GT_ASSERT(n == 2, "%zu descriptions", n);
    int parts_seen = 0, clients_seen = 0;
    for (size_t i = 0; i < n; i++) {
        const char *id = rd_kafka_ConsumerGroupDescription_group_id(gd[i]);
        GT_ASSERT(!rd_kafka_ConsumerGroupDescription_error(gd[i]), "%s: error", id);
        rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(gd[i]);
        size_t nm = rd_kafka_ConsumerGroupDescription_member_count(gd[i]);
        printf("%s: %s, assignor \"%s\", %zu members, coordinator %d\n", id,
               rd_kafka_consumer_group_state_name(st),
               rd_kafka_ConsumerGroupDescription_partition_assignor(gd[i]), nm,
               rd_kafka_Node_id(rd_kafka_ConsumerGroupDescription_coordinator(gd[i])));
        if (!strcmp(id, "offsets_only")) {
            GT_ASSERT(st == RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY && nm == 0,
                      "offsets_only: Empty, no members");
            continue;
        }
        GT_ASSERT(st == RD_KAFKA_CONSUMER_GROUP_STATE_STABLE, "admin_group Stable");
        GT_ASSERT(!strcmp(rd_kafka_ConsumerGroupDescription_partition_assignor(gd[i]), "range"), "assignor");
        GT_ASSERT(nm == 2, "%zu members", nm);
        for (size_t k = 0; k < nm; k++) {
            const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(gd[i], k);
            const char *cid = rd_kafka_MemberDescription_client_id(md);
            clients_seen |= !strcmp(cid, "c-one") ? 1 : !strcmp(cid, "c-two") ? 2 : 0;
            GT_ASSERT(!strcmp(rd_kafka_MemberDescription_host(md), "/127.0.0.1"), "host %s",
                      rd_kafka_MemberDescription_host(md));
            GT_ASSERT(!strncmp(rd_kafka_MemberDescription_consumer_id(md), cid, strlen(cid)), "member id %s",
                      rd_kafka_MemberDescription_consumer_id(md));
            const rd_kafka_topic_partition_list_t *as =
                rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
            for (int j = 0; as && j < as->cnt; j++) {
                GT_ASSERT(!strcmp(as->elems[j].topic, TOPIC), "assigned topic %s", as->elems[j].topic);
                parts_seen |= 1 << as->elems[j].partition;
            }
        }
    }
    GT_ASSERT(clients_seen == 3, "both client ids described");
    GT_ASSERT(parts_seen == 7, "assignments cover partitions 0-2 (mask %d)", parts_seen);
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);

    GT_ASSERT(delete_group(adm, "admin_group") == RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP, "deleting a live group");
    GT_ASSERT(delete_group(adm, "offsets_only") == RD_KAFKA_RESP_ERR_NO_ERROR, "deleting an Empty group");
    GT_ASSERT(delete_group(adm, "offsets_only") == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND, "deleting it again");
    GT_ASSERT(list_state(adm, "offsets_only", -1) == -1, "deleted group still listed");

    rd_kafka_destroy(adm);
    rd_kafka_consumer_close(c1);
    rd_kafka_consumer_close(c2);
    rd_kafka_destroy(c1);
    rd_kafka_destroy(c2);
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "broker did not exit cleanly");
    th_proc_cleanup(&broker);
    printf("ok\n");
    return 0;
}
