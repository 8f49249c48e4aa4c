#include "evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "goldenbell/v1/alert.pb-c.h"

void evidence_duration(char *out, size_t size, uint32_t s) {
  if (s >= 3600)
    snprintf(out, size, "%u h %u min", s / 3600, s % 3600 / 60);
  else if (s >= 60)
    snprintf(out, size, "%u min %u s", s / 60, s % 60);
  else
    snprintf(out, size, "%u s", s);
}

static int by_reading_order(const void *a, const void *b) {
  const evidence_item_t *x = a, *y = b;
  if (x->risk != y->risk) return y->risk - x->risk;
  return (y->ts_ms > x->ts_ms) - (y->ts_ms < x->ts_ms);
}

void evidence_sort(evidence_item_t *items, int n) {
  qsort(items, (size_t)n, sizeof(*items), by_reading_order);
}

/* ", 10 min earlier" when the item is a minute or more older than the
 * latest evidence; nothing otherwise. */
static void earlier(char *out, size_t size, int64_t ts_ms, int64_t ref_ms) {
  int64_t d = (ref_ms - ts_ms) / 1000;
  char dur[32];
  if (d < 60) {
    out[0] = '\0';
    return;
  }
  evidence_duration(dur, sizeof(dur), (uint32_t)(d > UINT32_MAX ? UINT32_MAX : d));
  snprintf(out, size, ", %s earlier", dur);
}

/* Beijing time, which is what officers read: "2026-11-21 14:03". */
static void local_time(char *out, size_t size, int64_t ms) {
  time_t t = (time_t)(ms / 1000) + 8 * 3600;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, size, "%Y-%m-%d %H:%M", &tm);
}

static void phrase(char *out, size_t size, const evidence_item_t *it, int64_t ref_ms,
                   const matcher_rules_t *rules) {
  const Goldenbell__V1__Event *ev = it->ev;
  const Goldenbell__V1__CallView *c =
      ev && ev->body_case == GOLDENBELL__V1__EVENT__BODY_CALL ? ev->call : NULL;
  const Goldenbell__V1__VisitView *v =
      ev && ev->body_case == GOLDENBELL__V1__EVENT__BODY_VISIT ? ev->visit : NULL;
  char ago[48], dur[32], when[32];
  earlier(ago, sizeof(ago), it->ts_ms, ref_ms);
  switch (it->rule) {
  case GOLDENBELL__V1__RULE__RULE_LONG_FRAUD_CALL:
  case GOLDENBELL__V1__RULE__RULE_FRAUD_CONTACT:
    if (!c) break;
    evidence_duration(dur, sizeof(dur), c->duration_s);
    snprintf(out, size, "on a call with fraud number %s for %s, %s%s", c->counterpart, dur,
             c->status == GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING ? "still ongoing"
                                                                            : "ended",
             ago);
    return;
  case GOLDENBELL__V1__RULE__RULE_FRAUD_SITE_OR_APP:
    if (!v) break;
    if (v->kind == GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP)
      snprintf(out, size, "installed the fraud app %s%s", v->target, ago);
    else
      snprintf(out, size, "visited %s, a listed fraud site (%s)%s", v->target,
               it->digest && it->digest[0] ? it->digest : v->domain, ago);
    return;
  case GOLDENBELL__V1__RULE__RULE_INTERNATIONAL_CALLS:
    evidence_duration(dur, sizeof(dur), rules->intl_window_s);
    snprintf(out, size, "%u incoming international calls within %s (one from %s)%s", it->n,
             dur, c ? c->counterpart : "?", ago);
    return;
  case GOLDENBELL__V1__RULE__RULE_RETRO_HUNT:
    if (!c) break;
    evidence_duration(dur, sizeof(dur), c->duration_s);
    local_time(when, sizeof(when), c->start_ms ? c->start_ms : ev->ts_ms);
    snprintf(out, size, "was on a call with %s for %s on %s (Beijing time), a number listed "
             "as fraud since", c->counterpart, dur, when);
    return;
  default:
    break;
  }
  snprintf(out, size, "a warning sign (rule %d)%s", it->rule, ago);
}

void evidence_text(char *out, size_t size, const evidence_item_t *items, int n, int64_t ref_ms,
                   const matcher_rules_t *rules) {
  size_t used = 0;
  if (size == 0) return;
  out[0] = '\0';
  for (int i = 0; i < n; i++) {
    char p[512];
    /* At a glance: the riskiest and newest few; the events carry the rest. */
    if (i == EVIDENCE_PHRASES_MAX && n > i + 1)
      snprintf(p, sizeof(p), "and %d more", n - i);
    else
      phrase(p, sizeof(p), &items[i], ref_ms, rules);
    int w = snprintf(out + used, size - used, "%s%s", i ? "; " : "", p);
    if (w < 0 || (size_t)w >= size - used) {
      /* Out of room: end with an ellipsis rather than half a number. */
      if (size >= 4) {
        size_t cut = used < size - 4 ? used : size - 4;
        memcpy(out + cut, "...", 4);
      }
      return;
    }
    used += (size_t)w;
    if (i == EVIDENCE_PHRASES_MAX && n > i + 1) return;
  }
}
