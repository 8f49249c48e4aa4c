/* ingest: reads what carriers and platform partners publish, normalises it,
 * and writes canonical events to gb.events keyed by the person they concern.
 * Every input record becomes output or a dead letter (gb.dlq). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "gb/dlq.h"
#include "gb/err.h"
#include "gb/kafka.h"
#include "gb/log.h"
#include "gb/service.h"
#include "gb/timeparse.h"
#include "goldenbell/v1/event.pb-c.h"
#include "pack.h"

static const gb_opt_t ingest_opts[] = {
    {"ingest.group", GB_OPT_STRING, "gb-ingest", 0, 0, "Kafka consumer group of ingest workers."},
    {"ingest.max-future-s", GB_OPT_INT, "300", 0, 86400,
     "An event more than this many seconds in the future is rejected (clock skew allowance)."},
    {"ingest.max-message-bytes", GB_OPT_INT, "1048576", 1024, 16777216,
     "Largest input message accepted; a larger one is dead-lettered."},
    {"ingest.pack-bytes", GB_OPT_INT, "262144", 1024, 8388608,
     "Canonical events bound for one partition are packed into messages of at most this size."},
    GB_OPT_END,
};

typedef struct {
  const gb_config_t *cfg;
  gb_pipeline_t *p;
  ingest_packer_t *packer;
  const char *topic_calls;
  const char *topic_dlq;
  int64_t max_future_ms;
  size_t max_message_bytes;
  uint64_t dead;
} ingest_t;

static int dead_letter(ingest_t *in, const rd_kafka_message_t *m, const gb_reject_t *r) {
  in->dead++;
  return gb_dlq_send(in->p, in->topic_dlq, "ingest", m, NULL, 0, r);
}

/* One canonical event per party that can be a person: a call concerns both,
 * and either may be protected. Service numbers (110, 95xxx) are nobody. */
static int emit_call(ingest_t *in, const ingest_call_t *c, const rd_kafka_message_t *m) {
  Goldenbell__V1__Origin origin = GOLDENBELL__V1__ORIGIN__INIT;
  origin.topic = (char *)rd_kafka_topic_name(m->rkt);
  origin.partition = m->partition;
  origin.offset = m->offset;
  origin.partner = (char *)c->carrier;
  for (int side = 0; side < 2; side++) {
    const char *subject = side == 0 ? c->caller : c->callee;
    gb_phone_class_t scls = side == 0 ? c->caller_class : c->callee_class;
    if (scls == GB_PHONE_SERVICE) continue;
    const char *other = side == 0 ? c->callee : c->caller;
    gb_phone_class_t ocls = side == 0 ? c->callee_class : c->caller_class;
    Goldenbell__V1__CallView cv = GOLDENBELL__V1__CALL_VIEW__INIT;
    cv.call_id = (char *)c->call_id;
    cv.counterpart = (char *)other;
    cv.counterpart_class = (Goldenbell__V1__NumberClass)ocls;
    cv.outgoing = side == 0;
    cv.start_ms = c->start_ms;
    cv.duration_s = c->duration_s;
    cv.status = c->ongoing ? GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING
                           : GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_FINAL;
    cv.international = c->international;
    cv.carrier = (char *)c->carrier;
    char event_id[INGEST_CALL_ID_MAX + INGEST_CARRIER_MAX + 64];
    snprintf(event_id, sizeof(event_id), "call:%s:%s:%s:%u", c->carrier, c->call_id, subject,
             c->duration_s);
    Goldenbell__V1__Event ev = GOLDENBELL__V1__EVENT__INIT;
    ev.version = 1;
    ev.event_id = event_id;
    ev.subject = (char *)subject;
    ev.ts_ms = c->start_ms + (int64_t)c->duration_s * 1000;
    ev.origin = &origin;
    ev.body_case = GOLDENBELL__V1__EVENT__BODY_CALL;
    ev.call = &cv;
    int err = ingest_packer_add(in->packer, &ev);
    if (err) return err;
    gb_debug("event.emitted", "event_id=%s", event_id);
  }
  return 0;
}

