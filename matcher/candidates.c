/* Candidates: the few events that may alert, confirmed in Redis and run
 * through the person's incident, all of one Kafka message (or one retro-
 * hunt) in two pipelined round trips:
 *   1. per candidate: the indicator's live listing (fi:*) and who protects
 *      the subject (pn:{h});
 *   2. per finding: the incident script (incident.h).
 * Every step is safe to repeat, so a Redis failure anywhere fails the
 * whole list (GB_EAGAIN), which is tried again; the retry asks the
 * incident script to repeat what it may have answered to a lost reply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "goldenbell/v1/alert.pb-c.h"
#include "gb/err.h"
#include "gb/keyring.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "matcher.h"

#define FINDINGS_PER_CAND 2
#define EVENT_SEALED_MAX 8192

typedef struct {
  gb_ind_query_t q; /* the listing to confirm; q.n == 0: none */
  int listed;
  gb_indicator_t ind;
  owner_t owners[MAX_PROTECTORS];
  int nowners;
  char h[GB_NUMKEY_HEX_LEN + 1];
} cand_state_t;

typedef struct {
  size_t cand;
  incident_in_t in;
  char evkey[300], itemkey[300], digest[300], signal[300], id[33], intl_call[160];
  char blob[EVENT_SEALED_MAX];
} finding_t;

int cand_push(cand_list_t *cl, Goldenbell__V1__Event *ev, bool retro) {
  if (cl->n == cl->cap) {
    size_t c = cl->cap ? cl->cap * 2 : 16;
    cand_t *v = realloc(cl->v, c * sizeof(*v));
    if (!v) {
      goldenbell__v1__event__free_unpacked(ev, NULL);
      return GB_ENOMEM;
    }
    cl->v = v, cl->cap = c;
  }
  cl->v[cl->n++] = (cand_t){ev, retro};
  return 0;
}

void cand_list_truncate(cand_list_t *cl, size_t n) {
  for (size_t i = n; i < cl->n; i++) goldenbell__v1__event__free_unpacked(cl->v[i].ev, NULL);
  if (n < cl->n) cl->n = n;
}

void cand_list_free(cand_list_t *cl) {
  cand_list_truncate(cl, 0);
  free(cl->v);
  memset(cl, 0, sizeof(*cl));
}

/* Stage 1 for one candidate: what to confirm. */
static void plan(const cand_t *c, cand_state_t *s) {
  const Goldenbell__V1__Event *ev = c->ev;
  s->q.n = 0;
  if (c->retro) return; /* the listing is what started the hunt */
  if (ev->body_case == GOLDENBELL__V1__EVENT__BODY_CALL && ev->call) {
    gb_ind_query_value(&s->q, GB_IND_PHONE, ev->call->counterpart);
  } else if (ev->body_case == GOLDENBELL__V1__EVENT__BODY_VISIT && ev->visit) {
    const Goldenbell__V1__VisitView *v = ev->visit;
    if (v->kind == GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP) {
      gb_ind_query_value(&s->q, GB_IND_APP, v->target);
    } else {
      gb_site_t site;
      snprintf(site.host, sizeof(site.host), "%s", v->target);
      snprintf(site.domain, sizeof(site.domain), "%s", v->domain);
      gb_ind_query_site(&s->q, &site);
    }
  }
}

static int confirm_all(matcher_t *mt, cand_list_t *cl, cand_state_t *st) {
  char key[GB_KEY_MAX];
  int err = 0;
  for (size_t i = 0; i < cl->n; i++) {
    cand_state_t *s = &st[i];
    plan(&cl->v[i], s);
    gb_numkey_hash(&mt->numkey, cl->v[i].ev->subject, s->h);
    if (s->q.n > 0 && gb_ind_query_append(mt->redis, mt->prefix, &s->q) != 0) err = GB_EAGAIN;
    if (gb_redis_append(mt->redis, "HVALS %s", gb_key_protected(key, mt->prefix, s->h)) != 0)
      err = GB_EAGAIN;
  }
  /* Every reply is read, even after a failure, to keep the connection in
   * step. */
  for (size_t i = 0; i < cl->n; i++) {
    cand_state_t *s = &st[i];
    s->listed = cl->v[i].retro ? 1 : 0;
    if (s->q.n > 0) {
      s->listed = gb_ind_query_read(mt->redis, &s->q, cl->v[i].ev->ts_ms, &s->ind);
      if (s->listed < 0) err = GB_EAGAIN;
    }
    redisReply *r = gb_redis_reply(mt->redis);
    s->nowners = r ? alert_owners_parse(mt, r, s->owners, MAX_PROTECTORS) : GB_EIO;
    if (r) freeReplyObject(r);
    if (s->nowners < 0) err = GB_EAGAIN;
  }
  return err;
}

