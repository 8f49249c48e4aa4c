/* GET /v1/webhooks/dead?limit=N: the latest webhook deliveries that failed
 * every try (webhook.c), newest first, with the gateway and the reason.
 * Bureau administrators only: a delivery may name any station. */
#include <jansson.h>
#include <stdlib.h>

#include "auth.h"
#include "notifier.h"
#include "respond.h"
#include "webhook.h"

static void on_dead(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  gb_auth_t a;
  if (!auth_require(n, req, &a)) return;
  if (a.account.role != GB_ROLE_BUREAU_ADMIN) {
    respond_error(req, 403, "bureau administrators only");
    return;
  }
  long limit;
  if (!respond_limit(req, 100, WH_DEAD_MAX, &limit)) return;
  redisReply *r = gb_redis_command(n->redis, "LRANGE %s" WH_DEAD " 0 %ld", n->prefix, limit - 1);
  if (!r || r->type != REDIS_REPLY_ARRAY) {
    if (r) freeReplyObject(r);
    respond_error(req, 503, "dead letters unavailable; try again");
    return;
  }
  json_t *list = json_array();
  for (size_t i = 0; i < r->elements; i++) {
    json_t *o = r->element[i]->type == REDIS_REPLY_STRING
                    ? json_loads(r->element[i]->str, 0, NULL) : NULL;
    if (o) json_array_append_new(list, o);
  }
  freeReplyObject(r);
  respond_json(req, 200, json_pack("{s:o}", "dead", list));
}

void notifier_api_webhooks_register(notifier_t *n) {
  gb_http_route(n->http, "GET", "/v1/webhooks/dead", on_dead, n);
}
