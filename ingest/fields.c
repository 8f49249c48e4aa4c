#include "fields.h"

#include <string.h>

#include "gb/err.h"
#include "gb/timeparse.h"

/* Whether s is well-formed UTF-8 (no overlongs, no surrogates). */
static int utf8_valid(const unsigned char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    size_t n;
    unsigned min;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xe0) == 0xc0) n = 1, min = 0x80, c &= 0x1f;
    else if ((c & 0xf0) == 0xe0) n = 2, min = 0x800, c &= 0x0f;
    else if ((c & 0xf8) == 0xf0) n = 3, min = 0x10000, c &= 0x07;
    else return 0;
    if (len - i <= n) return 0;
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return 0;
      c = (c << 6) | (s[i + k] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    i += n + 1;
  }
  return 1;
}

int field_text(char *out, size_t max, const char *s, size_t len, const char *field,
               int required, gb_reject_t *r) {
  if (!s) s = "", len = 0;
  if (required && len == 0)
    return gb_reject(r, "missing_field", field, "%s: missing or empty", field);
  if (len > max)
    return gb_reject(r, "invalid_value", field, "%s: %zu bytes, at most %zu", field, len, max);
  if (memchr(s, '\0', len))
    return gb_reject(r, "invalid_value", field, "%s: contains a NUL character", field);
  if (!utf8_valid((const unsigned char *)s, len))
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
