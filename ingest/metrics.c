/* ingest's counters. The identity that the accounting test checks:
 *   gb_ingest_records_in_total = gb_ingest_records_out_total
 *                                + sum(gb_ingest_records_dead_total)
 * Records are what a message carries (one object, each element of a batch);
 * a message that cannot even be split counts as one record. */
#include "gb/dlq.h"
#include "gb/err.h"
#include "ingest.h"
#include <string.h>

int ingest_metrics_init(ingest_t *in) {
  gb_metrics_t *g = in->registry = gb_metrics_new();
  if (!g) return GB_ENOMEM;
  in->m.messages_in = gb_metrics_add(g, GB_METRIC_COUNTER, "gb_ingest_messages_in_total",
                                     "Kafka messages read from the input topics.", NULL);
  in->m.records_in = gb_metrics_add(g, GB_METRIC_COUNTER, "gb_ingest_records_in_total",
                                    "Input records read (each element of a batch counts).", NULL);
  in->m.records_out = gb_metrics_add(g, GB_METRIC_COUNTER, "gb_ingest_records_out_total",
                                     "Input records that became canonical events.", NULL);
#define X(r)                                                                                 \
  in->m.dead_##r = gb_metrics_add(g, GB_METRIC_COUNTER, "gb_ingest_records_dead_total",      \
                                  "Input records sent to the dead-letter topic, by reason.", \
                                  "reason=\"" #r "\"");
  INGEST_REASONS
#undef X
  in->m.events_out = gb_metrics_add(g, GB_METRIC_COUNTER, "gb_ingest_events_out_total",
                                    "Canonical events written (a call gives one per party).",
                                    NULL);
  in->m.offset_resets = gb_metrics_add(g, GB_METRIC_COUNTER, "gb_kafka_offset_resets_total",
                                       "Partitions whose offset was out of range (data aged "
                                       "out before it was read): data lost upstream.",
                                       NULL);
  return in->m.offset_resets ? 0 : GB_ENOMEM;
}

int ingest_dead_letter(ingest_t *in, const rd_kafka_message_t *m, const void *rec, size_t len,
                       int index, const gb_reject_t *r) {
  gb_metric_t *c = NULL;
#define X(name) \
  if (strcmp(r->reason, #name) == 0) c = in->m.dead_##name;
  INGEST_REASONS
#undef X
  if (!c) c = in->m.dead_invalid_value; /* every reason is listed; this is a safety net */
  gb_metric_inc(c, 1);
  return gb_dlq_send(in->p, in->topic_dlq, "ingest", m, rec, len, index, r);
}
