/*
 * topic.c - topics: names, ids, partitions, configs, and their metadata files.
 *
 * The metadata file DIR/topics/NAME.topic (format in storage.h) is the single source of truth:
 * a topic exists iff its file does. Create writes it before making partition directories and
 * delete removes it before removing them, so a crash in between leaves either a topic whose
 * missing partition directories are made at the next open, or orphan directories that are
 * cleared before a topic of that name is created again.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "core/mem.h"
#include "storage/safe_file.h"
#include "storage/storage_int.h"
#include "core/sysio.h"

#define SET_ERR(...)                                                                                         \
    do {                                                                                                     \
        if (errstr) snprintf(errstr, errstr_size, __VA_ARGS__);                                              \
    } while (0)

#define META_MAX (1 << 20)

static sa_err_t check_name(const char *name, char *errstr, size_t errstr_size) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0) {
        SET_ERR("Topic name is empty");
        return SA_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if (n > 249) {
        SET_ERR("Topic name is longer than 249 characters");
        return SA_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if (!strcmp(name, ".") || !strcmp(name, "..")) {
        SET_ERR("Topic name cannot be \".\" or \"..\"");
        return SA_ERR_INVALID_TOPIC_EXCEPTION;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-')) {
            SET_ERR("Topic name \"%s\" is illegal, it contains a character other than ASCII "
                    "alphanumerics, '.', '_' and '-'",
                    name);
            return SA_ERR_INVALID_TOPIC_EXCEPTION;
        }
    }
    return SA_OK;
}

static void meta_path(const sa_store_t *store, const char *name, char *out, size_t size) {
    snprintf(out, size, "%s/topics/%s.topic", store->dir, name);
}

static sa_err_t write_meta(const sa_topic_t *topic, int32_t npart, char *const *set, char *errstr,
                           size_t errstr_size) {
    sa_buf_t b = SA_BUF_INIT(0);
    sa_buf_printf(&b, "version=1\nname=%s\nid=", topic->name);
    for (int i = 0; i < 16; i++) sa_buf_printf(&b, "%02x", topic->id[i]);
    sa_buf_printf(&b, "\npartitions=%d\n", (int)npart);
    for (size_t i = 0; i < sa_topic_config_rows(); i++)
        if (set[i]) sa_buf_printf(&b, "config.%s=%s\n", sa_topic_config_name((int)i), set[i]);
    char path[4096];
    meta_path(topic->store, topic->name, path, sizeof(path));
    sa_err_t err = sa_safe_file_write(path, b.data, b.len, errstr, errstr_size);
    sa_buf_free(&b);
    return err;
}

/* Check one config value for the metadata file and Kafka's rules. @returns row or -1 with err. */
static int check_config(const char *name, const char *value, sa_err_t *err, char *errstr,
                        size_t errstr_size) {
    int i = sa_topic_config_index(name ? name : "");
    if (i < 0) {
        SET_ERR("Unknown topic config name: %s", name ? name : "(null)");
        *err = SA_ERR_INVALID_CONFIG;
        return -1;
    }
    if (value && strpbrk(value, "\r\n")) {
        SET_ERR("Invalid value for configuration %s: line breaks are not allowed", name);
        *err = SA_ERR_INVALID_CONFIG;
        return -1;
    }
    if (value && (*err = sa_topic_config_check(i, value, errstr, errstr_size))) return -1;
    *err = SA_OK;
    return i;
}

static void free_set(char **set) {
    for (size_t i = 0; i < SA_TOPIC_CONFIG_MAX; i++) {
        free(set[i]);
        set[i] = NULL;
    }
}

void sa_topic_free(sa_topic_t *topic) {
    if (!topic) return;
    for (int32_t i = 0; i < topic->npart; i++) sa_partition_free(topic->parts[i]);
    free(topic->parts);
    free_set(topic->set);
    free_set(topic->eff);
    free(topic->name);
    free(topic);
}

