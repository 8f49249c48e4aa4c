/* ingest's state, shared by its parts. Everything but the metrics (read by
 * the admin thread) belongs to the pipeline thread. */
#ifndef INGEST_INGEST_H
#define INGEST_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "flat.h"
#include "gb/admin.h"
#include "gb/config.h"
#include "gb/kafka.h"
#include "gb/metrics.h"
#include "gb/pbarena.h"
#include "pack.h"
#include "visit.h"

/* The dead-letter reasons ingest can give, each counted separately. */
#define INGEST_REASONS                                                                       \
  X(bad_json) X(invalid_utf8) X(wrong_type) X(missing_field) X(invalid_value) X(unknown_enum) \
  X(future_time) X(too_large) X(too_many_records) X(bad_protobuf) X(unsupported_version)     \
  X(bad_content_type)

typedef enum { INPUT_CALLS, INPUT_VISITS } ingest_input_t;
typedef enum { FORMAT_JSON, FORMAT_PROTOBUF } ingest_format_t;

typedef struct {
  gb_metric_t *messages_in;
  gb_metric_t *records_in;
  gb_metric_t *records_out;
  gb_metric_t *events_out;
#define X(r) gb_metric_t *dead_##r;
  INGEST_REASONS
#undef X
  gb_metric_t *offset_resets;
} ingest_metrics_t;

typedef struct {
  const gb_config_t *cfg;
  gb_pipeline_t *p;
  ingest_packer_t *packer;
  gb_metrics_t *registry;
  ingest_metrics_t m;
  gb_admin_t *admin;
  const char *topic_calls;
  const char *topic_visits;
  const char *topic_dlq;
  ingest_format_t calls_format;
  ingest_format_t visits_format;
  int64_t max_future_ms;
  size_t max_message_bytes;
  int max_records;
  size_t dlq_max_bytes; /* the producer's message.max.bytes; 0 until read */
  int64_t now_ms; /* the clock, read once per message */
  gb_pbarena_t arena; /* protobuf records are decoded into it, one at a time */
  flat_rec_t *flat;   /* JSON records are read into it, one at a time */
} ingest_t;

/* emit.c: canonical events of one record into the packer. */
int ingest_emit_call(ingest_t *in, const ingest_call_t *c, const rd_kafka_message_t *m);
int ingest_emit_visit(ingest_t *in, const ingest_visit_t *v, const rd_kafka_message_t *m);

/* records.c: one input message, whatever its format, into events and dead
 * letters. Returns 0 or a fatal negative code. */
int ingest_message(ingest_t *in, const rd_kafka_message_t *m);

/* metrics.c */
int ingest_metrics_init(ingest_t *in);
/* Counts a dead letter by reason and sends it. */
int ingest_dead_letter(ingest_t *in, const rd_kafka_message_t *m, const void *rec, size_t len,
                       int index, const gb_reject_t *r);

#endif
