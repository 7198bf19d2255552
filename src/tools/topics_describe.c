/*
 * topics_describe.c - topic metadata, offsets and config overrides; see topics_describe.h.
 *
 * Metadata is always asked for all topics: asking for one named topic can auto-create it on a
 * broker with auto.create.topics.enable, and describing must never create anything.
 */
#include "tools/topics_describe.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static const struct rd_kafka_metadata *all_metadata(const char *cmd, rd_kafka_t *rk,
                                                    const sa_tools_conn_t *conn) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, (int)conn->timeout_ms);
    if (err) {
        sa_cli_error(cmd, "metadata from %s: %s", sa_client_bootstrap(&conn->client), rd_kafka_err2str(err));
        return NULL;
    }
    return md;
}

static const struct rd_kafka_metadata_topic *find(const struct rd_kafka_metadata *md, const char *topic) {
    for (int i = 0; i < md->topic_cnt; i++)
        if (!strcmp(md->topics[i].topic, topic) &&
            md->topics[i].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            return &md->topics[i];
    return NULL;
}

int sa_tools_topic_exists(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn, const char *topic) {
    const struct rd_kafka_metadata *md = all_metadata(cmd, rk, conn);
    if (!md) return -1;
    int found = find(md, topic) != NULL;
    rd_kafka_metadata_destroy(md);
    return found;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int sa_tools_topic_list(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn, int exclude_internal,
                        sa_strlist_t *out) {
    const struct rd_kafka_metadata *md = all_metadata(cmd, rk, conn);
    if (!md) return -1;
    size_t first = out->n;
    for (int i = 0; i < md->topic_cnt; i++) {
        if (md->topics[i].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
        if (exclude_internal && !strncmp(md->topics[i].topic, "__", 2)) continue;
        sa_strlist_add(out, md->topics[i].topic);
    }
    if (out->n > first) qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_str);
    rd_kafka_metadata_destroy(md);
    return 0;
}

int sa_tools_topic_describe_configs(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn,
                                    const char *topic, sa_strlist_t *out) {
    int rc = -1;
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, conn);
    rd_kafka_DescribeConfigs(rk, &cr, 1, ao, q);
    rd_kafka_event_t *ev = sa_tools_admin_wait(cmd, q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, conn);
    if (!ev) goto out;
    size_t cnt;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &cnt);
    if (!cnt || rd_kafka_ConfigResource_error(res[0])) {
        const char *msg = cnt ? rd_kafka_ConfigResource_error_string(res[0]) : NULL;
        sa_cli_error(cmd, "configs of %s: %s", topic,
                     msg && *msg ? msg
                     : cnt       ? rd_kafka_err2str(rd_kafka_ConfigResource_error(res[0]))
                                 : "no answer");
        goto out;
    }
    size_t n;
    const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(res[0], &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_ConfigSource_t src = rd_kafka_ConfigEntry_source(entries[i]);
        /* Overrides set on the topic; old brokers report no source, only is_default. */
        int set_on_topic =
            src == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG ||
            (src == RD_KAFKA_CONFIG_SOURCE_UNKNOWN_CONFIG && !rd_kafka_ConfigEntry_is_default(entries[i]));
        if (!set_on_topic || rd_kafka_ConfigEntry_is_sensitive(entries[i])) continue;
        const char *v = rd_kafka_ConfigEntry_value(entries[i]);
        size_t len = strlen(rd_kafka_ConfigEntry_name(entries[i])) + (v ? strlen(v) : 0) + 2;
        char *kv = sa_malloc(len);
        snprintf(kv, len, "%s=%s", rd_kafka_ConfigEntry_name(entries[i]), v ? v : "");
        sa_strlist_add(out, kv);
        free(kv);
    }
    rc = 0;
out:
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(cr);
    return rc;
}

