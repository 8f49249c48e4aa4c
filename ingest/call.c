#include "call.h"

#include <stdio.h>
#include <string.h>

#include "gb/err.h"
#include "gb/timeparse.h"

/* Longest call a carrier can report, seconds (two days: longer is a bug). */
#define MAX_DURATION_S (2 * 86400)

static int number(char *out, gb_phone_class_t *cls, const json_t *obj, const char *field,
                  gb_reject_t *r) {
  const char *s;
  size_t len;
  int err = gb_json_str(obj, field, true, &s, &len, r);
  if (err) return err;
  char e[160];
  gb_phone_class_t c = gb_phone_normalize(out, GB_PHONE_MAX, s, len, e, sizeof(e));
  if (c == GB_PHONE_INVALID) return gb_reject(r, "invalid_value", field, "%s: %s", field, e);
  *cls = c;
  return 0;
}

static int copy_str(char *out, size_t max, const json_t *obj, const char *field, bool required,
                    gb_reject_t *r) {
  const char *s;
  size_t len;
  int err = gb_json_str(obj, field, required, &s, &len, r);
  if (err) return err;
  if (!s) {
    out[0] = '\0';
    return 0;
  }
  if (required && len == 0) return gb_reject(r, "invalid_value", field, "%s: empty", field);
  if (len > max)
    return gb_reject(r, "invalid_value", field, "%s: %zu bytes, at most %zu", field, len, max);
  if (memchr(s, '\0', len))
    return gb_reject(r, "invalid_value", field, "%s: contains a NUL character", field);
  memcpy(out, s, len);
  out[len] = '\0';
  return 0;
}

int ingest_call_from_json(ingest_call_t *c, const json_t *obj, int64_t now_ms,
                          int64_t max_future_ms, gb_reject_t *r) {
  int err;
  memset(c, 0, sizeof(*c));
  if (!json_is_object(obj)) return gb_reject(r, "wrong_type", "", "a call record is an object");
  if ((err = copy_str(c->call_id, INGEST_CALL_ID_MAX, obj, "call_id", true, r))) return err;
  if ((err = number(c->caller, &c->caller_class, obj, "caller", r))) return err;
  if ((err = number(c->callee, &c->callee_class, obj, "callee", r))) return err;
  if ((err = gb_json_time(obj, "start", true, &c->start_ms, r))) return err;
  int64_t d = 0;
  if ((err = gb_json_int(obj, "duration_s", true, 0, MAX_DURATION_S, &d, r))) return err;
  c->duration_s = (uint32_t)d;
  if ((err = copy_str(c->carrier, INGEST_CARRIER_MAX, obj, "carrier", false, r))) return err;
  const char *status;
  if ((err = gb_json_str(obj, "status", false, &status, NULL, r))) return err;
  if (status && strcmp(status, "ongoing") == 0)
    c->ongoing = 1;
  else if (status && strcmp(status, "final") != 0)
    return gb_reject(r, "unknown_enum", "status", "status: '%.40s' is not ongoing or final",
                     status);
  bool intl = false;
  if ((err = gb_json_bool(obj, "international", false, &intl, r))) return err;
  c->international = intl || c->caller_class == GB_PHONE_INTERNATIONAL ||
                     c->callee_class == GB_PHONE_INTERNATIONAL;
  char e[160];
  if (gb_time_check_skew(c->start_ms, now_ms, max_future_ms, e, sizeof(e)) != 0)
    return gb_reject(r, "future_time", "start", "start: %s", e);
  return 0;
}
