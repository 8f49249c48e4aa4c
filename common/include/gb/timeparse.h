/* Event-time parsing. Pure functions, safe from any thread. */
#ifndef GB_TIMEPARSE_H
#define GB_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/**
 * Parses an RFC 3339 timestamp ("2026-11-23T10:00:00Z",
 * "2026-11-23T18:00:00.250+08:00", lower-case t/z and a space instead of T
 * accepted) into epoch milliseconds UTC. len bytes, need not be
 * NUL-terminated; nothing else may surround the timestamp.
 *
 * A fraction of any length is truncated to milliseconds. A leap second
 * (:60) is accepted and read as :59.999. A timestamp without 'Z' or an
 * offset is GB_EINVAL ("time: no time zone ..."): carriers' local times are
 * not guessed. Offsets are +hh:mm or -hh:mm only, hh 00-23.
 * @returns 0 and *out_ms, or GB_EINVAL with the reason in errstr. errstr
 *          may be NULL; otherwise it is always NUL-terminated, and empty on
 *          success. *out_ms is untouched on failure.
 */
int gb_time_parse_rfc3339(int64_t *out_ms, const char *in, size_t len,
                          char *errstr, size_t errstr_size);

/**
 * Interprets an epoch number as seconds or milliseconds: values below
 * 100,000,000,000 are seconds (that is before 5138 AD in seconds, and before
 * 1973-03-03 in milliseconds, when no carrier record was written).
 * Sub-millisecond parts are truncated. Negative, NaN and infinite values are
 * GB_EINVAL; values past 9999-12-31 as milliseconds (microsecond or
 * nanosecond epochs, typically) are GB_ERANGE.
 */
int gb_time_from_epoch(int64_t *out_ms, double epoch, char *errstr,
                       size_t errstr_size);

/**
 * Checks an event time against now: more than max_future_ms ahead of now_ms
 * is GB_ERANGE ("time: 3600 s in the future, limit 300 s"). Late events are
 * accepted. A negative limit counts as 0. Exact for any int64 inputs.
 */
int gb_time_check_skew(int64_t event_ms, int64_t now_ms, int64_t max_future_ms,
                       char *errstr, size_t errstr_size);

/* Formats epoch ms as RFC 3339 UTC with milliseconds into out (>= 25 bytes;
 * a smaller buffer gets a truncated, NUL-terminated prefix). Years outside
 * 0000-9999 are printed with more digits and are not RFC 3339. */
void gb_time_format(char *out, size_t out_size, int64_t ms);

/* Wall-clock now, epoch ms UTC. */
int64_t gb_now_ms(void);

/* Monotonic now, ms, for timeouts. */
int64_t gb_mono_ms(void);

#endif