static int seal_event(matcher_t *mt, const Goldenbell__V1__Event *ev, char *out, size_t size) {
  uint8_t buf[4096];
  size_t len = goldenbell__v1__event__get_packed_size(ev);
  if (len > sizeof(buf)) return GB_ETOOBIG;
  goldenbell__v1__event__pack(ev, buf);
  return gb_seal(&mt->keys, "incident.event", buf, len, out, size);
}

static finding_t *add_finding(finding_t *f, size_t *nf, size_t cand, const cand_t *c, int rule,
                              int risk) {
  finding_t *x = &f[(*nf)++];
  memset(&x->in, 0, sizeof(x->in));
  x->cand = cand;
  x->in.ts_ms = c->ev->ts_ms;
  x->in.rule = rule, x->in.risk = risk;
  x->evkey[0] = x->itemkey[0] = x->digest[0] = x->signal[0] = x->intl_call[0] = '\0';
  return x;
}

/* What one confirmed candidate found: up to FINDINGS_PER_CAND findings. */
static void judge(matcher_t *mt, size_t i, const cand_t *c, const cand_state_t *s,
                  finding_t *f, size_t *nf) {
  const Goldenbell__V1__Event *ev = c->ev;
  const matcher_rules_t *ru = &mt->rules;
  finding_t *x;
  if (ev->body_case == GOLDENBELL__V1__EVENT__BODY_CALL && ev->call) {
    const Goldenbell__V1__CallView *call = ev->call;
    if (c->retro) {
      bool long_ = call->duration_s >= ru->long_call_s;
      x = add_finding(f, nf, i, c, GOLDENBELL__V1__RULE__RULE_RETRO_HUNT,
                      long_ ? GOLDENBELL__V1__RISK__RISK_MEDIUM : GOLDENBELL__V1__RISK__RISK_LOW);
      snprintf(x->evkey, sizeof(x->evkey), "retro:%s:%lld", call->counterpart,
               (long long)call->start_ms);
      snprintf(x->itemkey, sizeof(x->itemkey), "%s", x->evkey);
      if (long_) snprintf(x->signal, sizeof(x->signal), "retro:%s", call->counterpart);
      return;
    }
    if (s->listed == 1) {
      bool long_ = call->duration_s >= ru->long_call_s;
      if (long_ || ru->fraud_contact) {
        x = add_finding(f, nf, i, c,
                        long_ ? GOLDENBELL__V1__RULE__RULE_LONG_FRAUD_CALL
                              : GOLDENBELL__V1__RULE__RULE_FRAUD_CONTACT,
                        long_ ? GOLDENBELL__V1__RISK__RISK_HIGH : GOLDENBELL__V1__RISK__RISK_LOW);
        snprintf(x->evkey, sizeof(x->evkey), "call:%s", call->call_id);
        snprintf(x->itemkey, sizeof(x->itemkey), "call:%s", call->call_id);
        snprintf(x->digest, sizeof(x->digest), "%u/%d", call->duration_s, (int)call->status);
      }
    }
    if (call->international && !call->outgoing && ru->intl_min_calls > 0) {
      x = add_finding(f, nf, i, c, GOLDENBELL__V1__RULE__RULE_INTERNATIONAL_CALLS,
                      GOLDENBELL__V1__RISK__RISK_MEDIUM);
      snprintf(x->evkey, sizeof(x->evkey), "intl:%s", call->call_id);
      snprintf(x->itemkey, sizeof(x->itemkey), "intl");
      snprintf(x->signal, sizeof(x->signal), "intl");
      snprintf(x->intl_call, sizeof(x->intl_call), "%s", call->call_id);
    }
  } else if (ev->body_case == GOLDENBELL__V1__EVENT__BODY_VISIT && ev->visit && s->listed == 1) {
    bool app = ev->visit->kind == GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP;
    x = add_finding(f, nf, i, c, GOLDENBELL__V1__RULE__RULE_FRAUD_SITE_OR_APP,
                    GOLDENBELL__V1__RISK__RISK_MEDIUM);
    snprintf(x->evkey, sizeof(x->evkey), "visit:%s", ev->visit->source_id);
    snprintf(x->itemkey, sizeof(x->itemkey), "%s:%s", app ? "app" : "site", s->ind.value);
    snprintf(x->digest, sizeof(x->digest), "%s", s->ind.value);
    snprintf(x->signal, sizeof(x->signal), "%s", x->itemkey);
  }
}

