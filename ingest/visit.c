#include "visit.h"

#include <string.h>

#include "fields.h"
#include "gb/err.h"

static int target(ingest_visit_t *v, const char *s, size_t len, gb_reject_t *r) {
  char e[200];
  if (!s || len == 0) return gb_reject(r, "missing_field", "target", "target: missing or empty");
  if (v->app) {
    if (gb_app_normalize(v->target, sizeof(v->target), s, len, e, sizeof(e)) != 0)
      return gb_reject(r, "invalid_value", "target", "target: %s", e);
    v->domain[0] = '\0';
    return 0;
  }
  gb_site_t site;
  if (gb_site_normalize(&site, s, len, e, sizeof(e)) != 0)
    return gb_reject(r, "invalid_value", "target", "target: %s", e);
  memcpy(v->target, site.host, sizeof(site.host));
  memcpy(v->domain, site.domain, sizeof(site.domain));
  return 0;
}

int ingest_visit_from_json(ingest_visit_t *v, const flat_rec_t *obj, int64_t now_ms,
                           int64_t max_future_ms, gb_reject_t *r) {
  int err;
  const char *s, *kind;
  size_t len;
  gb_phone_class_t cls;
  memset(v, 0, sizeof(*v));
  if (obj->top_type != FLAT_OBJECT)
    return gb_reject(r, "wrong_type", "", "a visit record is an object");
  if ((err = flat_str(obj, "event_id", true, &s, &len, r)) ||
      (err = field_text(v->event_id, INGEST_EVENT_ID_MAX, s, len, "event_id", 1, r)))
    return err;
  if ((err = flat_str(obj, "phone", true, &s, &len, r)) ||
      (err = field_phone(v->phone, &cls, s, len, "phone", 0, r)))
    return err;
  if ((err = flat_str(obj, "kind", true, &kind, NULL, r))) return err;
  if (strcmp(kind, "app") == 0) v->app = 1;
  else if (strcmp(kind, "site") != 0)
    return gb_reject(r, "unknown_enum", "kind", "kind: '%.40s' is not site or app", kind);
  if ((err = flat_str(obj, "target", true, &s, &len, r)) || (err = target(v, s, len, r)))
    return err;
  if ((err = flat_time(obj, "ts", true, &v->ts_ms, r))) return err;
  if (v->ts_ms <= 0) /* as ts_ms in protobuf */
    return gb_reject(r, "invalid_value", "ts", "ts: %lld ms is not after 1970",
                     (long long)v->ts_ms);
  if ((err = flat_str(obj, "partner", false, &s, &len, r)) ||
      (err = field_text(v->partner, INGEST_PARTNER_MAX, s, len, "partner", 0, r)))
    return err;
  return field_time_skew(v->ts_ms, now_ms, max_future_ms, "ts", r);
}

int ingest_visit_from_proto(ingest_visit_t *v, const Goldenbell__V1__VisitRecord *pb,
                            int64_t now_ms, int64_t max_future_ms, gb_reject_t *r) {
  int err;
  gb_phone_class_t cls;
  memset(v, 0, sizeof(*v));
  if ((err = field_version(pb->version, r))) return err;
  if ((err = field_text(v->event_id, INGEST_EVENT_ID_MAX, pb->event_id, strlen(pb->event_id),
                        "event_id", 1, r)))
    return err;
  if ((err = field_phone(v->phone, &cls, pb->phone, strlen(pb->phone), "phone", 0, r)))
    return err;
  switch (pb->kind) {
  case GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_SITE: break;
  case GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP: v->app = 1; break;
  default:
    return gb_reject(r, pb->kind ? "unknown_enum" : "missing_field", "kind",
                     "kind: %d is not SITE or APP", (int)pb->kind);
  }
  if ((err = target(v, pb->target, strlen(pb->target), r))) return err;
  if (pb->ts_ms <= 0) return gb_reject(r, "missing_field", "ts_ms", "ts_ms: missing or not positive");
  v->ts_ms = pb->ts_ms;
  if ((err = field_text(v->partner, INGEST_PARTNER_MAX, pb->partner, strlen(pb->partner),
                        "partner", 0, r)))
    return err;
  return field_time_skew(v->ts_ms, now_ms, max_future_ms, "ts_ms", r);
}
