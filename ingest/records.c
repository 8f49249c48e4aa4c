/* One input message into records, and each record into canonical events or
 * a dead letter. The format is told by the content-type header:
 *   application/json, application/x-ndjson       JSON (one object, an array,
 *                                                or newline-delimited objects)
 *   application/x-protobuf[; proto=<message>]    goldenbell.v1.CallRecordBatch /
 *                                                VisitRecordBatch (the default),
 *                                                or a single CallRecord / VisitRecord
 * and, without the header, by the topic's default format. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "gb/err.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "ingest.h"
#include "split.h"

typedef struct {
  ingest_t *in;
  const rd_kafka_message_t *m;
  ingest_input_t input;
} msg_ctx_t;

/* A record was read: count it, then exactly one of out or dead follows. */
static int record_in(msg_ctx_t *c, const char *rec, size_t len, int index, gb_reject_t *r) {
  gb_metric_inc(c->in->m.records_in, 1);
  if (index >= c->in->max_records) {
    gb_reject(r, "too_many_records", "", "record %d: a message may carry at most %d records",
              index, c->in->max_records);
    return ingest_dead_letter(c->in, c->m, rec, len, index, r);
  }
  return 1;
}

static int record_done(msg_ctx_t *c, int err, const char *rec, size_t len, int index,
                       const gb_reject_t *r) {
  if (err == GB_EINVAL) return ingest_dead_letter(c->in, c->m, rec, len, index, r);
  if (err) return err;
  gb_metric_inc(c->in->m.records_out, 1);
  return 0;
}

static int on_json(void *ud, const char *rec, size_t len, int index, const flat_rec_t *v,
                   const gb_reject_t *bad) {
  msg_ctx_t *c = ud;
  ingest_t *in = c->in;
  gb_reject_t r;
  int go = record_in(c, rec, len, index, &r);
  if (go <= 0) return go;
  if (bad) return ingest_dead_letter(in, c->m, rec, len, index, bad);
  int err;
  if (c->input == INPUT_CALLS) {
    ingest_call_t call;
    err = ingest_call_from_json(&call, v, in->now_ms, in->max_future_ms, &r);
    if (!err) err = ingest_emit_call(in, &call, c->m);
  } else {
    ingest_visit_t visit;
    err = ingest_visit_from_json(&visit, v, in->now_ms, in->max_future_ms, &r);
    if (!err) err = ingest_emit_visit(in, &visit, c->m);
  }
  return record_done(c, err, rec, len, index, &r);
}

static int on_proto(void *ud, const char *rec, size_t len, int index, const gb_reject_t *bad) {
  msg_ctx_t *c = ud;
  ingest_t *in = c->in;
  gb_reject_t r;
  int go = record_in(c, rec, len, index, &r);
  if (go <= 0) return go;
  if (bad) return ingest_dead_letter(in, c->m, rec, len, index, bad);
  int err;
  if (c->input == INPUT_CALLS) {
    gb_pbarena_reset(&in->arena);
    Goldenbell__V1__CallRecord *pb =
        goldenbell__v1__call_record__unpack(&in->arena.allocator, len, (const uint8_t *)rec);
    if (!pb) {
      gb_reject(&r, "bad_protobuf", "", "record %d: not a goldenbell.v1.CallRecord", index);
      return ingest_dead_letter(in, c->m, rec, len, index, &r);
    }
    ingest_call_t call;
    err = ingest_call_from_proto(&call, pb, in->now_ms, in->max_future_ms, &r);
    goldenbell__v1__call_record__free_unpacked(pb, &in->arena.allocator);
    if (!err) err = ingest_emit_call(in, &call, c->m);
  } else {
    gb_pbarena_reset(&in->arena);
    Goldenbell__V1__VisitRecord *pb =
        goldenbell__v1__visit_record__unpack(&in->arena.allocator, len, (const uint8_t *)rec);
    if (!pb) {
      gb_reject(&r, "bad_protobuf", "", "record %d: not a goldenbell.v1.VisitRecord", index);
      return ingest_dead_letter(in, c->m, rec, len, index, &r);
    }
    ingest_visit_t visit;
    err = ingest_visit_from_proto(&visit, pb, in->now_ms, in->max_future_ms, &r);
    goldenbell__v1__visit_record__free_unpacked(pb, &in->arena.allocator);
    if (!err) err = ingest_emit_visit(in, &visit, c->m);
  }
  return record_done(c, err, rec, len, index, &r);
}

