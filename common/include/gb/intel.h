/* Fraud intelligence: numbers, domains and app ids reported by the
 * intelligence feed (gb.intel), with source, confidence, first seen and
 * expiry. Values are normalised with the same code as ingest's (gb/phone.h,
 * gb/site.h), so a listing matches what a partner reports in any notation.
 *
 * Redis layout (prefix omitted), one hash per indicator:
 *   fi:phone:<e164>   fi:domain:<registrable domain or host>   fi:app:<app id>
 *     HASH source, confidence, first_seen_ms, expires_ms (0 = never), updated_ms
 *     (PEXPIREAT at expires_ms, so an expired indicator disappears; lookups
 *      also compare expires_ms with now, so it stops matching at once)
 * matcher/match.c reads fi:phone:<e164> expires_ms directly; keep that field.
 * Fraud indicators are not citizens' data and are stored as they are.
 *
 * Domains: an indicator given as a URL or host is stored as its registrable
 * domain by the public suffix list, private section included, so that
 * "https://pay.example-fraud.com/x" lists example-fraud.com and every
 * subdomain of it, and "evil.github.io" lists evil.github.io alone (github.io
 * is a public suffix). The JSON flag "exact": true stores the host instead
 * (pay.example-fraud.com: that host and its subdomains, not its siblings).
 * A lookup of a visited host tries the host, then each parent, down to its
 * registrable domain; the most specific live listing wins.
 *
 * The parsers are pure and safe from any thread; the Redis functions use the
 * caller's connection, which belongs to one thread (gb/redis.h). */
#ifndef GB_INTEL_H
#define GB_INTEL_H

#include <jansson.h>
#include <stdbool.h>
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
  GB_IND_CONFIRM = 2,  /* refresh source, confidence and expiry; first seen kept */
  GB_IND_WITHDRAW = 3, /* no longer an indicator */
} gb_indicator_action_t;

#define GB_IND_SOURCE_MAX 65 /* 64 bytes and NUL */
#define GB_IND_CONFIDENCE_DEFAULT 50

typedef struct {
  gb_indicator_kind_t kind;
  gb_indicator_action_t action;
  char value[GB_HOST_MAX + 2]; /* normalised: E.164, domain or host, or app id */
  char source[GB_IND_SOURCE_MAX];
  int confidence;        /* 0-100 */
  int64_t first_seen_ms; /* 0 = not given (apply: now, or the stored one) */
  int64_t expires_ms;    /* 0 = does not expire */
} gb_indicator_t;

/* "phone", "domain", "app"; "?" for anything else. */
const char *gb_indicator_kind_name(gb_indicator_kind_t k);
/* "add", "confirm", "withdraw"; "?" for anything else. */
const char *gb_indicator_action_name(gb_indicator_action_t a);

/**
 * Reads an indicator from JSON (docs/API.md, "gb.intel"):
 *   {"kind": "phone|domain|app", "value": "...", "action": "add|confirm|withdraw",
 *    "source": "...", "confidence": 0-100, "first_seen": time, "expires": time,
 *    "exact": false}
 * kind and value are required; action defaults to add, confidence to 50;
 * times are RFC 3339 or epoch seconds/ms; exact matters for domains only.
 * Unknown members are ignored. The value is normalised: a phone to E.164 (a
 * service number such as 110 is refused), a domain as described at the top,
 * an app id trimmed. *ind is written only on success.
 * @returns 0, or GB_EINVAL with r filled: missing_field, wrong_type,
 *          unknown_enum (kind, action), invalid_value (value with the
 *          normaliser's reason, source over 64 bytes, confidence, a time,
 *          expires not after first_seen).
 */
int gb_indicator_from_json(gb_indicator_t *ind, const json_t *obj, gb_reject_t *r);