static int cmp_part(const void *a, const void *b) {
    const sa_tools_topic_part_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int32_t *copy_ids(const int32_t *v, int n) {
    int32_t *c = sa_calloc(n > 0 ? (size_t)n : 1, sizeof(*c));
    if (n > 0) memcpy(c, v, (size_t)n * sizeof(*c));
    return c;
}

int sa_tools_topic_describe(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn, const char *topic,
                            sa_tools_topic_t *td) {
    memset(td, 0, sizeof(*td));
    const struct rd_kafka_metadata *md = all_metadata(cmd, rk, conn);
    if (!md) return -1;
    const struct rd_kafka_metadata_topic *mt = find(md, topic);
    if (!mt) {
        sa_cli_error(cmd, "topic %s does not exist", topic);
        rd_kafka_metadata_destroy(md);
        return -1;
    }
    td->name = sa_strdup(topic);
    td->npart = mt->partition_cnt;
    td->parts = sa_calloc(td->npart > 0 ? (size_t)td->npart : 1, sizeof(*td->parts));
    for (int i = 0; i < td->npart; i++) {
        const struct rd_kafka_metadata_partition *mp = &mt->partitions[i];
        sa_tools_topic_part_t *p = &td->parts[i];
        p->id = mp->id;
        p->leader = mp->leader;
        p->replicas = copy_ids(mp->replicas, mp->replica_cnt);
        p->nreplicas = mp->replica_cnt;
        p->isr = copy_ids(mp->isrs, mp->isr_cnt);
        p->nisr = mp->isr_cnt;
        p->err = mp->err;
    }
    rd_kafka_metadata_destroy(md);
    qsort(td->parts, (size_t)td->npart, sizeof(*td->parts), cmp_part);
    for (int i = 0; i < td->npart; i++) {
        sa_tools_topic_part_t *p = &td->parts[i];
        p->earliest = p->latest = -1;
        if (rd_kafka_query_watermark_offsets(rk, topic, p->id, &p->earliest, &p->latest,
                                             (int)conn->timeout_ms))
            p->earliest = p->latest = -1;
    }
    /* Partitions without configs beat no answer: a broker without DescribeConfigs still gets
     * described (the reason is on stderr) and td->configs_unknown says so. */
    if (sa_tools_topic_describe_configs(cmd, rk, conn, topic, &td->configs)) td->configs_unknown = 1;
    return 0;
}

void sa_tools_topic_free(sa_tools_topic_t *td) {
    for (int i = 0; i < td->npart; i++) {
        free(td->parts[i].replicas);
        free(td->parts[i].isr);
    }
    free(td->parts);
    free(td->name);
    sa_strlist_free(&td->configs);
    memset(td, 0, sizeof(*td));
}

static void print_ids(const int32_t *v, int n, FILE *out) {
    for (int i = 0; i < n; i++) fprintf(out, "%s%d", i ? "," : "", v[i]);
}

void sa_tools_topic_print(const sa_tools_topic_t *td, FILE *out) {
    int rf = td->npart ? td->parts[0].nreplicas : 0;
    fprintf(out, "Topic: %s\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: ", td->name, td->npart, rf);
    for (size_t i = 0; i < td->configs.n; i++) fprintf(out, "%s%s", i ? "," : "", td->configs.v[i]);
    fputs(td->configs_unknown ? "(unknown)\n" : "\n", out);
    for (int i = 0; i < td->npart; i++) {
        const sa_tools_topic_part_t *p = &td->parts[i];
        fprintf(out, "\tTopic: %s\tPartition: %d\tLeader: %d\tReplicas: ", td->name, p->id, p->leader);
        print_ids(p->replicas, p->nreplicas, out);
        fputs("\tIsr: ", out);
        print_ids(p->isr, p->nisr, out);
        if (p->earliest >= 0)
            fprintf(out, "\tEarliest: %lld\tLatest: %lld", (long long)p->earliest, (long long)p->latest);
        else
            fputs("\tEarliest: -\tLatest: -", out);
        if (p->err) fprintf(out, "\tError: %s", rd_kafka_err2name(p->err));
        fputc('\n', out);
    }
}

static json_t *ids_json(const int32_t *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_integer(v[i]));
    return a;
}

json_t *sa_tools_topic_to_json(const sa_tools_topic_t *td) {
    json_t *o = json_object(), *cfg = json_object(), *parts = json_array();
    json_object_set_new(o, "topic", json_string(td->name));
    json_object_set_new(o, "partition_count", json_integer(td->npart));
    json_object_set_new(o, "replication_factor", json_integer(td->npart ? td->parts[0].nreplicas : 0));
    for (size_t i = 0; i < td->configs.n; i++) {
        const char *kv = td->configs.v[i], *eq = strchr(kv, '=');
        char *k = sa_strndup(kv, (size_t)(eq - kv));
        json_object_set_new(cfg, k, json_string(eq + 1));
        free(k);
    }
    json_object_set_new(o, "configs", td->configs_unknown ? (json_decref(cfg), json_null()) : cfg);
    for (int i = 0; i < td->npart; i++) {
        const sa_tools_topic_part_t *p = &td->parts[i];
        json_t *jp = json_object();
        json_object_set_new(jp, "partition", json_integer(p->id));
        json_object_set_new(jp, "leader", json_integer(p->leader));
        json_object_set_new(jp, "replicas", ids_json(p->replicas, p->nreplicas));
        json_object_set_new(jp, "isr", ids_json(p->isr, p->nisr));
        json_object_set_new(jp, "earliest_offset",
                            p->earliest >= 0 ? json_integer(p->earliest) : json_null());
        json_object_set_new(jp, "latest_offset", p->latest >= 0 ? json_integer(p->latest) : json_null());
        if (p->err) json_object_set_new(jp, "error", json_string(rd_kafka_err2name(p->err)));
        json_array_append_new(parts, jp);
    }
    json_object_set_new(o, "partitions", parts);
    return o;
}