/* Reads "type/subtype; proto=x" into lower-case type and the proto value.
 * Returns 0, or -1 when the header is malformed. */
static int parse_content_type(const char *h, char *type, size_t tsize, char *proto,
                              size_t psize) {
  size_t o = 0;
  while (*h == ' ') h++;
  for (; *h && *h != ';' && *h != ' ' && o + 1 < tsize; h++) type[o++] = (char)tolower((unsigned char)*h);
  type[o] = '\0';
  proto[0] = '\0';
  while (*h) {
    while (*h == ';' || *h == ' ') h++;
    const char *eq = strchr(h, '=');
    const char *end = strchr(h, ';');
    if (!end) end = h + strlen(h);
    if (eq && eq < end && (size_t)(eq - h) == 5 && strncasecmp(h, "proto", 5) == 0) {
      size_t n = (size_t)(end - eq - 1);
      while (n > 0 && eq[n] == ' ') n--;
      if (n >= psize) return -1;
      memcpy(proto, eq + 1, n);
      proto[n] = '\0';
    }
    h = end;
  }
  return o ? 0 : -1;
}

int ingest_message(ingest_t *in, const rd_kafka_message_t *m) {
  msg_ctx_t c = {in, m, INPUT_CALLS};
  const char *topic = rd_kafka_topic_name(m->rkt);
  c.input = strcmp(topic, in->topic_visits) == 0 ? INPUT_VISITS : INPUT_CALLS;
  in->now_ms = gb_now_ms();
  gb_metric_inc(in->m.messages_in, 1);
  gb_reject_t r;
  if (m->len > in->max_message_bytes) {
    gb_metric_inc(in->m.records_in, 1);
    gb_reject(&r, "too_large", "", "message of %zu bytes, limit %zu", m->len,
              in->max_message_bytes);
    return ingest_dead_letter(in, m, NULL, 0, -1, &r);
  }
  ingest_format_t fmt = c.input == INPUT_CALLS ? in->calls_format : in->visits_format;
  const char *single =
      c.input == INPUT_CALLS ? "goldenbell.v1.CallRecord" : "goldenbell.v1.VisitRecord";
  const char *batch = c.input == INPUT_CALLS ? "goldenbell.v1.CallRecordBatch"
                                             : "goldenbell.v1.VisitRecordBatch";
  char hdr[256] = "", type[64], proto[96] = "";
  if (gb_kafka_header(m, "content-type", hdr, sizeof(hdr))) {
    if (parse_content_type(hdr, type, sizeof(type), proto, sizeof(proto)) != 0) goto bad_type;
    if (strcmp(type, "application/json") == 0 || strcmp(type, "application/x-ndjson") == 0)
      fmt = FORMAT_JSON;
    else if (strcmp(type, "application/x-protobuf") == 0 ||
             strcmp(type, "application/protobuf") == 0)
      fmt = FORMAT_PROTOBUF;
    else
      goto bad_type;
  }
  const char *buf = m->payload ? m->payload : "";
  int n;
  if (fmt == FORMAT_JSON) return split_json(buf, m->len, in->flat, on_json, &c, &n);
  if (strcmp(proto, single) == 0) return on_proto(&c, buf, m->len, 0, NULL);
  if (!proto[0] || strcmp(proto, batch) == 0)
    return split_proto_batch(buf, m->len, on_proto, &c, &n);
bad_type:
  gb_metric_inc(in->m.records_in, 1);
  gb_reject(&r, "bad_content_type", "content-type",
            "content-type: '%.100s' is not application/json or application/x-protobuf with "
            "proto=%s or %s",
            hdr, single, batch);
  return ingest_dead_letter(in, m, NULL, 0, -1, &r);
}
