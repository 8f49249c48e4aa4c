/* Canonical events (gb.events) against the index and the fraud list. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/dlq.h"
#include "gb/err.h"
#include "gb/intel.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "goldenbell/v1/alert.pb-c.h"
#include "goldenbell/v1/event.pb-c.h"
#include "matcher.h"

#define MAX_PROTECTORS 64

typedef struct {
  char station[65];
  char relation[33];
  char registrant[GB_PHONE_MAX];
  int following;
} owner_t;

/* Reads who protects the subject (gb/registry.h: pn entries). Returns the
 * number of owners (0: nobody), or GB_EIO. */
static int lookup_owners(matcher_t *mt, const char *subject, owner_t *owners, int max) {
  char h[GB_NUMKEY_HEX_LEN + 1], key[GB_KEY_MAX];
  gb_numkey_hash(&mt->numkey, subject, h);
  redisReply *r = gb_redis_command(mt->redis, "HVALS %s", gb_key_protected(key, mt->prefix, h));
  if (!r || r->type != REDIS_REPLY_ARRAY) {
    if (r) freeReplyObject(r);
    return GB_EIO;
  }
  int n = 0;
  for (size_t i = 0; i < r->elements && n < max; i++) {
    owner_t *o = &owners[n];
    memset(o, 0, sizeof(*o));
    /* "<station>\t<following>\t<sealed {registrant, relation}>" */
    char *v = r->element[i]->str;
    char *t1 = strchr(v, '\t');
    char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    if (!t1 || !t2) continue;
    snprintf(o->station, sizeof(o->station), "%.*s", (int)(t1 - v), v);
    o->following = t1[1] == '1';
    char plain[512];
    if (gb_open(&mt->keys, "pn.owner", t2 + 1, plain, sizeof(plain), NULL) != 0) {
      gb_error("match.unreadable_owner", "station=%s reason=\"cannot open a sealed owner "
               "(key missing from the keyring?)\"", o->station);
      continue;
    }
    json_t *j = json_loads(plain, 0, NULL);
    snprintf(o->registrant, sizeof(o->registrant), "%s",
             json_string_value(json_object_get(j, "registrant")) ?: "");
    snprintf(o->relation, sizeof(o->relation), "%s",
             json_string_value(json_object_get(j, "relation")) ?: "");
    json_decref(j);
    n++;
  }
  freeReplyObject(r);
  return n;
}

/* 1 when e164 is a live fraud indicator, 0 when not, GB_EIO on failure. */
static int is_fraud_number(matcher_t *mt, const char *e164, int64_t now_ms) {
  char key[GB_KEY_MAX];
  redisReply *r = gb_redis_command(mt->redis, "HGET %s expires_ms",
                                   gb_key_fraud_phone(key, mt->prefix, e164));
  if (!r || r->type == REDIS_REPLY_ERROR) {
    if (r) freeReplyObject(r);
    return GB_EIO;
  }
  int fraud = 0;
  if (r->type == REDIS_REPLY_STRING) {
    long long exp = strtoll(r->str, NULL, 10);
    fraud = exp == 0 || exp > now_ms;
  }
  freeReplyObject(r);
  return fraud;
}

/* Deterministic: the same call about the same person is the same alert,
 * whichever record (interim, final, re-sent) revealed it. */
static void alert_id(char out[33], const char *rule, const char *subject, const char *incident) {
  unsigned char h[16];
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, sizeof(h));
  crypto_generichash_update(&st, (const unsigned char *)rule, strlen(rule) + 1);
  crypto_generichash_update(&st, (const unsigned char *)subject, strlen(subject) + 1);
  crypto_generichash_update(&st, (const unsigned char *)incident, strlen(incident) + 1);
  crypto_generichash_final(&st, h, sizeof(h));
  sodium_bin2hex(out, 33, h, sizeof(h));
}

/* What a rule found: the alert's identity, risk and evidence in words. */
typedef struct {
  const char *rule_name; /* "long_fraud_call", for ids and logs */
  Goldenbell__V1__Rule rule;
  Goldenbell__V1__Risk risk;
  const char *incident; /* what makes two events the same incident (the call id, the site) */
  char evidence[512];
  int64_t created_ms;
} finding_t;

