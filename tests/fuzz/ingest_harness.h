/* ingest's whole reading of one Kafka message, for fuzz_ingest_json and
 * fuzz_ingest_proto: ingest/records.c (content-type, splitting, counting,
 * the arena) and ingest/emit.c (canonical events) are included here with
 * the Kafka calls around them replaced, and split.c, flat.c, call.c,
 * visit.c and fields.c are linked as they are. The dead-letter producer and
 * the packer are replaced by checks:
 *
 *   - every record is counted once, and ends as exactly one event set or
 *     one dead letter: records in = records out + dead (the identity
 *     docs/ARCHITECTURE.md and the accounting test promise);
 *   - a dead letter's reason is one of ingest's own (metrics.c counts an
 *     unknown one as invalid_value), its bytes lie inside the message and
 *     its detail says why;
 *   - an event's subject and counterpart are numbers in normal form, a
 *     site's domain is the registrable domain of its target, its id is
 *     UTF-8, and matcher's scanner (matcher/wire.c) reads back from the
 *     packed event exactly what ingest wrote.
 *
 * Input: one flags byte, then (for a header given in the input) the
 * content-type up to '\n', then the message value:
 *   bit 0      the topic: gb.visits, else gb.calls
 *   bits 1-3   content-type: none (the topic's default format, FUZZ_FORMAT),
 *              application/json, application/x-ndjson,
 *              application/x-protobuf, ...; proto=<single record>,
 *              ...; proto=<batch>, read from the input, or
 *              application/protobuf;proto=<the other topic's record>
 *   bits 4-5   ingest.max-records: 100000, or 1, 2, 3
 *   bit 6      ingest.max-message-bytes: 8 MiB, or 64 bytes */
#ifndef FUZZ_INGEST_HARNESS_H
#define FUZZ_INGEST_HARNESS_H

#include <sanitizer/asan_interface.h>
#include <stdbool.h>

#include "fuzz.h"

/* The Kafka message's topic and content-type header, and the clock, come
 * from the harness. */
#define gb_kafka_header fuzz_kafka_header
#define rd_kafka_topic_name fuzz_topic_name
#define gb_now_ms fuzz_now_ms
#include "../../ingest/emit.c"
#include "../../ingest/records.c"
#undef gb_kafka_header
#undef rd_kafka_topic_name
#undef gb_now_ms

#include "gb/site.h"
#include "gb/utf8.h"
#include "wire.h"

#define FUZZ_NOW_MS INT64_C(1780000000000) /* 2026-05-28 */

static const char *fuzz_topic;
static const char *fuzz_content_type; /* NULL: no header */
static size_t fuzz_content_type_len;
static uint64_t fuzz_dead, fuzz_events;
static const rd_kafka_message_t *fuzz_msg;

int64_t fuzz_now_ms(void) { return FUZZ_NOW_MS; }

const char *fuzz_topic_name(const rd_kafka_topic_t *rkt) {
  (void)rkt;
  return fuzz_topic;
}

/* As gb_kafka_header: the last value, cut to buf_size - 1 bytes. */
const char *fuzz_kafka_header(const rd_kafka_message_t *m, const char *name, char *buf,
                              size_t buf_size) {
  (void)m;
  if (!fuzz_content_type || strcmp(name, "content-type") != 0 || buf_size == 0) return NULL;
  size_t len = fuzz_content_type_len < buf_size ? fuzz_content_type_len : buf_size - 1;
  memcpy(buf, fuzz_content_type, len);
  buf[len] = '\0';
  return buf;
}

static int fuzz_known_ingest_reason(const char *reason) {
#define X(r) if (reason && strcmp(reason, #r) == 0) return 1;
  INGEST_REASONS
#undef X
  return 0;
}

int ingest_dead_letter(ingest_t *in, const rd_kafka_message_t *m, const void *rec, size_t len,
                       int index, const gb_reject_t *r) {
  (void)in;
  FUZZ_CHECK(m == fuzz_msg, "another message");
  FUZZ_CHECK(fuzz_known_ingest_reason(r->reason), "reason '%s' is not one of ingest's",
             r->reason ? r->reason : "(null)");
  FUZZ_CHECK(fuzz_terminated(r->detail, sizeof(r->detail)) && r->detail[0] &&
                 fuzz_terminated(r->field, sizeof(r->field)),
             "dead letter without a detail");
  FUZZ_CHECK(index >= -1, "index %d", index);
  if (rec && m->payload) {
    const char *p = m->payload;
    FUZZ_CHECK((const char *)rec >= p && (const char *)rec + len <= p + m->len,
               "dead letter's bytes outside the message");
  } else if (rec) {
    FUZZ_CHECK(len == 0, "%zu bytes of an empty message", len);
  } else {
    FUZZ_CHECK(len == 0 && index == -1, "whole-message dead letter with a record index");
  }
  fuzz_dead++;
  return 0;
}

