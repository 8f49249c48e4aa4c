/* Fraud intelligence: numbers, domains and app ids reported by the
 * intelligence feed (gb.intel), with source, confidence, first seen and
 * expiry. Values are normalised with the same code as ingest's (gb/phone.h,
 * gb/site.h), so a listing matches what a partner reports in any notation.
 *
 * Redis layout (prefix omitted):
 *   fi:phone:<e164>   fi:domain:<registrable domain or host>   fi:app:<app id>
 *     HASH source, confidence, first_seen_ms, expires_ms, updated_ms
 *     (PEXPIREAT at expires_ms, so an expired indicator disappears; lookups
 *      also check expires_ms, so it stops matching at once)
 * Fraud indicators are not citizens' data and are stored as they are. */
#ifndef GB_INTEL_H
#define GB_INTEL_H

#include <jansson.h>
#include <stdint.h>

#include "gb/jsonutil.h"
#include "gb/redis.h"
#include "gb/site.h"

typedef enum {
  GB_IND_PHONE = 1,
  GB_IND_DOMAIN = 2,
  GB_IND_APP = 3,
} gb_indicator_kind_t;

typedef enum {
  GB_IND_ADD = 1,
  GB_IND_CONFIRM = 2,  /* refresh confidence, source and expiry */
  GB_IND_WITHDRAW = 3, /* no longer an indicator */
} gb_indicator_action_t;

typedef struct {
  gb_indicator_kind_t kind;
  gb_indicator_action_t action;
  char value[GB_HOST_MAX + 2]; /* normalised: E.164, domain, or app id */
  char source[65];
  int confidence;        /* 0-100 */
  int64_t first_seen_ms; /* 0 = now */
  int64_t expires_ms;    /* 0 = does not expire */
} gb_indicator_t;

/* "phone", "domain", "app". */
const char *gb_indicator_kind_name(gb_indicator_kind_t k);

/**
 * Reads an indicator from JSON (docs/API.md, "gb.intel") or protobuf
 * (goldenbell.v1.FraudIndicator, passed as packed bytes), normalising the
 * value. A domain indicator given as a URL or host is reduced to its
 * registrable domain, unless the host itself is listed (a subdomain of a
 * shared platform, e.g. evil.github.io). Returns 0, or GB_EINVAL with r.
 */
int gb_indicator_from_json(gb_indicator_t *ind, const json_t *obj, gb_reject_t *r);
int gb_indicator_from_proto(gb_indicator_t *ind, const void *buf, size_t len, gb_reject_t *r);

/* Applies add / confirm / withdraw; idempotent. Returns 0 or GB_EIO. */
int gb_indicator_apply(gb_redis_t *rd, const char *prefix, const gb_indicator_t *ind,
                       int64_t now_ms);

/**
 * Looks a value up as a live indicator at now_ms. For a domain, value is a
 * normalised host: the host, then each parent down to its registrable
 * domain, is looked up (a listing for example-fraud.com covers
 * pay.example-fraud.com). Returns 1 and fills *out (value = the listed
 * value), 0 when not listed, or GB_EIO.
 */
int gb_indicator_lookup(gb_redis_t *rd, const char *prefix, gb_indicator_kind_t kind,
                        const char *value, int64_t now_ms, gb_indicator_t *out);

#endif
