/* Canonical events (goldenbell.v1.Event) from normalised records. */
#include <stdio.h>
#include <string.h>

#include "gb/log.h"
#include "goldenbell/v1/event.pb-c.h"
#include "ingest.h"

static void origin_of(Goldenbell__V1__Origin *o, const rd_kafka_message_t *m, const char *partner) {
  goldenbell__v1__origin__init(o);
  o->topic = (char *)rd_kafka_topic_name(m->rkt);
  o->partition = m->partition;
  o->offset = m->offset;
  o->partner = (char *)partner;
}

/* Joins parts with ':' into out (size bytes, truncating); the event ids are
 * built for every record, where snprintf's format parsing shows. */
static void join_id(char *out, size_t size, const char *const *parts, int n) {
  size_t o = 0;
  for (int i = 0; i < n; i++) {
    size_t l = strlen(parts[i]);
    if (i > 0 && o + 1 < size) out[o++] = ':';
    if (l > size - 1 - o) l = size - 1 - o;
    memcpy(out + o, parts[i], l);
    o += l;
  }
  out[o] = '\0';
}

static int add(ingest_t *in, Goldenbell__V1__Event *ev) {
  int err = ingest_packer_add(in->packer, ev);
  if (!err) gb_metric_inc(in->m.events_out, 1);
  return err;
}

/* One event per party that can be a person: a call concerns both, and
 * either may be protected. Service numbers (110, 95xxx) are nobody. */
int ingest_emit_call(ingest_t *in, const ingest_call_t *c, const rd_kafka_message_t *m) {
  Goldenbell__V1__Origin origin;
  origin_of(&origin, m, c->carrier);
  char duration[12];
  {
    char rev[12];
    int n = 0;
    uint32_t d = c->duration_s;
    do rev[n++] = (char)('0' + d % 10); while ((d /= 10) > 0);
    for (int i = 0; i < n; i++) duration[i] = rev[n - 1 - i];
    duration[n] = '\0';
  }
  for (int side = 0; side < 2; side++) {
    const char *subject = side == 0 ? c->caller : c->callee;
    gb_phone_class_t scls = side == 0 ? c->caller_class : c->callee_class;
    if (scls == GB_PHONE_SERVICE) continue;
    Goldenbell__V1__CallView cv = GOLDENBELL__V1__CALL_VIEW__INIT;
    cv.call_id = (char *)c->call_id;
    cv.counterpart = (char *)(side == 0 ? c->callee : c->caller);
    cv.counterpart_class = (Goldenbell__V1__NumberClass)(side == 0 ? c->callee_class
                                                                   : c->caller_class);
    cv.outgoing = side == 0;
    cv.start_ms = c->start_ms;
    cv.duration_s = c->duration_s;
    cv.status = c->ongoing ? GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING
                           : GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_FINAL;
    cv.international = c->international;
    cv.carrier = (char *)c->carrier;
    char event_id[INGEST_CALL_ID_MAX + INGEST_CARRIER_MAX + 64];
    const char *const parts[] = {"call", c->carrier, c->call_id, subject, duration};
    join_id(event_id, sizeof(event_id), parts, 5);
    Goldenbell__V1__Event ev = GOLDENBELL__V1__EVENT__INIT;
    ev.version = 1;
    ev.event_id = event_id;
    ev.subject = (char *)subject;
    ev.ts_ms = c->start_ms + (int64_t)c->duration_s * 1000;
    ev.origin = &origin;
    ev.body_case = GOLDENBELL__V1__EVENT__BODY_CALL;
    ev.call = &cv;
    int err = add(in, &ev);
    if (err) return err;
    gb_debug("event.emitted", "event_id=%s", event_id);
  }
  return 0;
}

int ingest_emit_visit(ingest_t *in, const ingest_visit_t *v, const rd_kafka_message_t *m) {
  Goldenbell__V1__Origin origin;
  origin_of(&origin, m, v->partner);
  Goldenbell__V1__VisitView vv = GOLDENBELL__V1__VISIT_VIEW__INIT;
  vv.source_id = (char *)v->event_id;
  vv.kind = v->app ? GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP
                   : GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_SITE;
  vv.target = (char *)v->target;
  vv.domain = (char *)v->domain;
  char event_id[INGEST_EVENT_ID_MAX + INGEST_PARTNER_MAX + 48];
  const char *const parts[] = {v->app ? "app" : "site", v->partner, v->event_id, v->phone};
  join_id(event_id, sizeof(event_id), parts, 4);
  Goldenbell__V1__Event ev = GOLDENBELL__V1__EVENT__INIT;
  ev.version = 1;
  ev.event_id = event_id;
  ev.subject = (char *)v->phone;
  ev.ts_ms = v->ts_ms;
  ev.origin = &origin;
  ev.body_case = GOLDENBELL__V1__EVENT__BODY_VISIT;
  ev.visit = &vv;
  int err = add(in, &ev);
  if (!err) gb_debug("event.emitted", "event_id=%s", event_id);
  return err;
}
