/* ingest's counters. The identity that the accounting test checks:
 *   gb_ingest_records_in_total = gb_ingest_records_out_total
 *                                + sum(gb_ingest_records_dead_total)
 * Records are what a message carries (one object, each element of a batch);
 * a message that cannot even be split counts as one record. */
#include "gb/dlq.h"
#include "gb/err.h"
#include "ingest.h"
#include <stdio.h>
#include <stdlib.h>
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

/* The largest value a dead letter of m may carry: the producer's
 * message.max.bytes (read once) less m's key, its headers and room for
 * ours. vlen: the value meant; what is surely room enough stops the count. */
static size_t dead_letter_room(ingest_t *in, const rd_kafka_message_t *m, size_t vlen) {
  if (!in->dlq_max_bytes) {
    char v[32];
    size_t vs = sizeof(v);
    in->dlq_max_bytes = 1000000; /* librdkafka's default */
    if (rd_kafka_conf_get(rd_kafka_conf(gb_pipeline_producer(in->p)), "message.max.bytes", v,
                          &vs) == RD_KAFKA_CONF_OK && strtoull(v, NULL, 10) > 0)
      in->dlq_max_bytes = (size_t)strtoull(v, NULL, 10);
  }
  size_t used = m->key_len + 4096;
  if (vlen + used + 65536 <= in->dlq_max_bytes) return vlen; /* the usual case */
  rd_kafka_headers_t *h = NULL;
  if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h) {
    const char *name;
    const void *val;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(h, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
      used += strlen(name) + size + 16;
  }
  return in->dlq_max_bytes > used ? in->dlq_max_bytes - used : 0;
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
  size_t vlen = rec ? len : m->len, room = dead_letter_room(in, m, vlen);
  if (vlen > room) {
    /* A copy would make a message our own producer refuses, and a dead
     * letter that cannot be sent stops the worker on this offset for good.
     * This one goes without the value and says where the message is. */
    gb_reject_t cut = *r;
    snprintf(cut.detail, sizeof(cut.detail),
             "%.100s; value of %zu bytes left out (a dead letter holds %zu): read it at "
             "gb-topic, gb-partition, gb-offset",
             r->detail, vlen, room);
    return gb_dlq_send(in->p, in->topic_dlq, "ingest", m, "", 0, index, &cut);
  }
  return gb_dlq_send(in->p, in->topic_dlq, "ingest", m, rec, len, index, r);
}
