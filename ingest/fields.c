#include "fields.h"

#include <string.h>

#include "gb/err.h"
#include "gb/utf8.h"
#include "gb/timeparse.h"


int field_text(char *out, size_t max, const char *s, size_t len, const char *field,
               int required, gb_reject_t *r) {
  if (!s) s = "", len = 0;
  if (required && len == 0)
    return gb_reject(r, "missing_field", field, "%s: missing or empty", field);
  if (len > max)
    return gb_reject(r, "invalid_value", field, "%s: %zu bytes, at most %zu", field, len, max);
  if (memchr(s, '\0', len))
    return gb_reject(r, "invalid_value", field, "%s: contains a NUL character", field);
  if (!gb_utf8_valid(s, len))
    return gb_reject(r, "invalid_utf8", field, "%s: not valid UTF-8", field);
  memcpy(out, s, len);
  out[len] = '\0';
  return 0;
}

int field_phone(char *out, gb_phone_class_t *cls, const char *s, size_t len, const char *field,
                int allow_service, gb_reject_t *r) {
  if (!s || len == 0) return gb_reject(r, "missing_field", field, "%s: missing", field);
  char e[160];
  gb_phone_class_t c = gb_phone_normalize(out, GB_PHONE_MAX, s, len, e, sizeof(e));
  if (c == GB_PHONE_INVALID) return gb_reject(r, "invalid_value", field, "%s: %s", field, e);
  if (c == GB_PHONE_SERVICE && !allow_service)
    return gb_reject(r, "invalid_value", field, "%s: %s is a service number, not a person",
                     field, out);
  *cls = c;
  return 0;
}

int field_time_skew(int64_t ts_ms, int64_t now_ms, int64_t max_future_ms, const char *field,
                    gb_reject_t *r) {
  char e[160];
  if (gb_time_check_skew(ts_ms, now_ms, max_future_ms, e, sizeof(e)) != 0)
    return gb_reject(r, "future_time", field, "%s: %s", field, e);
  return 0;
}

int field_version(uint32_t version, gb_reject_t *r) {
  if (version > 1)
    return gb_reject(r, "unsupported_version", "version",
                     "version: %u, this ingest reads version 1", version);
  return 0;
}
