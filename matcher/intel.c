/* Fraud indicators (gb.intel) into the fraud list (gb/intel.h). A message is
 * JSON unless its content-type is application/x-protobuf (or
 * application/protobuf): then a goldenbell.v1.FraudIndicator. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gb/dlq.h"
#include "gb/err.h"
#include "gb/intel.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "matcher.h"

/* Whether the content-type header names protobuf; parameters ("; proto=...")
 * and case do not matter. Any other type, or none, is read as JSON, as
 * matcher always has. */
static int is_protobuf(const rd_kafka_message_t *m) {
  char hdr[256];
  const char *h = gb_kafka_header(m, "content-type", hdr, sizeof(hdr));
  if (!h) return 0;
  h += strspn(h, " \t");
  size_t n = strcspn(h, "; \t");
  return (n == 22 && strncasecmp(h, "application/x-protobuf", n) == 0) ||
         (n == 20 && strncasecmp(h, "application/protobuf", n) == 0);
}

static int parse(gb_indicator_t *ind, const rd_kafka_message_t *m, gb_reject_t *rj) {
  if (is_protobuf(m)) return gb_indicator_from_proto(ind, m->payload, m->len, rj);
  json_error_t je;
  json_t *o = json_loadb(m->payload ? m->payload : "", m->len, JSON_REJECT_DUPLICATES, &je);
  if (!o) return gb_reject(rj, "bad_json", "", "line %d column %d: %s", je.line, je.column,
                           je.text);
  int err = gb_indicator_from_json(ind, o, rj);
  json_decref(o);
  return err;
}

int matcher_intel_apply(matcher_t *mt, const rd_kafka_message_t *m) {
  gb_reject_t rj;
  gb_indicator_t ind;
  int64_t now = gb_now_ms();
  if (parse(&ind, m, &rj) != 0) {
    mt->dead++;
    gb_metric_inc(mt->m.dead, 1);
    return gb_dlq_send(mt->p, mt->topic_dlq, "matcher", m, NULL, 0, -1, &rj);
  }
  int err = gb_indicator_apply(mt->redis, mt->prefix, &ind, now);
  if (err && err != GB_EIO) return err;
  if (err) {
    /* Redis away: the indicator comes again after a wait (gb/kafka.h). */
    char q[600];
    gb_log(matcher_redis_fail_level(mt->redis), "intel.redis_failed", "reason=%s action=retry",
           gb_log_quote(q, sizeof(q), gb_redis_errstr(mt->redis)));
    return GB_EAGAIN;
  }
  /* Indicators are not citizens' data: the value may be logged. */
  char qv[2 * sizeof(ind.value) + 3], qs[2 * sizeof(ind.source) + 3];
  gb_metric_inc(mt->m.indicators, 1);
  gb_info("intel.applied", "kind=%s action=%s value=%s source=%s confidence=%d expires_ms=%lld%s",
          gb_indicator_kind_name(ind.kind), gb_indicator_action_name(ind.action),
          gb_log_quote(qv, sizeof(qv), ind.value), gb_log_quote(qs, sizeof(qs), ind.source),
          ind.confidence, (long long)ind.expires_ms,
          ind.action != GB_IND_WITHDRAW && ind.expires_ms && ind.expires_ms <= now
              ? " live=no reason=expired"
              : "");
  bool removed = ind.action == GB_IND_WITHDRAW || (ind.expires_ms && ind.expires_ms <= now);
  return matcher_feed_indicator(mt, &ind, removed);
}
