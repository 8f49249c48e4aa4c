/* GET /v1/risk?phone=|domain=|url=|app=: is this number, site or app a
 * listed fraud indicator? What the national anti-fraud app answers a
 * citizen who asks about a caller, a link or an app (docs/API.md).
 *
 * The value is normalised as ingest normalises partners' records, so any
 * notation finds the listing; a site is looked up from its host down to its
 * registrable domain (gb/intel.h). The queried value may be a citizen's
 * number and is never logged. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/intel.h"
#include "gb/log.h"
#include "gb/phone.h"
#include "gb/site.h"
#include "gb/timeparse.h"
#include "auth.h"
#include "notifier.h"
#include "respond.h"

#define VALUE_MAX 2048

static const struct {
  const char *param;
  gb_indicator_kind_t kind;
} params[] = {
    {"phone", GB_IND_PHONE},
    {"domain", GB_IND_DOMAIN},
    {"url", GB_IND_DOMAIN},
    {"app", GB_IND_APP},
};
#define NPARAMS (sizeof(params) / sizeof(params[0]))



/* Counts the query's parameters named like params[], repeats included, and
 * sets *which to the last one (names are matched as sent, without
 * percent-decoding) and *nul when its raw value holds "%00", which the
 * decoded copy would silently cut short. */
static int count_params(const char *q, size_t *which, int *nul) {
  int count = 0;
  while (*q) {
    size_t seg = strcspn(q, "&"), name = strcspn(q, "=&");
    for (size_t i = 0; i < NPARAMS; i++)
      if (strlen(params[i].param) == name && strncmp(q, params[i].param, name) == 0) {
        count++;
        *which = i;
        *nul = 0;
        for (size_t k = name; k + 2 < seg; k++)
          if (q[k] == '%' && q[k + 1] == '0' && q[k + 2] == '0') *nul = 1;
      }
    q += seg;
    if (*q == '&') q++;
  }
  return count;
}

static json_t *time_or_null(int64_t ms) {
  char t[40];
  if (!ms) return json_null();
  gb_time_format(t, sizeof(t), ms);
  return json_string(t);
}

static json_t *indicator_json(const gb_indicator_t *ind) {
  return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o}", "kind", gb_indicator_kind_name(ind->kind),
                   "value", ind->value, "source", ind->source, "confidence", ind->confidence,
                   "first_seen", time_or_null(ind->first_seen_ms), "expires",
                   time_or_null(ind->expires_ms));
}

static void on_risk(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  char value[VALUE_MAX], norm[GB_HOST_MAX + 2], e[256];
  size_t which = 0;
  int nul = 0;
  gb_auth_t auth;
  if (!auth_require(n, req, &auth)) return;
  int count = count_params(gb_http_req_query(req), &which, &nul);
  if (count != 1) {
    respond_error(req, 400, "give exactly one of phone, domain, url or app (got %d)", count);
    return;
  }
  const char *name = params[which].param;
  gb_indicator_kind_t kind = params[which].kind;
  if (!gb_http_req_query_param(req, name, value, sizeof(value))) {
    respond_error(req, 400, "%s: longer than %d bytes", name, VALUE_MAX - 1);
    return;
  }
  if (nul) {
    respond_error(req, 400, "%s: holds a NUL byte", name);
    return;
  }
  size_t len = strlen(value);
  gb_indicator_t ind;
  gb_site_t site;
  int rc;
  switch (kind) {
  case GB_IND_PHONE: {
    gb_phone_class_t c = gb_phone_normalize(norm, sizeof(norm), value, len, e, sizeof(e));
    if (c == GB_PHONE_INVALID) {
      respond_error(req, 400, "%s", e);
      return;
    }
    /* A service number (110, 12381) is never listed; looking it up is
     * harmless and answers "not listed". */
    rc = gb_indicator_lookup(n->redis, n->prefix, kind, norm, gb_now_ms(), &ind);
    break;
  }
  case GB_IND_DOMAIN:
    if ((rc = gb_site_normalize(&site, value, len, e, sizeof(e))) != 0) {
      respond_error(req, rc == GB_EINVAL ? 400 : 500, "%s",
                    rc == GB_EINVAL ? e : "site: no public suffix list");
      return;
    }
    snprintf(norm, sizeof(norm), "%s", site.host);
    rc = gb_indicator_lookup_site(n->redis, n->prefix, &site, gb_now_ms(), &ind);
    break;
  default:
    if (gb_app_normalize(norm, sizeof(norm), value, len, e, sizeof(e)) != 0) {
      respond_error(req, 400, "%s", e);
      return;
    }
    rc = gb_indicator_lookup(n->redis, n->prefix, kind, norm, gb_now_ms(), &ind);
    break;
  }
  if (rc < 0) {
    gb_error("risk.redis_failed", "kind=%s reason=\"%s\"", gb_indicator_kind_name(kind),
             gb_redis_errstr(n->redis));
    respond_error(req, 503, "the fraud list cannot be read right now; try again");
    return;
  }
  gb_debug("risk.query", "kind=%s listed=%s", gb_indicator_kind_name(kind), rc ? "yes" : "no");
  json_t *query = json_pack("{s:s, s:s, s:s}", "kind", gb_indicator_kind_name(kind), "value",
                            value, "normalised", norm);
  respond_json(req, 200,
               json_pack("{s:o, s:b, s:o}", "query", query, "listed", rc == 1, "indicator",
                         rc == 1 ? indicator_json(&ind) : json_null()));
}

void notifier_api_risk_register(notifier_t *n) {
  gb_http_route(n->http, "GET", "/v1/risk", on_risk, n);
}
