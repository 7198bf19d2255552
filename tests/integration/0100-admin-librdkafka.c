/*
 * 0100-admin-librdkafka: the broker's admin APIs through librdkafka's admin client (the one
 * samsa's own tools use): CreateTopics (batch, validate-only, default partition count, manual
 * assignment, and each of Kafka's error codes), DescribeConfigs of a topic and of the broker,
 * AlterConfigs (wholesale replacement, validation), CreatePartitions 3 -> 5 and producing to the
 * new partition, DeleteRecords, and DeleteTopics removing the topic's files.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "group_test.h"

static rd_kafka_event_t *wait_result(rd_kafka_queue_t *q, int type) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, th_scaled_ms(20000));
    GT_ASSERT(ev, "no admin result");
    GT_ASSERT(rd_kafka_event_type(ev) == type, "event type %d, expected %d", rd_kafka_event_type(ev), type);
    GT_ASSERT(!rd_kafka_event_error(ev), "admin call: %s", rd_kafka_event_error_string(ev));
    return ev;
}

static rd_kafka_AdminOptions_t *options(rd_kafka_t *adm, rd_kafka_admin_op_t op, int validate_only) {
    char errstr[256];
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(adm, op);
    if (validate_only)
        GT_ASSERT(!rd_kafka_AdminOptions_set_validate_only(opt, 1, errstr, sizeof(errstr)), "%s", errstr);
    return opt;
}

/* Create one topic; @returns its error code (message printed on a surprise). */
static rd_kafka_resp_err_t create(rd_kafka_t *adm, rd_kafka_NewTopic_t *nt, int validate_only) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    rd_kafka_AdminOptions_t *opt = options(adm, RD_KAFKA_ADMIN_OP_CREATETOPICS, validate_only);
    rd_kafka_CreateTopics(adm, &nt, 1, opt, q);
    rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    size_t n;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    GT_ASSERT(n == 1, "%zu results", n);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[0]);
    if (err) {
        const char *msg = rd_kafka_topic_result_error_string(tr[0]);
        GT_ASSERT(msg && *msg, "error %s without a message", rd_kafka_err2name(err));
        printf("create %.40s: %s (%s)\n", rd_kafka_topic_result_name(tr[0]), rd_kafka_err2name(err), msg);
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return err;
}

static rd_kafka_NewTopic_t *new_topic(const char *name, int partitions, int rf) {
    char errstr[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, partitions, rf, errstr, sizeof(errstr));
    GT_ASSERT(nt, "NewTopic %s: %s", name, errstr);
    return nt;
}

/* @returns the partition count of @p topic in fresh metadata, -1 if absent. */
static int partitions_of(rd_kafka_t *rk, const char *topic) {
    const struct rd_kafka_metadata *md;
    GT_ASSERT(!rd_kafka_metadata(rk, 1, NULL, &md, th_scaled_ms(10000)), "metadata");
    int n = -1;
    for (int i = 0; i < md->topic_cnt; i++)
        if (!strcmp(md->topics[i].topic, topic)) n = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return n;
}

typedef struct entry_s {
    char value[64];
    int source, read_only, found;
} entry_t;

/* Describe @p type/@p name; fill @p want[i] for @p names[i]; @returns the number of entries. */
static size_t describe(rd_kafka_t *adm, rd_kafka_ResourceType_t type, const char *name,
                       const char *const *names, entry_t *want, int *others_default) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(type, name);
    rd_kafka_DescribeConfigs(adm, &res, 1, NULL, q);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
    size_t nr, n;
    const rd_kafka_ConfigResource_t **rr =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nr);
    GT_ASSERT(nr == 1, "%zu resources", nr);
    GT_ASSERT(!rd_kafka_ConfigResource_error(rr[0]), "describe %s: %s", name,
              rd_kafka_ConfigResource_error_string(rr[0]));
    const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(rr[0], &n);
    *others_default = 1;
    for (size_t i = 0; i < n; i++) {
        const char *en = rd_kafka_ConfigEntry_name(ce[i]);
        int listed = 0;
        for (int k = 0; names[k]; k++)
            if (!strcmp(en, names[k])) {
                const char *v = rd_kafka_ConfigEntry_value(ce[i]);
                snprintf(want[k].value, sizeof(want[k].value), "%s", v ? v : "(null)");
                want[k].source = rd_kafka_ConfigEntry_source(ce[i]);
                want[k].read_only = rd_kafka_ConfigEntry_is_read_only(ce[i]);
                want[k].found = 1;
                listed = 1;
            }
        if (!listed && rd_kafka_ConfigEntry_source(ce[i]) != RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG)
            *others_default = 0;
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    return n;
}

