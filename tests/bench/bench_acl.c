/*
 * bench_acl - the authorizer's decision (broker/acl.h) as the number of ACLs grows: what an
 * authorized Produce, Fetch or Metadata pays per topic when authorizer.class.name is set.
 *
 *   bench_acl [ACLS] [DECISIONS]
 *
 * Stores ACLS bindings (WRITE on topic-i for User:u<i%50>, one in ten PREFIXED, plus a wildcard
 * DESCRIBE for User:*), then times DECISIONS decisions cycling over the topics, and prints one
 * JSON object: ns per decision and how many were allowed. The names are made before the timing.
 * A decision looks up the literal name, "*", and one prefix per distinct prefixed-name length,
 * so its cost should follow the hash map's cache misses, not the number of ACLs.
 * Not a test: exit 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "broker/acl.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int nacl = argc > 1 ? atoi(argv[1]) : 1000, n = argc > 2 ? atoi(argv[2]) : 2000000;
    if (nacl < 1 || n < 1) {
        fprintf(stderr, "usage: bench_acl [ACLS] [DECISIONS]\n");
        return 2;
    }
    sa_acls_t *acls = sa_acls_new(NULL);
    sa_acls_configure(acls, "org.apache.kafka.metadata.authorizer.StandardAuthorizer", "User:admin", 0, NULL,
                      0);
    char(*names)[24] = calloc((size_t)nacl, 24);
    for (int i = 0; i < nacl; i++) {
        char principal[24];
        snprintf(names[i], sizeof(names[i]), "topic-%d", i);
        snprintf(principal, sizeof(principal), "User:u%d", i % 50);
        sa_acl_binding_t b = {SA_RESOURCE_TOPIC,
                              i % 10 ? SA_PATTERN_LITERAL : SA_PATTERN_PREFIXED,
                              SA_ACL_WRITE,
                              SA_PERM_ALLOW,
                              names[i],
                              principal,
                              "*"};
        uint64_t seq;
        sa_acls_create(acls, &b, &seq);
    }
    sa_acl_binding_t wild = {
        SA_RESOURCE_TOPIC, SA_PATTERN_LITERAL, SA_ACL_DESCRIBE, SA_PERM_ALLOW, "*", "User:*", "*"};
    uint64_t seq;
    sa_acls_create(acls, &wild, &seq);
    long allowed = 0;
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        allowed +=
            sa_acls_authorize(acls, "User:u7", "127.0.0.1", SA_ACL_WRITE, SA_RESOURCE_TOPIC, names[i % nacl]);
    double t1 = now_s();
    printf("{\"acls\":%d,\"decisions\":%d,\"ns_per_decision\":%.1f,\"allowed\":%ld}\n", nacl, n,
           (t1 - t0) / n * 1e9, allowed);
    free(names);
    sa_acls_free(acls);
    return 0;
}
