#include "relay.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/dlq.h"
#include "gb/err.h"
#include "gb/kafka.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/numkey.h"
#include "gb/timeparse.h"
#include "goldenbell/v1/intel.pb-c.h"
#include "goldenbell/v1/workflow.pb-c.h"
#include "notifier.h"
#include "outbox.h"
#include "sealed.h"

#define FLUSH_TIMEOUT_MS 10000
#define CONFIRM_CONFIDENCE 90

typedef struct relay {
  notifier_t *n;
  rd_kafka_t *producer;
  const char *topic_workflow, *topic_intel, *prefix;
  gb_numkey_t numkey;
  int64_t intel_ttl_ms;
  outbox_t *outbox;
  gb_redis_t *r; /* the outbox thread's connection, during carry() */
} relay_t;

static Goldenbell__V1__AlertState state_of(const char *s) {
  static const struct {
    const char *name;
    Goldenbell__V1__AlertState v;
  } map[] = {{"new", GOLDENBELL__V1__ALERT_STATE__ALERT_STATE_NEW},
             {"claimed", GOLDENBELL__V1__ALERT_STATE__ALERT_STATE_CLAIMED},
             {"resolved", GOLDENBELL__V1__ALERT_STATE__ALERT_STATE_RESOLVED},
             {"disputed", GOLDENBELL__V1__ALERT_STATE__ALERT_STATE_DISPUTED},
             {"escalated", GOLDENBELL__V1__ALERT_STATE__ALERT_STATE_ESCALATED},
             {"reassigned", GOLDENBELL__V1__ALERT_STATE__ALERT_STATE_REASSIGNED}};
  for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
    if (!strcmp(s, map[i].name)) return map[i].v;
  return GOLDENBELL__V1__ALERT_STATE__ALERT_STATE_UNSPECIFIED;
}

/* The reason in words: what the details say matters most. */
static void reason_of(char *out, size_t size, const char *action, const json_t *d) {
  const char *why = json_string_value(json_object_get(d, "outcome"));
  if (!why) why = json_string_value(json_object_get(d, "reason"));
  if (!why) why = json_string_value(json_object_get(d, "decision"));
  snprintf(out, size, "%s%s%s", action, why ? ": " : "", why ? why : "");
}