/* AlterConfigs of topic @p name with NULL-terminated key, value pairs. @returns the resource's error. */
static rd_kafka_resp_err_t alter(rd_kafka_t *adm, rd_kafka_ResourceType_t type, const char *name,
                                 const char *const *kv) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(type, name);
    for (int i = 0; kv[i]; i += 2)
        GT_ASSERT(!rd_kafka_ConfigResource_set_config(res, kv[i], kv[i + 1]), "set");
    rd_kafka_AlterConfigs(adm, &res, 1, NULL, q);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
    size_t nr;
    const rd_kafka_ConfigResource_t **rr =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &nr);
    GT_ASSERT(nr == 1, "%zu resources", nr);
    rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(rr[0]);
    if (err)
        printf("alter %s: %s (%s)\n", name, rd_kafka_err2name(err),
               rd_kafka_ConfigResource_error_string(rr[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    return err;
}

static rd_kafka_resp_err_t grow(rd_kafka_t *adm, const char *topic, int total, int validate_only) {
    char errstr[256];
    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    rd_kafka_NewPartitions_t *np = rd_kafka_NewPartitions_new(topic, (size_t)total, errstr, sizeof(errstr));
    GT_ASSERT(np, "%s", errstr);
    rd_kafka_AdminOptions_t *opt = options(adm, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, validate_only);
    rd_kafka_CreatePartitions(adm, &np, 1, opt, q);
    rd_kafka_NewPartitions_destroy(np);
    rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT);
    size_t n;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
    GT_ASSERT(n == 1, "%zu results", n);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[0]);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_queue_destroy(q);
    return err;
}

/* DeleteRecords before @p offset on @p topic/0; @returns the error, *low the new low watermark. */
static rd_kafka_resp_err_t delete_records(rd_kafka_t *adm, const char *topic, int64_t offset, int64_t *low) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, topic, 0)->offset = offset;
    rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(tl);
    rd_kafka_topic_partition_list_destroy(tl);
    rd_kafka_DeleteRecords(adm, &dr, 1, NULL, q);
    rd_kafka_DeleteRecords_destroy(dr);
    rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_DELETERECORDS_RESULT);
    const rd_kafka_topic_partition_list_t *res =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
    GT_ASSERT(res && res->cnt == 1, "DeleteRecords result");
    rd_kafka_resp_err_t err = res->elems[0].err;
    *low = res->elems[0].offset;
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    return err;
}

static rd_kafka_resp_err_t delete_topic(rd_kafka_t *adm, const char *topic) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
    rd_kafka_DeleteTopics(adm, &dt, 1, NULL, q);
    rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    size_t n;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    GT_ASSERT(n == 1, "%zu results", n);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[0]);
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    return err;
}

