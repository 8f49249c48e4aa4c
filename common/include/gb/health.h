/* The answers of the health probes, shared by the admin endpoint of ingest
 * and matcher (gb/admin.h) and notifier's API server:
 *   /healthz  200 while the process runs; the JSON body says whether it is
 *             degraded: {"status":"ok"}, or, while the process's Redis watch
 *             (gb/redis.h) finds Redis away,
 *             {"status":"degraded","redis":{"state":"down",...}}
 *   /readyz   200 "ready", or 503 with the reason and Retry-After
 * and the log line of a request the HTTP server refused. */
#ifndef GB_HEALTH_H
#define GB_HEALTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "gb/http.h"

/* The /healthz body: "status" and, when Redis is watched, "redis". The
 * caller may add its own fields (notifier: alerts_held), then passes it to
 * gb_health_respond. NULL when out of memory. */
json_t *gb_health_json(void);

/* Answers 200 with o (stolen; NULL: a plain "ok"). */
void gb_health_respond(gb_http_req_t *req, json_t *o);

/* Whether the process can do its work: the service's own verdict (ok, why)
 * and, when it is ready, Redis (watched). Answers 200 "ready" or 503 with
 * the reason and "Retry-After: 2". */
void gb_ready_respond(gb_http_req_t *req, bool ok, const char *why);

/* A gb_http_refused_fn whose ud is the server's name (a static string:
 * "api", "admin"): logs event=http.refused, at most 10 lines a second (the
 * HTTP server counts the rest in suppressed). */
void gb_health_log_refused(void *ud, int status, const char *reason, const char *detail,
                           const char *peer, unsigned long suppressed);

#endif
