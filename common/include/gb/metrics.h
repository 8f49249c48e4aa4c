/* Counters and gauges in Prometheus' text format (version 0.0.4).
 *
 * A service registers its metrics once at start (not thread-safe), then
 * updates them from any thread (atomic, lock-free) and renders them from any
 * thread, typically the admin HTTP server's. */
#ifndef GB_METRICS_H
#define GB_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct gb_metrics gb_metrics_t;
typedef struct gb_metric gb_metric_t;

typedef enum { GB_METRIC_COUNTER, GB_METRIC_GAUGE } gb_metric_type_t;

gb_metrics_t *gb_metrics_new(void);
void gb_metrics_free(gb_metrics_t *m); /* NULL-safe */

/**
 * Registers a metric. name is "gb_ingest_records_in_total"; labels is NULL
 * or a label set without braces ('reason="bad_json"'). Metrics of one name
 * share help and type; register them one after another. Returns NULL only
 * when out of memory.
 */
gb_metric_t *gb_metrics_add(gb_metrics_t *m, gb_metric_type_t type, const char *name,
                            const char *help, const char *labels);

static inline void gb_metric_inc(gb_metric_t *c, uint64_t n) {
  __atomic_add_fetch((uint64_t *)c, n, __ATOMIC_RELAXED);
}
static inline void gb_metric_set(gb_metric_t *c, int64_t v) {
  __atomic_store_n((int64_t *)c, v, __ATOMIC_RELAXED);
}
static inline uint64_t gb_metric_get(const gb_metric_t *c) {
  return __atomic_load_n((const uint64_t *)c, __ATOMIC_RELAXED);
}

/* Renders every metric; returns a malloc'ed NUL-terminated text (free it)
 * and its length in *len, or NULL. */
char *gb_metrics_render(const gb_metrics_t *m, size_t *len);

#endif
