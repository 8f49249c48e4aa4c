#include "wire.h"

#include "gb/err.h"

/* Field numbers, from proto/goldenbell/v1/event.proto and common.proto. */
enum { EVENT_VERSION = 1, EVENT_ID, EVENT_SUBJECT, EVENT_TS_MS, EVENT_ORIGIN, EVENT_CALL = 10,
       EVENT_VISIT };
enum { CALL_ID = 1, CALL_COUNTERPART, CALL_CLASS, CALL_OUTGOING, CALL_START_MS, CALL_DURATION_S,
       CALL_STATUS, CALL_INTERNATIONAL, CALL_CARRIER };
enum { VISIT_SOURCE_ID = 1, VISIT_KIND, VISIT_TARGET, VISIT_DOMAIN };
enum { ORIGIN_TOPIC = 1, ORIGIN_PARTITION, ORIGIN_OFFSET, ORIGIN_PARTNER };

/* What an absent string points at, so that callers never meet NULL. */
static const char empty[] = "";

/* protobuf-c refuses a known field of the wrong wire type; so do we, or the
 * fast path would act on events that the slow path calls malformed. */
#define WANT(f, w, name)                                                                           \
  do {                                                                                             \
    if ((f).wire != (w)) {                                                                         \
      *why = name " has the wrong wire type";                                                      \
      return GB_EINVAL;                                                                            \
    }                                                                                              \
  } while (0)

#define STR(f, s, n)                                                                               \
  do {                                                                                             \
    (s) = (const char *)(f).data;                                                                  \
    (n) = (f).len;                                                                                 \
  } while (0)

/* int64 and enum (int32) fields are varints of the two's complement value;
 * spelled out because converting an out-of-range unsigned value to a
 * signed type is implementation-defined. */
static int64_t as_int64(uint64_t v) {
  return v <= INT64_MAX ? (int64_t)v : -(int64_t)(UINT64_MAX - v) - 1;
}

static int as_int32(uint64_t v) {
  uint32_t u = (uint32_t)v;
  return u <= INT32_MAX ? (int)u : -(int)(UINT32_MAX - u) - 1;
}

/* protobuf-c reads a bool whatever its wire type: true when any payload bit
 * is set. For a length-delimited one its length prefix counts as payload,
 * so any non-empty one is true. Copied so that both paths agree. */
static bool as_bool(const gb_pbfield_t *f) {
  if (f->wire == GB_PBWIRE_LEN) return f->len > 0;
  for (size_t i = 0; i < f->len; i++)
    if (f->data[i] & 0x7f) return true;
  return false;
}

static void clear_body(ev_scan_t *e) {
  e->body = EV_BODY_NONE;
  e->call_id = e->counterpart = e->target = e->domain = empty;
  e->call_id_len = e->counterpart_len = e->target_len = e->domain_len = 0;
  e->counterpart_class = e->status = e->visit_kind = 0;
  e->outgoing = e->international = false;
  e->start_ms = 0;
  e->duration_s = 0;
}

/* Origin is not needed on the hot path, but protobuf-c unpacks it, so a
 * malformed one makes the event malformed here too. */
static int check_origin(const uint8_t *p, size_t len, const char **why) {
  gb_pbwire_t w;
  gb_pbfield_t f;
  int rc;
  gb_pbwire_init(&w, p, len);
  while ((rc = gb_pbwire_next(&w, &f, why)) > 0) {
    switch (f.field) {
    case ORIGIN_TOPIC:
    case ORIGIN_PARTNER:
      WANT(f, GB_PBWIRE_LEN, "Origin.topic or .partner");
      break;
    case ORIGIN_PARTITION:
    case ORIGIN_OFFSET:
      WANT(f, GB_PBWIRE_VARINT, "Origin.partition or .offset");
      break;
    }
  }
  return rc;
}

static int scan_call(ev_scan_t *e, const uint8_t *p, size_t len, const char **why) {
  gb_pbwire_t w;
  gb_pbfield_t f;
  int rc;
  gb_pbwire_init(&w, p, len);
  while ((rc = gb_pbwire_next(&w, &f, why)) > 0) {
    switch (f.field) {
    case CALL_ID:
      WANT(f, GB_PBWIRE_LEN, "CallView.call_id");
      STR(f, e->call_id, e->call_id_len);
      break;
    case CALL_COUNTERPART:
      WANT(f, GB_PBWIRE_LEN, "CallView.counterpart");
      STR(f, e->counterpart, e->counterpart_len);
      break;
    case CALL_CLASS:
      WANT(f, GB_PBWIRE_VARINT, "CallView.counterpart_class");
      e->counterpart_class = as_int32(f.varint);
      break;
    case CALL_OUTGOING:
      e->outgoing = as_bool(&f);
      break;
    case CALL_START_MS:
      WANT(f, GB_PBWIRE_VARINT, "CallView.start_ms");
      e->start_ms = as_int64(f.varint);
      break;
    case CALL_DURATION_S:
      WANT(f, GB_PBWIRE_VARINT, "CallView.duration_s");
      e->duration_s = (uint32_t)f.varint;
      break;
    case CALL_STATUS:
      WANT(f, GB_PBWIRE_VARINT, "CallView.status");
      e->status = as_int32(f.varint);
      break;
    case CALL_INTERNATIONAL:
      e->international = as_bool(&f);
      break;
    case CALL_CARRIER:
      WANT(f, GB_PBWIRE_LEN, "CallView.carrier");
      break;
    }
  }
  return rc;
}

