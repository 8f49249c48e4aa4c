/* Registry changes (gb.registry) into the protected-person index, each
 * answered on gb.registry.results. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "gb/dlq.h"
#include "gb/err.h"
#include "gb/log.h"
#include "matcher.h"

static int send_result(matcher_t *mt, const char *request_id, const gb_reg_result_t *res) {
  json_t *o = json_pack("{s:s, s:b, s:b, s:s}", "request_id", request_id, "accepted",
                        res->accepted, "protected", res->protected_, "reason", res->reason);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  if (!s) return GB_ENOMEM;
  rd_kafka_headers_t *h = rd_kafka_headers_new(1);
  rd_kafka_header_add(h, "content-type", -1, "application/json", -1);
  int err = gb_pipeline_produce(mt->p, mt->topic_results, RD_KAFKA_PARTITION_UA, request_id,
                                strlen(request_id), s, strlen(s), h);
  free(s);
  return err;
}

int matcher_registry_apply(matcher_t *mt, const rd_kafka_message_t *m) {
  gb_reject_t rj;
  gb_reg_change_t c;
  gb_reg_result_t res;
  char refusal[256], ct[128];
  int err;
  const char *type = gb_kafka_header(m, "content-type", ct, sizeof(ct));
  if (type && strncmp(type, "application/x-protobuf", 22) == 0) {
    err = gb_reg_change_from_proto(&c, m->payload, m->len, refusal, sizeof(refusal), &rj);
  } else {
    json_error_t je;
    json_t *o = json_loadb(m->payload, m->len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
      gb_reject(&rj, "bad_json", "", "line %d column %d: %s", je.line, je.column, je.text);
      err = GB_EINVAL;
    } else {
      err = gb_reg_change_from_json(&c, o, refusal, sizeof(refusal), &rj);
      json_decref(o);
    }
  }
  if (err) {
    mt->dead++;
    gb_metric_inc(mt->m.dead, 1);
    return gb_dlq_send(mt->p, mt->topic_dlq, "matcher", m, NULL, 0, -1, &rj);
  }
  if (refusal[0]) {
    memset(&res, 0, sizeof(res));
    snprintf(res.reason, sizeof(res.reason), "%s", refusal);
  } else if ((err = gb_registry_apply(mt->registry, &c, &res)) != 0) {
    if (err != GB_EIO) return err;
    /* Redis away: the change comes again after a wait (gb/kafka.h); what
     * was written of it is written again, which changes nothing. */
    char q[600];
    gb_log(matcher_redis_fail_level(mt->redis), "registry.redis_failed",
           "request_id=%s reason=%s action=retry", c.request_id,
           gb_log_quote(q, sizeof(q), gb_redis_errstr(mt->redis)));
    return GB_EAGAIN;
  }
  gb_metric_inc(res.accepted ? mt->m.changes_accepted : mt->m.changes_refused, 1);
  char q[300];
  gb_info("registry.applied", "request_id=%s op=%s accepted=%s protected=%s reason=%s",
          c.request_id, gb_reg_op_name(c.op), res.accepted ? "yes" : "no",
          res.protected_ ? "yes" : "no", gb_log_quote(q, sizeof(q), res.reason));
  return send_result(mt, c.request_id, &res);
}
