#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

hub_sub_t *hub_add(hub_t *h, gb_sse_t *stream, const char *station) {
  hub_sub_t *s = calloc(1, sizeof(*s));
  if (!s) return NULL;
  s->stream = stream;
  snprintf(s->station, sizeof(s->station), "%s", station);
  s->next = h->head;
  if (h->head) h->head->prev = s;
  h->head = s;
  h->count++;
  return s;
}

void hub_remove(hub_t *h, hub_sub_t *s) {
  if (!s) return;
  if (s->prev) s->prev->next = s->next;
  else h->head = s->next;
  if (s->next) s->next->prev = s->prev;
  h->count--;
  free(s);
}

int hub_broadcast(hub_t *h, const char *station, const char *id, const char *event,
                  const char *data, size_t len) {
  int n = 0;
  hub_sub_t *next;
  /* gb_sse_send may close a slow stream, whose close callback removes its
   * subscription: take next first. */
  for (hub_sub_t *s = h->head; s; s = next) {
    next = s->next;
    /* A bureau administrator's "*" stream gets every station's events,
     * without ids: each station's feed numbers its own, so no single id
     * could resume it. */
    bool all = strcmp(s->station, HUB_ALL) == 0;
    if ((all || strcmp(s->station, station) == 0) &&
        gb_sse_send(s->stream, all ? NULL : id, event, data, len) == 0)
      n++;
  }
  return n;
}
