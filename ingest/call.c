#include "call.h"

#include <string.h>

#include "fields.h"
#include "gb/err.h"

/* Longest call a carrier can report, seconds (two days: longer is a bug). */
#define MAX_DURATION_S (2 * 86400)

/* What both formats share once their fields are read. */
static int finish(ingest_call_t *c, int64_t now_ms, int64_t max_future_ms, int intl,
                  gb_reject_t *r) {
  c->international = intl || c->caller_class == GB_PHONE_INTERNATIONAL ||
                     c->callee_class == GB_PHONE_INTERNATIONAL;
  return field_time_skew(c->start_ms, now_ms, max_future_ms, "start", r);
}

static int json_text(char *out, size_t max, const flat_rec_t *o, const char *f, int required,
                     gb_reject_t *r) {
  const char *s;
  size_t len;
  int err = flat_str(o, f, required, &s, &len, r);
  return err ? err : field_text(out, max, s, len, f, required, r);
}

static int json_phone(char *out, gb_phone_class_t *cls, const flat_rec_t *o, const char *f,
                      gb_reject_t *r) {
  const char *s;
  size_t len;
  int err = flat_str(o, f, true, &s, &len, r);
  return err ? err : field_phone(out, cls, s, len, f, 1, r);
}

int ingest_call_from_json(ingest_call_t *c, const flat_rec_t *obj, int64_t now_ms,
                          int64_t max_future_ms, gb_reject_t *r) {
  int err;
  memset(c, 0, sizeof(*c));
  if (obj->top_type != FLAT_OBJECT)
    return gb_reject(r, "wrong_type", "", "a call record is an object");
  if ((err = json_text(c->call_id, INGEST_CALL_ID_MAX, obj, "call_id", 1, r))) return err;
  if ((err = json_phone(c->caller, &c->caller_class, obj, "caller", r))) return err;
  if ((err = json_phone(c->callee, &c->callee_class, obj, "callee", r))) return err;
  if ((err = flat_time(obj, "start", true, &c->start_ms, r))) return err;
  /* As start_ms in protobuf: an RFC 3339 time before 1970 reads, but is
   * no call's. */
  if (c->start_ms <= 0)
    return gb_reject(r, "invalid_value", "start", "start: %lld ms is not after 1970",
                     (long long)c->start_ms);
  int64_t d = 0;
  if ((err = flat_int(obj, "duration_s", true, 0, MAX_DURATION_S, &d, r))) return err;
  c->duration_s = (uint32_t)d;
  if ((err = json_text(c->carrier, INGEST_CARRIER_MAX, obj, "carrier", 0, r))) return err;
  const char *status;
  if ((err = flat_str(obj, "status", false, &status, NULL, r))) return err;
  if (status && strcmp(status, "ongoing") == 0)
    c->ongoing = 1;
  else if (status && strcmp(status, "final") != 0)
    return gb_reject(r, "unknown_enum", "status", "status: '%.40s' is not ongoing or final",
                     status);
  bool intl = false;
  if ((err = flat_bool(obj, "international", false, &intl, r))) return err;
  return finish(c, now_ms, max_future_ms, intl, r);
}

int ingest_call_from_proto(ingest_call_t *c, const Goldenbell__V1__CallRecord *pb,
                           int64_t now_ms, int64_t max_future_ms, gb_reject_t *r) {
  int err;
  memset(c, 0, sizeof(*c));
  if ((err = field_version(pb->version, r))) return err;
  if ((err = field_text(c->call_id, INGEST_CALL_ID_MAX, pb->call_id, strlen(pb->call_id),
                        "call_id", 1, r)))
    return err;
  if ((err = field_phone(c->caller, &c->caller_class, pb->caller, strlen(pb->caller), "caller",
                         1, r)))
    return err;
  if ((err = field_phone(c->callee, &c->callee_class, pb->callee, strlen(pb->callee), "callee",
                         1, r)))
    return err;
  if (pb->start_ms <= 0)
    return gb_reject(r, "missing_field", "start_ms", "start_ms: missing or not positive");
  c->start_ms = pb->start_ms;
  if (pb->duration_s > MAX_DURATION_S)
    return gb_reject(r, "invalid_value", "duration_s", "duration_s: %u is outside 0..%d",
                     pb->duration_s, MAX_DURATION_S);
  c->duration_s = pb->duration_s;
  if ((err = field_text(c->carrier, INGEST_CARRIER_MAX, pb->carrier, strlen(pb->carrier),
                        "carrier", 0, r)))
    return err;
  switch (pb->status) {
  case GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_UNSPECIFIED:
  case GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_FINAL: break;
  case GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING: c->ongoing = 1; break;
  default:
    return gb_reject(r, "unknown_enum", "status", "status: %d is not a CallStatus",
                     (int)pb->status);
  }
  int intl = pb->international_present_case ==
                 GOLDENBELL__V1__CALL_RECORD__INTERNATIONAL_PRESENT_INTERNATIONAL &&
             pb->international;
  return finish(c, now_ms, max_future_ms, intl, r);
}
