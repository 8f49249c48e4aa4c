#include "gb/dlq.h"

#include <stdio.h>
#include <string.h>

#include "gb/err.h"
#include "gb/log.h"

/* The dead letter's headers: the original ones, then where and why. */
static rd_kafka_headers_t *headers(const char *service, const rd_kafka_message_t *m, int index,
                                   const gb_reject_t *r) {
  rd_kafka_headers_t *in = NULL;
  rd_kafka_headers_t *h;
  if (rd_kafka_message_headers(m, &in) == RD_KAFKA_RESP_ERR_NO_ERROR && in)
    h = rd_kafka_headers_copy(in);
  else
    h = rd_kafka_headers_new(8);
  char part[16], off[24];
  snprintf(part, sizeof(part), "%d", (int)m->partition);
  snprintf(off, sizeof(off), "%lld", (long long)m->offset);
  const char *src = rd_kafka_topic_name(m->rkt);
  rd_kafka_header_add(h, "gb-reason", -1, r->reason, -1);
  if (r->field[0]) rd_kafka_header_add(h, "gb-field", -1, r->field, -1);
  rd_kafka_header_add(h, "gb-detail", -1, r->detail, -1);
  rd_kafka_header_add(h, "gb-topic", -1, src, -1);
  rd_kafka_header_add(h, "gb-partition", -1, part, -1);
  rd_kafka_header_add(h, "gb-offset", -1, off, -1);
  rd_kafka_header_add(h, "gb-service", -1, service, -1);
  char idx[16] = "-";
  if (index >= 0) {
    snprintf(idx, sizeof(idx), "%d", index);
    rd_kafka_header_add(h, "gb-index", -1, idx, -1);
  }
  char q[300];
  gb_info("record.dead_lettered",
          "topic=%s partition=%s offset=%s index=%s reason=%s field=%s detail=%s", src, part, off,
          idx, r->reason, r->field[0] ? r->field : "-",
          gb_log_quote(q, sizeof(q), r->detail));
  return h;
}

int gb_dlq_send(gb_pipeline_t *p, const char *topic, const char *service,
                const rd_kafka_message_t *m, const void *value, size_t len, int index,
                const gb_reject_t *r) {
  rd_kafka_headers_t *h = headers(service, m, index, r);
  if (!value) {
    value = m->payload;
    len = m->len;
  }
  return gb_pipeline_produce(p, topic, RD_KAFKA_PARTITION_UA, m->key, m->key_len, value, len, h);
}

int gb_dlq_send_sync(rd_kafka_t *producer, const char *topic, const char *service,
                     const rd_kafka_message_t *m, const gb_reject_t *r, int timeout_ms) {
  rd_kafka_headers_t *h = headers(service, m, -1, r);
  uint64_t failures = gb_kafka_delivery_failures();
  rd_kafka_resp_err_t e = rd_kafka_producev(
      producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(m->key, m->key_len),
      RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
  if (e) {
    rd_kafka_headers_destroy(h);
    return GB_EIO;
  }
  return gb_kafka_flush_acked(producer, failures, timeout_ms);
}
