/*
 * 0050-worker-pipeline: posts in -> one results-log line each + blog_results records with
 * verdicts. A duplicate delivery of a post (same id) is re-published but not logged twice; a
 * repost of the same text under a new id is rejected as a near-duplicate; SIGTERM exits 0.
 */
#include "worker_test.h"

static const char *good_en =
    "I spent the weekend walking along the river with my dog. The weather was mild and the trees "
    "were turning yellow. We stopped at a small cafe and I read a book about old ships.";
static const char *good_ru =
    "В выходные я гулял по набережной с собакой. Погода была тёплой, а деревья уже желтели. "
    "Мы зашли в маленькое кафе, и я читал книгу о старых кораблях.";
static const char *spam =
    "BUY NOW!!!! FREE MONEY FOR EVERYONE, CLICK HERE http://a.example http://b.example http://c.example";

static const char *status_of(const wt_log_t *log, const char *id) {
    json_t *line = wt_log_find(log, id);
    return line ? json_string_value(json_object_get(line, "status")) : NULL;
}

int main(void) {
    wt_broker_t b;
    wt_broker_start(&b);
    char log_path[600];
    snprintf(log_path, sizeof(log_path), "%s/results.jsonl", b.dir);
    pid_t worker = wt_worker_start(&b, log_path, "w-0050", NULL);

    rd_kafka_t *prod = wt_producer(&b);
    wt_produce_post(&b, prod, "P-EN", "A walk", good_en, "en");
    wt_produce_post(&b, prod, "P-RU", "Прогулка", good_ru, "ru");
    wt_produce_post(&b, prod, "P-SPAM", "WIN", spam, "en");
    wt_flush(prod);

    WT_ASSERT(TH_WAIT_UNTIL(wt_log_count(log_path) == 3, 30000), "3 lines in the results log");
    wt_log_t log;
    wt_log_read(log_path, &log);
    WT_ASSERT(log.bad == 0, "every line is a JSON object with an id");
    WT_ASSERT(status_of(&log, "P-EN") && !strcmp(status_of(&log, "P-EN"), "published"), "P-EN published");
    WT_ASSERT(status_of(&log, "P-RU") && !strcmp(status_of(&log, "P-RU"), "published"), "P-RU published");
    WT_ASSERT(status_of(&log, "P-SPAM") && !strcmp(status_of(&log, "P-SPAM"), "rejected"), "P-SPAM rejected");
    json_t *ru = wt_log_find(&log, "P-RU");
    /* The post is kept as is (UTF-8 not escaped away), plus the result fields. */
    WT_ASSERT(!strcmp(json_string_value(json_object_get(ru, "content")), good_ru), "content kept");
    WT_ASSERT(!strcmp(json_string_value(json_object_get(ru, "worker")), "w-0050"), "worker id");
    json_t *metrics = json_object_get(ru, "metrics");
    WT_ASSERT(!strcmp(json_string_value(json_object_get(metrics, "readability_formula")), "oborneva"),
              "Oborneva for ru");
    WT_ASSERT(json_integer_value(json_object_get(metrics, "words")) == 27, "ru words = %lld",
              (long long)json_integer_value(json_object_get(metrics, "words")));
    json_t *src = json_object_get(ru, "source");
    WT_ASSERT(!strcmp(json_string_value(json_object_get(src, "topic")), b.ops), "source topic");
    WT_ASSERT(json_is_integer(json_object_get(src, "partition")) &&
                  json_is_integer(json_object_get(src, "offset")),
              "source partition/offset");
    json_t *reasons = json_object_get(wt_log_find(&log, "P-SPAM"), "reasons");
    WT_ASSERT(json_array_size(reasons) >= 3, "spam has its reasons");
    WT_ASSERT(json_is_string(json_object_get(ru, "processed_at")), "processed_at");
    wt_log_free(&log);
    FILE *raw = fopen(log_path, "r");
    char first[64 * 1024];
    WT_ASSERT(raw && fgets(first, sizeof(first), raw), "read raw log");
    fclose(raw);
    WT_ASSERT(strstr(first, "\\u") == NULL, "UTF-8 written as is, not \\u-escaped");

    /* blog_results: one record per post, key = post id, the same JSON. */
    json_t *results = NULL;
    WT_ASSERT(TH_WAIT_UNTIL((json_decref(results), results = wt_topic_read(&b, b.results),
                             json_array_size(results) == 3),
                            20000),
              "3 records on blog_results");
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r) {
        json_t *v = json_object_get(r, "value");
        WT_ASSERT(!strcmp(json_string_value(json_object_get(r, "key")),
                          json_string_value(json_object_get(v, "id"))),
                  "key = post id");
        WT_ASSERT(json_is_integer(json_object_get(v, "score")), "score on blog_results");
    }
    json_decref(results);

    /* The same operation delivered again (a producer retry): neither re-scored nor re-logged nor
     * re-published (the store says its verdict is logged and published). */
    wt_produce_post(&b, prod, "P-EN", "A walk", good_en, "en");
    /* The same text under a new id: a near-duplicate. */
    wt_produce_post(&b, prod, "P-EN-COPY", "A walk again", good_en, "en");
    wt_flush(prod);
    WT_ASSERT(TH_WAIT_UNTIL(wt_log_count(log_path) == 4, 30000), "the copy is logged");
    results = NULL;
    WT_ASSERT(TH_WAIT_UNTIL((json_decref(results), results = wt_topic_read(&b, b.results),
                             json_array_size(results) == 4),
                            20000),
              "4 records on blog_results (the repeat is not published again)");
    json_decref(results);
    wt_log_read(log_path, &log);
    WT_ASSERT(json_array_size(log.lines) == 4, "P-EN logged once");
    json_t *copy = wt_log_find(&log, "P-EN-COPY");
    WT_ASSERT(!strcmp(status_of(&log, "P-EN-COPY"), "rejected"), "copy rejected");
    WT_ASSERT(
        !strcmp(json_string_value(json_object_get(json_object_get(copy, "metrics"), "near_duplicate_of")),
                "P-EN"),
        "near_duplicate_of = P-EN");
    wt_log_free(&log);

    int status = wt_worker_stop(worker, SIGTERM);
    WT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker exits 0 on SIGTERM (status %d)", status);
    rd_kafka_destroy(prod);
    wt_broker_stop(&b);
    fprintf(stderr, "# ok\n");
    return 0;
}
