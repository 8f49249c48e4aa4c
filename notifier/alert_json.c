#include "alert_json.h"

#include <jansson.h>

#include "gb/alertnames.h"
#include "gb/timeparse.h"

static json_t *event_json(const Goldenbell__V1__Event *e) {
  char ts[40];
  gb_time_format(ts, sizeof(ts), e->ts_ms);
  json_t *o = json_pack("{s:s, s:s, s:s}", "event_id", e->event_id, "subject", e->subject,
                        "time", ts);
  if (o && e->body_case == GOLDENBELL__V1__EVENT__BODY_CALL && e->call) {
    const Goldenbell__V1__CallView *c = e->call;
    json_object_set_new(o, "call", json_pack("{s:s, s:s, s:b, s:i, s:s, s:b, s:s}",
                                             "call_id", c->call_id, "counterpart", c->counterpart,
                                             "outgoing", c->outgoing, "duration_s",
                                             (json_int_t)c->duration_s, "status",
                                             c->status == GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING
                                                 ? "ongoing" : "final",
                                             "international", c->international, "carrier",
                                             c->carrier));
  }
  if (o && e->body_case == GOLDENBELL__V1__EVENT__BODY_VISIT && e->visit) {
    const Goldenbell__V1__VisitView *v = e->visit;
    json_object_set_new(o, "visit", json_pack("{s:s, s:s, s:s}", "kind",
                                              v->kind == GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP
                                                  ? "app" : "site",
                                              "target", v->target, "domain", v->domain));
  }
  return o;
}

char *alert_to_json(const Goldenbell__V1__Alert *a) {
  char created[40], updated[40];
  gb_time_format(created, sizeof(created), a->created_ms);
  gb_time_format(updated, sizeof(updated), a->updated_ms);
  json_t *prot = json_array();
  for (size_t i = 0; i < a->n_protectors; i++) {
    const Goldenbell__V1__Protector *p = a->protectors[i];
    json_array_append_new(prot, json_pack("{s:s, s:s, s:s, s:b}", "registrant", p->registrant,
                                          "station_id", p->station_id, "relation", p->relation,
                                          "following", p->following));
  }
  json_t *evs = json_array();
  for (size_t i = 0; i < a->n_events; i++) json_array_append_new(evs, event_json(a->events[i]));
  /* evidence_zh, the Chinese the officers read, is "" from a matcher older
   * than the field. */
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o, s:o}",
                        "alert_id", a->alert_id, "station_id", a->station_id, "subject",
                        a->subject, "risk", gb_risk_name(a->risk), "rule",
                        gb_rule_name(a->rule), "evidence", a->evidence, "evidence_zh",
                        a->evidence_zh, "created", created, "updated", updated, "count",
                        (json_int_t)a->count, "revision", (json_int_t)a->revision,
                        "protectors", prot, "events", evs);
  if (!o) return NULL;
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}