static void fuzz_check_number(const char *s, bool person, const char *what) {
  char again[GB_PHONE_MAX], e[160];
  FUZZ_CHECK(s && strlen(s) < GB_PHONE_MAX, "%s", what);
  gb_phone_class_t c = gb_phone_normalize(again, sizeof(again), s, strlen(s), e, sizeof(e));
  FUZZ_CHECK(c != GB_PHONE_INVALID && strcmp(again, s) == 0, "%s '%s' is not in normal form: %s",
             what, s, e);
  FUZZ_CHECK(!person || c != GB_PHONE_SERVICE, "%s '%s' is a service number", what, s);
}

static int fuzz_span_eq(const char *s, size_t n, const char *want) {
  return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* In place of the packer: what is packed for gb.events. */
int ingest_packer_add(ingest_packer_t *pk, const Goldenbell__V1__Event *ev) {
  (void)pk;
  FUZZ_CHECK(ev->version == 1 && ev->ts_ms > 0, "version %u ts %lld", ev->version,
             (long long)ev->ts_ms);
  fuzz_check_number(ev->subject, true, "subject");
  FUZZ_CHECK(ev->event_id[0] && gb_utf8_valid(ev->event_id, strlen(ev->event_id)),
             "event id '%s'", ev->event_id);
  if (ev->body_case == GOLDENBELL__V1__EVENT__BODY_CALL) {
    fuzz_check_number(ev->call->counterpart, false, "counterpart");
    FUZZ_CHECK(ev->call->status == GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_FINAL ||
                   ev->call->status == GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING,
               "status %d", (int)ev->call->status);
  } else {
    FUZZ_CHECK(ev->body_case == GOLDENBELL__V1__EVENT__BODY_VISIT, "body %d", ev->body_case);
    const Goldenbell__V1__VisitView *v = ev->visit;
    FUZZ_CHECK(v->target[0], "empty target");
    if (v->kind == GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_SITE) {
      gb_site_t s;
      char e[256];
      FUZZ_CHECK(gb_site_normalize(&s, v->target, strlen(v->target), e, sizeof(e)) == 0 &&
                     strcmp(s.domain, v->domain) == 0,
                 "target '%s' domain '%s': %s", v->target, v->domain, e);
    } else {
      FUZZ_CHECK(v->kind == GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP && !v->domain[0],
                 "app with a domain");
    }
  }
  /* matcher reads back what was written: one event in a batch. */
  size_t n = goldenbell__v1__event__get_packed_size(ev);
  uint8_t *b = malloc(n + 16);
  if (!b) abort();
  size_t h = 1;
  b[0] = 0x0a; /* EventBatch.events, length-delimited */
  for (uint64_t v = n; ; v >>= 7) {
    b[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    if (v <= 0x7f) break;
  }
  FUZZ_CHECK(goldenbell__v1__event__pack(ev, b + h) == n, "pack");
  ev_iter_t it;
  ev_scan_t e;
  const char *why = NULL;
  ev_iter_init(&it, b, h + n);
  FUZZ_CHECK(ev_iter_next(&it, &e, &why) == 1, "matcher cannot read ingest's event: %s", why);
  FUZZ_CHECK(fuzz_span_eq(e.subject, e.subject_len, ev->subject) &&
                 fuzz_span_eq(e.event_id, e.event_id_len, ev->event_id) && e.ts_ms == ev->ts_ms,
             "matcher reads another event");
  if (ev->body_case == GOLDENBELL__V1__EVENT__BODY_CALL)
    FUZZ_CHECK(e.body == EV_BODY_CALL &&
                   fuzz_span_eq(e.counterpart, e.counterpart_len, ev->call->counterpart) &&
                   e.start_ms == ev->call->start_ms && e.duration_s == ev->call->duration_s &&
                   e.outgoing == ev->call->outgoing,
               "matcher reads another call");
  else
    FUZZ_CHECK(e.body == EV_BODY_VISIT && fuzz_span_eq(e.target, e.target_len, ev->visit->target) &&
                   fuzz_span_eq(e.domain, e.domain_len, ev->visit->domain),
               "matcher reads another visit");
  FUZZ_CHECK(ev_iter_next(&it, &e, &why) == 0, "more than one event");
  free(b);
  fuzz_events++;
  return 0;
}

/* The arena's block is poisoned between allocations so that ASan sees a
 * reader going past what protobuf-c decoded into it. */
static void *(*fuzz_arena_alloc)(void *, size_t);
static void *fuzz_poisoning_alloc(void *ud, size_t size) {
  gb_pbarena_t *a = ud;
  if (a->used == 0) ASAN_POISON_MEMORY_REGION(a->block, GB_PBARENA_SIZE);
  void *p = fuzz_arena_alloc(ud, size);
  if (p) ASAN_UNPOISON_MEMORY_REGION(p, size);
  return p;
}

static ingest_t fuzz_in;

static void fuzz_ingest_init(ingest_format_t default_format) {
  static int done;
  if (done) return;
  done = 1;
  ingest_t *in = &fuzz_in;
  in->registry = gb_metrics_new();
#define M(f) in->m.f = gb_metrics_add(in->registry, GB_METRIC_COUNTER, #f, "", NULL)
  M(messages_in);
  M(records_in);
  M(records_out);
  M(events_out);
#define X(r) M(dead_##r);
  INGEST_REASONS
#undef X
#undef M
  in->topic_calls = "gb.calls";
  in->topic_visits = "gb.visits";
  in->topic_dlq = "gb.dlq";
  in->calls_format = in->visits_format = default_format;
  in->max_future_ms = 300000;
  gb_pbarena_init(&in->arena);
  fuzz_arena_alloc = in->arena.allocator.alloc;
  in->arena.allocator.alloc = fuzz_poisoning_alloc;
  in->flat = malloc(sizeof(*in->flat));
  if (!in->flat) abort();
}

static int fuzz_ingest_one(ingest_format_t default_format, const uint8_t *data, size_t size) {
  fuzz_ingest_init(default_format);
  ingest_t *in = &fuzz_in;
  uint8_t flags = fuzz_take_byte(&data, &size);
  bool visits = flags & 1;
  static const char *const types[] = {
      NULL,
      "application/json",
      "application/x-ndjson",
      "application/x-protobuf",
      NULL, /* ; proto=<single> */
      NULL, /* ; proto=<batch> */
      NULL, /* from the input */
      NULL, /* the other topic's record */
  };
  char ct[128];
  int t = (flags >> 1) & 7;
  const char *rec = visits ? "VisitRecord" : "CallRecord";
  fuzz_content_type = types[t];
  if (t == 4 || t == 5)
    snprintf(ct, sizeof(ct), "application/x-protobuf; proto=goldenbell.v1.%s%s", rec,
             t == 5 ? "Batch" : ""),
        fuzz_content_type = ct;
  if (t == 7)
    snprintf(ct, sizeof(ct), "application/protobuf;proto=goldenbell.v1.%s",
             visits ? "CallRecord" : "VisitRecord"),
        fuzz_content_type = ct;
  if (fuzz_content_type) fuzz_content_type_len = strlen(fuzz_content_type);
  char *custom = NULL;
  if (t == 6) {
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    custom = fuzz_strndup(data, n);
    fuzz_content_type = custom, fuzz_content_type_len = n;
    data += nl ? n + 1 : n, size -= nl ? n + 1 : n;
  }
  in->max_records = (flags >> 4) & 3 ? (flags >> 4) & 3 : 100000;
  in->max_message_bytes = flags & 0x40 ? 64 : 8388608;
  fuzz_topic = visits ? "gb.visits" : "gb.calls";

  rd_kafka_message_t m;
  memset(&m, 0, sizeof(m));
  m.rkt = (rd_kafka_topic_t *)&fuzz_topic; /* any non-NULL handle: fuzz_topic_name reads none */
  m.payload = size ? malloc(size) : NULL;  /* exact size; librdkafka gives NULL for empty */
  if (size && !m.payload) abort();
  if (size) memcpy(m.payload, data, size);
  m.len = size;
  m.offset = 42;
  fuzz_msg = &m;

  gb_metric_set(in->m.records_in, 0);
  gb_metric_set(in->m.records_out, 0);
  fuzz_dead = fuzz_events = 0;
  int rc = ingest_message(in, &m);
  FUZZ_CHECK(rc == 0, "ingest_message returned %d (stops the worker)", rc);
  uint64_t rin = gb_metric_get(in->m.records_in), rout = gb_metric_get(in->m.records_out);
  FUZZ_CHECK(rin == rout + fuzz_dead,
             "records in %llu, out %llu, dead %llu", (unsigned long long)rin,
             (unsigned long long)rout, (unsigned long long)fuzz_dead);
  FUZZ_CHECK(fuzz_events <= 2 * rout, "%llu events from %llu records",
             (unsigned long long)fuzz_events, (unsigned long long)rout);
  free(m.payload);
  free(custom);
  return 0;
}

#endif
