/*
 * bench_console.c - how long `samsa console` takes to answer each of its pages on a big cluster:
 * TOPICS topics of PARTS partitions each (default 1,000 x 10 = 10,000 partitions), GROUPS groups
 * with committed offsets, and records to browse.
 *
 *   bench_console [--bootstrap HOST:PORT] [--topics N] [--partitions N] [--groups N] [--requests N]
 *
 * Without --bootstrap it starts its own `samsa broker` ($SAMSA). It makes the topics (CreateTopics
 * in batches of 100), the groups (AlterConsumerGroupOffsets) and 200 records in the first topic,
 * starts `samsa console` on a free port, waits until its snapshot holds every topic, then sends
 * each page --requests times over one kept-alive connection and prints, per page, the answer's size
 * and the time from the request's first byte to the answer's last (median, p95, max), a Markdown
 * table. The pages that read the snapshot never wait for the cluster; the message browser and a
 * topic's page (its configs) ask it.
 */
#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* GET @p path on @p fd (kept alive). @returns the status, the body in *@p body (malloc'd) and
 * its length in *@p len; -1 on a broken connection. */
static int get(int fd, const char *path, char **body, size_t *len) {
    char req[1024];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) return -1;
    size_t cap = 1 << 16, got = 0;
    char *buf = malloc(cap);
    long clen = -1;
    size_t head = 0;
    for (;;) {
        if (got == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                return -1;
            }
            buf = bigger;
        }
        ssize_t r = read(fd, buf + got, cap - got);
        if (r <= 0) {
            free(buf);
            return -1;
        }
        got += (size_t)r;
        if (!head) {
            char *e = memmem(buf, got, "\r\n\r\n", 4);
            if (!e) continue;
            head = (size_t)(e - buf) + 4;
            char *cl = memmem(buf, head, "Content-Length:", 15);
            if (!cl) cl = memmem(buf, head, "content-length:", 15);
            clen = cl ? strtol(cl + 15, NULL, 10) : 0;
        }
        if (head && got >= head + (size_t)clen) break;
    }
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    *len = (size_t)clen;
    *body = malloc((size_t)clen + 1);
    memcpy(*body, buf + head, (size_t)clen);
    (*body)[clen] = '\0';
    free(buf);
    return status;
}

static rd_kafka_t *client(const char *bootstrap, rd_kafka_type_t type) {
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char es[256];
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, es, sizeof(es));
    rd_kafka_conf_set(c, "log_level", "3", es, sizeof(es));
    rd_kafka_t *rk = rd_kafka_new(type, c, es, sizeof(es));
    if (!rk) fprintf(stderr, "bench_console: %s\n", es);
    return rk;
}

static int wait_admin(rd_kafka_queue_t *q, rd_kafka_event_type_t type) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 120000);
    int ok = ev && rd_kafka_event_type(ev) == type && !rd_kafka_event_error(ev);
    if (!ok)
        fprintf(stderr, "bench_console: admin request failed: %s\n",
                ev ? rd_kafka_event_error_string(ev) : "timeout");
    if (ev) rd_kafka_event_destroy(ev);
    return ok ? 0 : -1;
}

