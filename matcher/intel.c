/* Fraud indicators (gb.intel) into the fraud list. */
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

int matcher_intel_apply(matcher_t *mt, const rd_kafka_message_t *m) {
  gb_reject_t rj;
  json_error_t je;
  json_t *o = json_loadb(m->payload, m->len, JSON_REJECT_DUPLICATES, &je);
  int err = 0;
  const char *kind, *value, *action = NULL, *source = NULL;
  size_t vlen;
  int64_t confidence = 50, expires = 0;
  if (!o) {
    gb_reject(&rj, "bad_json", "", "line %d column %d: %s", je.line, je.column, je.text);
    goto dead;
  }
  if (!json_is_object(o)) {
    gb_reject(&rj, "wrong_type", "", "a fraud indicator is an object");
    goto dead;
  }
  if (gb_json_str(o, "kind", true, &kind, NULL, &rj) ||
      gb_json_str(o, "value", true, &value, &vlen, &rj) ||
      gb_json_str(o, "action", false, &action, NULL, &rj) ||
      gb_json_str(o, "source", false, &source, NULL, &rj) ||
      gb_json_int(o, "confidence", false, 0, 100, &confidence, &rj) ||
      gb_json_time(o, "expires", false, &expires, &rj))
    goto dead;
  if (strcmp(kind, "phone") != 0) {
    gb_reject(&rj, "unknown_enum", "kind", "kind: '%.40s' is not supported (phone)", kind);
    goto dead;
  }
  int withdraw = action && strcmp(action, "withdraw") == 0;
  if (action && !withdraw && strcmp(action, "add") != 0 && strcmp(action, "confirm") != 0) {
    gb_reject(&rj, "unknown_enum", "action", "action: '%.40s' is not add, confirm or withdraw",
              action);
    goto dead;
  }
  char e164[GB_PHONE_MAX], e[160], key[GB_KEY_MAX];
  if (gb_phone_normalize(e164, sizeof(e164), value, vlen, e, sizeof(e)) == GB_PHONE_INVALID) {
    gb_reject(&rj, "invalid_value", "value", "value: %s", e);
    goto dead;
  }
  gb_key_fraud_phone(key, mt->prefix, e164);
  redisReply *r;
  if (withdraw) {
    r = gb_redis_command(mt->redis, "DEL %s", key);
  } else {
    gb_redis_append(mt->redis, "HSET %s source %s confidence %lld expires_ms %lld", key,
                    source ? source : "", (long long)confidence, (long long)expires);
    if (expires)
      gb_redis_append(mt->redis, "PEXPIREAT %s %lld", key, (long long)expires);
    else
      gb_redis_append(mt->redis, "PERSIST %s", key);
    r = gb_redis_reply(mt->redis);
    if (r) {
      freeReplyObject(r);
      r = gb_redis_reply(mt->redis);
    }
  }
  if (!r || r->type == REDIS_REPLY_ERROR) {
    gb_error("intel.redis_failed", "reason=\"%s\"", gb_redis_errstr(mt->redis));
    if (r) freeReplyObject(r);
    err = GB_EIO;
    goto out;
  }
  freeReplyObject(r);
  gb_info("intel.applied", "kind=phone action=%s", withdraw ? "withdraw" : action ? action : "add");
  goto out;
dead:
  mt->dead++;
  err = gb_dlq_send(mt->p, mt->topic_dlq, "matcher", m, NULL, 0, -1, &rj);
out:
  json_decref(o);
  return err;
}
