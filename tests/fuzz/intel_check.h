/* The checks fuzz_intel_json and fuzz_intel_proto share: what a read
 * gb_indicator_t promises (gb/intel.h), and that the matching side finds
 * what the listing side stores: a visit to the very site, or a call from
 * the very number, that was listed looks up the stored value. */
#ifndef FUZZ_INTEL_CHECK_H
#define FUZZ_INTEL_CHECK_H

#include <string.h>

#include "fuzz.h"
#include "gb/err.h"
#include "gb/intel.h"
#include "gb/phone.h"
#include "gb/site.h"
#include "gb/utf8.h"
#include "registry_check.h" /* fuzz_check_reject */

/* raw, raw_len: the value as sent, before normalisation. */
static inline void fuzz_check_indicator(int rc, const gb_indicator_t *ind, const gb_reject_t *r,
                                        const char *raw, size_t raw_len) {
  FUZZ_CHECK(rc == 0 || rc == GB_EINVAL, "rc %d", rc);
  if (rc != 0) {
    fuzz_check_reject(r);
    return;
  }
  FUZZ_CHECK(strcmp(gb_indicator_kind_name(ind->kind), "?") != 0, "kind %d", (int)ind->kind);
  FUZZ_CHECK(strcmp(gb_indicator_action_name(ind->action), "?") != 0, "action %d",
             (int)ind->action);
  FUZZ_CHECK(fuzz_terminated(ind->value, sizeof(ind->value)) && ind->value[0], "value");
  FUZZ_CHECK(fuzz_terminated(ind->source, sizeof(ind->source)), "source not terminated");
  size_t sl = strlen(ind->source);
  FUZZ_CHECK(sl <= 64 && gb_utf8_valid(ind->source, sl), "source '%s'", ind->source);
  for (size_t i = 0; i < sl; i++)
    FUZZ_CHECK((unsigned char)ind->source[i] >= 0x20 && ind->source[i] != 0x7F,
               "control byte in source");
  FUZZ_CHECK(ind->confidence >= 0 && ind->confidence <= 100, "confidence %d", ind->confidence);
  FUZZ_CHECK(ind->first_seen_ms >= 0 && ind->expires_ms >= 0, "times %lld %lld",
             (long long)ind->first_seen_ms, (long long)ind->expires_ms);
  if (ind->first_seen_ms && ind->expires_ms)
    FUZZ_CHECK(ind->expires_ms > ind->first_seen_ms, "expires before first seen");

  char e[256], norm[GB_HOST_MAX + 2];
  gb_ind_query_t q;
  switch (ind->kind) {
  case GB_IND_PHONE: {
    gb_phone_class_t c = gb_phone_normalize(norm, GB_PHONE_MAX, ind->value, strlen(ind->value),
                                            e, sizeof(e));
    FUZZ_CHECK(c != GB_PHONE_INVALID && c != GB_PHONE_SERVICE && strcmp(norm, ind->value) == 0,
               "phone '%s' is not its own normal form: %s", ind->value, e);
    break;
  }
  case GB_IND_APP:
    FUZZ_CHECK(gb_app_normalize(norm, sizeof(norm), ind->value, strlen(ind->value), e,
                                sizeof(e)) == 0 &&
                   strcmp(norm, ind->value) == 0,
               "app '%s' is not its own normal form: %s", ind->value, e);
    break;
  case GB_IND_DOMAIN: {
    /* A visit to what was listed must look the listing up. */
    gb_site_t visit;
    FUZZ_CHECK(gb_site_normalize(&visit, raw, raw_len, e, sizeof(e)) == 0, "%s", e);
    FUZZ_CHECK(gb_ind_query_site(&q, &visit) == 0, "query");
    FUZZ_CHECK(q.n >= 1 && q.n <= GB_IND_LEVELS_MAX, "%d levels", q.n);
    int found = 0;
    for (int i = 0; i < q.n; i++) {
      const char *level = q.level[i] == GB_IND_LEVEL_DOMAIN ? q.domain : q.host + q.level[i];
      FUZZ_CHECK(q.level[i] == GB_IND_LEVEL_DOMAIN || q.level[i] < strlen(q.host),
                 "level %d at %u", i, q.level[i]);
      found |= strcmp(level, ind->value) == 0;
    }
    FUZZ_CHECK(found, "a visit to '%.*s' (host %s) does not look up the listing '%s'",
               (int)raw_len, raw, visit.host, ind->value);
    FUZZ_CHECK(gb_ind_query_value(&q, GB_IND_DOMAIN, ind->value) == 0,
               "the listed '%s' does not normalise for a lookup", ind->value);
    break;
  }
  default: FUZZ_CHECK(0, "kind %d", (int)ind->kind);
  }
}

#endif
