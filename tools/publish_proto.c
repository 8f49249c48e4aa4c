/* --encode protobuf: each record, read as JSON (a JSON line, or a CSV row
 * already turned into JSON), becomes a goldenbell.v1.CallRecord or
 * VisitRecord; a message carries them as a CallRecordBatch /
 * VisitRecordBatch. Phone numbers and targets pass as written (ingest
 * normalises them); only the shapes protobuf needs are converted here:
 * times to epoch milliseconds, status and kind to their enums. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "gb/timeparse.h"
#include "goldenbell/v1/input.pb-c.h"
#include "publish.h"

static const char *str(const json_t *o, const char *k) {
  const json_t *v = json_object_get(o, k);
  return json_is_string(v) ? json_string_value(v) : "";
}

/* RFC 3339, or epoch seconds/milliseconds as a number or digits. */
static int time_ms(const json_t *o, const char *k, int64_t *out, char *why, size_t why_size) {
  const json_t *v = json_object_get(o, k);
  char e[160];
  if (json_is_number(v)) {
    if (gb_time_from_epoch(out, json_number_value(v), e, sizeof(e)) == 0) return 0;
  } else if (json_is_string(v)) {
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len && strspn(s, "0123456789") == len) {
      if (gb_time_from_epoch(out, (double)strtoll(s, NULL, 10), e, sizeof(e)) == 0) return 0;
    } else if (gb_time_parse_rfc3339(out, s, len, e, sizeof(e)) == 0) {
      return 0;
    }
  } else {
    snprintf(e, sizeof(e), "missing");
  }
  snprintf(why, why_size, "%s: %s", k, e);
  return -1;
}

static int encode_call(const json_t *o, pub_buf_t *out, char *why, size_t why_size) {
  Goldenbell__V1__CallRecord r = GOLDENBELL__V1__CALL_RECORD__INIT;
  r.version = 1;
  r.call_id = (char *)str(o, "call_id");
  r.caller = (char *)str(o, "caller");
  r.callee = (char *)str(o, "callee");
  r.carrier = (char *)str(o, "carrier");
  if (time_ms(o, "start", &r.start_ms, why, why_size)) return -1;
  const json_t *d = json_object_get(o, "duration_s");
  if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > UINT32_MAX) {
    snprintf(why, why_size, "duration_s: want a whole number of seconds");
    return -1;
  }
  r.duration_s = (uint32_t)json_integer_value(d);
  const char *st = str(o, "status");
  r.status = strcmp(st, "ongoing") == 0 ? GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING
             : strcmp(st, "final") == 0 ? GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_FINAL
                                        : GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_UNSPECIFIED;
  const json_t *intl = json_object_get(o, "international");
  if (json_is_boolean(intl)) {
    r.international_present_case = GOLDENBELL__V1__CALL_RECORD__INTERNATIONAL_PRESENT_INTERNATIONAL;
    r.international = json_is_true(intl);
  }
  size_t n = goldenbell__v1__call_record__get_packed_size(&r);
  if (pub_buf_reserve(out, n) != 0) return -2;
  out->len += goldenbell__v1__call_record__pack(&r, (uint8_t *)out->data + out->len);
  return 0;
}

static int encode_visit(const json_t *o, pub_buf_t *out, char *why, size_t why_size) {
  Goldenbell__V1__VisitRecord r = GOLDENBELL__V1__VISIT_RECORD__INIT;
  r.version = 1;
  r.event_id = (char *)str(o, "event_id");
  r.phone = (char *)str(o, "phone");
  r.target = (char *)str(o, "target");
  r.partner = (char *)str(o, "partner");
  const char *kind = str(o, "kind");
  r.kind = strcmp(kind, "site") == 0 ? GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_SITE
           : strcmp(kind, "app") == 0 ? GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP
                                      : GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_UNSPECIFIED;
  if (time_ms(o, "ts", &r.ts_ms, why, why_size)) return -1;
  size_t n = goldenbell__v1__visit_record__get_packed_size(&r);
  if (pub_buf_reserve(out, n) != 0) return -2;
  out->len += goldenbell__v1__visit_record__pack(&r, (uint8_t *)out->data + out->len);
  return 0;
}

int pub_proto_encode(pub_t *p, const char *rec, size_t len, pub_buf_t *out, char *why,
                     size_t why_size) {
  json_error_t je;
  json_t *o = json_loadb(rec, len, 0, &je);
  if (!o || !json_is_object(o)) {
    snprintf(why, why_size, "not a JSON object");
    json_decref(o);
    return -1;
  }
  out->len = 0;
  int rc = p->o->record_visit ? encode_visit(o, out, why, why_size)
                              : encode_call(o, out, why, why_size);
  json_decref(o);
  return rc;
}
