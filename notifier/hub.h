/* The devices connected to this notifier process, by station. Loop thread
 * only. */
#ifndef NOTIFIER_HUB_H
#define NOTIFIER_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "gb/http.h"

/* The station name of a bureau administrator's stream of every station. */
#define HUB_ALL "*"

typedef struct hub_sub {
  gb_sse_t *stream;
  char station[65];
  char last[48]; /* the last feed entry id sent ("" none): hub_deliver skips older ones */
  struct hub_sub *prev, *next;
} hub_sub_t;

/* Streams by station (a hash of the name picks the bucket), so that an
 * alert costs the walk of its own station's devices, not of every device;
 * the bureau's "*" streams in a list of their own. */
#define HUB_BUCKETS 4096

typedef struct {
  hub_sub_t *bucket[HUB_BUCKETS];
  hub_sub_t *all;
  int count;
} hub_t;

/* Adds a stream for station; the hub does not own the stream. Returns the
 * subscription (owned by the hub until hub_remove), or NULL. */
hub_sub_t *hub_add(hub_t *h, gb_sse_t *stream, const char *station);
void hub_remove(hub_t *h, hub_sub_t *s);

/* Sends feed entry id of station to every stream of station that was not
 * sent it or a later one (each stream's last moves to id), and to every
 * "*" stream (without the id). Returns how many streams got it. */
int hub_deliver(hub_t *h, const char *station, const char *id, const char *event,
                const char *data, size_t len);

#endif
