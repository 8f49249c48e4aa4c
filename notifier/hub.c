#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

/* FNV-1a of the station name. */
static hub_sub_t **list_of(hub_t *h, const char *station) {
  if (strcmp(station, HUB_ALL) == 0) return &h->all;
  uint32_t x = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)station; *p; p++) x = (x ^ *p) * 16777619u;
  return &h->bucket[x % HUB_BUCKETS];
}

hub_sub_t *hub_add(hub_t *h, gb_sse_t *stream, const char *station) {
  hub_sub_t *s = calloc(1, sizeof(*s));
  if (!s) return NULL;
  s->stream = stream;
  snprintf(s->station, sizeof(s->station), "%s", station);
  hub_sub_t **head = list_of(h, s->station);
  s->next = *head;
  if (*head) (*head)->prev = s;
  *head = s;
  h->count++;
  return s;
}

void hub_remove(hub_t *h, hub_sub_t *s) {
  if (!s) return;
  if (s->prev) s->prev->next = s->next;
  else *list_of(h, s->station) = s->next;
  if (s->next) s->next->prev = s->prev;
  h->count--;
  free(s);
}

/* Sends to every stream of the list whose station matches (any, for the
 * "*" list, without ids) and that has not had the entry; returns how many
 * got it. */
static int send_list(hub_sub_t *head, const char *station, const char *id, const char *event,
                     const char *data, size_t len) {
  int n = 0;
  hub_sub_t *next;
  /* gb_sse_send may close a slow stream, whose close callback removes its
   * subscription: take next first. */
  for (hub_sub_t *s = head; s; s = next) {
    next = s->next;
    if (station) {
      if (strcmp(s->station, station) != 0) continue;
      if (s->last[0] && feed_id_cmp(id, s->last) <= 0) continue;
      snprintf(s->last, sizeof(s->last), "%s", id);
    }
    if (gb_sse_send(s->stream, station ? id : NULL, event, data, len) == 0) n++;
  }
  return n;
}

int hub_deliver(hub_t *h, const char *station, const char *id, const char *event,
                const char *data, size_t len) {
  /* A bureau administrator's "*" stream gets every station's events,
   * without ids: each station's feed numbers its own, so no single id
   * could resume it. */
  return send_list(*list_of(h, station), station, id, event, data, len) +
         send_list(h->all, NULL, NULL, event, data, len);
}
