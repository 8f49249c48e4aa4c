#include "gb/health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/log.h"
#include "gb/redis.h"

json_t *gb_health_json(void) {
  gb_redis_health_t h;
  gb_redis_health(&h);
  json_t *o = json_pack("{s:s}", "status", h.watched && !h.up ? "degraded" : "ok");
  if (o && h.watched)
    json_object_set_new(o, "redis",
                        json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:i}", "state",
                                  h.up ? "up" : "down", "down_ms", (json_int_t)h.down_ms,
                                  "down_since_ms", (json_int_t)h.since_ms, "reason", h.reason,
                                  "outages", (json_int_t)h.outages, "failed_calls",
                                  (json_int_t)h.failed_calls, "connections_down", h.conns_down));
  return o;
}

void gb_health_respond(gb_http_req_t *req, json_t *o) {
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  if (!s) {
    gb_http_respond(req, 200, "text/plain", NULL, "ok\n", 3);
    return;
  }
  gb_http_respond(req, 200, "application/json", NULL, s, strlen(s));
  free(s);
}

void gb_ready_respond(gb_http_req_t *req, bool ok, const char *why) {
  char body[300];
  int n;
  gb_redis_health_t h;
  gb_redis_health(&h);
  if (!ok)
    n = snprintf(body, sizeof(body), "%.250s\n", why && *why ? why : "not ready");
  else if (h.watched && !h.up)
    n = snprintf(body, sizeof(body), "redis unreachable for %lld ms: %.200s\n",
                 (long long)h.down_ms, h.reason);
  else
    n = snprintf(body, sizeof(body), "ready\n");
  ok = ok && !(h.watched && !h.up);
  gb_http_respond(req, ok ? 200 : 503, "text/plain", ok ? NULL : "Retry-After: 2\r\n", body,
                  (size_t)n);
}

void gb_health_log_refused(void *ud, int status, const char *reason, const char *detail,
                           const char *peer, unsigned long suppressed) {
  char q[300];
  gb_warn("http.refused", "server=%s status=%d reason=%s peer=%s suppressed=%lu detail=%s",
          ud ? (const char *)ud : "http", status, reason, peer, suppressed,
          gb_log_quote(q, sizeof(q), detail));
}