/**
 * Reads an indicator from a packed goldenbell.v1.FraudIndicator (len bytes).
 * The same rules as JSON, with proto3's defaults: version 0 or 1 (higher is
 * unsupported_version), action UNSPECIFIED is add, confidence 0 (not set) is
 * 50, first_seen_ms 0 is not given, expires_ms 0 never expires. There is no
 * exact flag: a domain is always stored as its registrable domain.
 * Undecodable bytes are bad_protobuf; invalid UTF-8 in source is
 * invalid_utf8. *ind is written only on success.
 */
int gb_indicator_from_proto(gb_indicator_t *ind, const void *buf, size_t len, gb_reject_t *r);

/**
 * Applies an indicator at now_ms; idempotent, so a re-delivered message is
 * harmless.
 *   add, confirm: write source, confidence, expires_ms and updated_ms, in one
 *     MULTI/EXEC with PEXPIREAT (or PERSIST when it never expires).
 *     first_seen_ms is kept once stored; add with an explicit first_seen
 *     replaces it, confirm never does. Confirming an indicator that is not
 *     stored adds it.
 *   an add or confirm whose expires_ms <= now_ms: the indicator is no longer
 *     live, and the key is deleted (nothing live is stored).
 *   withdraw: DEL.
 * @returns 0, or GB_EIO when Redis failed (the caller retries the message).
 */
int gb_indicator_apply(gb_redis_t *rd, const char *prefix, const gb_indicator_t *ind,
                       int64_t now_ms);

/**
 * Looks a normalised value up as a live indicator at now_ms (listed, and
 * expires_ms 0 or after now_ms). For a domain, value is a host or URL: it is
 * normalised with gb_site_normalize and looked up as gb_indicator_lookup_site
 * does. Returns 1 and fills *out (value = the listed value, action = add),
 * 0 when not listed, GB_EINVAL for a domain that does not normalise, or
 * GB_EIO. *out may be NULL.
 */
int gb_indicator_lookup(gb_redis_t *rd, const char *prefix, gb_indicator_kind_t kind,
                        const char *value, int64_t now_ms, gb_indicator_t *out);

/**
 * Looks a visited site up: site->host, then each parent of it down to
 * site->domain, in one pipeline (one HGETALL per level); the most specific
 * live listing wins. Returns 1 and *out, 0, or GB_EIO.
 */
int gb_indicator_lookup_site(gb_redis_t *rd, const char *prefix, const gb_site_t *site,
                             int64_t now_ms, gb_indicator_t *out);

/* The same lookups, queued, so that a caller can pipeline the lookups of a
 * whole batch of events in one round trip: build a query, append its
 * commands (gb_ind_query_append, then further commands of any kind), and
 * read its replies back in the same order (gb_ind_query_read reads q->n
 * replies, even after a failed append, keeping the connection in step). */
#define GB_IND_LEVELS_MAX 128
#define GB_IND_LEVEL_DOMAIN 0xFFFF
typedef struct {
  gb_indicator_kind_t kind;
  int n;                             /* levels to look up, most specific first */
  uint16_t level[GB_IND_LEVELS_MAX]; /* offsets into host, or GB_IND_LEVEL_DOMAIN */
  char host[GB_HOST_MAX + 2];        /* the value (phone, app) or the visited host */
  char domain[GB_HOST_MAX];
} gb_ind_query_t;
/* A value as gb_indicator_lookup takes it; GB_EINVAL for a domain that does
 * not normalise. */
int gb_ind_query_value(gb_ind_query_t *q, gb_indicator_kind_t kind, const char *value);
int gb_ind_query_site(gb_ind_query_t *q, const gb_site_t *site);
int gb_ind_query_append(gb_redis_t *rd, const char *prefix, const gb_ind_query_t *q);
/* 1 and *out (may be NULL) for a live listing at now_ms, 0, or GB_EIO. */
int gb_ind_query_read(gb_redis_t *rd, const gb_ind_query_t *q, int64_t now_ms,
                      gb_indicator_t *out);

#endif
