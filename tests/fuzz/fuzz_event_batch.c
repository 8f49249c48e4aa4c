/* matcher's zero-copy EventBatch scanner (matcher/wire.c), the first code
 * to touch every message on gb.events, checked against protobuf-c as
 * wire.h promises: both agree on whether a batch is valid and, when it is,
 * on every field of every event; each event's own bytes unpack to the same
 * event; a bad batch leaves the scanner on the bad event, failing again the
 * same way. (tests/unit/test_wire.c holds the same oracle for hand-made
 * batches.)
 *
 * Input: a packed EventBatch. */
#include <string.h>

#include "fuzz.h"
#include "gb/err.h"
#include "goldenbell/v1/event.pb-c.h"
#include "wire.h"

static void same_str(const char *s, size_t n, const char *want, const uint8_t *b, size_t len,
                     const char *what) {
  FUZZ_CHECK(s != NULL, "%s is NULL", what);
  if (n) FUZZ_CHECK((const uint8_t *)s >= b && (const uint8_t *)s + n <= b + len,
                    "%s points outside the batch", what);
  /* protobuf-c copies all n bytes and adds a NUL, so want[0..n] is
   * readable even when the string holds a NUL itself. */
  FUZZ_CHECK(memcmp(s, want, n) == 0 && want[n] == '\0', "%s differs", what);
}

static void same_event(const ev_scan_t *e, const Goldenbell__V1__Event *pb, const uint8_t *b,
                       size_t len) {
  FUZZ_CHECK(e->ptr >= b && e->ptr + e->len <= b + len, "event bytes outside the batch");
  FUZZ_CHECK(e->version == pb->version, "version");
  same_str(e->event_id, e->event_id_len, pb->event_id, b, len, "event_id");
  same_str(e->subject, e->subject_len, pb->subject, b, len, "subject");
  FUZZ_CHECK(e->ts_ms == pb->ts_ms, "ts_ms");
  int body = pb->body_case == GOLDENBELL__V1__EVENT__BODY_CALL    ? EV_BODY_CALL
             : pb->body_case == GOLDENBELL__V1__EVENT__BODY_VISIT ? EV_BODY_VISIT
                                                                  : EV_BODY_NONE;
  FUZZ_CHECK(e->body == body, "body %d, protobuf-c %d", e->body, body);
  Goldenbell__V1__CallView nocall = GOLDENBELL__V1__CALL_VIEW__INIT;
  Goldenbell__V1__VisitView novisit = GOLDENBELL__V1__VISIT_VIEW__INIT;
  const Goldenbell__V1__CallView *c = body == EV_BODY_CALL ? pb->call : &nocall;
  const Goldenbell__V1__VisitView *v = body == EV_BODY_VISIT ? pb->visit : &novisit;
  same_str(e->call_id, e->call_id_len, c->call_id, b, len, "call_id");
  same_str(e->counterpart, e->counterpart_len, c->counterpart, b, len, "counterpart");
  FUZZ_CHECK(e->counterpart_class == (int)c->counterpart_class, "counterpart_class");
  FUZZ_CHECK(e->outgoing == (c->outgoing != 0), "outgoing");
  FUZZ_CHECK(e->international == (c->international != 0), "international");
  FUZZ_CHECK(e->start_ms == c->start_ms, "start_ms");
  FUZZ_CHECK(e->duration_s == c->duration_s, "duration_s");
  FUZZ_CHECK(e->status == (int)c->status, "status");
  FUZZ_CHECK(e->visit_kind == (int)v->kind, "visit kind");
  same_str(e->target, e->target_len, v->target, b, len, "target");
  same_str(e->domain, e->domain_len, v->domain, b, len, "domain");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Goldenbell__V1__EventBatch *pb = goldenbell__v1__event_batch__unpack(NULL, size, data);
  ev_iter_t it;
  ev_scan_t e;
  const char *why = NULL;
  size_t n = 0;
  int rc;
  ev_iter_init(&it, data, size);
  while ((rc = ev_iter_next(&it, &e, &why)) == 1) {
    if (pb) {
      FUZZ_CHECK(n < pb->n_events, "more events than protobuf-c's %zu", pb->n_events);
      same_event(&e, pb->events[n], data, size);
      Goldenbell__V1__Event *one = goldenbell__v1__event__unpack(NULL, e.len, e.ptr);
      FUZZ_CHECK(one != NULL, "event %zu does not unpack alone", n);
      same_event(&e, one, data, size);
      goldenbell__v1__event__free_unpacked(one, NULL);
    }
    n++;
  }
  FUZZ_CHECK(!pb || rc == 0, "the scanner refused what protobuf-c took: %s", why);
  FUZZ_CHECK(pb || rc == GB_EINVAL, "the scanner took what protobuf-c refused");
  if (pb) {
    FUZZ_CHECK(n == pb->n_events, "%zu events, protobuf-c %zu", n, pb->n_events);
  } else {
    size_t at = it.w.off;
    const char *again = NULL;
    FUZZ_CHECK(why != NULL, "refused without a reason");
    FUZZ_CHECK(ev_iter_next(&it, &e, &again) == GB_EINVAL && again == why && it.w.off == at,
               "a second call after an error");
  }
  goldenbell__v1__event_batch__free_unpacked(pb, NULL);
  return 0;
}
