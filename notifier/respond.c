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
  gb_http_respond(req, status, "application/json", NULL, s, strlen(s));
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
