/* Registry changes (gb.registry) into the protected-person index. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "gb/dlq.h"
#include "gb/err.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/phone.h"
#include "gb/timeparse.h"
#include "matcher.h"

#define STATION_MAX 64

static int send_result(matcher_t *mt, const char *request_id, int accepted, int protected_,
                       const char *reason) {
  json_t *o = json_pack("{s:s, s:b, s:b, s:s}", "request_id", request_id, "accepted", accepted,
                        "protected", protected_, "reason", reason);
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

static int reply_ok(redisReply *r) { return r && r->type != REDIS_REPLY_ERROR; }

/* Registers (or re-registers) a person as protected by their own station.
 * Repeating it is harmless: the writes set the same values. */
static int apply_register(matcher_t *mt, const char *e164, const char *station, int following,
                          int64_t ts_ms) {
  char h[GB_NUMKEY_HEX_LEN + 1], kp[GB_KEY_MAX], kr[GB_KEY_MAX], owner[STATION_MAX + 16];
  gb_numkey_hash(&mt->numkey, e164, h);
  snprintf(owner, sizeof(owner), "%s\tself\t%d", station, following);
  gb_redis_append(mt->redis, "MULTI");
  gb_redis_append(mt->redis, "HSET %s station %s following %d registered_ms %lld",
                  gb_key_registrant(kr, mt->prefix, h), station, following, (long long)ts_ms);
  gb_redis_append(mt->redis, "HSET %s %s %s", gb_key_protected(kp, mt->prefix, h), h, owner);
  gb_redis_append(mt->redis, "EXEC");
  int ok = 1;
  for (int i = 0; i < 4; i++) {
    redisReply *r = gb_redis_reply(mt->redis);
    ok = ok && reply_ok(r);
    if (r) freeReplyObject(r);
  }
  return ok ? 0 : GB_EIO;
}

int matcher_registry_apply(matcher_t *mt, const rd_kafka_message_t *m) {
  gb_reject_t rj;
  json_error_t je;
  json_t *o = json_loadb(m->payload, m->len, JSON_REJECT_DUPLICATES, &je);
  int err = 0;
  if (!o) {
    gb_reject(&rj, "bad_json", "", "line %d column %d: %s", je.line, je.column, je.text);
    goto dead;
  }
  const char *request_id, *op, *registrant, *station;
  size_t rlen, slen;
  bool following = true;
  int64_t ts = 0;
  if (!json_is_object(o)) {
    gb_reject(&rj, "wrong_type", "", "a registry change is an object");
    goto dead;
  }
  if (gb_json_str(o, "request_id", true, &request_id, NULL, &rj) ||
      gb_json_str(o, "op", true, &op, NULL, &rj) ||
      gb_json_str(o, "registrant", true, &registrant, &rlen, &rj) ||
      gb_json_bool(o, "following", false, &following, &rj) ||
      gb_json_time(o, "ts", false, &ts, &rj))
    goto dead;
  char e164[GB_PHONE_MAX], e[160];
  gb_phone_class_t cls = gb_phone_normalize(e164, sizeof(e164), registrant, rlen, e, sizeof(e));
  if (cls == GB_PHONE_INVALID || cls == GB_PHONE_SERVICE) {
    err = send_result(mt, request_id, 0, 0,
                      cls == GB_PHONE_SERVICE ? "registrant: a service number cannot register" : e);
    goto out;
  }
  if (strcmp(op, "register") != 0) {
    gb_reject(&rj, "unknown_enum", "op", "op: '%.40s' is not a known change", op);
    goto dead;
  }
  if (gb_json_str(o, "station_id", true, &station, &slen, &rj)) goto dead;
  if (slen == 0 || slen > STATION_MAX || strpbrk(station, "\t{}")) {
    gb_reject(&rj, "invalid_value", "station_id", "station_id: empty, too long or has {, } or tab");
    goto dead;
  }
  if ((err = apply_register(mt, e164, station, following, ts ? ts : gb_now_ms())) != 0) {
    gb_error("registry.redis_failed", "request_id=%s reason=\"%s\"", request_id,
             gb_redis_errstr(mt->redis));
    goto out;
  }
  gb_info("registry.applied", "request_id=%s op=register station=%s", request_id, station);
  err = send_result(mt, request_id, 1, 1, "");
  goto out;
dead:
  mt->dead++;
  err = gb_dlq_send(mt->p, mt->topic_dlq, "matcher", m, NULL, 0, -1, &rj);
out:
  json_decref(o);
  return err;
}