int matcher_candidates(matcher_t *mt, cand_list_t *cl, bool resend) {
  cand_state_t *st = calloc(cl->n, sizeof(*st));
  finding_t *f = calloc(cl->n * FINDINGS_PER_CAND, sizeof(*f));
  size_t nf = 0;
  int err = 0;
  if (!st || !f) {
    err = GB_ENOMEM;
    goto done;
  }
  gb_metric_inc(mt->m.candidates, cl->n);
  if ((err = confirm_all(mt, cl, st)) != 0) goto done;
  for (size_t i = 0; i < cl->n; i++) {
    if (st[i].nowners == 0) {
      /* The view's yes was a removal not yet applied, or a tag collision. */
      gb_debug("event.dropped", "event_id=%s reason=not_protected", cl->v[i].ev->event_id);
      continue;
    }
    size_t before = nf;
    judge(mt, i, &cl->v[i], &st[i], f, &nf);
    if (nf == before)
      gb_debug("event.dropped", "event_id=%s reason=%s", cl->v[i].ev->event_id,
               st[i].listed ? "below_threshold" : "no_indicator");
  }
  for (size_t k = 0; k < nf; k++) {
    finding_t *x = &f[k];
    const cand_t *c = &cl->v[x->cand];
    alert_id(x->id, c->ev->subject, x->evkey);
    if ((err = seal_event(mt, c->ev, x->blob, sizeof(x->blob))) != 0) break;
    x->in.evkey = x->evkey, x->in.itemkey = x->itemkey, x->in.digest = x->digest;
    x->in.signal = x->signal, x->in.intl_call = x->intl_call;
    x->in.new_id = x->id, x->in.blob = x->blob;
  }
  if (err) goto done;
  for (size_t k = 0; k < nf; k++)
    if (incident_append(mt->redis, mt->prefix, st[f[k].cand].h, &mt->rules, &f[k].in,
                        resend) != 0)
      err = GB_EAGAIN;
  for (size_t k = 0; k < nf; k++) {
    incident_out_t out;
    if (incident_read(mt->redis, &out) != 0) {
      err = err ? err : GB_EAGAIN;
      continue;
    }
    if (out.action != 0 && (!err || err == GB_EAGAIN)) {
      /* An answer that came is acted on, even when another did not: the
       * script has recorded it, and only a retry would say it again. */
      const cand_state_t *s = &st[f[k].cand];
      int e = alert_emit(mt, cl->v[f[k].cand].ev->subject, s->owners, s->nowners, &out);
      if (e) err = e;
    } else if (out.action == 0) {
      gb_debug("finding.known", "event_id=%s evidence=%s", cl->v[f[k].cand].ev->event_id,
               f[k].evkey);
    }
    incident_out_free(&out);
  }
done:
  if (err == GB_EAGAIN) {
    char q[600];
    gb_log(matcher_redis_fail_level(mt->redis), "match.redis_failed",
           "candidates=%zu reason=%s action=retry", cl->n,
           gb_log_quote(q, sizeof(q), gb_redis_errstr(mt->redis)));
  }
  free(st);
  free(f);
  return err;
}
