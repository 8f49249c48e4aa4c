#include "gb/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value comes first so that gb_metric_inc can treat a gb_metric_t
 * pointer as a pointer to its value. */
struct gb_metric {
  uint64_t value;
  gb_metric_type_t type;
  char *name;
  char *help;
  char *labels;
  struct gb_metric *next;
};

struct gb_metrics {
  gb_metric_t *head, *tail;
};

gb_metrics_t *gb_metrics_new(void) { return calloc(1, sizeof(gb_metrics_t)); }

void gb_metrics_free(gb_metrics_t *m) {
  if (!m) return;
  gb_metric_t *next;
  for (gb_metric_t *c = m->head; c; c = next) {
    next = c->next;
    free(c->name);
    free(c->help);
    free(c->labels);
    free(c);
  }
  free(m);
}

gb_metric_t *gb_metrics_add(gb_metrics_t *m, gb_metric_type_t type, const char *name,
                            const char *help, const char *labels) {
  gb_metric_t *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->type = type;
  c->name = strdup(name);
  c->help = strdup(help);
  c->labels = labels ? strdup(labels) : NULL;
  if (!c->name || !c->help || (labels && !c->labels)) {
    free(c->name), free(c->help), free(c->labels), free(c);
    return NULL;
  }
  if (m->tail) m->tail->next = c;
  else m->head = c;
  m->tail = c;
  return c;
}

char *gb_metrics_render(const gb_metrics_t *m, size_t *len) {
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  if (!f) return NULL;
  const char *last = "";
  for (const gb_metric_t *c = m->head; c; c = c->next) {
    if (strcmp(last, c->name) != 0) {
      fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", c->name, c->help, c->name,
              c->type == GB_METRIC_COUNTER ? "counter" : "gauge");
      last = c->name;
    }
    uint64_t v = gb_metric_get(c);
    if (c->labels)
      fprintf(f, "%s{%s} ", c->name, c->labels);
    else
      fprintf(f, "%s ", c->name);
    if (c->type == GB_METRIC_GAUGE)
      fprintf(f, "%lld\n", (long long)(int64_t)v);
    else
      fprintf(f, "%llu\n", (unsigned long long)v);
  }
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  *len = size;
  return buf;
}
