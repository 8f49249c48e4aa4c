#include "respond.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void respond_json(gb_http_req_t *req, int status, json_t *body) {
  char *s = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
  json_decref(body);
  if (!s) {
    static const char oom[] = "{\"error\":\"out of memory\"}";
    gb_http_respond(req, 500, "application/json", NULL, oom, sizeof(oom) - 1);
    return;
  }
  /* 503 is "not now" (Redis away, mostly): say when to try again. */
  gb_http_respond(req, status, "application/json", status == 503 ? "Retry-After: 2\r\n" : NULL, s,
                  strlen(s));
  free(s);
}

void respond_error(gb_http_req_t *req, int status, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  respond_json(req, status, json_pack("{s:s}", "error", msg));
}

bool respond_limit(gb_http_req_t *req, long def, long max, long *out) {
  char buf[24];
  const char *l = gb_http_req_query_param(req, "limit", buf, sizeof(buf));
  *out = def;
  if (!l) return true;
  char *end;
  long v = strtol(l, &end, 10);
  if (*end || v < 1 || v > max) {
    respond_error(req, 400, "limit: 1 to %ld", max);
    return false;
  }
  *out = v;
  return true;
}
