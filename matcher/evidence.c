#include "evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "goldenbell/v1/alert.pb-c.h"

void evidence_duration(char *out, size_t size, uint32_t s, evidence_lang_t lang) {
  uint32_t h = s / 3600, m = s % 3600 / 60, sec = s % 60;
  if (lang == EVIDENCE_ZH) {
    /* As it is said: zero parts left out ("10分钟", "1小时"), and "分"
     * without "钟" only between hours and seconds. */
    if (h && m)
      snprintf(out, size, "%u小时%u分", h, m);
    else if (h)
      snprintf(out, size, "%u小时", h);
    else if (m && sec)
      snprintf(out, size, "%u分%u秒", m, sec);
    else if (m)
      snprintf(out, size, "%u分钟", m);
    else
      snprintf(out, size, "%u秒", sec);
    return;
  }
  if (h)
    snprintf(out, size, "%u h %u min", h, m);
  else if (m)
    snprintf(out, size, "%u min %u s", m, sec);
  else
    snprintf(out, size, "%u s", sec);
}

static int by_reading_order(const void *a, const void *b) {
  const evidence_item_t *x = a, *y = b;
  if (x->risk != y->risk) return y->risk - x->risk;
  return (y->ts_ms > x->ts_ms) - (y->ts_ms < x->ts_ms);
}

void evidence_sort(evidence_item_t *items, int n) {
  qsort(items, (size_t)n, sizeof(*items), by_reading_order);
}

/* The longest prefix of s (UTF-8, at least max bytes long) of at most max
 * bytes that ends on a character boundary: a cut there leaves no
 * multibyte character in halves. */
static size_t utf8_clip(const char *s, size_t max) {
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
  return max;
}

/* ", 10 min 0 s earlier" ("，10分钟前") when the item is a minute or more
 * older than the latest evidence; nothing otherwise. */
static void earlier(char *out, size_t size, int64_t ts_ms, int64_t ref_ms, evidence_lang_t lang) {
  int64_t d = (ref_ms - ts_ms) / 1000;
  char dur[32];
  if (d < 60) {
    out[0] = '\0';
    return;
  }
  evidence_duration(dur, sizeof(dur), (uint32_t)(d > UINT32_MAX ? UINT32_MAX : d), lang);
  if (lang == EVIDENCE_ZH)
    snprintf(out, size, "，%s前", dur);
  else
    snprintf(out, size, ", %s earlier", dur);
}

/* Beijing time, which is what officers read: "2026-11-21 14:03". */
static void local_time(char *out, size_t size, int64_t ms) {
  time_t t = (time_t)(ms / 1000) + 8 * 3600;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, size, "%Y-%m-%d %H:%M", &tm);
}