static int scan_visit(ev_scan_t *e, const uint8_t *p, size_t len, const char **why) {
  gb_pbwire_t w;
  gb_pbfield_t f;
  int rc;
  gb_pbwire_init(&w, p, len);
  while ((rc = gb_pbwire_next(&w, &f, why)) > 0) {
    switch (f.field) {
    case VISIT_SOURCE_ID:
      WANT(f, GB_PBWIRE_LEN, "VisitView.source_id");
      break;
    case VISIT_KIND:
      WANT(f, GB_PBWIRE_VARINT, "VisitView.kind");
      e->visit_kind = as_int32(f.varint);
      break;
    case VISIT_TARGET:
      WANT(f, GB_PBWIRE_LEN, "VisitView.target");
      STR(f, e->target, e->target_len);
      break;
    case VISIT_DOMAIN:
      WANT(f, GB_PBWIRE_LEN, "VisitView.domain");
      STR(f, e->domain, e->domain_len);
      break;
    }
  }
  return rc;
}

static int scan_event(ev_scan_t *e, const uint8_t *p, size_t len, const char **why) {
  gb_pbwire_t w;
  gb_pbfield_t f;
  int rc;
  e->ptr = p;
  e->len = len;
  e->version = 0;
  e->subject = e->event_id = empty;
  e->subject_len = e->event_id_len = 0;
  e->ts_ms = 0;
  clear_body(e);
  gb_pbwire_init(&w, p, len);
  while ((rc = gb_pbwire_next(&w, &f, why)) > 0) {
    switch (f.field) {
    case EVENT_VERSION:
      WANT(f, GB_PBWIRE_VARINT, "Event.version");
      e->version = (uint32_t)f.varint;
      break;
    case EVENT_ID:
      WANT(f, GB_PBWIRE_LEN, "Event.event_id");
      STR(f, e->event_id, e->event_id_len);
      break;
    case EVENT_SUBJECT:
      WANT(f, GB_PBWIRE_LEN, "Event.subject");
      STR(f, e->subject, e->subject_len);
      break;
    case EVENT_TS_MS:
      WANT(f, GB_PBWIRE_VARINT, "Event.ts_ms");
      e->ts_ms = as_int64(f.varint);
      break;
    case EVENT_ORIGIN:
      WANT(f, GB_PBWIRE_LEN, "Event.origin");
      if ((rc = check_origin(f.data, f.len, why)) < 0) return rc;
      break;
    /* A later member of the oneof replaces an earlier one whole, even one
     * of the same field: protobuf-c frees the old member, it does not
     * merge them. */
    case EVENT_CALL:
      WANT(f, GB_PBWIRE_LEN, "Event.call");
      clear_body(e);
      e->body = EV_BODY_CALL;
      if ((rc = scan_call(e, f.data, f.len, why)) < 0) return rc;
      break;
    case EVENT_VISIT:
      WANT(f, GB_PBWIRE_LEN, "Event.visit");
      clear_body(e);
      e->body = EV_BODY_VISIT;
      if ((rc = scan_visit(e, f.data, f.len, why)) < 0) return rc;
      break;
    }
  }
  return rc;
}

void ev_iter_init(ev_iter_t *it, const void *batch, size_t len) {
  gb_pbwire_init(&it->w, batch, len);
}

int ev_iter_next(ev_iter_t *it, ev_scan_t *e, const char **why) {
  gb_pbfield_t f;
  for (;;) {
    size_t start = it->w.off;
    int rc = gb_pbwire_next(&it->w, &f, why);
    if (rc <= 0) return rc;
    if (f.field != 1) continue; /* unknown fields of the batch */
    if (f.wire != GB_PBWIRE_LEN) {
      *why = "EventBatch.events has the wrong wire type";
      rc = GB_EINVAL;
    } else {
      rc = scan_event(e, f.data, f.len, why);
    }
    if (rc < 0) {
      it->w.off = start; /* stay on the bad event: a second call fails too */
      return rc;
    }
    return 1;
  }
}
