/* matcher's zero-copy EventBatch scanner, checked against protobuf-c: for
 * every batch here (good, odd, cut short, mangled) both must agree on
 * whether it is valid and, when it is, on every field of every event.
 * Buffers are exact-size heap copies so that ASan sees any over-read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gb/err.h"
#include "goldenbell/v1/event.pb-c.h"
#include "wire.h"

/* ---- building bytes by hand ---- */

typedef struct {
  uint8_t *p;
  size_t len, cap;
} buf_t;

static void put(buf_t *b, const void *d, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    assert_non_null(b->p);
  }
  if (n) memcpy(b->p + b->len, d, n);
  b->len += n;
}

static void put_varint(buf_t *b, uint64_t v) {
  uint8_t t[10];
  size_t n = 0;
  do {
    t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  put(b, t, n);
}

static void put_tag(buf_t *b, uint32_t field, int wire) {
  put_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}

static void put_len(buf_t *b, uint32_t field, const void *d, size_t n) {
  put_tag(b, field, GB_PBWIRE_LEN);
  put_varint(b, n);
  put(b, d, n);
}

static void put_fixed(buf_t *b, uint32_t field, uint64_t v, int wire) {
  uint8_t t[8];
  size_t n = wire == GB_PBWIRE_I64 ? 8 : 4;
  for (size_t i = 0; i < n; i++) t[i] = (uint8_t)(v >> (8 * i));
  put_tag(b, field, wire);
  put(b, t, n);
}

/* One field of the given wire type, whatever it means. A length-delimited
 * one holds an unknown field 15, so that it is a good string and a good
 * message of any of our types alike. */
static void put_any(buf_t *b, uint32_t field, int wire) {
  if (wire == GB_PBWIRE_VARINT) put_tag(b, field, wire), put_varint(b, 1);
  else if (wire == GB_PBWIRE_LEN) put_len(b, field, "\x78\x01", 2);
  else put_fixed(b, field, 1, wire);
}

static void put_event(buf_t *b, const Goldenbell__V1__Event *ev) {
  size_t n = goldenbell__v1__event__get_packed_size(ev);
  uint8_t *t = malloc(n ? n : 1);
  assert_int_equal(goldenbell__v1__event__pack(ev, t), n);
  put(b, t, n);
  free(t);
}

static void put_call(buf_t *b, const Goldenbell__V1__CallView *c) {
  size_t n = goldenbell__v1__call_view__get_packed_size(c);
  uint8_t *t = malloc(n ? n : 1);
  assert_int_equal(goldenbell__v1__call_view__pack(c, t), n);
  put(b, t, n);
  free(t);
}

/* Appends an event's bytes to a batch as one `events` field. */
static void add_event(buf_t *batch, const buf_t *ev) { put_len(batch, 1, ev->p, ev->len); }

static void add_pb_event(buf_t *batch, const Goldenbell__V1__Event *ev) {
  buf_t e = {0};
  put_event(&e, ev);
  add_event(batch, &e);
  free(e.p);
}

static uint8_t *dup_exact(const uint8_t *p, size_t len) {
  uint8_t *b = malloc(len ? len : 1);
  assert_non_null(b);
  if (len) memcpy(b, p, len);
  return b;
}

/* ---- the oracle ---- */

/* protobuf-c copies a string's bytes and adds a NUL, so want[0..n] is
 * readable even when the string holds a NUL itself. */
static void same_str(const char *s, size_t n, const char *want, const uint8_t *b, size_t len) {
  assert_non_null(s);
  if (n) {
    /* zero-copy: a string that is there points into the batch */
    assert_true((const uint8_t *)s >= b && (const uint8_t *)s + n <= b + len);
    assert_memory_equal(s, want, n);
  }
  assert_int_equal(want[n], '\0');
}

static void same_event(const ev_scan_t *e, const Goldenbell__V1__Event *pb, const uint8_t *b,
                       size_t len) {
  assert_true(e->ptr >= b && e->ptr + e->len <= b + len);
  assert_int_equal(e->version, pb->version);
  same_str(e->event_id, e->event_id_len, pb->event_id, b, len);
  same_str(e->subject, e->subject_len, pb->subject, b, len);
  assert_true(e->ts_ms == pb->ts_ms);
  int body = pb->body_case == GOLDENBELL__V1__EVENT__BODY_CALL    ? EV_BODY_CALL
             : pb->body_case == GOLDENBELL__V1__EVENT__BODY_VISIT ? EV_BODY_VISIT
                                                                  : EV_BODY_NONE;
  assert_int_equal(e->body, body);
  Goldenbell__V1__CallView nocall = GOLDENBELL__V1__CALL_VIEW__INIT;
  Goldenbell__V1__VisitView novisit = GOLDENBELL__V1__VISIT_VIEW__INIT;
  const Goldenbell__V1__CallView *c = body == EV_BODY_CALL ? pb->call : &nocall;
  const Goldenbell__V1__VisitView *v = body == EV_BODY_VISIT ? pb->visit : &novisit;
  /* The fields of the body it is not are zero and empty. */
  same_str(e->call_id, e->call_id_len, c->call_id, b, len);
  same_str(e->counterpart, e->counterpart_len, c->counterpart, b, len);
  assert_int_equal(e->counterpart_class, (int)c->counterpart_class);
  assert_int_equal(e->outgoing, c->outgoing != 0);
  assert_int_equal(e->international, c->international != 0);
  assert_true(e->start_ms == c->start_ms);
  assert_int_equal(e->duration_s, c->duration_s);
  assert_int_equal(e->status, (int)c->status);
  assert_int_equal(e->visit_kind, (int)v->kind);
  same_str(e->target, e->target_len, v->target, b, len);
  same_str(e->domain, e->domain_len, v->domain, b, len);
}

/* Scans len bytes and unpacks them with protobuf-c; fails the test unless
 * both agree. Returns the number of events, or -1 when both refused the
 * batch. Each event's own bytes (ptr/len) must unpack to the same event. */
static int agree(const uint8_t *bytes, size_t len) {
  uint8_t *b = dup_exact(bytes, len);
  Goldenbell__V1__EventBatch *pb = goldenbell__v1__event_batch__unpack(NULL, len, b);
  ev_iter_t it;
  ev_scan_t e;
  const char *why = NULL;
  size_t n = 0;
  int rc;
  ev_iter_init(&it, b, len);
  while ((rc = ev_iter_next(&it, &e, &why)) == 1) {
    if (pb) {
      assert_true(n < pb->n_events);
      same_event(&e, pb->events[n], b, len);
      Goldenbell__V1__Event *one = goldenbell__v1__event__unpack(NULL, e.len, e.ptr);
      assert_non_null(one);
      same_event(&e, one, b, len);
      goldenbell__v1__event__free_unpacked(one, NULL);
    }
    n++;
  }
  if (pb && rc != 0) fail_msg("the scanner refused what protobuf-c took: %s", why);
  if (!pb && rc != GB_EINVAL) fail_msg("the scanner took what protobuf-c refused (%zu B)", len);
  if (pb) {
    assert_int_equal(n, pb->n_events);
  } else {
    /* It stays on the bad event. */
    size_t at = it.w.off;
    const char *again = NULL;
    assert_non_null(why);
    assert_int_equal(ev_iter_next(&it, &e, &again), GB_EINVAL);
    assert_ptr_equal(again, why);
    assert_int_equal(it.w.off, at);
  }
  goldenbell__v1__event_batch__free_unpacked(pb, NULL);
  free(b);
  return pb ? (int)n : -1;
}

/* Scans a batch that must be good into out[]; returns the count. */
static int scan(const buf_t *batch, ev_scan_t *out, int max) {
  ev_iter_t it;
  const char *why = NULL;
  int n = 0, rc;
  ev_iter_init(&it, batch->p, batch->len);
  while (n < max && (rc = ev_iter_next(&it, &out[n], &why)) == 1) n++;
  assert_true(n < max);
  if (rc != 0) fail_msg("refused: %s", why);
  return n;
}

static int streq(const char *s, size_t n, const char *want) {
  return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* ---- realistic events ---- */

static Goldenbell__V1__Origin origin = GOLDENBELL__V1__ORIGIN__INIT;

static void call_event(Goldenbell__V1__Event *ev, Goldenbell__V1__CallView *c, int i) {
  static char ids[64][80], subjects[64][24], cps[64][24], callids[64][24];
  goldenbell__v1__event__init(ev);
  goldenbell__v1__call_view__init(c);
  i %= 64;
  snprintf(subjects[i], sizeof(subjects[i]), "+86138%08d", 1000 + i * 7919);
  snprintf(cps[i], sizeof(cps[i]), "+86170%08d", 5000 + i * 104729);
  snprintf(callids[i], sizeof(callids[i]), "cm-%010d", 77 + i);
  snprintf(ids[i], sizeof(ids[i]), "call:cm:%s:%s", callids[i], subjects[i]);
  ev->version = 1;
  ev->event_id = ids[i];
  ev->subject = subjects[i];
  ev->ts_ms = 1700000000000 + i * 1000;
  ev->origin = &origin;
  ev->body_case = GOLDENBELL__V1__EVENT__BODY_CALL;
  ev->call = c;
  c->call_id = callids[i];
  c->counterpart = cps[i];
  c->counterpart_class = GOLDENBELL__V1__NUMBER_CLASS__NUMBER_CLASS_MOBILE;
  c->outgoing = i & 1;
  c->start_ms = ev->ts_ms - 60000;
  c->duration_s = (uint32_t)(i * 13 % 600);
  c->status = GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_FINAL;
  c->international = (i % 5) == 0;
  c->carrier = "cmcc";
}

/* Every kind of event, small enough to cut at every byte. */
static void small_batch(buf_t *batch) {
  Goldenbell__V1__Event ev;
  Goldenbell__V1__CallView c;
  Goldenbell__V1__VisitView v = GOLDENBELL__V1__VISIT_VIEW__INIT;
  origin.topic = "gb.calls";
  origin.partition = 7;
  origin.offset = 123456789;
  origin.partner = "cm";

  /* a call with every field set, the extremes of each */
  call_event(&ev, &c, 0);
  c.outgoing = 1;
  c.international = 1;
  c.duration_s = UINT32_MAX;
  c.status = GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING;
  c.counterpart_class = GOLDENBELL__V1__NUMBER_CLASS__NUMBER_CLASS_INTERNATIONAL;
  c.start_ms = INT64_MAX;
  ev.version = UINT32_MAX;
  add_pb_event(batch, &ev);

  /* negative times, unknown and negative enum numbers (proto3 enums are open) */
  call_event(&ev, &c, 1);
  ev.ts_ms = -1;
  c.start_ms = INT64_MIN;
  c.counterpart_class = (Goldenbell__V1__NumberClass)99;
  c.status = (Goldenbell__V1__CallStatus)-3;
  add_pb_event(batch, &ev);

  /* a site, then an app */
  goldenbell__v1__event__init(&ev);
  ev.version = 1;
  ev.event_id = "visit:web:v1:+8613800138000";
  ev.subject = "+8613800138000";
  ev.ts_ms = 1700000000999;
  ev.origin = &origin;
  ev.body_case = GOLDENBELL__V1__EVENT__BODY_VISIT;
  ev.visit = &v;
  v.source_id = "v1";
  v.kind = GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_SITE;
  v.target = "login.bank-secure.example.cn";
  v.domain = "example.cn";
  add_pb_event(batch, &ev);
  v.kind = GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP;
  v.target = "com.fraud.loans";
  v.domain = "";
  add_pb_event(batch, &ev);

  /* no body; a far negative time */
  goldenbell__v1__event__init(&ev);
  ev.version = 1;
  ev.subject = "+8613900139000";
  ev.ts_ms = -1700000000000;
  add_pb_event(batch, &ev);

  /* an empty body, and an empty event */
  call_event(&ev, &c, 2);
  goldenbell__v1__call_view__init(&c);
  add_pb_event(batch, &ev);
  goldenbell__v1__event__init(&ev);
  add_pb_event(batch, &ev);
}

/* ---- tests ---- */

static void test_wire__every_field(void **state) {
  (void)state;
  buf_t batch = {0};
  small_batch(&batch);
  assert_int_equal(agree(batch.p, batch.len), 7);

  ev_scan_t e[16];
  assert_int_equal(scan(&batch, e, 16), 7);
  assert_int_equal(e[0].body, EV_BODY_CALL);
  assert_int_equal(e[0].version, UINT32_MAX);
  assert_true(streq(e[0].subject, e[0].subject_len, "+8613800001000"));
  assert_true(streq(e[0].call_id, e[0].call_id_len, "cm-0000000077"));
  assert_int_equal(e[0].duration_s, UINT32_MAX);
  assert_true(e[0].start_ms == INT64_MAX);
  assert_true(e[0].outgoing && e[0].international);
  assert_int_equal(e[0].status, 1);
  assert_int_equal(e[0].counterpart_class, 4);
  assert_true(e[1].ts_ms == -1);
  assert_true(e[1].start_ms == INT64_MIN);
  assert_int_equal(e[1].counterpart_class, 99);
  assert_int_equal(e[1].status, -3);
  assert_int_equal(e[2].body, EV_BODY_VISIT);
  assert_int_equal(e[2].visit_kind, 1);
  assert_true(streq(e[2].domain, e[2].domain_len, "example.cn"));
  assert_int_equal(e[3].visit_kind, 2);
  assert_int_equal(e[3].domain_len, 0);
  assert_int_equal(e[4].body, EV_BODY_NONE);
  assert_true(e[4].ts_ms == -1700000000000);
  assert_int_equal(e[4].event_id_len, 0);
  assert_string_equal(e[4].event_id, ""); /* absent strings are "", never NULL */
  assert_int_equal(e[5].body, EV_BODY_CALL);
  assert_int_equal(e[5].call_id_len, 0);
  assert_int_equal(e[6].body, EV_BODY_NONE);
  assert_int_equal(e[6].subject_len, 0);
  /* ptr/len is the event's own bytes: the first event starts after its
   * one-byte tag and two-byte length. */
  assert_ptr_equal(e[0].ptr, batch.p + 3);
  free(batch.p);

  ev_iter_t it;
  const char *why = NULL;
  ev_iter_init(&it, NULL, 0);
  assert_int_equal(ev_iter_next(&it, &e[0], &why), 0);
}

static void test_wire__huge_strings(void **state) {
  (void)state;
  size_t sizes[] = {127, 128, 16383, 16384, 300000};
  char *s = malloc(300000 + 1);
  for (size_t i = 0; i < 300000; i++) s[i] = (char)('a' + i % 26);
  buf_t batch = {0};
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    Goldenbell__V1__Event ev;
    Goldenbell__V1__CallView c;
    call_event(&ev, &c, (int)k);
    char save = s[sizes[k]];
    s[sizes[k]] = '\0';
    c.counterpart = s;
    ev.event_id = s;
    add_pb_event(&batch, &ev);
    s[sizes[k]] = save;
  }
  assert_int_equal(agree(batch.p, batch.len), 5);
  ev_scan_t e[8];
  assert_int_equal(scan(&batch, e, 8), 5);
  for (int k = 0; k < 5; k++) {
    assert_int_equal(e[k].counterpart_len, sizes[k]);
    assert_memory_equal(e[k].counterpart, s, sizes[k]);
  }
  /* Cut near the end, and all along at a stride. */
  for (size_t cut = batch.len; cut + 40 > batch.len && cut > 0; cut--) agree(batch.p, cut);
  for (size_t cut = 0; cut < batch.len; cut += 997) agree(batch.p, cut);
  free(batch.p);
  free(s);
}

static void test_wire__unknown_fields_are_skipped(void **state) {
  (void)state;
  Goldenbell__V1__Event ev;
  Goldenbell__V1__CallView c;
  buf_t batch = {0}, e = {0}, call = {0}, org = {0};

  /* unknown fields of every wire type in the batch, before, between and
   * after the events */
  put_any(&batch, 2, GB_PBWIRE_VARINT);
  put_any(&batch, 3, GB_PBWIRE_LEN);
  call_event(&ev, &c, 3);
  add_pb_event(&batch, &ev);
  put_any(&batch, 4, GB_PBWIRE_I64);
  put_any(&batch, 5, GB_PBWIRE_I32);

  /* ... in an event, in its call and in its origin */
  call_event(&ev, &c, 4);
  put_call(&call, &c);
  put_any(&call, 10, GB_PBWIRE_VARINT);
  put_any(&call, 99, GB_PBWIRE_LEN);
  put_any(&call, 536870911, GB_PBWIRE_I64);
  put_len(&org, 1, "gb.calls", 8);
  put_any(&org, 5, GB_PBWIRE_I32);
  put_any(&org, 6, GB_PBWIRE_LEN);
  ev.body_case = GOLDENBELL__V1__EVENT__BODY__NOT_SET;
  ev.origin = NULL;
  put_event(&e, &ev);
  put_any(&e, 6, GB_PBWIRE_VARINT);
  put_any(&e, 7, GB_PBWIRE_I64);
  put_len(&e, 5, org.p, org.len);
  put_any(&e, 9, GB_PBWIRE_LEN);
  put_len(&e, 10, call.p, call.len);
  put_any(&e, 12, GB_PBWIRE_I32);
  put_any(&e, 100000, GB_PBWIRE_VARINT);
  add_event(&batch, &e);
  put_any(&batch, 1000, GB_PBWIRE_VARINT);

  assert_int_equal(agree(batch.p, batch.len), 2);
  ev_scan_t s[4];
  assert_int_equal(scan(&batch, s, 4), 2);
  assert_int_equal(s[1].body, EV_BODY_CALL);
  assert_true(streq(s[1].call_id, s[1].call_id_len, c.call_id));
  assert_true(streq(s[1].counterpart, s[1].counterpart_len, c.counterpart));
  assert_int_equal(s[1].duration_s, c.duration_s);
  free(batch.p), free(e.p), free(call.p), free(org.p);
}

static void test_wire__repeated_fields(void **state) {
  (void)state;
  Goldenbell__V1__Event ev;
  Goldenbell__V1__CallView c, c2;
  Goldenbell__V1__VisitView v = GOLDENBELL__V1__VISIT_VIEW__INIT;
  buf_t batch = {0}, e = {0}, call = {0};
  ev_scan_t s[8];

  /* scalars and strings: the last one wins */
  call_event(&ev, &c, 5);
  put_event(&e, &ev);
  put_len(&e, 3, "+8613000000001", 14);
  put_tag(&e, 4, GB_PBWIRE_VARINT), put_varint(&e, 42);
  put_tag(&e, 1, GB_PBWIRE_VARINT), put_varint(&e, 0);
  add_event(&batch, &e);

  /* call twice: protobuf-c keeps the second alone (it frees the first
   * member of the oneof instead of merging), so call_id is gone */
  e.len = 0;
  call_event(&ev, &c, 6);
  put_event(&e, &ev);
  goldenbell__v1__call_view__init(&c2);
  c2.counterpart = "+8613111111111";
  c2.duration_s = 9;
  put_call(&call, &c2);
  put_len(&e, 10, call.p, call.len);
  add_event(&batch, &e);

  /* call then visit: a visit; visit then call: a call */
  e.len = 0;
  call_event(&ev, &c, 7);
  put_event(&e, &ev);
  v.kind = GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_SITE;
  v.target = "a.example";
  ev.body_case = GOLDENBELL__V1__EVENT__BODY_VISIT;
  ev.visit = &v;
  put_event(&e, &ev); /* the whole event again, as a merge of two would be */
  add_event(&batch, &e);
  e.len = 0;
  put_event(&e, &ev);
  put_len(&e, 10, call.p, call.len);
  add_event(&batch, &e);

  /* a string repeated inside the call */
  e.len = 0;
  call.len = 0;
  put_call(&call, &c2);
  put_len(&call, 2, "+8613222222222", 14);
  put_len(&e, 10, call.p, call.len);
  add_event(&batch, &e);

  assert_int_equal(agree(batch.p, batch.len), 5);
  assert_int_equal(scan(&batch, s, 8), 5);
  assert_true(streq(s[0].subject, s[0].subject_len, "+8613000000001"));
  assert_true(s[0].ts_ms == 42);
  assert_int_equal(s[0].version, 0);
  assert_int_equal(s[1].body, EV_BODY_CALL);
  assert_int_equal(s[1].call_id_len, 0);
  assert_true(streq(s[1].counterpart, s[1].counterpart_len, "+8613111111111"));
  assert_int_equal(s[1].duration_s, 9);
  assert_int_equal(s[1].status, 0);
  assert_int_equal(s[2].body, EV_BODY_VISIT);
  assert_int_equal(s[2].call_id_len, 0);
  assert_int_equal(s[2].duration_s, 0);
  assert_true(streq(s[2].target, s[2].target_len, "a.example"));
  assert_int_equal(s[3].body, EV_BODY_CALL);
  assert_int_equal(s[3].visit_kind, 0);
  assert_int_equal(s[3].target_len, 0);
  assert_true(streq(s[4].counterpart, s[4].counterpart_len, "+8613222222222"));
  free(batch.p), free(e.p), free(call.p);
}

/* Every known field of every message, in every wire type: the scanner
 * refuses exactly what protobuf-c refuses. */
static void test_wire__wrong_wire_types(void **state) {
  (void)state;
  static const uint32_t event_f[] = {1, 2, 3, 4, 5, 10, 11};
  static const uint32_t call_f[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const uint32_t visit_f[] = {1, 2, 3, 4};
  static const int wires[] = {GB_PBWIRE_VARINT, GB_PBWIRE_I64, GB_PBWIRE_LEN, GB_PBWIRE_I32};
  int refused = 0, taken = 0;
  for (int level = 0; level < 4; level++) {
    /* 0: Event, 1: CallView, 2: VisitView, 3: Origin */
    const uint32_t *fs = level == 0 ? event_f : level == 1 ? call_f : visit_f;
    size_t nf = level == 0 ? 7 : level == 1 ? 9 : 4;
    for (size_t i = 0; i < nf; i++) {
      for (size_t k = 0; k < 4; k++) {
        buf_t batch = {0}, e = {0}, inner = {0};
        put_len(&e, 3, "+8613800138000", 14);
        put_any(level ? &inner : &e, fs[i], wires[k]);
        if (level) put_len(&e, level == 1 ? 10 : level == 2 ? 11 : 5, inner.p, inner.len);
        add_event(&batch, &e);
        if (agree(batch.p, batch.len) < 0) refused++;
        else taken++;
        free(batch.p), free(e.p), free(inner.p);
      }
    }
  }
  /* Each field takes one wire type, except CallView's two bools, which
   * protobuf-c reads whatever their wire type. */
  assert_int_equal(taken, 7 + 9 + 4 + 4 + 2 * 3);
  assert_int_equal(refused, 4 * (7 + 9 + 4 + 4) - taken);

  /* subject as a varint: refused, saying which field */
  buf_t batch = {0}, e = {0};
  put_tag(&e, 3, GB_PBWIRE_VARINT), put_varint(&e, 8613800138000);
  add_event(&batch, &e);
  ev_iter_t it;
  ev_scan_t s;
  const char *why = NULL;
  ev_iter_init(&it, batch.p, batch.len);
  assert_int_equal(ev_iter_next(&it, &s, &why), GB_EINVAL);
  assert_string_equal(why, "Event.subject has the wrong wire type");
  /* events as a varint */
  batch.len = 0;
  put_tag(&batch, 1, GB_PBWIRE_VARINT), put_varint(&batch, 5);
  assert_int_equal(agree(batch.p, batch.len), -1);
  ev_iter_init(&it, batch.p, batch.len);
  assert_int_equal(ev_iter_next(&it, &s, &why), GB_EINVAL);
  assert_string_equal(why, "EventBatch.events has the wrong wire type");

  /* protobuf-c's bools: a length-delimited one is true when not empty, a
   * fixed one when a byte has one of its low seven bits set */
  e.len = batch.len = 0;
  buf_t call = {0};
  put_len(&call, 4, "", 0);
  put_fixed(&call, 8, 0x80, GB_PBWIRE_I32);
  put_len(&e, 10, call.p, call.len);
  add_event(&batch, &e);
  call.len = e.len = 0;
  put_len(&call, 4, "\0", 1);
  put_fixed(&call, 8, 0x8000000000000001ull, GB_PBWIRE_I64);
  put_len(&e, 10, call.p, call.len);
  add_event(&batch, &e);
  assert_int_equal(agree(batch.p, batch.len), 2);
  ev_scan_t b2[4];
  assert_int_equal(scan(&batch, b2, 4), 2);
  assert_false(b2[0].outgoing);
  assert_false(b2[0].international);
  assert_true(b2[1].outgoing);
  assert_true(b2[1].international);
  free(batch.p), free(e.p), free(call.p);
}

static uint8_t *small_batch_bytes(size_t *len) {
  buf_t batch = {0};
  small_batch(&batch);
  *len = batch.len;
  return batch.p;
}

/* Cut after every byte: each prefix is refused by both, or (cut between
 * events) taken by both; none is read past its end. */
static void test_wire__truncated_everywhere(void **state) {
  (void)state;
  size_t len;
  uint8_t *b = small_batch_bytes(&len);
  int whole = 0;
  for (size_t cut = 0; cut <= len; cut++)
    if (agree(b, cut) >= 0) whole++;
  assert_int_equal(whole, 1 + 7); /* the empty batch and after each event */
  free(b);
}

static void test_wire__length_past_the_end(void **state) {
  (void)state;
  buf_t batch = {0}, e = {0}, tail = {0};
  /* an event longer than the batch */
  put_tag(&batch, 1, GB_PBWIRE_LEN);
  put_varint(&batch, 200);
  put(&batch, "0123456789", 10);
  assert_int_equal(agree(batch.p, batch.len), -1);
  ev_iter_t it;
  ev_scan_t s;
  const char *why = NULL;
  ev_iter_init(&it, batch.p, batch.len);
  assert_int_equal(ev_iter_next(&it, &s, &why), GB_EINVAL);
  assert_string_equal(why, "length runs past the end of the message");

  /* a subject longer than its event, though the batch goes on: the event's
   * end bounds it, not the batch's */
  batch.len = 0;
  put_tag(&e, 3, GB_PBWIRE_LEN);
  put_varint(&e, 20);
  put(&e, "+86138", 6);
  add_event(&batch, &e);
  put_len(&tail, 3, "00138000000000000000000", 23);
  add_event(&batch, &tail);
  assert_int_equal(agree(batch.p, batch.len), -1);

  /* a call longer than its event */
  batch.len = e.len = 0;
  put_tag(&e, 10, GB_PBWIRE_LEN);
  put_varint(&e, 50);
  put_len(&e, 1, "c1", 2);
  add_event(&batch, &e);
  add_event(&batch, &tail);
  assert_int_equal(agree(batch.p, batch.len), -1);
  free(batch.p), free(e.p), free(tail.p);
}

static void test_wire__good_events_before_a_bad_one(void **state) {
  (void)state;
  size_t len;
  uint8_t *good = small_batch_bytes(&len);
  buf_t batch = {0};
  put(&batch, good, len);
  static const uint8_t group[] = {0x0a, 0x02, 0x1b, 0x1c}; /* an event holding a group */
  put(&batch, group, sizeof(group));
  put(&batch, good, len);
  assert_int_equal(agree(batch.p, batch.len), -1);
  ev_iter_t it;
  ev_scan_t s;
  const char *why = NULL;
  int n = 0, rc;
  ev_iter_init(&it, batch.p, batch.len);
  while ((rc = ev_iter_next(&it, &s, &why)) == 1) n++;
  assert_int_equal(rc, GB_EINVAL);
  assert_int_equal(n, 7);
  assert_int_equal(it.w.off, len); /* on the bad event */
  assert_string_equal(why, "group wire type (unsupported)");
  free(batch.p);
  free(good);
}

/* Random damage to a good batch: whatever it turns into, the scanner and
 * protobuf-c agree on it. */
static void test_wire__mangled(void **state) {
  (void)state;
  size_t len;
  uint8_t *good = small_batch_bytes(&len);
  uint8_t *b = malloc(len);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  int taken = 0, refused = 0;
  for (int round = 0; round < 20000; round++) {
    memcpy(b, good, len);
    int flips = 1 + (int)(x % 3);
    for (int i = 0; i < flips; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
      size_t at = (size_t)(x >> 8) % len;
      /* Mostly bytes that matter to the wire format. */
      static const uint8_t pick[] = {0x00, 0x01, 0x02, 0x05, 0x07, 0x08, 0x0a, 0x0b,
                                     0x10, 0x12, 0x7f, 0x80, 0xff, 0x52, 0x5a, 0x2a};
      b[at] = (x & 1) ? pick[(x >> 1) % sizeof(pick)] : (uint8_t)(x >> 32);
    }
    size_t cut = (x & 0x30) == 0 ? (size_t)(x >> 20) % (len + 1) : len;
    if (agree(b, cut) >= 0) taken++;
    else refused++;
  }
  /* both outcomes were met many times over */
  assert_true(taken > 1000);
  assert_true(refused > 1000);
  free(b);
  free(good);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wire__every_field),
      cmocka_unit_test(test_wire__huge_strings),
      cmocka_unit_test(test_wire__unknown_fields_are_skipped),
      cmocka_unit_test(test_wire__repeated_fields),
      cmocka_unit_test(test_wire__wrong_wire_types),
      cmocka_unit_test(test_wire__truncated_everywhere),
      cmocka_unit_test(test_wire__length_past_the_end),
      cmocka_unit_test(test_wire__good_events_before_a_bad_one),
      cmocka_unit_test(test_wire__mangled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