static int on_call_message(ingest_t *in, const rd_kafka_message_t *m) {
  gb_reject_t r;
  if (m->len > in->max_message_bytes) {
    gb_reject(&r, "too_large", "", "message of %zu bytes, limit %zu", m->len,
              in->max_message_bytes);
    return dead_letter(in, m, &r);
  }
  json_error_t je;
  json_t *obj = json_loadb(m->payload, m->len, JSON_REJECT_DUPLICATES, &je);
  if (!obj) {
    gb_reject(&r, "bad_json", "", "line %d column %d: %s", je.line, je.column, je.text);
    return dead_letter(in, m, &r);
  }
  ingest_call_t c;
  int err = ingest_call_from_json(&c, obj, gb_now_ms(), in->max_future_ms, &r);
  json_decref(obj);
  if (err) return dead_letter(in, m, &r);
  return emit_call(in, &c, m);
}

static int on_message(gb_pipeline_t *p, const rd_kafka_message_t *m, void *ud) {
  ingest_t *in = ud;
  (void)p;
  return on_call_message(in, m);
}

static int on_batch_end(gb_pipeline_t *p, void *ud) {
  (void)p;
  return ingest_packer_flush(((ingest_t *)ud)->packer);
}

int main(int argc, char **argv) {
  const gb_opt_t *const tables[] = {gb_common_opts, ingest_opts, NULL};
  gb_config_t *cfg = gb_service_init(
      "ingest", "Normalises carriers' call records into canonical events (gb.events).", tables,
      argc, argv);
  char errstr[512];
  ingest_t in = {0};
  in.cfg = cfg;
  in.topic_calls = gb_config_str(cfg, "topic.calls");
  in.topic_dlq = gb_config_str(cfg, "topic.dlq");
  in.max_future_ms = gb_config_int(cfg, "ingest.max-future-s") * 1000;
  in.max_message_bytes = (size_t)gb_config_int(cfg, "ingest.max-message-bytes");

  const char *topics[] = {in.topic_calls};
  gb_pipeline_conf_t pc = {
      .group = gb_config_str(cfg, "ingest.group"),
      .topics = topics,
      .ntopics = 1,
      .on_message = on_message,
      .on_batch_end = on_batch_end,
      .ud = &in,
  };
  if (gb_pipeline_new(&in.p, cfg, &pc, errstr, sizeof(errstr)) != 0)
    gb_service_die("kafka", errstr);
  const char *events = gb_config_str(cfg, "topic.events");
  int nparts = gb_kafka_partition_count(gb_pipeline_producer(in.p), events, 10000);
  if (nparts <= 0) {
    snprintf(errstr, sizeof(errstr), "output topic '%s' does not exist (%s)", events,
             gb_strerror(nparts));
    gb_service_die("kafka", errstr);
  }
  if (ingest_packer_new(&in.packer, in.p, events, nparts,
                        (size_t)gb_config_int(cfg, "ingest.pack-bytes")) != 0)
    gb_service_die("memory", "packer");
  gb_info("ingest.started", "input=%s output=%s partitions=%d", in.topic_calls, events, nparts);

  int err = gb_pipeline_run(in.p, &gb_service_stop);
  const gb_pipeline_stats_t *st = gb_pipeline_stats(in.p);
  gb_info("ingest.stopped", "in=%llu events=%llu dead=%llu offset_resets=%llu",
          (unsigned long long)st->in, (unsigned long long)ingest_packer_events(in.packer),
          (unsigned long long)in.dead, (unsigned long long)st->offset_resets);
  ingest_packer_free(in.packer);
  gb_pipeline_free(in.p);
  gb_config_free(cfg);
  return err ? 1 : 0;
}
