#include "alert.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "gb/alertnames.h"
#include "gb/err.h"
#include "gb/keyring.h"
#include "gb/log.h"
#include "goldenbell/v1/alert.pb-c.h"
#include "matcher.h"

#define EVENT_SEALED_MAX 8192

void alert_id(char out[33], const char *subject, const char *evkey) {
  unsigned char h[16];
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, sizeof(h));
  crypto_generichash_update(&st, (const unsigned char *)subject, strlen(subject) + 1);
  crypto_generichash_update(&st, (const unsigned char *)evkey, strlen(evkey) + 1);
  crypto_generichash_final(&st, h, sizeof(h));
  sodium_bin2hex(out, 33, h, sizeof(h));
}

int alert_owners_parse(matcher_t *mt, const redisReply *r, owner_t *owners, int max) {
  if (!r || r->type != REDIS_REPLY_ARRAY) return GB_EIO;
  int n = 0;
  for (size_t i = 0; i < r->elements && n < max; i++) {
    owner_t *o = &owners[n];
    memset(o, 0, sizeof(*o));
    if (r->element[i]->type != REDIS_REPLY_STRING) continue;
    /* "<station>\t<following>\t<sealed {registrant, relation}>" */
    const char *v = r->element[i]->str;
    const char *t1 = strchr(v, '\t');
    const char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
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
    sodium_memzero(plain, sizeof(plain));
    n++;
  }
  return n;
}

static int by_time(const void *a, const void *b) {
  const evidence_item_t *x = a, *y = b;
  return (x->ts_ms > y->ts_ms) - (x->ts_ms < y->ts_ms);
}

/* Opens the incident's items into events; returns how many opened. */
static int open_items(matcher_t *mt, const incident_out_t *inc, evidence_item_t *items) {
  static char plain[EVENT_SEALED_MAX];
  int n = 0;
  for (int i = 0; i < inc->nitems; i++) {
    size_t len = 0;
    const incident_item_t *it = &inc->items[i];
    if (gb_open(&mt->keys, "incident.event", it->blob, plain, sizeof(plain), &len) != 0) {
      gb_error("alert.unreadable_evidence", "alert=%s reason=\"cannot open a sealed event "
               "(key missing from the keyring?)\"", inc->id);
      continue;
    }
    Goldenbell__V1__Event *ev = goldenbell__v1__event__unpack(NULL, len, (uint8_t *)plain);
    sodium_memzero(plain, len);
    if (!ev) continue;
    items[n++] = (evidence_item_t){it->rule, it->risk, it->ts_ms, it->n, it->digest, ev};
  }
  return n;
}

int alert_emit(matcher_t *mt, const char *subject, const owner_t *owners, int n,
               const incident_out_t *inc) {
  evidence_item_t items[INCIDENT_ITEMS_MAX];
  Goldenbell__V1__Event *evs[INCIDENT_ITEMS_MAX];
  Goldenbell__V1__Protector prot[MAX_PROTECTORS];
  Goldenbell__V1__Protector *protp[MAX_PROTECTORS];
  char evidence[2048], evidence_zh[2048];
  int err = 0;
  int ni = open_items(mt, inc, items);
  evidence_sort(items, ni);
  /* English for logs and API consumers, Chinese for the officers: the same
   * items, phrases and limits. */
  evidence_text(evidence, sizeof(evidence), items, ni, inc->last_ms, &mt->rules, EVIDENCE_EN);
  evidence_text(evidence_zh, sizeof(evidence_zh), items, ni, inc->last_ms, &mt->rules,
                EVIDENCE_ZH);
  /* The events behind it, oldest first. */
  qsort(items, (size_t)ni, sizeof(*items), by_time);
  for (int i = 0; i < ni; i++) evs[i] = (Goldenbell__V1__Event *)items[i].ev;
  for (int i = 0; i < n; i++) {
    goldenbell__v1__protector__init(&prot[i]);
    prot[i].registrant = (char *)owners[i].registrant;
    prot[i].station_id = (char *)owners[i].station;
    prot[i].relation = (char *)owners[i].relation;
    prot[i].following = owners[i].following;
    protp[i] = &prot[i];
  }
  Goldenbell__V1__Alert a = GOLDENBELL__V1__ALERT__INIT;
  a.version = 1;
  a.alert_id = (char *)inc->id;
  a.subject = (char *)subject;
  a.risk = (Goldenbell__V1__Risk)inc->risk;
  a.rule = (Goldenbell__V1__Rule)inc->rule;
  a.evidence = evidence;
  a.evidence_zh = evidence_zh;
  a.n_events = (size_t)ni;
  a.events = evs;
  a.n_protectors = (size_t)n;
  a.protectors = protp;
  a.created_ms = inc->first_ms;
  a.updated_ms = inc->last_ms;
  a.count = inc->count;
  a.revision = inc->rev;

  /* One copy per distinct station: a person protected through registrants
   * at two stations alerts both. */
  for (int i = 0; i < n && !err; i++) {
    int seen = 0;
    for (int j = 0; j < i; j++) seen |= strcmp(owners[i].station, owners[j].station) == 0;
    if (seen) continue;
    a.station_id = (char *)owners[i].station;
    size_t sz = goldenbell__v1__alert__get_packed_size(&a);
    uint8_t *buf = malloc(sz);
    if (!buf) {
      err = GB_ENOMEM;
      break;
    }
    goldenbell__v1__alert__pack(&a, buf);
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, "content-type", -1, "application/x-protobuf; proto=goldenbell.v1.Alert",
                        -1);
    if ((err = gb_pipeline_produce_owned(mt->p, mt->topic_alerts, RD_KAFKA_PARTITION_UA,
                                         a.station_id, strlen(a.station_id), buf, sz, h)) != 0)
      break;
    mt->alerts++;
    gb_metric_inc(inc->action == 1 ? mt->m.alerts_new : mt->m.alerts_updated, 1);
    gb_info("alert.emitted", "alert=%s station=%s rule=%s risk=%s revision=%u count=%u action=%s%s",
            inc->id, a.station_id, gb_rule_name(inc->rule), gb_risk_name(inc->risk), inc->rev,
            inc->count, inc->action == 1 ? "new" : "update",
            inc->resent ? " resent=yes" : "");
  }
  for (int i = 0; i < ni; i++)
    goldenbell__v1__event__free_unpacked((Goldenbell__V1__Event *)items[i].ev, NULL);
  return err;
}
