/* The evidence of an alert in words an officer reads at a glance, in
 * English ("on a call with fraud number +85290001234 for 4 min 12 s, still
 * ongoing; visited pay.example-fraud.com, a listed fraud site
 * (example-fraud.com), 10 min 0 s earlier") for logs and API consumers, and
 * in Chinese ("正在与诈骗号码 +85290001234 通话，已持续 4分12秒；访问了已列入
 * 诈骗名单的网站 pay.example-fraud.com（example-fraud.com），10分钟前") for
 * the officers' console. Both come from the same items, in the same order and
 * within the same limits. Pure functions, any thread. */
#ifndef MATCHER_EVIDENCE_H
#define MATCHER_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "goldenbell/v1/event.pb-c.h"
#include "rules.h"

typedef struct {
  int rule, risk;
  int64_t ts_ms;
  uint32_t n;          /* rule 4: calls in the window */
  const char *digest;  /* a site's or app's listing */
  const Goldenbell__V1__Event *ev;
} evidence_item_t;

/* The language the evidence is told in. */
typedef enum {
  EVIDENCE_EN, /* Alert.evidence */
  EVIDENCE_ZH, /* Alert.evidence_zh */
} evidence_lang_t;

/* Orders items for reading: riskiest first, then newest first. */
void evidence_sort(evidence_item_t *items, int n);

/* Phrases told in full; past them, "and N more" ("另有 N 项"). */
#define EVIDENCE_PHRASES_MAX 4

/* Writes the items' phrases in lang into out, joined by "; " ("；"): at
 * most EVIDENCE_PHRASES_MAX, then "and N more". Times are told relative to
 * ref_ms, the latest evidence. Always NUL-terminated (size > 0) and cut
 * only on a UTF-8 character boundary: past the room, the phrases that fit
 * whole and then "..." ("……"), never half a number. */
void evidence_text(char *out, size_t size, const evidence_item_t *items, int n, int64_t ref_ms,
                   const matcher_rules_t *rules, evidence_lang_t lang);

/* EVIDENCE_EN: "4 min 12 s", "35 s", "1 h 2 min";
 * EVIDENCE_ZH: "4分12秒", "35秒", "10分钟", "1小时2分", "1小时". */
void evidence_duration(char *out, size_t size, uint32_t seconds, evidence_lang_t lang);

#endif
