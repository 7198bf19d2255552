/*
 * log.h - leveled logging with named debug subsystems.
 *
 *   sa_log_info("broker", "listening on %s", addr);
 *   sa_log_debug(SA_DBG_NET, "net", "read %zd bytes from %s", n, peer);
 *
 * A line is "2026-11-22T19:23:40.123Z INFO  broker: listening on ..." on stderr. The level is tested before
 * the arguments are evaluated, so a disabled debug line costs one branch. Debug lines print only for the
 * subsystems enabled with sa_log_set_debug("net,proto") or "all" (the `debug=` setting and `--debug` flag).
 */
#ifndef SA_CORE_LOG_H
#define SA_CORE_LOG_H

#include <stdarg.h>
#include <stdio.h>

typedef enum sa_log_level_e {
    SA_LOG_ERROR = 0,
    SA_LOG_WARN = 1,
    SA_LOG_INFO = 2,
    SA_LOG_DEBUG = 3,
} sa_log_level_t;

/* Debug subsystems, a bit each. */
#define SA_DBG_NET     (1u << 0) /* connections, framing */
#define SA_DBG_PROTO   (1u << 1) /* request/response decoding */
#define SA_DBG_STORAGE (1u << 2) /* segments, fsync, recovery, retention */
#define SA_DBG_GROUP   (1u << 3) /* group coordinator */
#define SA_DBG_HTTP    (1u << 4) /* web server */
#define SA_DBG_WORKER  (1u << 5) /* scoring worker */
#define SA_DBG_CLIENT  (1u << 6) /* librdkafka clients (also turns on librdkafka's debug) */
#define SA_DBG_ALL     0xffffffffu

extern sa_log_level_t sa_log_level; /* lines above this level are dropped */
extern unsigned sa_log_debug_mask;  /* SA_DBG_* enabled for debug lines */

/** Set the level from a name: error, warn, info, debug. @returns 0, or -1 if unknown. */
int sa_log_set_level(const char *name);
/** Enable debug subsystems from "net,proto,storage" or "all". @returns 0, or -1 naming an unknown one. */
int sa_log_set_debug(const char *list);
/** A prefix printed before the subsystem on every line, e.g. the part of `samsa up` speaking. */
void sa_log_set_tag(const char *tag);

void sa_log_write(sa_log_level_t level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sa_log_vwrite(sa_log_level_t level, const char *subsys, const char *fmt, va_list ap);

#define sa_log_(level, subsys, ...)                                                                          \
    do {                                                                                                     \
        if ((level) <= sa_log_level) sa_log_write((level), (subsys), __VA_ARGS__);                           \
    } while (0)
#define sa_log_error(subsys, ...) sa_log_(SA_LOG_ERROR, subsys, __VA_ARGS__)
#define sa_log_warn(subsys, ...)  sa_log_(SA_LOG_WARN, subsys, __VA_ARGS__)
#define sa_log_info(subsys, ...)  sa_log_(SA_LOG_INFO, subsys, __VA_ARGS__)
#define sa_log_debug(mask, subsys, ...)                                                                      \
    do {                                                                                                     \
        if (sa_log_debug_mask & (mask)) sa_log_write(SA_LOG_DEBUG, (subsys), __VA_ARGS__);                   \
    } while (0)

#endif
