/* ingest: reads what carriers and platform partners publish (gb.calls,
 * gb.visits), normalises it, and writes canonical events to gb.events, one
 * per person concerned, packed per partition. Every input record becomes
 * output or a dead letter (gb.dlq); /metrics counts both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/log.h"
#include "gb/service.h"
#include "ingest.h"

static const gb_opt_t ingest_opts[] = {
    {"ingest.group", GB_OPT_STRING, "gb-ingest", 0, 0, "Kafka consumer group of ingest workers."},
    {"ingest.calls-format", GB_OPT_STRING, "json", 0, 0,
     "Format of gb.calls messages without a content-type header: json or protobuf."},
    {"ingest.visits-format", GB_OPT_STRING, "json", 0, 0,
     "Format of gb.visits messages without a content-type header: json or protobuf."},
    {"ingest.max-future-s", GB_OPT_INT, "300", 0, 86400,
     "An event more than this many seconds in the future is rejected (clock skew allowance)."},
    {"ingest.max-message-bytes", GB_OPT_INT, "8388608", 1024, 16777216,
     "Largest input message accepted; a larger one is dead-lettered whole."},
    {"ingest.max-records", GB_OPT_INT, "100000", 1, 10000000,
     "Most records one input message may carry; the rest are dead-lettered."},
    {"ingest.pack-bytes", GB_OPT_INT, "262144", 1024, 8388608,
     "Canonical events bound for one partition are packed into messages of at most this size."},
    {"admin.host", GB_OPT_STRING, "127.0.0.1", 0, 0,
     "Address of the admin endpoint (/healthz, /readyz, /metrics)."},
    {"admin.port", GB_OPT_INT, "9101", 0, 65535, "Port of the admin endpoint; 0 picks a free one."},
    GB_OPT_END,
};

static int parse_format(ingest_format_t *out, const char *s) {
  if (strcmp(s, "json") == 0) *out = FORMAT_JSON;
  else if (strcmp(s, "protobuf") == 0) *out = FORMAT_PROTOBUF;
  else return -1;
  return 0;
}

static int on_message(gb_pipeline_t *p, const rd_kafka_message_t *m, void *ud) {
  (void)p;
  return ingest_message(ud, m);
}

static int on_batch_end(gb_pipeline_t *p, void *ud) {
  ingest_t *in = ud;
  gb_metric_set(in->m.offset_resets, (int64_t)gb_pipeline_stats(p)->offset_resets);
  return ingest_packer_flush(in->packer);
}

static bool is_ready(void *ud, char *why, size_t why_size) {
  ingest_t *in = ud;
  if (gb_pipeline_assigned(in->p) > 0) return true;
  snprintf(why, why_size, "no input partitions assigned yet");
  return false;
}

int main(int argc, char **argv) {
  const gb_opt_t *const tables[] = {gb_common_opts, ingest_opts, NULL};
  gb_config_t *cfg = gb_service_init(
      "ingest",
      "Normalises carriers' call records and partners' visit records into canonical events "
      "(gb.events).",
      tables, argc, argv);
  char errstr[512];
  ingest_t in;
  memset(&in, 0, sizeof(in));
  in.cfg = cfg;
  gb_pbarena_init(&in.arena);
  in.flat = malloc(sizeof(*in.flat));
  if (!in.flat) gb_service_die("memory", "flat record");
  in.topic_calls = gb_config_str(cfg, "topic.calls");
  in.topic_visits = gb_config_str(cfg, "topic.visits");
  in.topic_dlq = gb_config_str(cfg, "topic.dlq");
  in.max_future_ms = gb_config_int(cfg, "ingest.max-future-s") * 1000;
  in.max_message_bytes = (size_t)gb_config_int(cfg, "ingest.max-message-bytes");
  in.max_records = (int)gb_config_int(cfg, "ingest.max-records");
  if (parse_format(&in.calls_format, gb_config_str(cfg, "ingest.calls-format")) ||
      parse_format(&in.visits_format, gb_config_str(cfg, "ingest.visits-format")))
    gb_service_die("config", "ingest.calls-format / ingest.visits-format: want json or protobuf");
  if (ingest_metrics_init(&in) != 0) gb_service_die("memory", "metrics");

  const char *topics[] = {in.topic_calls, in.topic_visits};
  gb_pipeline_conf_t pc = {
      .group = gb_config_str(cfg, "ingest.group"),
      .topics = topics,
      .ntopics = 2,
      .on_message = on_message,
      .on_batch_end = on_batch_end,
      .ud = &in,
  };
  if (gb_pipeline_new(&in.p, cfg, &pc, errstr, sizeof(errstr)) != 0)
    gb_service_die("kafka", errstr);
  const char *events = gb_config_str(cfg, "topic.events");
  int nparts = gb_kafka_partition_count(gb_pipeline_producer(in.p), events, 10000);
  if (nparts <= 0) {
    snprintf(errstr, sizeof(errstr), "kafka: output topic '%s' does not exist (%s)", events,
             gb_strerror(nparts));
    gb_service_die("kafka", errstr);
  }
  if (ingest_packer_new(&in.packer, in.p, events, nparts,
                        (size_t)gb_config_int(cfg, "ingest.pack-bytes")) != 0)
    gb_service_die("memory", "packer");
  /* Started once the pipeline exists, which is all is_ready reads. */
  if (gb_admin_start(&in.admin, gb_config_str(cfg, "admin.host"),
                     (int)gb_config_int(cfg, "admin.port"), in.registry, is_ready, &in, errstr,
                     sizeof(errstr)) != 0)
    gb_service_die("admin", errstr);
  gb_info("ingest.started", "calls=%s visits=%s events=%s partitions=%d admin=%s:%d",
          in.topic_calls, in.topic_visits, events, nparts, gb_config_str(cfg, "admin.host"),
          gb_admin_port(in.admin));

  int err = gb_pipeline_run(in.p, &gb_service_stop);
  gb_info("ingest.stopped",
          "messages=%llu records_in=%llu records_out=%llu events=%llu offset_resets=%llu",
          (unsigned long long)gb_metric_get(in.m.messages_in),
          (unsigned long long)gb_metric_get(in.m.records_in),
          (unsigned long long)gb_metric_get(in.m.records_out),
          (unsigned long long)gb_metric_get(in.m.events_out),
          (unsigned long long)gb_pipeline_stats(in.p)->offset_resets);
  gb_admin_stop(in.admin);
  ingest_packer_free(in.packer);
  gb_pipeline_free(in.p);
  gb_metrics_free(in.registry);
  free(in.flat);
  gb_config_free(cfg);
  return err ? 1 : 0;
}
