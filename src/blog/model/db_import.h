/*
 * db_import.h - the one-time import of a data dir from before the store: its posts lived only in
 * blog_operations and blog_results (and the web server's memory), so at the first start against
 * a fresh store, what the topics still hold becomes the store's first posts.
 */
#ifndef SA_BLOG_DB_IMPORT_H
#define SA_BLOG_DB_IMPORT_H

#include <stddef.h>

#include "blog/model/db.h"
#include "client/client.h"
#include "core/config.h"

/* The import's Kafka client, for the command's sa_client_setup (-X dump). */
extern const sa_client_role_t sa_db_import_client;

/**
 * Unless the store's meta says the import is done: read @p ops_topic and then @p results_topic
 * from their beginning to their end as of now, insert their posts and verdicts (sa_db_import),
 * then record "import" = "done" in meta. Interrupted, it starts over at the next start (the
 * inserts are idempotent). Topics that do not exist or are empty make it done at once.
 * @param kafka  the command's -b, -X, -F (borrowed; sa_client_setup done); the import's consumer
 *               is sa_db_import_client.
 * @returns the number of records read (>= 0), or -1 with errstr (the caller may go on: the
 *          import is tried again at the next start).
 */
long sa_db_import_topics(sa_db_t *db, const sa_client_opts_t *kafka, const char *ops_topic,
                         const char *results_topic, char *errstr, size_t errstr_size);

#endif
