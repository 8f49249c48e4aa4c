/* The detection rules' settings, from a rules file (JSON) with documented
 * defaults (docs/RULES.md). Re-read on SIGHUP: a file that does not parse
 * leaves the rules in force unchanged and says why. */
#ifndef MATCHER_RULES_H
#define MATCHER_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t long_call_s;       /* rule 1: a call with a fraud number this long alerts (high) */
  bool fraud_contact;         /* rule 3: shorter contact warns the registrant (low) */
  uint32_t intl_min_calls;    /* rule 4: incoming international calls ... */
  uint32_t intl_window_s;     /* ... within this window (medium) */
  uint32_t combo_window_s;    /* rule 5: two different medium signals within this window (high) */
  uint32_t suppression_s;     /* new evidence within this window updates the open alert */
  uint32_t retro_lookback_s;  /* a new fraud number alerts contacts of this far back */
} matcher_rules_t;

void matcher_rules_defaults(matcher_rules_t *r);

/* Parses a rules document (len bytes of JSON). Members left out keep their
 * defaults; an unknown member, a wrong type or a value out of range is
 * refused with the reason in errstr. Returns 0 or GB_EINVAL. */
int matcher_rules_parse(matcher_rules_t *out, const char *json, size_t len, char *errstr,
                        size_t errstr_size);

/* Reads and parses a file; an empty path gives the defaults. */
int matcher_rules_load(matcher_rules_t *out, const char *path, char *errstr, size_t errstr_size);

#endif
