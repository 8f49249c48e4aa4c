/* An outbox: a thread that carries what a station's Redis stream recorded
 * to the world outside (Kafka topics, push gateways), at least once.
 *
 * The Lua scripts that change an alert append to the station's streams in
 * the same step (audit:{st:<s>}, feed:{st:<s>}), so the stream is the
 * outbox: nothing that happened can be missing from it. Each outbox keeps,
 * per station, a cursor (<p>ob:{st:<s>}:<name>, the last entry carried) and
 * reads on from it; a crash between carrying and moving the cursor carries
 * those entries again, so whoever reads downstream dedupes by entry id.
 *
 * Several notifier workers may run the same outbox: a lease per station
 * (<p>ob:{st:<s>}:<name>:lease, a few seconds, renewed while working) keeps
 * a station with one worker at a time. Work starts when the loop thread
 * kicks a station (after it changed one) and, as a sweep every few seconds,
 * for every station in <p>ob:stations, which is how a restarted worker
 * finishes what a crashed one began. */
#ifndef NOTIFIER_OUTBOX_H
#define NOTIFIER_OUTBOX_H

#include <stdint.h>

#include "gb/config.h"
#include "gb/redis.h"

typedef struct outbox outbox_t;

typedef struct {
  const char *name;   /* "relay", "webhook": in keys, logs and metrics */
  const char *stream; /* the station stream carried: "audit" or "feed" */
  int batch;          /* entries read at a time */
  int sweep_ms;       /* how often every known station is looked at */
  int gather_ms;      /* after a kick, how long more kicks are gathered before carrying:
                         fewer, fuller batches (one produce request for many changes) */
  /* On the outbox's thread: carries entries (an XRANGE reply's elements,
   * oldest first). Returns how many, from the first, are done with (the
   * cursor moves past them), or a negative code to try again later. */
  int (*carry)(void *ud, gb_redis_t *r, const char *station, redisReply *const *entries,
               size_t n);
  /* On the outbox's thread, once a turn, after the stations (may be NULL).
   * Returns how soon, in ms, it wants the next turn (at most a second is
   * waited anyway). */
  int64_t (*turn)(void *ud, gb_redis_t *r);
  void *ud;
} outbox_conf_t;

/* Starts the thread with its own Redis connection. 0, or GB_EIO with the
 * reason in errstr. */
int outbox_start(outbox_t **out, const gb_config_t *cfg, const outbox_conf_t *conf,
                 char *errstr, size_t errstr_size);
/* From any thread: the station has new entries. */
void outbox_kick(outbox_t *o, const char *station);
/* Finishes the current turn and joins the thread. NULL-safe. */
void outbox_stop(outbox_t *o);

/* Entries whose cursor the stream's trimming overtook (lost to this
 * outbox; logged as outbox.trimmed). */
uint64_t outbox_trimmed(const outbox_t *o);

/* The value of field `name` in a stream entry's field list, or NULL. */
const char *outbox_field(const redisReply *entry, const char *name);

#endif