static int make_cluster(const char *bootstrap, int topics, int parts, int groups) {
    rd_kafka_t *rk = client(bootstrap, RD_KAFKA_CONSUMER);
    if (!rk) return -1;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    char es[256];
    for (int first = 0; first < topics; first += 100) {
        int n = topics - first < 100 ? topics - first : 100;
        rd_kafka_NewTopic_t *nt[100];
        for (int i = 0; i < n; i++) {
            char name[64];
            snprintf(name, sizeof(name), "t-%04d", first + i);
            nt[i] = rd_kafka_NewTopic_new(name, parts, 1, es, sizeof(es));
        }
        rd_kafka_CreateTopics(rk, nt, (size_t)n, NULL, q);
        int rc = wait_admin(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
        rd_kafka_NewTopic_destroy_array(nt, (size_t)n);
        if (rc) return -1;
    }
    rd_kafka_t *p = client(bootstrap, RD_KAFKA_PRODUCER);
    for (int i = 0; i < 200; i++) {
        char v[128];
        int len = snprintf(v, sizeof(v), "{\"n\": %d, \"level\": \"%s\", \"message\": \"record %d\"}", i,
                           i % 7 ? "INFO" : "ERROR", i);
        rd_kafka_producev(p, RD_KAFKA_V_TOPIC("t-0000"), RD_KAFKA_V_VALUE(v, (size_t)len),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    }
    rd_kafka_flush(p, 30000);
    rd_kafka_destroy(p);
    for (int g = 0; g < groups; g++) {
        char name[64], topic[64];
        snprintf(name, sizeof(name), "g-%02d", g);
        snprintf(topic, sizeof(topic), "t-%04d", g % topics);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
        for (int i = 0; i < parts; i++) rd_kafka_topic_partition_list_add(l, topic, i)->offset = 0;
        rd_kafka_AlterConsumerGroupOffsets_t *a = rd_kafka_AlterConsumerGroupOffsets_new(name, l);
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_AlterConsumerGroupOffsets(rk, &a, 1, NULL, q);
        int rc = wait_admin(q, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT);
        rd_kafka_AlterConsumerGroupOffsets_destroy(a);
        if (rc) return -1;
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}

int main(int argc, char **argv) {
    const char *bootstrap = NULL;
    int topics = 1000, parts = 10, groups = 20, requests = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--bootstrap"))
            bootstrap = argv[i + 1];
        else if (!strcmp(argv[i], "--topics"))
            topics = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--partitions"))
            parts = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--groups"))
            groups = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--requests"))
            requests = atoi(argv[i + 1]);
        else {
            fprintf(stderr,
                    "usage: bench_console [--bootstrap H:P] [--topics N] [--partitions N] [--groups N] "
                    "[--requests N]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    th_proc_t broker = {0};
    if (!bootstrap) {
        if (th_broker_start(&broker, NULL, NULL)) return 1;
        bootstrap = broker.addr;
    }
    int64_t t0 = th_now_ms();
    if (make_cluster(bootstrap, topics, parts, groups)) return 1;
    int64_t made_ms = th_now_ms() - t0;
    int port = th_free_port();
    char http[64];
    snprintf(http, sizeof(http), "127.0.0.1:%d", port);
    const char *cargv[] = {"console",           "-b",  bootstrap,     "--http", http, "--history", "none",
                           "--sample-interval", "30s", "--log-level", "warn",   NULL};
    th_proc_t console = {.pid = th_spawn(cargv), .port = port};
    if (console.pid < 0 || th_wait_port(port, 30000)) return 1;
    /* wait for a snapshot that has every topic */
    char want[64];
    snprintf(want, sizeof(want), "\"topics\":%d", topics);
    int fd = -1, ready = 0;
    for (int64_t deadline = th_now_ms() + 300000; th_now_ms() < deadline && !ready;) {
        if (fd < 0) fd = connect_to(port);
        char *body = NULL;
        size_t len;
        int st = fd >= 0 ? get(fd, "/healthz", &body, &len) : -1;
        if (st < 0) {
            close(fd);
            fd = -1;
        }
        ready = st == 200 && strstr(body, want);
        free(body);
        if (!ready) usleep(200000);
    }
    if (!ready) {
        fprintf(stderr, "bench_console: the console never sampled %d topics\n", topics);
        return 1;
    }
    char *metrics = NULL;
    size_t mlen;
    get(fd, "/metrics", &metrics, &mlen);
    const char *ss = metrics ? strstr(metrics, "\nsamsa_console_sample_seconds ") : NULL;
    double sample_s = ss ? strtod(ss + 30, NULL) : -1;
    free(metrics);
    static const char *const pages[] = {"/",
                                        "/topics",
                                        "/topics?q=t-05",
                                        "/topics?page=4",
                                        "/topic?name=t-0500",
                                        "/messages?topic=t-0000",
                                        "/messages?topic=t-0000&partition=3&limit=20",
                                        "/messages?topic=t-0000&value=ERROR",
                                        "/groups",
                                        "/group?name=g-05",
                                        "/metrics"};
    printf("%d topics x %d partitions (%d partitions), %d groups; made in %.1f s; one sample of the "
           "cluster took %.3f s; %d requests per page over one kept-alive connection.\n\n",
           topics, parts, topics * parts, groups, made_ms / 1000.0, sample_s, requests);
    printf("| page | bytes | median ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|\n");
    int64_t *t = calloc((size_t)requests, sizeof(int64_t));
    int bad = 0;
    for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
        size_t bytes = 0;
        for (int i = 0; i < requests; i++) {
            char *body = NULL;
            int64_t a = now_us();
            int st = get(fd, pages[p], &body, &bytes);
            t[i] = now_us() - a;
            free(body);
            if (st != 200) {
                fprintf(stderr, "bench_console: %s answered %d\n", pages[p], st);
                bad = 1;
                break;
            }
        }
        qsort(t, (size_t)requests, sizeof(int64_t), cmp_i64);
        printf("| `%s` | %zu | %.2f | %.2f | %.2f |\n", pages[p], bytes, t[requests / 2] / 1000.0,
               t[(requests * 95) / 100 < requests ? (requests * 95) / 100 : requests - 1] / 1000.0,
               t[requests - 1] / 1000.0);
    }
    free(t);
    close(fd);
    th_proc_stop(&console, SIGTERM);
    if (broker.pid) th_proc_cleanup(&broker);
    return bad;
}