/* One item's phrase; returns what snprintf returns. */
static int phrase(char *out, size_t size, const evidence_item_t *it, int64_t ref_ms,
                  const matcher_rules_t *rules, evidence_lang_t lang) {
  const Goldenbell__V1__Event *ev = it->ev;
  const Goldenbell__V1__CallView *c =
      ev && ev->body_case == GOLDENBELL__V1__EVENT__BODY_CALL ? ev->call : NULL;
  const Goldenbell__V1__VisitView *v =
      ev && ev->body_case == GOLDENBELL__V1__EVENT__BODY_VISIT ? ev->visit : NULL;
  const int zh = lang == EVIDENCE_ZH;
  char ago[48], dur[32], when[32];
  earlier(ago, sizeof(ago), it->ts_ms, ref_ms, lang);
  switch (it->rule) {
  case GOLDENBELL__V1__RULE__RULE_LONG_FRAUD_CALL:
  case GOLDENBELL__V1__RULE__RULE_FRAUD_CONTACT: {
    if (!c) break;
    int ongoing = c->status == GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING;
    evidence_duration(dur, sizeof(dur), c->duration_s, lang);
    if (zh && ongoing)
      return snprintf(out, size, "正在与诈骗号码 %s 通话，已持续 %s%s", c->counterpart, dur, ago);
    if (zh)
      return snprintf(out, size, "与诈骗号码 %s 通话 %s，已结束%s", c->counterpart, dur, ago);
    return snprintf(out, size, "on a call with fraud number %s for %s, %s%s", c->counterpart, dur,
                    ongoing ? "still ongoing" : "ended", ago);
  }
  case GOLDENBELL__V1__RULE__RULE_FRAUD_SITE_OR_APP: {
    if (!v) break;
    const char *listing = it->digest && it->digest[0] ? it->digest : v->domain;
    if (v->kind == GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP)
      return zh ? snprintf(out, size, "安装了诈骗 App %s%s", v->target, ago)
                : snprintf(out, size, "installed the fraud app %s%s", v->target, ago);
    if (zh)
      return snprintf(out, size, "访问了已列入诈骗名单的网站 %s（%s）%s", v->target, listing, ago);
    return snprintf(out, size, "visited %s, a listed fraud site (%s)%s", v->target, listing, ago);
  }
  case GOLDENBELL__V1__RULE__RULE_INTERNATIONAL_CALLS:
    evidence_duration(dur, sizeof(dur), rules->intl_window_s, lang);
    if (zh && c)
      return snprintf(out, size, "%s内接到 %u 个境外来电（其中一个来自 %s）%s", dur, it->n,
                      c->counterpart, ago);
    if (zh)
      return snprintf(out, size, "%s内接到 %u 个境外来电%s", dur, it->n, ago);
    return snprintf(out, size, "%u incoming international calls within %s (one from %s)%s",
                    it->n, dur, c ? c->counterpart : "?", ago);
  case GOLDENBELL__V1__RULE__RULE_RETRO_HUNT:
    if (!c) break;
    evidence_duration(dur, sizeof(dur), c->duration_s, lang);
    local_time(when, sizeof(when), c->start_ms ? c->start_ms : ev->ts_ms);
    if (zh)
      return snprintf(out, size, "曾于 %s（北京时间）与 %s 通话 %s，该号码此后被列为诈骗号码",
                      when, c->counterpart, dur);
    return snprintf(out, size, "was on a call with %s for %s on %s (Beijing time), a number "
                    "listed as fraud since", c->counterpart, dur, when);
  default:
    break;
  }
  return zh ? snprintf(out, size, "预警信号（规则 %d）%s", it->rule, ago)
            : snprintf(out, size, "a warning sign (rule %d)%s", it->rule, ago);
}

void evidence_text(char *out, size_t size, const evidence_item_t *items, int n, int64_t ref_ms,
                   const matcher_rules_t *rules, evidence_lang_t lang) {
  const int zh = lang == EVIDENCE_ZH;
  const char *sep = zh ? "；" : "; ", *ell = zh ? "……" : "...";
  const size_t ell_len = strlen(ell);
  /* Where each whole phrase told so far ends: the places a cut may fall. */
  size_t ends[EVIDENCE_PHRASES_MAX + 2] = {0};
  int nends = 1;
  if (size == 0) return;
  out[0] = '\0';
  for (int i = 0; i < n; i++) {
    char p[512];
    /* At a glance: the riskiest and newest few; the events carry the rest. */
    int more = i == EVIDENCE_PHRASES_MAX && n > i + 1;
    if (more) {
      if (zh)
        snprintf(p, sizeof(p), "另有 %d 项", n - i);
      else
        snprintf(p, sizeof(p), "and %d more", n - i);
    } else if (phrase(p, sizeof(p), &items[i], ref_ms, rules, lang) >= (int)sizeof(p)) {
      /* A phrase longer than p (a very long URL): its head, then the
       * ellipsis, cut between two characters. */
      memcpy(p + utf8_clip(p, sizeof(p) - 1 - ell_len), ell, ell_len + 1);
    }
    size_t used = ends[nends - 1], slen = i ? strlen(sep) : 0, plen = strlen(p);
    if (used + slen + plen >= size) {
      /* Out of room: the phrases that fit whole, then an ellipsis, rather
       * than half a number (or half a character). */
      while (nends > 1 && ends[nends - 1] + ell_len >= size) nends--;
      if (ends[nends - 1] + ell_len < size)
        memcpy(out + ends[nends - 1], ell, ell_len + 1);
      else
        out[0] = '\0';
      return;
    }
    memcpy(out + used, sep, slen);
    memcpy(out + used + slen, p, plen + 1);
    ends[nends++] = used + slen + plen;
    if (more) return;
  }
}