/* Protobuf, with the change's id for whoever dedupes downstream. */
static int produce(relay_t *rl, const char *topic, const char *key, const void *buf, size_t len,
                   const char *event_id) {
  rd_kafka_resp_err_t e;
  for (int attempt = 0; attempt < 2; attempt++) {
    e = rd_kafka_producev(rl->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                          RD_KAFKA_V_VALUE((void *)buf, len),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_HEADER("content-type", "application/x-protobuf", -1),
                          RD_KAFKA_V_HEADER("gb-event-id", event_id, -1), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
    rd_kafka_flush(rl->producer, FLUSH_TIMEOUT_MS);
  }
  if (e) gb_warn("relay.produce_failed", "topic=%s err=%s", topic, rd_kafka_err2name(e));
  return e ? GB_EIO : 0;
}

/* Calls fn for each fraud indicator in the alert's evidence: call
 * counterparts (never short service numbers) and visited sites and apps. */
typedef int (*indicator_fn)(relay_t *rl, const char *kind, const char *value, void *ud);

static int each_once(relay_t *rl, json_t *seen, const char *kind, const char *value,
                     indicator_fn fn, void *ud) {
  char k[300];
  snprintf(k, sizeof(k), "%s:%s", kind, value);
  if (json_object_get(seen, k)) return 0;
  json_object_set_new(seen, k, json_true());
  return fn(rl, kind, value, ud);
}

/* Each indicator once, however many events name it. */
static int each_indicator(relay_t *rl, const json_t *alert, indicator_fn fn, void *ud) {
  size_t i;
  json_t *ev, *seen = json_object();
  int err = 0;
  json_array_foreach(json_object_get(alert, "events"), i, ev) {
    const char *num = json_string_value(json_object_get(json_object_get(ev, "call"),
                                                        "counterpart"));
    json_t *visit = json_object_get(ev, "visit");
    const char *vkind = json_string_value(json_object_get(visit, "kind"));
    const char *target = json_string_value(json_object_get(visit, "target"));
    const char *domain = json_string_value(json_object_get(visit, "domain"));
    if (domain && *domain) target = domain; /* what a listing names (gb/intel.h) */
    if (num && num[0] == '+') err |= each_once(rl, seen, "phone", num, fn, ud);
    if (vkind && target && *target)
      err |= each_once(rl, seen, !strcmp(vkind, "app") ? "app" : "domain", target, fn, ud);
  }
  json_decref(seen);
  return err ? GB_EIO : 0;
}

static int confirm_one(relay_t *rl, const char *kind, const char *value, void *ud) {
  const char *station = ud;
  char source[80], key[300];
  snprintf(source, sizeof(source), "goldenbell:%s", station);
  snprintf(key, sizeof(key), "%s:%s", kind, value);
  Goldenbell__V1__FraudIndicator fi = GOLDENBELL__V1__FRAUD_INDICATOR__INIT;
  fi.version = 1;
  fi.kind = !strcmp(kind, "phone")    ? GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_PHONE
            : !strcmp(kind, "domain") ? GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_DOMAIN
                                      : GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_APP;
  fi.value = (char *)value;
  fi.action = GOLDENBELL__V1__INDICATOR_ACTION__INDICATOR_ACTION_CONFIRM;
  fi.source = source;
  fi.confidence = CONFIRM_CONFIDENCE;
  fi.expires_ms = gb_now_ms() + rl->intel_ttl_ms;
  uint8_t buf[1024];
  size_t len = goldenbell__v1__fraud_indicator__get_packed_size(&fi);
  if (len > sizeof(buf)) return 0;
  goldenbell__v1__fraud_indicator__pack(&fi, buf);
  gb_info("intel.confirmed", "kind=%s value=%s source=%s", kind, value, source);
  return produce(rl, rl->topic_intel, key, buf, len, key);
}

/* KEYS: the indicator's set, the rank. ARGV: member, indicator. */
static const char not_fraud_lua[] =
    "redis.call('SADD', KEYS[1], ARGV[1])\n"
    "redis.call('ZADD', KEYS[2], redis.call('SCARD', KEYS[1]), ARGV[2])\n"
    "return 1\n";

static int not_fraud_one(relay_t *rl, const char *kind, const char *value, void *ud) {
  char kset[GB_KEY_MAX], krank[GB_KEY_MAX], ind[300];
  snprintf(kset, sizeof(kset), "%s{nf}:%s:%s", rl->prefix, kind, value);
  snprintf(krank, sizeof(krank), "%s" NF_RANK, rl->prefix);
  snprintf(ind, sizeof(ind), "%s:%s", kind, value);
  redisReply *r = gb_redis_command(rl->r, "EVAL %s 2 %s %s %s %s", not_fraud_lua,
                                   kset, krank, (const char *)ud, ind);
  int ok = r && r->type == REDIS_REPLY_INTEGER;
  if (r) freeReplyObject(r);
  if (ok) gb_warn("intel.not_fraud", "kind=%s value=%s alert=%s", kind, value, (const char *)ud);
  return ok ? 0 : GB_EIO;
}

/* KEYS: the person's incident. ARGV: alert id, now. Only the incident the
 * alert belongs to, and only once. */
static const char close_lua[] =
    "if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end\n"
    "return redis.call('HSETNX', KEYS[1], 'closed_ms', ARGV[2])\n";

static int close_incident(relay_t *rl, const json_t *alert, const char *id) {
  const char *subject = json_string_value(json_object_get(alert, "subject"));
  if (!subject) return 0;
  char h[GB_NUMKEY_HEX_LEN + 1], k[GB_KEY_MAX];
  gb_numkey_hash(&rl->numkey, subject, h);
  snprintf(k, sizeof(k), "%sinc:{%s}", rl->prefix, h);
  redisReply *r = gb_redis_command(rl->r, "EVAL %s 1 %s %s %lld", close_lua, k, id,
                                   (long long)gb_now_ms());
  int ok = r && r->type == REDIS_REPLY_INTEGER;
  if (ok && r->integer == 1) gb_info("incident.closed", "alert=%s", id);
  if (r) freeReplyObject(r);
  return ok ? 0 : GB_EIO;
}

/* What a change to resolved means beyond the station. */
static int effects(relay_t *rl, gb_redis_t *r, const char *station, const char *id,
                   const char *action, const json_t *details) {
  const char *outcome = json_string_value(json_object_get(details, "outcome"));
  char reason[32];
  if (!strcmp(action, "settle")) outcome = NULL; /* the dispute says why; read below */
  char ka[GB_KEY_MAX];
  redisReply *a = gb_redis_command(r, "HMGET %s json dispute", gb_key_alert(ka, rl->prefix,
                                                                            station, id));
  if (!a || a->type != REDIS_REPLY_ARRAY || a->elements != 2) {
    if (a) freeReplyObject(a);
    return GB_EIO;
  }
  char *plain = a->element[0]->type == REDIS_REPLY_STRING
                    ? sealed_open(&rl->n->keys, SEALED_FEED, a->element[0]->str) : NULL;
  json_t *alert = plain ? json_loads(plain, 0, NULL) : NULL;
  free(plain);
  if (!outcome && a->element[1]->type == REDIS_REPLY_STRING) {
    json_t *d = json_loads(a->element[1]->str, 0, NULL);
    const char *why = json_string_value(json_object_get(d, "reason"));
    snprintf(reason, sizeof(reason), "%s", why ? why : "");
    outcome = reason;
    json_decref(d);
  }
  freeReplyObject(a);
  int err = 0;
  if (alert && outcome) {
    char member[160];
    snprintf(member, sizeof(member), "%s/%s", station, id);
    if (!strcmp(outcome, "dissuaded") || !strcmp(outcome, "money_transferred"))
      err = each_indicator(rl, alert, confirm_one, (void *)station);
    else if (!strcmp(outcome, "not_fraud"))
      err = each_indicator(rl, alert, not_fraud_one, member);
    if (!err) err = close_incident(rl, alert, id);
  }
  json_decref(alert);
  return err;
}

static int carry(void *ud, gb_redis_t *r, const char *station, redisReply *const *entries,
                 size_t n) {
  relay_t *rl = ud;
  rl->r = r;
  uint64_t failures = gb_kafka_delivery_failures();
  size_t i;
  int err = 0;
  for (i = 0; i < n && !err; i++) {
    const redisReply *e = entries[i];
    const char *id = outbox_field(e, "alert"), *action = outbox_field(e, "action");
    const char *by = outbox_field(e, "by"), *at = outbox_field(e, "at");
    const char *details = outbox_field(e, "details"), *to = outbox_field(e, "to");
    if (!id || !action) continue; /* not an entry of ours: nothing to carry */
    json_t *d = details && *details ? json_loads(details, 0, NULL) : NULL;
    char event_id[128], reason[128];
    snprintf(event_id, sizeof(event_id), "%s/%s", station, e->element[0]->str);
    reason_of(reason, sizeof(reason), action, d);
    Goldenbell__V1__WorkflowEvent w = GOLDENBELL__V1__WORKFLOW_EVENT__INIT;
    w.version = 1;
    w.alert_id = (char *)id;
    w.station_id = (char *)station;
    w.from_state = state_of(outbox_field(e, "from"));
    w.to_state = state_of(to);
    w.actor = (char *)(by ? by : "system");
    w.at_ms = at ? strtoll(at, NULL, 10) : 0;
    w.reason = reason;
    w.action = (char *)action;
    w.details_json = (char *)(details ? details : "");
    w.event_id = event_id;
    size_t len = goldenbell__v1__workflow_event__get_packed_size(&w);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) err = GB_ENOMEM;
    else {
      goldenbell__v1__workflow_event__pack(&w, buf);
      err = produce(rl, rl->topic_workflow, id, buf, len, event_id);
      free(buf);
    }
    if (!err && to && !strcmp(to, "resolved"))
      err = effects(rl, r, station, id, action, d);
    json_decref(d);
  }
  size_t done = err ? i - 1 : n;
  /* Nothing counts as carried before the brokers have it. */
  if (gb_kafka_flush_acked(rl->producer, failures, FLUSH_TIMEOUT_MS) != 0) {
    gb_warn("relay.unacknowledged", "station=%s entries=%zu action=retry", station, n);
    return GB_EIO;
  }
  if (err) gb_warn("relay.failed", "station=%s entry=%zu action=retry", station, done);
  return done ? (int)done : err;
}

