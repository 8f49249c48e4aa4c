/* Alerts as stored for a station, and the station's push feed: a Redis
 * stream whose entry ids are the push stream's event ids, so that a device
 * resumes from the last id it saw. Storing is atomic and idempotent: a
 * re-delivered alert (same id, no newer evidence) is neither stored nor
 * pushed again. */
#ifndef NOTIFIER_FEED_H
#define NOTIFIER_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "gb/redis.h"

/* Entries kept per station feed (approximately). */
#define FEED_MAXLEN 10000

/**
 * Stores alert `json` for station unless a copy of the same or a later
 * revision is stored already (matcher numbers the updates of an alert).
 * @returns 1, the new feed entry id in stream_id (>= 32 bytes) and *event
 *          ("alert" for the first copy, "alert.updated" after); 0 when it
 *          was already stored; or GB_EIO.
 */
int feed_store(gb_redis_t *r, const char *prefix, const char *station, const char *alert_id,
               uint32_t revision, const char *json, char *stream_id, size_t stream_id_size,
               const char **event);

/* Called for each feed entry after `after_id`, oldest first, at most max. */
typedef void (*feed_entry_fn)(const char *id, const char *event, const char *json, void *ud);

/* Returns the number of entries replayed, or GB_EIO. */
int feed_replay(gb_redis_t *r, const char *prefix, const char *station, const char *after_id,
                int max, feed_entry_fn fn, void *ud);

#endif