/* Position where @p name is or would be inserted in the sorted list. */
static size_t topic_slot(const sa_store_t *store, const char *name, int *found) {
    size_t lo = 0, hi = store->ntopics;
    *found = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(store->topics[mid]->name, name);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void insert_topic(sa_store_t *store, sa_topic_t *topic) {
    int found;
    size_t at = topic_slot(store, topic->name, &found);
    if (store->ntopics == store->topics_cap) {
        store->topics_cap = store->topics_cap ? store->topics_cap * 2 : 16;
        store->topics = sa_realloc(store->topics, store->topics_cap * sizeof(*store->topics));
    }
    memmove(store->topics + at + 1, store->topics + at, (store->ntopics - at) * sizeof(*store->topics));
    store->topics[at] = topic;
    store->ntopics++;
}

/* Open partitions [from, to) of @p topic; on failure close the ones opened here. */
static sa_err_t open_partitions(sa_topic_t *topic, int32_t from, int32_t to, int fresh, int clean,
                                char *errstr, size_t errstr_size) {
    topic->parts = sa_realloc(topic->parts, (size_t)to * sizeof(*topic->parts));
    for (int32_t i = from; i < to; i++) {
        if (fresh) { /* leftovers of a deleted topic of the same name must not come back */
            char dir[4096];
            snprintf(dir, sizeof(dir), "%s/%s-%d", topic->store->dir, topic->name, (int)i);
            sa_partition_remove_dir(dir);
        }
        sa_err_t err = sa_partition_open(topic, i, clean, &topic->parts[i], errstr, errstr_size);
        if (err) {
            for (int32_t j = from; j < i; j++) sa_partition_free(topic->parts[j]);
            return err;
        }
    }
    topic->npart = to;
    return SA_OK;
}

sa_err_t sa_store_topic_create(sa_store_t *store, const char *name, int32_t partitions,
                               const sa_config_kv_t *configs, size_t nconfigs, int validate_only,
                               char *errstr, size_t errstr_size) {
    sa_err_t err = check_name(name, errstr, errstr_size);
    if (err) return err;
    if (sa_store_topic_find(store, name)) {
        SET_ERR("Topic '%s' already exists.", name);
        return SA_ERR_TOPIC_ALREADY_EXISTS;
    }
    if (partitions == -1) partitions = store->conf.num_partitions;
    if (partitions < 1 || partitions > SA_STORE_MAX_PARTITIONS) {
        SET_ERR("Number of partitions must be between 1 and %d, got %d", SA_STORE_MAX_PARTITIONS,
                (int)partitions);
        return SA_ERR_INVALID_PARTITIONS;
    }
    for (size_t i = 0; i < nconfigs; i++) {
        if (check_config(configs[i].name, configs[i].value ? configs[i].value : "", &err, errstr,
                         errstr_size) < 0)
            return err;
    }
    if (validate_only) return SA_OK;

    sa_topic_t *topic = sa_new(sa_topic_t);
    topic->store = store;
    topic->name = sa_strdup(name);
    if (getrandom(topic->id, sizeof(topic->id), 0) != (ssize_t)sizeof(topic->id)) {
        for (int i = 0; i < 16; i++) topic->id[i] = (uint8_t)rand(); /* never expected */
    }
    topic->id[6] = (uint8_t)((topic->id[6] & 0x0f) | 0x40); /* a version-4 UUID, as Kafka's */
    topic->id[8] = (uint8_t)((topic->id[8] & 0x3f) | 0x80);
    for (size_t i = 0; i < nconfigs; i++) {
        int row = sa_topic_config_index(configs[i].name);
        free(topic->set[row]);
        topic->set[row] = sa_strdup(configs[i].value ? configs[i].value : "");
    }
    sa_topic_config_resolve(topic);
    err = write_meta(topic, partitions, topic->set, errstr, errstr_size);
    if (!err) err = open_partitions(topic, 0, partitions, 1, 0, errstr, errstr_size);
    if (err) {
        char path[4096];
        meta_path(store, name, path, sizeof(path));
        sa_sysio.unlink(path);
        sa_topic_free(topic);
        sa_log_error("storage", "create topic %s: %s", name, errstr ? errstr : "storage error");
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    insert_topic(store, topic);
    sa_log_info("storage", "created topic %s with %d partitions", name, (int)partitions);
    return SA_OK;
}

sa_err_t sa_store_topic_delete(sa_store_t *store, const char *name, char *errstr, size_t errstr_size) {
    int found;
    size_t at = topic_slot(store, name, &found);
    if (!found) {
        SET_ERR("Topic '%s' does not exist", name);
        return SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    sa_topic_t *topic = store->topics[at];
    char path[4096];
    meta_path(store, name, path, sizeof(path));
    if (sa_sysio.unlink(path) && errno != ENOENT) {
        SET_ERR("unlink %s: %s", path, strerror(errno));
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    snprintf(path, sizeof(path), "%s/topics", store->dir);
    sa_sysio_fsync_dir(path);
    memmove(store->topics + at, store->topics + at + 1, (store->ntopics - at - 1) * sizeof(*store->topics));
    store->ntopics--;
    sa_cleaner_forget_topic(store, topic); /* its job's files go with the directories */
    for (int32_t i = 0; i < topic->npart; i++) {
        sa_partition_t *part = topic->parts[i];
        sa_store_forget_partition(store, part);
        char *dir = sa_strdup(part->dir);
        sa_partition_free(part);
        if (sa_partition_remove_dir(dir))
            sa_log_warn("storage",
                        "could not remove all of %s (%s); it is cleared if the topic is created again", dir,
                        strerror(errno));
        free(dir);
    }
    topic->npart = 0;
    sa_topic_free(topic);
    sa_sysio_fsync_dir(store->dir);
    sa_log_info("storage", "deleted topic %s", name);
    return SA_OK;
}

sa_err_t sa_store_topic_add_partitions(sa_store_t *store, const char *name, int32_t total, int validate_only,
                                       char *errstr, size_t errstr_size) {
    sa_topic_t *topic = sa_store_topic_find(store, name);
    if (!topic) {
        SET_ERR("Topic '%s' does not exist", name);
        return SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (total <= topic->npart || total > SA_STORE_MAX_PARTITIONS) {
        SET_ERR("Topic currently has %d partitions, which is higher than or equal to the requested %d",
                (int)topic->npart, (int)total);
        if (total > SA_STORE_MAX_PARTITIONS) SET_ERR("At most %d partitions", SA_STORE_MAX_PARTITIONS);
        return SA_ERR_INVALID_PARTITIONS;
    }
    if (validate_only) return SA_OK;
    int32_t old = topic->npart;
    sa_err_t err = write_meta(topic, total, topic->set, errstr, errstr_size);
    if (!err) err = open_partitions(topic, old, total, 1, 0, errstr, errstr_size);
    if (err) {
        topic->npart = old;
        write_meta(topic, old, topic->set, NULL, 0);
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    sa_log_info("storage", "topic %s now has %d partitions", name, (int)total);
    return SA_OK;
}

/* Apply an APPEND/SUBTRACT of the comma-separated @p items to the list @p cur. @returns new. */
static char *list_edit(const char *cur, const char *items, int subtract) {
    sa_buf_t b = SA_BUF_INIT(0);
    const char *lists[2] = {cur ? cur : "", subtract ? "" : items};
    for (int l = 0; l < 2; l++)
        for (const char *p = lists[l]; *p;) {
            size_t n = strcspn(p, ",");
            int drop = 0;
            if (subtract)
                for (const char *q = items; *q;) {
                    size_t m = strcspn(q, ",");
                    if (m == n && !strncmp(p, q, n)) drop = 1;
                    q += m + (q[m] == ',');
                }
            if (n && !drop) {
                if (b.len) sa_buf_putc(&b, ',');
                sa_buf_append(&b, p, n);
            }
            p += n + (p[n] == ',');
        }
    sa_buf_putc(&b, 0);
    return sa_buf_take(&b);
}

sa_err_t sa_store_topic_alter_configs(sa_store_t *store, const char *name, const sa_config_kv_t *kvs,
                                      const sa_config_op_t *ops, size_t n, int replace_all, int validate_only,
                                      char *errstr, size_t errstr_size) {
    sa_topic_t *topic = sa_store_topic_find(store, name);
    if (!topic) {
        SET_ERR("Topic '%s' does not exist", name);
        return SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    char *set[SA_TOPIC_CONFIG_MAX] = {0};
    sa_err_t err = SA_OK;
    if (!replace_all)
        for (size_t i = 0; i < SA_TOPIC_CONFIG_MAX; i++)
            if (topic->set[i]) set[i] = sa_strdup(topic->set[i]);
    for (size_t k = 0; k < n && !err; k++) {
        int op = ops ? (int)ops[k] : SA_CONFIG_OP_SET;
        const char *value = kvs[k].value;
        if (op == SA_CONFIG_OP_DELETE) value = NULL;
        int row = check_config(kvs[k].name, NULL, &err, errstr, errstr_size);
        if (row < 0) break;
        char *nv = NULL;
        if (op == SA_CONFIG_OP_APPEND || op == SA_CONFIG_OP_SUBTRACT) {
            sa_config_entry_t e;
            sa_topic_config_get(topic, (size_t)row, &e);
            if (e.vtype != SA_CONFIG_VALUE_LIST) {
                SET_ERR("Config %s is not a list; APPEND/SUBTRACT need a list config", kvs[k].name);
                err = SA_ERR_INVALID_REQUEST;
                break;
            }
            nv = list_edit(set[row] ? set[row] : e.value, value ? value : "", op == SA_CONFIG_OP_SUBTRACT);
        } else if (op != SA_CONFIG_OP_SET && op != SA_CONFIG_OP_DELETE) {
            SET_ERR("Unknown config operation %d", op);
            err = SA_ERR_INVALID_REQUEST;
            break;
        } else if (value) {
            nv = sa_strdup(value);
        }
        if (nv && check_config(kvs[k].name, nv, &err, errstr, errstr_size) < 0) {
            free(nv);
            break;
        }
        free(set[row]);
        set[row] = nv;
    }
    if (err || validate_only) goto out;
    err = write_meta(topic, topic->npart, set, errstr, errstr_size);
    if (err) goto out;
    for (size_t i = 0; i < SA_TOPIC_CONFIG_MAX; i++) { /* swap in the new set */
        char *t = topic->set[i];
        topic->set[i] = set[i];
        set[i] = t;
    }
    sa_topic_config_resolve(topic);
out:
    free_set(set);
    return err;
}

sa_topic_t *sa_store_topic_find(const sa_store_t *store, const char *name) {
    int found;
    size_t at = topic_slot(store, name, &found);
    return found ? store->topics[at] : NULL;
}

size_t sa_store_topic_count(const sa_store_t *store) { return store->ntopics; }

sa_topic_t *sa_store_topic_at(const sa_store_t *store, size_t i) {
    return i < store->ntopics ? store->topics[i] : NULL;
}

sa_partition_t *sa_store_partition(const sa_store_t *store, const char *topic, int32_t partition) {
    sa_topic_t *t = sa_store_topic_find(store, topic);
    return t ? sa_topic_partition(t, partition) : NULL;
}

const char *sa_topic_name(const sa_topic_t *topic) { return topic->name; }
const uint8_t *sa_topic_id(const sa_topic_t *topic) { return topic->id; }
int32_t sa_topic_partition_count(const sa_topic_t *topic) { return topic->npart; }

sa_partition_t *sa_topic_partition(const sa_topic_t *topic, int32_t i) {
    return i >= 0 && i < topic->npart ? topic->parts[i] : NULL;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Parse one metadata file into a new topic (partitions not opened). */
static sa_err_t parse_meta(sa_store_t *store, const char *path, const char *text, sa_topic_t **out,
                           int32_t *npart) {
    sa_topic_t *topic = sa_new(sa_topic_t);
    topic->store = store;
    int have_id = 0;
    *npart = 0;
    sa_err_t err = SA_ERR_CORRUPT;
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        char *l = sa_strndup(line, len);
        char *eq = strchr(l, '=');
        if (eq) {
            *eq = '\0';
            const char *v = eq + 1;
            if (!strcmp(l, "name")) {
                free(topic->name);
                topic->name = sa_strdup(v);
            } else if (!strcmp(l, "id") && strlen(v) == 32) {
                have_id = 1;
                for (int i = 0; i < 16; i++) {
                    int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
                    if (hi < 0 || lo < 0) {
                        have_id = 0; /* a damaged id: a fresh one is made below */
                        break;
                    }
                    topic->id[i] = (uint8_t)(hi << 4 | lo);
                }
            } else if (!strcmp(l, "partitions")) {
                *npart = (int32_t)strtol(v, NULL, 10);
            } else if (!strncmp(l, "config.", 7)) {
                sa_err_t cerr;
                int row = check_config(l + 7, v, &cerr, NULL, 0);
                if (row >= 0) {
                    free(topic->set[row]);
                    topic->set[row] = sa_strdup(v);
                } else {
                    sa_log_warn("storage", "%s: ignoring config %s=%s (%s)", path, l + 7, v,
                                sa_err2str(cerr));
                }
            }
        }
        free(l);
        line += len + (line[len] == '\n');
    }
    if (topic->name && have_id && *npart >= 1 && *npart <= SA_STORE_MAX_PARTITIONS &&
        !check_name(topic->name, NULL, 0))
        err = SA_OK;
    if (err) {
        sa_topic_free(topic);
        topic = NULL;
    }
    *out = topic;
    return err;
}

sa_err_t sa_topic_load_all(sa_store_t *store, char *errstr, size_t errstr_size) {
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/topics", store->dir);
    DIR *d = opendir(dir);
    if (!d) {
        SET_ERR("opendir %s: %s", dir, strerror(errno));
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    sa_err_t err = SA_OK;
    struct dirent *de;
    while (!err && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 7 || strcmp(de->d_name + n - 6, ".topic")) continue;
        char path[8400];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        sa_buf_t b = SA_BUF_INIT(0);
        err = sa_safe_file_read(path, META_MAX, &b);
        sa_topic_t *topic = NULL;
        int32_t npart = 0;
        if (!err) {
            sa_buf_putc(&b, 0);
            err = parse_meta(store, path, (const char *)b.data, &topic, &npart);
            if (err) SET_ERR("%s: unreadable topic metadata; fix or remove the file", path);
        } else {
            SET_ERR("read %s: %s", path, sa_err2str(err));
        }
        sa_buf_free(&b);
        if (err) break;
        if (sa_store_topic_find(store, topic->name)) { /* impossible unless renamed by hand */
            sa_log_warn("storage", "%s: duplicate topic %s ignored", path, topic->name);
            sa_topic_free(topic);
            continue;
        }
        sa_topic_config_resolve(topic);
        err = open_partitions(topic, 0, npart, 0, store->clean_open, errstr, errstr_size);
        if (err) {
            sa_topic_free(topic);
            break;
        }
        insert_topic(store, topic);
    }
    closedir(d);
    return err;
}
