/* The evidence of an alert in words an officer reads at a glance:
 * "on a call with +85290001234 for 4 min 12 s, still ongoing; visited
 * pay.example-fraud.com, a listed fraud site (example-fraud.com), 10 min
 * earlier". Pure functions. */
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

/* Orders items for reading: riskiest first, then newest first. */
void evidence_sort(evidence_item_t *items, int n);

/* Phrases told in full; past them, "and N more". */
#define EVIDENCE_PHRASES_MAX 4

/* Writes the items' phrases, joined by "; ", into out (at most
 * EVIDENCE_PHRASES_MAX, then "and N more"; truncated with "..." when
 * long). Times are told relative to ref_ms, the latest evidence. */
void evidence_text(char *out, size_t size, const evidence_item_t *items, int n, int64_t ref_ms,
                   const matcher_rules_t *rules);

/* "4 min 12 s", "35 s", "1 h 2 min" */
void evidence_duration(char *out, size_t size, uint32_t seconds);

#endif
