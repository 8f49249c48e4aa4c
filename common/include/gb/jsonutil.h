/* Typed access to JSON objects (jansson) with the reason for a rejection in
 * a form a dead letter can carry: a stable reason code, the field, and a
 * sentence. */
#ifndef GB_JSONUTIL_H
#define GB_JSONUTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Why a record was rejected. reason is a stable code (docs/API.md lists
 * them): "bad_json", "missing_field", "wrong_type", "invalid_value",
 * "unknown_enum", "future_time", "too_large", "bad_protobuf",
 * "unsupported_version", "bad_content_type". */
typedef struct {
  const char *reason;
  char field[64];
  char detail[256];
} gb_reject_t;

/* Fills r; returns GB_EINVAL, so that callers can `return gb_reject(...)`. */
int gb_reject(gb_reject_t *r, const char *reason, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* String member: *out points into obj (valid while obj lives). An absent or
 * null member leaves *out NULL and is an error only when required. */
int gb_json_str(const json_t *obj, const char *name, bool required, const char **out,
                size_t *len, gb_reject_t *r);
/* Whole-number member within [min, max]. */
int gb_json_int(const json_t *obj, const char *name, bool required, int64_t min, int64_t max,
                int64_t *out, gb_reject_t *r);
int gb_json_bool(const json_t *obj, const char *name, bool required, bool *out, gb_reject_t *r);
/* A time: an RFC 3339 string, or epoch seconds or milliseconds as a number
 * or a string of digits. */
int gb_json_time(const json_t *obj, const char *name, bool required, int64_t *out_ms,
                 gb_reject_t *r);

#endif
