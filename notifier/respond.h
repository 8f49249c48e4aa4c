/* JSON answers of notifier's HTTP API. Loop thread only. */
#ifndef NOTIFIER_RESPOND_H
#define NOTIFIER_RESPOND_H

#include <jansson.h>
#include <stdbool.h>

#include "gb/http.h"

/* Sends body (a new reference, taken; NULL means out of memory: 500). */
void respond_json(gb_http_req_t *req, int status, json_t *body);

/* Sends {"error": "<formatted message>"}. */
void respond_error(gb_http_req_t *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads ?limit= (default def, 1 to max). false: it answered 400. */
bool respond_limit(gb_http_req_t *req, long def, long max, long *out);

#endif
