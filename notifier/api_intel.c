/* GET /v1/intel/not-fraud?limit=N: the fraud indicators most often behind
 * alerts that officers found were not fraud (relay.c counts them, once per
 * alert), worst first, so that bad intelligence shows up and can be
 * withdrawn. Administrators only. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "notifier.h"
#include "relay.h"
#include "respond.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 1000

static void on_not_fraud(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  gb_auth_t a;
  if (!auth_require(n, req, &a)) return;
  if (a.account.role == GB_ROLE_OFFICER) {
    respond_error(req, 403, "administrators only");
    return;
  }
  long limit;
  if (!respond_limit(req, LIMIT_DEFAULT, LIMIT_MAX, &limit)) return;
  redisReply *r = gb_redis_command(n->redis, "ZREVRANGE %s" NF_RANK " 0 %ld WITHSCORES",
                                   n->prefix, limit - 1);
  if (!r || r->type != REDIS_REPLY_ARRAY) {
    if (r) freeReplyObject(r);
    respond_error(req, 503, "intelligence counts unavailable; try again");
    return;
  }
  json_t *list = json_array();
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    const char *ind = r->element[i]->str, *colon = strchr(ind, ':');
    if (!colon) continue;
    json_array_append_new(list, json_pack("{s:s%, s:s, s:I}", "kind", ind, (size_t)(colon - ind),
                                          "value", colon + 1, "not_fraud",
                                          (json_int_t)atoll(r->element[i + 1]->str)));
  }
  freeReplyObject(r);
  respond_json(req, 200, json_pack("{s:o}", "indicators", list));
}

void notifier_api_intel_register(notifier_t *n) {
  gb_http_route(n->http, "GET", "/v1/intel/not-fraud", on_not_fraud, n);
}
