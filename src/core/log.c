#include "core/log.h"

#include <pthread.h>
#include <string.h>

#include "core/time.h"

sa_log_level_t sa_log_level = SA_LOG_INFO;
unsigned sa_log_debug_mask;

static char tag[32];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

static const struct {
    const char *name;
    unsigned bit;
} subsystems[] = {
    {"net", SA_DBG_NET},   {"proto", SA_DBG_PROTO},   {"storage", SA_DBG_STORAGE}, {"group", SA_DBG_GROUP},
    {"http", SA_DBG_HTTP}, {"worker", SA_DBG_WORKER}, {"client", SA_DBG_CLIENT},   {"all", SA_DBG_ALL},
};

int sa_log_set_level(const char *name) {
    static const char *const lower[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, lower[i])) {
            sa_log_level = (sa_log_level_t)i;
            return 0;
        }
    return -1;
}

int sa_log_set_debug(const char *list) {
    unsigned mask = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        int found = 0;
        for (size_t i = 0; i < sizeof(subsystems) / sizeof(subsystems[0]); i++)
            if (strlen(subsystems[i].name) == n && !strncmp(p, subsystems[i].name, n)) {
                mask |= subsystems[i].bit;
                found = 1;
            }
        if (!found && n) return -1;
        p += n;
        if (*p == ',') p++;
    }
    sa_log_debug_mask = mask;
    if (mask) sa_log_level = SA_LOG_DEBUG;
    return 0;
}

void sa_log_set_tag(const char *t) { snprintf(tag, sizeof(tag), "%s", t ? t : ""); }

void sa_log_vwrite(sa_log_level_t level, const char *subsys, const char *fmt, va_list ap) {
    char when[48], msg[2048];
    sa_time_rfc3339(sa_wall_ms(), when);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    FILE *out = stderr;
    pthread_mutex_lock(&lock);
    fprintf(out, "%s %-5s %s%s%s: %s\n", when, level_names[level], tag, tag[0] ? "/" : "", subsys, msg);
    fflush(out);
    pthread_mutex_unlock(&lock);
}

void sa_log_write(sa_log_level_t level, const char *subsys, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sa_log_vwrite(level, subsys, fmt, ap);
    va_end(ap);
}
