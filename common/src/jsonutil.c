#include "gb/jsonutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/timeparse.h"

int gb_reject(gb_reject_t *r, const char *reason, const char *field, const char *fmt, ...) {
  r->reason = reason;
  snprintf(r->field, sizeof(r->field), "%s", field ? field : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
  va_end(ap);
  return GB_EINVAL;
}

static const char *json_type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "a whole number";
  case JSON_REAL: return "a number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  default: return "null";
  }
}

static const json_t *member(const json_t *obj, const char *name, bool required, int *err,
                            gb_reject_t *r) {
  const json_t *v = json_object_get(obj, name);
  *err = 0;
  if (!v || json_is_null(v)) {
    if (required) *err = gb_reject(r, "missing_field", name, "%s: missing", name);
    return NULL;
  }
  return v;
}

int gb_json_str(const json_t *obj, const char *name, bool required, const char **out,
                size_t *len, gb_reject_t *r) {
  int err;
  const json_t *v = member(obj, name, required, &err, r);
  *out = NULL;
  if (len) *len = 0;
  if (!v) return err;
  if (!json_is_string(v))
    return gb_reject(r, "wrong_type", name, "%s: is %s, want a string", name, json_type_name(v));
  *out = json_string_value(v);
  if (len) *len = json_string_length(v);
  return 0;
}

int gb_json_int(const json_t *obj, const char *name, bool required, int64_t min, int64_t max,
                int64_t *out, gb_reject_t *r) {
  int err;
  const json_t *v = member(obj, name, required, &err, r);
  if (!v) return err;
  if (!json_is_integer(v))
    return gb_reject(r, "wrong_type", name, "%s: is %s, want a whole number", name,
                     json_type_name(v));
  json_int_t x = json_integer_value(v);
  if (x < min || x > max)
    return gb_reject(r, "invalid_value", name, "%s: %lld is outside %lld..%lld", name,
                     (long long)x, (long long)min, (long long)max);
  *out = x;
  return 0;
}

int gb_json_bool(const json_t *obj, const char *name, bool required, bool *out, gb_reject_t *r) {
  int err;
  const json_t *v = member(obj, name, required, &err, r);
  if (!v) return err;
  if (!json_is_boolean(v))
    return gb_reject(r, "wrong_type", name, "%s: is %s, want true or false", name,
                     json_type_name(v));
  *out = json_is_true(v);
  return 0;
}

int gb_json_time(const json_t *obj, const char *name, bool required, int64_t *out_ms,
                 gb_reject_t *r) {
  int err;
  const json_t *v = member(obj, name, required, &err, r);
  if (!v) return err;
  char e[200];
  if (json_is_number(v)) {
    if (gb_time_from_epoch(out_ms, json_number_value(v), e, sizeof(e)) != 0)
      return gb_reject(r, "invalid_value", name, "%s: %s", name, e);
    return 0;
  }
  if (!json_is_string(v))
    return gb_reject(r, "wrong_type", name, "%s: is %s, want RFC 3339 or epoch seconds/ms",
                     name, json_type_name(v));
  const char *s = json_string_value(v);
  size_t len = json_string_length(v);
  size_t digits = strspn(s, "0123456789");
  if (len > 0 && digits == len && len <= 15) {
    if (gb_time_from_epoch(out_ms, strtod(s, NULL), e, sizeof(e)) != 0)
      return gb_reject(r, "invalid_value", name, "%s: %s", name, e);
    return 0;
  }
  if (gb_time_parse_rfc3339(out_ms, s, len, e, sizeof(e)) != 0)
    return gb_reject(r, "invalid_value", name, "%s: %s", name, e);
  return 0;
}
