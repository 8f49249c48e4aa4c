/* The admin HTTP endpoint of a service whose main thread is busy with a
 * Kafka pipeline (ingest, matcher): a thread running its own libuv loop that
 * serves
 *   GET /healthz  200 while the process runs: {"status":"ok"}, or, while the
 *                 process's Redis watch (gb/redis.h) finds Redis away,
 *                 {"status":"degraded","redis":{"state":"down",...}}
 *   GET /readyz   200 when the service says it is ready and Redis (if
 *                 watched) answers, else 503 with the reason
 *   GET /metrics  the service's metrics, Prometheus text format */
#ifndef GB_ADMIN_H
#define GB_ADMIN_H

#include <stdbool.h>

#include "gb/metrics.h"

typedef struct gb_admin gb_admin_t;

/* Called on the admin thread; must be thread-safe (read atomics). Fills why
 * (when not ready) with a short reason. */
typedef bool (*gb_admin_ready_fn)(void *ud, char *why, size_t why_size);

/**
 * Starts the admin server on host:port (port 0: any free port; see
 * gb_admin_port). metrics stay owned by the caller and must outlive the
 * admin server. Returns 0, or GB_EIO with the reason in errstr.
 */
int gb_admin_start(gb_admin_t **out, const char *host, int port, const gb_metrics_t *metrics,
                   gb_admin_ready_fn ready, void *ud, char *errstr, size_t errstr_size);

int gb_admin_port(const gb_admin_t *a);

/* Stops the thread and frees everything; NULL-safe. */
void gb_admin_stop(gb_admin_t *a);

#endif