static const char *risk_name(Goldenbell__V1__Risk r) {
  return r == GOLDENBELL__V1__RISK__RISK_HIGH ? "high"
         : r == GOLDENBELL__V1__RISK__RISK_MEDIUM ? "medium" : "low";
}

static int emit_alert(matcher_t *mt, Goldenbell__V1__Event *ev, owner_t *owners, int n,
                      const finding_t *f) {
  char id[33];
  alert_id(id, f->rule_name, ev->subject, f->incident);
  Goldenbell__V1__Protector prot[MAX_PROTECTORS];
  Goldenbell__V1__Protector *protp[MAX_PROTECTORS];
  for (int i = 0; i < n; i++) {
    goldenbell__v1__protector__init(&prot[i]);
    prot[i].registrant = (char *)owners[i].registrant;
    prot[i].station_id = (char *)owners[i].station;
    prot[i].relation = (char *)owners[i].relation;
    prot[i].following = owners[i].following;
    protp[i] = &prot[i];
  }
  Goldenbell__V1__Event *evs[1] = {ev};
  Goldenbell__V1__Alert a = GOLDENBELL__V1__ALERT__INIT;
  a.version = 1;
  a.alert_id = id;
  a.subject = ev->subject;
  a.risk = f->risk;
  a.rule = f->rule;
  a.evidence = (char *)f->evidence;
  a.n_events = 1;
  a.events = evs;
  a.n_protectors = (size_t)n;
  a.protectors = protp;
  a.created_ms = f->created_ms;
  a.updated_ms = ev->ts_ms;
  a.count = 1;
  a.revision = 1;

  /* One copy per distinct station: a person protected through registrants
   * at two stations alerts both. */
  for (int i = 0; i < n; i++) {
    int seen = 0;
    for (int j = 0; j < i; j++) seen |= strcmp(owners[i].station, owners[j].station) == 0;
    if (seen) continue;
    a.station_id = (char *)owners[i].station;
    size_t sz = goldenbell__v1__alert__get_packed_size(&a);
    uint8_t *buf = malloc(sz);
    if (!buf) return GB_ENOMEM;
    goldenbell__v1__alert__pack(&a, buf);
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, "content-type", -1, "application/x-protobuf; proto=goldenbell.v1.Alert",
                        -1);
    int err = gb_pipeline_produce_owned(mt->p, mt->topic_alerts, RD_KAFKA_PARTITION_UA,
                                        a.station_id, strlen(a.station_id), buf, sz, h);
    if (err) return err;
    mt->alerts++;
    gb_metric_inc(mt->m.alerts, 1);
    gb_info("alert.emitted", "alert=%s station=%s rule=%s risk=%s", id, a.station_id,
            f->rule_name, risk_name(f->risk));
  }
  return 0;
}

/* Rule 1: a call with a fraud number, at least long_call_s. */
static int match_call(matcher_t *mt, Goldenbell__V1__Event *ev, owner_t *owners, int n) {
  const Goldenbell__V1__CallView *c = ev->call;
  int fraud = is_fraud_number(mt, c->counterpart, ev->ts_ms);
  if (fraud < 0) return fraud;
  if (!fraud) {
    gb_debug("event.dropped", "event_id=%s reason=no_indicator", ev->event_id);
    return 0;
  }
  if (c->duration_s < mt->rules.long_call_s) {
    gb_debug("event.dropped", "event_id=%s reason=below_threshold duration_s=%u", ev->event_id,
             c->duration_s);
    return 0;
  }
  finding_t f = {"long_fraud_call", GOLDENBELL__V1__RULE__RULE_LONG_FRAUD_CALL,
                 GOLDENBELL__V1__RISK__RISK_HIGH, c->call_id, "", c->start_ms};
  unsigned d = c->duration_s;
  snprintf(f.evidence, sizeof(f.evidence), "on a call with fraud number %s for %u min %u s, %s%s%s",
           c->counterpart, d / 60, d % 60,
           c->status == GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING ? "still ongoing"
                                                                          : "ended",
           c->carrier[0] ? ", carrier " : "", c->carrier);
  return emit_alert(mt, ev, owners, n, &f);
}

