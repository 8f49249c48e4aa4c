/* Structured logging: one logfmt line per event on stderr,
 *   ts=2026-11-23T10:00:00.000Z level=info service=matcher event=alert.created alert=3f.. station=st-1
 * `event` is a stable dotted name a person on call can grep for; the rest are
 * key=value pairs formatted by the caller. Values that may hold spaces or
 * quotes go through gb_log_quote. The level check happens before anything is
 * formatted. Thread-safe: each line is written with one write(2). */
#ifndef GB_LOG_H
#define GB_LOG_H

#include <stddef.h>

typedef enum {
  GB_LOG_DEBUG = 0,
  GB_LOG_INFO = 1,
  GB_LOG_WARN = 2,
  GB_LOG_ERROR = 3,
} gb_log_level_t;

extern gb_log_level_t gb_log_min_level;

/* Sets the service name printed on every line and the minimum level. */
void gb_log_init(const char *service, gb_log_level_t level);

/* Parses "debug", "info", "warn", "error"; returns -1 if unknown. */
int gb_log_level_parse(const char *s);

void gb_log_write(gb_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Renders s as a logfmt value into buf: bare when safe, else double-quoted
 * with \" and \\ and control characters escaped. Returns buf. */
const char *gb_log_quote(char *buf, size_t size, const char *s);

#define gb_log(level, event, ...)                                              \
  do {                                                                         \
    if ((level) >= gb_log_min_level) gb_log_write((level), (event), __VA_ARGS__); \
  } while (0)
#define gb_debug(event, ...) gb_log(GB_LOG_DEBUG, event, __VA_ARGS__)
#define gb_info(event, ...) gb_log(GB_LOG_INFO, event, __VA_ARGS__)
#define gb_warn(event, ...) gb_log(GB_LOG_WARN, event, __VA_ARGS__)
#define gb_error(event, ...) gb_log(GB_LOG_ERROR, event, __VA_ARGS__)

#endif
