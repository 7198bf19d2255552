/*
 * 0053-worker-poison: invalid JSON, missing fields, an unknown (non-ASCII) type, invalid UTF-8 and an
 * oversized value put on blog_operations by hand each become one record on blog_errors (with
 * reason, source and the original value), their offsets are committed, and the worker keeps
 * going: the good posts around them are scored.
 */
#include "worker_test.h"

/* @returns the dead letter with @p reason (borrowed), or NULL. */
static json_t *dead_letter(json_t *errors, const char *reason) {
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) {
        json_t *v = json_object_get(e, "value");
        if (!strcmp(json_string_value(json_object_get(v, "reason")), reason)) return v;
    }
    return NULL;
}

static const char *reason_of(json_t *errors, const char *reason) {
    return json_string_value(json_object_get(dead_letter(errors, reason), "value"));
}

int main(void) {
    wt_broker_t b;
    wt_broker_start(&b);
    char log_path[600];
    snprintf(log_path, sizeof(log_path), "%s/results.jsonl", b.dir);
    static const char *const extra[] = {"--max-value-bytes", "4k", NULL};
    pid_t worker = wt_worker_start(&b, log_path, "w-0053", extra);
    wt_log_t log;

    rd_kafka_t *prod = wt_producer(&b);
    char text[2048];
    wt_post_text(1, text, sizeof(text));
    wt_produce_post(&b, prod, "GOOD-1", "Before", text, "en");
    /* All poison goes to one partition (same key) so it sits between good posts. */
    const char *bad_json = "{\"type\":\"create_post\",\"id\":";
    wt_produce_raw(prod, b.ops, "BAD", bad_json, strlen(bad_json));
    const char *missing = "{\"type\":\"create_post\",\"id\":\"M-1\",\"title\":\"no content\"}";
    wt_produce_raw(prod, b.ops, "BAD", missing, strlen(missing));
    /* A long non-ASCII type: the reason quotes 64 bytes of it, which ends inside a character. */
    const char *unknown = "{\"type\":\"drop_table_"
                          "жжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжж\",\"id\":\"U-1\"}";
    wt_produce_raw(prod, b.ops, "BAD", unknown, strlen(unknown));
    const char bad_utf8[] = "{\"type\":\"create_post\",\"id\":\"X\xff\xfe\"}";
    wt_produce_raw(prod, b.ops, "BAD", bad_utf8, sizeof(bad_utf8) - 1);
    char *big = malloc(10000);
    memset(big, 'a', 10000);
    memcpy(big, "{\"type\":\"create_post\",\"id\":\"BIG\",\"title\":\"t\",\"content\":\"", 55);
    memcpy(big + 9998, "\"}", 2);
    wt_produce_raw(prod, b.ops, "BAD", big, 10000);
    free(big);
    wt_produce_raw(prod, b.ops, "BAD", NULL, 0); /* a null value */
    wt_post_text(2, text, sizeof(text));
    wt_produce_post(&b, prod, "GOOD-2", "After", text, "en");
    wt_flush(prod);

    WT_ASSERT(TH_WAIT_UNTIL(wt_log_count(log_path) == 2, 30000), "both good posts logged around the poison");
    json_t *errors = NULL;
    WT_ASSERT(
        TH_WAIT_UNTIL(
            (json_decref(errors), errors = wt_topic_read(&b, b.errors), json_array_size(errors) == 6), 20000),
        "6 dead letters on blog_errors");
    const char *v = reason_of(errors, "invalid_json");
    WT_ASSERT(v && !strcmp(v, bad_json), "invalid JSON kept as text");
    WT_ASSERT(reason_of(errors, "missing_field"), "missing_field");
    WT_ASSERT(reason_of(errors, "unknown_type"), "unknown_type");
    json_t *empty = dead_letter(errors, "empty_value");
    WT_ASSERT(empty && json_is_null(json_object_get(empty, "value")), "a null value is a dead letter too");
    json_t *big_dl = dead_letter(errors, "value_too_large");
    WT_ASSERT(json_integer_value(json_object_get(big_dl, "value_size")) == 10000, "value_size");
    WT_ASSERT(json_is_false(json_object_get(big_dl, "value_truncated")), "not truncated");
    v = reason_of(errors, "invalid_utf8");
    WT_ASSERT(v && !strcmp(v, "eyJ0eXBlIjoiY3JlYXRlX3Bvc3QiLCJpZCI6Ilj//iJ9"),
              "invalid UTF-8 kept as base64 (%s)", v ? v : "-");
    v = reason_of(errors, "value_too_large");
    WT_ASSERT(v && strlen(v) == 10000, "oversized value kept whole (10000 bytes < the 128 KiB embed limit)");
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) {
        json_t *dl = json_object_get(e, "value");
        WT_ASSERT(!strcmp(json_string_value(json_object_get(dl, "topic")), b.ops), "source topic");
        WT_ASSERT(json_is_integer(json_object_get(dl, "offset")), "source offset");
        WT_ASSERT(!strcmp(json_string_value(json_object_get(dl, "key")), "BAD"), "original key");
        WT_ASSERT(json_is_string(json_object_get(dl, "detail")), "detail");
    }
    WT_ASSERT(!wt_exited(worker), "the worker is still running");

    /* Offsets were committed: a restarted worker sends no dead letter twice. This one can only
     * send small records: a valid post whose scored result would not fit is a dead letter too
     * (with its value cut to fit), not a partition stuck retrying. */
    int status = wt_worker_stop(worker, SIGTERM);
    WT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "clean exit");
    static const char *const small[] = {"--max-value-bytes", "4k", "-X", "message.max.bytes=3000", NULL};
    worker = wt_worker_start(&b, log_path, "w-0053b", small);
    char long_text[3200];
    memset(long_text, 0, sizeof(long_text));
    for (size_t o = 0; o + 40 < sizeof(long_text);)
        o += (size_t)snprintf(long_text + o, sizeof(long_text) - o, "A long post about %zu things. ", o);
    wt_produce_post(&b, prod, "TOO-BIG-RESULT", "Long", long_text, "en");
    wt_post_text(3, text, sizeof(text));
    wt_produce_post(&b, prod, "GOOD-3", "Later", text, "en");
    wt_flush(prod);
    WT_ASSERT(TH_WAIT_UNTIL(wt_log_count(log_path) == 3, 30000), "the restarted worker goes on");
    json_decref(errors);
    errors = NULL;
    WT_ASSERT(
        TH_WAIT_UNTIL(
            (json_decref(errors), errors = wt_topic_read(&b, b.errors), json_array_size(errors) >= 7), 20000),
        "the oversized result is a dead letter");
    WT_ASSERT(json_array_size(errors) == 7, "no dead letter re-sent after the restart (%zu)",
              json_array_size(errors));
    json_t *last = NULL;
    json_array_foreach(errors, i, e) if (!strcmp(json_string_value(json_object_get(e, "key")),
                                                 "TOO-BIG-RESULT")) last = json_object_get(e, "value");
    WT_ASSERT(last, "a dead letter keyed TOO-BIG-RESULT");
    WT_ASSERT(!strcmp(json_string_value(json_object_get(last, "reason")), "value_too_large"), "reason");
    WT_ASSERT(strstr(json_string_value(json_object_get(last, "detail")), "message.max.bytes"), "detail");
    WT_ASSERT(json_is_true(json_object_get(last, "value_truncated")), "value cut to fit");
    wt_log_read(log_path, &log);
    WT_ASSERT(!wt_log_find(&log, "TOO-BIG-RESULT"), "not in the results log");
    wt_log_free(&log);
    json_decref(errors);
    status = wt_worker_stop(worker, SIGTERM);
    WT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "clean exit");
    rd_kafka_destroy(prod);
    wt_broker_stop(&b);
    fprintf(stderr, "# ok\n");
    return 0;
}