/* Rule 2: a visit to a listed site (or a subdomain of one), or an install
 * of a listed app: medium risk. */
static int match_visit(matcher_t *mt, Goldenbell__V1__Event *ev, owner_t *owners, int n) {
  const Goldenbell__V1__VisitView *v = ev->visit;
  int app = v->kind == GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP;
  gb_indicator_t ind;
  int listed;
  if (app) {
    listed = gb_indicator_lookup(mt->redis, mt->prefix, GB_IND_APP, v->target, ev->ts_ms, &ind);
  } else {
    gb_site_t site;
    snprintf(site.host, sizeof(site.host), "%s", v->target);
    snprintf(site.domain, sizeof(site.domain), "%s", v->domain);
    listed = gb_indicator_lookup_site(mt->redis, mt->prefix, &site, ev->ts_ms, &ind);
  }
  if (listed < 0) return listed == GB_EINVAL ? 0 : listed;
  if (!listed) {
    gb_debug("event.dropped", "event_id=%s reason=no_indicator", ev->event_id);
    return 0;
  }
  /* One incident per listing: visits to pages of one fraud site are one. */
  finding_t f = {"fraud_site_or_app", GOLDENBELL__V1__RULE__RULE_FRAUD_SITE_OR_APP,
                 GOLDENBELL__V1__RISK__RISK_MEDIUM, ind.value, "", ev->ts_ms};
  char when[40];
  gb_time_format(when, sizeof(when), ev->ts_ms);
  snprintf(f.evidence, sizeof(f.evidence), app ? "installed the fraud app %s at %s"
                                               : "visited %s, a listed fraud site (%s), at %s",
           v->target, app ? when : ind.value, when);
  return emit_alert(mt, ev, owners, n, &f);
}

static int match_one(matcher_t *mt, Goldenbell__V1__Event *ev) {
  int call = ev->body_case == GOLDENBELL__V1__EVENT__BODY_CALL && ev->call;
  int visit = ev->body_case == GOLDENBELL__V1__EVENT__BODY_VISIT && ev->visit;
  if (!call && !visit) {
    gb_debug("event.skipped", "event_id=%s reason=no_body", ev->event_id);
    return 0;
  }
  owner_t owners[MAX_PROTECTORS];
  int n = lookup_owners(mt, ev->subject, owners, MAX_PROTECTORS);
  if (n < 0) return n;
  if (n == 0) {
    gb_debug("event.dropped", "event_id=%s reason=not_protected", ev->event_id);
    return 0;
  }
  return call ? match_call(mt, ev, owners, n) : match_visit(mt, ev, owners, n);
}

int matcher_events_match(matcher_t *mt, const rd_kafka_message_t *m) {
  Goldenbell__V1__EventBatch *b =
      goldenbell__v1__event_batch__unpack(NULL, m->len, (const uint8_t *)m->payload);
  if (!b) {
    gb_reject_t rj;
    gb_reject(&rj, "bad_protobuf", "", "not a goldenbell.v1.EventBatch");
    mt->dead++;
    gb_metric_inc(mt->m.dead, 1);
    return gb_dlq_send(mt->p, mt->topic_dlq, "matcher", m, NULL, 0, -1, &rj);
  }
  int err = 0;
  for (size_t i = 0; i < b->n_events && !err; i++) {
    Goldenbell__V1__Event *ev = b->events[i];
    if (ev->version != 1 || !ev->subject[0]) {
      gb_warn("event.skipped", "event_id=%s reason=unsupported_version version=%u", ev->event_id,
              ev->version);
      continue;
    }
    gb_metric_inc(mt->m.events, 1);
    err = match_one(mt, ev);
    if (err)
      gb_error("match.redis_failed", "event_id=%s reason=\"%s\"", ev->event_id,
               gb_redis_errstr(mt->redis));
  }
  goldenbell__v1__event_batch__free_unpacked(b, NULL);
  return err;
}
