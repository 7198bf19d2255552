/*
 * bench_produce - produce throughput and acknowledged latency against any Kafka broker.
 *
 *   bench_produce -b 127.0.0.1:19092 [-s 100] [-n 2000000] [-d 5] [-X key=value ...] [-p PID]
 *
 * Phase 1 (peak): one librdkafka producer, acks=all, sends -n records of -s bytes as fast as
 * it can; prints msgs/s and MB/s from the first send to the last delivery report.
 * Phase 2 (latency): a producer with linger.ms=1 (-X overrides) paced at half the peak rate
 * (or -r RATE) for -d seconds; the latency of a record is delivery report time - send time; prints p50/p99/max.
 * With -p PID, the broker's VmRSS and VmHWM are printed after each phase.
 *
 * Not a test: it prints numbers and exits 0 unless records fail.
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t *sent_at;  /* [seq] send time, us */
static int64_t *lat_us;   /* [seq] latency, us */
static int64_t delivered, failed, last_dr_us;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    int64_t t = now_us();
    if (m->err) {
        if (failed++ < 5) fprintf(stderr, "bench_produce: delivery failed: %s\n", rd_kafka_err2str(m->err));
        return;
    }
    intptr_t seq = (intptr_t)m->_private;
    if (lat_us && seq >= 0) lat_us[seq] = t - sent_at[seq];
    delivered++;
    last_dr_us = t;
}

static void print_rss(int pid) {
    if (pid <= 0) return;
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6) || !strncmp(line, "VmHWM:", 6)) printf("  broker %s", line);
    fclose(f);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static rd_kafka_t *new_producer(const char *brokers, const char *linger, char **xs, int nx) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *defaults[][2] = {{"bootstrap.servers", brokers}, {"acks", "all"}, {"linger.ms", linger},
                                 {"batch.size", "1000000"}, {"queue.buffering.max.messages", "1000000"},
                                 {"queue.buffering.max.kbytes", "1048576"}, {"compression.codec", "none"}};
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1], NULL, 0);
    for (int i = 0; i < nx; i++) {
        char *eq = strchr(xs[i], '=');
        if (!eq) continue;
        *eq = '\0';
        if (rd_kafka_conf_set(conf, xs[i], eq + 1, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bench_produce: -X %s: %s\n", xs[i], errstr);
            exit(2);
        }
        *eq = '=';
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "bench_produce: %s\n", errstr);
        exit(1);
    }
    return rk;
}

static void send_one(rd_kafka_t *rk, const char *topic, const char *payload, size_t size, intptr_t seq) {
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE((void *)payload, size),
                                                    RD_KAFKA_V_OPAQUE((void *)seq), RD_KAFKA_V_END);
        if (!err) return;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fprintf(stderr, "bench_produce: produce: %s\n", rd_kafka_err2str(err));
            exit(1);
        }
        rd_kafka_poll(rk, 1);
    }
}

/* Metadata, connection and topic creation happen before the clock starts. */
static void warm_up(rd_kafka_t *rk, const char *topic, const char *payload, size_t size) {
    send_one(rk, topic, payload, size, -1);
    rd_kafka_flush(rk, 10000);
    delivered = 0;
}

int main(int argc, char **argv) {
    const char *brokers = "127.0.0.1:9092", *topic = "bench";
    long size = 100, count = 2000000, seconds = 5, fixed_rate = 0;
    int pid = 0, nx = 0, c;
    char *xs[64];
    while ((c = getopt(argc, argv, "b:t:s:n:d:r:X:p:h")) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 's': size = atol(optarg); break;
        case 'n': count = atol(optarg); break;
        case 'd': seconds = atol(optarg); break;
        case 'r': fixed_rate = atol(optarg); break;
        case 'p': pid = atoi(optarg); break;
        case 'X':
            if (nx < 64) xs[nx++] = optarg;
            break;
        default:
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: bench_produce -b HOST:PORT [-t TOPIC] [-s BYTES] [-n COUNT] [-d SECONDS] [-r RATE] [-X k=v] [-p BROKER_PID]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (size < 1 || count < 1 || seconds < 1) return 2;
    char *payload = malloc((size_t)size);
    memset(payload, 'x', (size_t)size);
    rd_kafka_t *rk = new_producer(brokers, "5", xs, nx);

    warm_up(rk, topic, payload, (size_t)size);

    int64_t t0 = now_us();
    for (long i = 0; i < count; i++) {
        send_one(rk, topic, payload, (size_t)size, -1);
        if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    double secs = (double)(last_dr_us - t0) / 1e6;
    double rate = (double)delivered / secs;
    printf("peak: %ld x %ld B acks=all: %.0f msgs/s, %.1f MB/s (%lld delivered, %lld failed, %.2f s)\n", count, size,
           rate, rate * (double)size / 1e6, (long long)delivered, (long long)failed, secs);
    print_rss(pid);

    /* Latency at half the peak rate, paced in small ticks, by a producer that does not linger
     * (linger.ms=1) so the numbers are the broker's, not the batching delay. */
    rd_kafka_destroy(rk);
    rk = new_producer(brokers, "1", xs, nx);
    warm_up(rk, topic, payload, (size_t)size);
    double target = fixed_rate > 0 ? (double)fixed_rate : rate / 2;
    long n = (long)(target * (double)seconds);
    sent_at = calloc((size_t)n, sizeof(int64_t));
    lat_us = calloc((size_t)n, sizeof(int64_t));
    delivered = 0;
    int64_t start = now_us();
    for (long i = 0; i < n;) {
        long due = (long)((double)(now_us() - start) * target / 1e6);
        if (due > n) due = n;
        for (; i < due; i++) {
            sent_at[i] = now_us();
            send_one(rk, topic, payload, (size_t)size, (intptr_t)i);
        }
        rd_kafka_poll(rk, 0);
        if (i < due + 1) usleep(200);
    }
    rd_kafka_flush(rk, 60000);
    int64_t *sorted = malloc(sizeof(int64_t) * (size_t)n);
    long m = 0;
    for (long i = 0; i < n; i++)
        if (lat_us[i] > 0) sorted[m++] = lat_us[i];
    qsort(sorted, (size_t)m, sizeof(int64_t), cmp_i64);
    if (m)
        printf("latency at %.0f msgs/s (%s), %ld records: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", target, fixed_rate > 0 ? "-r" : "half of peak", m,
               (double)sorted[m / 2] / 1000, (double)sorted[(size_t)((double)m * 0.99)] / 1000,
               (double)sorted[m - 1] / 1000);
    print_rss(pid);
    rd_kafka_destroy(rk);
    free(sorted);
    free(sent_at);
    free(lat_us);
    free(payload);
    return failed ? 1 : 0;
}