/* @returns how many entries of @p dir start with @p prefix. */
static int count_entries(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    GT_ASSERT(d, "opendir %s", dir);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) n += !strncmp(de->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

#define EXPECT_ERR(call, want)                                                                               \
    do {                                                                                                     \
        rd_kafka_resp_err_t got_ = (call);                                                                   \
        GT_ASSERT(got_ == (want), "%s: %s, expected %s", #call, rd_kafka_err2name(got_),                     \
                  rd_kafka_err2name(want));                                                                  \
    } while (0)

static void test_create(rd_kafka_t *adm, const char *data_dir) {
    char errstr[256];
    rd_kafka_NewTopic_t *nt = new_topic("kafka-logs", 3, 1);
    GT_ASSERT(!rd_kafka_NewTopic_set_config(nt, "retention.ms", "604800000"), "set_config");
    EXPECT_ERR(create(adm, nt, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    GT_ASSERT(partitions_of(adm, "kafka-logs") == 3, "kafka-logs has %d partitions",
              partitions_of(adm, "kafka-logs"));
    GT_ASSERT(count_entries(data_dir, "kafka-logs-") == 3, "partition directories");
    /* -1 partitions and -1 replication factor: the broker's defaults (num.partitions=2) */
    EXPECT_ERR(create(adm, new_topic("user-events", -1, -1), 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    GT_ASSERT(partitions_of(adm, "user-events") == 2, "user-events has %d partitions",
              partitions_of(adm, "user-events"));
    /* validate only: checked, not created */
    EXPECT_ERR(create(adm, new_topic("dry-run", 4, 1), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    GT_ASSERT(partitions_of(adm, "dry-run") == -1, "validate-only created the topic");
    EXPECT_ERR(create(adm, new_topic("kafka-logs", 4, 1), 1), RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
    /* manual assignment: the one broker (0) is fine, another broker is not */
    nt = new_topic("assigned", 2, -1);
    int32_t me = 0, other = 7;
    for (int p = 0; p < 2; p++)
        GT_ASSERT(!rd_kafka_NewTopic_set_replica_assignment(nt, p, &me, 1, errstr, sizeof(errstr)), "%s",
                  errstr);
    EXPECT_ERR(create(adm, nt, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    GT_ASSERT(partitions_of(adm, "assigned") == 2, "assigned: %d partitions", partitions_of(adm, "assigned"));
    nt = new_topic("assigned-elsewhere", 1, -1);
    GT_ASSERT(!rd_kafka_NewTopic_set_replica_assignment(nt, 0, &other, 1, errstr, sizeof(errstr)), "%s",
              errstr);
    EXPECT_ERR(create(adm, nt, 0), RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT);

    /* Kafka's error codes for what cannot be created; none of them leaves anything behind */
    char longname[251];
    memset(longname, 'x', 250);
    longname[250] = 0;
    EXPECT_ERR(create(adm, new_topic("bad name!", 1, 1), 0), RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
    EXPECT_ERR(create(adm, new_topic(longname, 1, 1), 0), RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
    EXPECT_ERR(create(adm, new_topic("..", 1, 1), 0), RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
    EXPECT_ERR(create(adm, new_topic("kafka-logs", 3, 1), 0), RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
    EXPECT_ERR(create(adm, new_topic("zero", 0, 1), 0), RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
    EXPECT_ERR(create(adm, new_topic("three-copies", 1, 3), 0), RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR);
    nt = new_topic("bad-config", 1, 1);
    GT_ASSERT(!rd_kafka_NewTopic_set_config(nt, "retention.ms", "soon"), "set_config");
    EXPECT_ERR(create(adm, nt, 0), RD_KAFKA_RESP_ERR_INVALID_CONFIG);
    nt = new_topic("unknown-config", 1, 1);
    GT_ASSERT(!rd_kafka_NewTopic_set_config(nt, "no.such.config", "1"), "set_config");
    EXPECT_ERR(create(adm, nt, 0), RD_KAFKA_RESP_ERR_INVALID_CONFIG);
    GT_ASSERT(partitions_of(adm, "zero") == -1 && partitions_of(adm, "bad-config") == -1,
              "a failed create left a topic");
    GT_ASSERT(count_entries(data_dir, "bad") == 0 && count_entries(data_dir, "x") == 0,
              "a failed create left files");
}

static void test_configs(rd_kafka_t *adm) {
    const char *names[] = {"retention.ms", "cleanup.policy", "segment.bytes", NULL};
    entry_t e[3];
    int others_default;
    memset(e, 0, sizeof(e));
    size_t n = describe(adm, RD_KAFKA_RESOURCE_TOPIC, "kafka-logs", names, e, &others_default);
    GT_ASSERT(n >= 25, "only %zu config entries", n);
    GT_ASSERT(e[0].found && !strcmp(e[0].value, "604800000"), "retention.ms = %s", e[0].value);
    GT_ASSERT(e[0].source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG, "retention.ms source %d",
              e[0].source);
    GT_ASSERT(e[1].found && !strcmp(e[1].value, "delete") &&
                  e[1].source == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG,
              "cleanup.policy %s source %d", e[1].value, e[1].source);
    GT_ASSERT(others_default, "an unset topic config is not DEFAULT_CONFIG");
    GT_ASSERT(!e[0].read_only, "topic configs are writable");

    /* AlterConfigs replaces the topic's configs wholesale, as in Kafka */
    EXPECT_ERR(alter(adm, RD_KAFKA_RESOURCE_TOPIC, "kafka-logs",
                     (const char *[]){"retention.ms", "86400000", "segment.bytes", "1048576", NULL}),
               RD_KAFKA_RESP_ERR_NO_ERROR);
    memset(e, 0, sizeof(e));
    describe(adm, RD_KAFKA_RESOURCE_TOPIC, "kafka-logs", names, e, &others_default);
    GT_ASSERT(!strcmp(e[0].value, "86400000") && !strcmp(e[2].value, "1048576") &&
                  e[2].source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG,
              "after alter: retention.ms %s, segment.bytes %s", e[0].value, e[2].value);
    EXPECT_ERR(alter(adm, RD_KAFKA_RESOURCE_TOPIC, "kafka-logs",
                     (const char *[]){"retention.ms", "604800000", NULL}),
               RD_KAFKA_RESP_ERR_NO_ERROR);
    memset(e, 0, sizeof(e));
    describe(adm, RD_KAFKA_RESOURCE_TOPIC, "kafka-logs", names, e, &others_default);
    GT_ASSERT(!strcmp(e[2].value, "1073741824") && e[2].source == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG,
              "segment.bytes not reset by a wholesale alter: %s (source %d)", e[2].value, e[2].source);
    /* a bad value changes nothing */
    EXPECT_ERR(alter(adm, RD_KAFKA_RESOURCE_TOPIC, "kafka-logs",
                     (const char *[]){"retention.ms", "1", "segment.bytes", "-4", NULL}),
               RD_KAFKA_RESP_ERR_INVALID_CONFIG);
    memset(e, 0, sizeof(e));
    describe(adm, RD_KAFKA_RESOURCE_TOPIC, "kafka-logs", names, e, &others_default);
    GT_ASSERT(!strcmp(e[0].value, "604800000"), "a failed alter changed retention.ms to %s", e[0].value);
    EXPECT_ERR(
        alter(adm, RD_KAFKA_RESOURCE_TOPIC, "no-such-topic", (const char *[]){"retention.ms", "1", NULL}),
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    /* broker configs are static: described read-only, altering them is refused */
    const char *bnames[] = {"num.partitions", "log.segment.bytes", NULL};
    memset(e, 0, sizeof(e));
    n = describe(adm, RD_KAFKA_RESOURCE_BROKER, "0", bnames, e, &others_default);
    GT_ASSERT(n >= 10, "only %zu broker entries", n);
    GT_ASSERT(e[0].found && !strcmp(e[0].value, "2") &&
                  e[0].source == RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG && e[0].read_only,
              "num.partitions %s source %d ro %d", e[0].value, e[0].source, e[0].read_only);
    GT_ASSERT(e[1].found && e[1].source == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG,
              "log.segment.bytes source %d", e[1].source);
    EXPECT_ERR(alter(adm, RD_KAFKA_RESOURCE_BROKER, "0", (const char *[]){"num.partitions", "5", NULL}),
               RD_KAFKA_RESP_ERR_INVALID_REQUEST);
}

static void test_partitions(rd_kafka_t *adm, const char *addr) {
    EXPECT_ERR(grow(adm, "kafka-logs", 6, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    GT_ASSERT(partitions_of(adm, "kafka-logs") == 3, "validate-only grew the topic");
    EXPECT_ERR(grow(adm, "kafka-logs", 5, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    GT_ASSERT(partitions_of(adm, "kafka-logs") == 5, "kafka-logs has %d partitions",
              partitions_of(adm, "kafka-logs"));
    EXPECT_ERR(grow(adm, "kafka-logs", 4, 0), RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
    EXPECT_ERR(grow(adm, "kafka-logs", 5, 0), RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
    EXPECT_ERR(grow(adm, "no-such-topic", 5, 0), RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    /* the new partition takes records */
    rd_kafka_t *p = gt_producer(addr, NULL);
    for (int i = 0; i < 3; i++) gt_produce(p, "kafka-logs", 4, "on-four", 7);
    gt_flush(p);
    GT_ASSERT(gt_dr_failed == 0, "producing to partition 4 failed");
    int64_t lo, hi;
    GT_ASSERT(!rd_kafka_query_watermark_offsets(p, "kafka-logs", 4, &lo, &hi, th_scaled_ms(10000)),
              "watermarks");
    GT_ASSERT(lo == 0 && hi == 3, "partition 4: %lld..%lld", (long long)lo, (long long)hi);
    rd_kafka_destroy(p);
}

static void test_delete_records(rd_kafka_t *adm, const char *addr) {
    rd_kafka_t *p = gt_producer(addr, NULL);
    for (int i = 0; i < 10; i++) gt_produce(p, "user-events", 0, "event", 5);
    gt_flush(p);
    int64_t low, lo, hi;
    EXPECT_ERR(delete_records(adm, "user-events", 4, &low), RD_KAFKA_RESP_ERR_NO_ERROR);
    GT_ASSERT(low == 4, "low watermark %lld", (long long)low);
    GT_ASSERT(!rd_kafka_query_watermark_offsets(p, "user-events", 0, &lo, &hi, th_scaled_ms(10000)),
              "watermarks");
    GT_ASSERT(lo == 4 && hi == 10, "after DeleteRecords: %lld..%lld", (long long)lo, (long long)hi);
    EXPECT_ERR(delete_records(adm, "user-events", 2, &low), RD_KAFKA_RESP_ERR_NO_ERROR);
    GT_ASSERT(low == 4, "an earlier offset moved the start to %lld", (long long)low);
    EXPECT_ERR(delete_records(adm, "user-events", 11, &low), RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE);
    EXPECT_ERR(delete_records(adm, "user-events", RD_KAFKA_OFFSET_END, &low), RD_KAFKA_RESP_ERR_NO_ERROR);
    GT_ASSERT(low == 10, "-1 (the HWM) gave low watermark %lld", (long long)low);
    GT_ASSERT(!rd_kafka_query_watermark_offsets(p, "user-events", 0, &lo, &hi, th_scaled_ms(10000)),
              "watermarks");
    GT_ASSERT(lo == 10 && hi == 10, "after DeleteRecords(-1): %lld..%lld", (long long)lo, (long long)hi);
    rd_kafka_destroy(p);
}

static void test_delete(rd_kafka_t *adm, const char *data_dir) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/topics/kafka-logs.topic", data_dir);
    struct stat st;
    GT_ASSERT(stat(path, &st) == 0, "no %s before delete", path);
    EXPECT_ERR(delete_topic(adm, "kafka-logs"), RD_KAFKA_RESP_ERR_NO_ERROR);
    GT_ASSERT(partitions_of(adm, "kafka-logs") == -1, "kafka-logs still listed");
    GT_ASSERT(count_entries(data_dir, "kafka-logs-") == 0, "partition directories left behind");
    GT_ASSERT(stat(path, &st) != 0, "%s left behind", path);
    EXPECT_ERR(delete_topic(adm, "kafka-logs"), RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    /* the name can be used again, empty */
    EXPECT_ERR(create(adm, new_topic("kafka-logs", 1, 1), 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    GT_ASSERT(partitions_of(adm, "kafka-logs") == 1, "recreated kafka-logs");
}

static th_proc_t broker;

/* A failed assertion exits: stop the broker and remove its data dir then too. */
static void stop_broker(void) {
    if (broker.pid) th_proc_stop(&broker, SIGKILL);
    th_proc_cleanup(&broker);
}

int main(void) {
    const char *args[] = {"-o", "num.partitions=2", "-o", "auto.create.topics.enable=false", NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    atexit(stop_broker);
    rd_kafka_t *adm = gt_client(RD_KAFKA_PRODUCER, broker.addr, NULL);
    test_create(adm, broker.data_dir);
    test_configs(adm);
    test_partitions(adm, broker.addr);
    test_delete_records(adm, broker.addr);
    test_delete(adm, broker.data_dir);
    rd_kafka_destroy(adm);
    int status = th_proc_stop(&broker, SIGTERM);
    GT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "broker exit status %d", status);
    printf("ok\n");
    return 0;
}