int relay_start(notifier_t *n, char *errstr, size_t errstr_size) {
  relay_t *rl = calloc(1, sizeof(*rl));
  if (!rl) return GB_ENOMEM;
  rl->n = n;
  rl->prefix = n->prefix;
  rl->topic_workflow = gb_config_str(n->cfg, "topic.workflow");
  rl->topic_intel = gb_config_str(n->cfg, "topic.intel");
  rl->intel_ttl_ms = gb_config_int(n->cfg, "notifier.confirmed-intel-days") * 86400000LL;
  int err = gb_numkey_load(&rl->numkey, n->cfg, errstr, errstr_size);
  if (!err) err = gb_kafka_producer_new(&rl->producer, n->cfg, errstr, errstr_size);
  if (err) {
    free(rl);
    return err;
  }
  outbox_conf_t oc = {.name = "relay", .stream = "audit", .batch = 500, .sweep_ms = 5000,
                      .gather_ms = 50,
                      .carry = carry, .ud = rl};
  if ((err = outbox_start(&rl->outbox, n->cfg, &oc, errstr, errstr_size)) != 0) {
    rd_kafka_destroy(rl->producer);
    free(rl);
    return err;
  }
  n->relay = rl;
  return 0;
}

void relay_kick(notifier_t *n, const char *station) {
  if (n->relay) outbox_kick(n->relay->outbox, station);
}

int relay_dead_letter(notifier_t *n, const rd_kafka_message_t *m, const gb_reject_t *r) {
  return gb_dlq_send_sync(n->relay->producer, gb_config_str(n->cfg, "topic.dlq"), "notifier", m,
                          r, FLUSH_TIMEOUT_MS);
}

void relay_stop(notifier_t *n) {
  relay_t *rl = n->relay;
  if (!rl) return;
  outbox_stop(rl->outbox);
  rd_kafka_flush(rl->producer, FLUSH_TIMEOUT_MS);
  rd_kafka_destroy(rl->producer);
  free(rl);
  n->relay = NULL;
}
