/* Alerts as stored for a station, and the station's push feed: a Redis
 * stream whose entry ids are the push stream's event ids, so that a device
 * resumes from the last id it saw. Storing is atomic and idempotent: a
 * re-delivered alert (same id, no newer evidence) is neither stored nor
 * pushed again. */
#ifndef NOTIFIER_FEED_H
#define NOTIFIER_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "gb/keyring.h"
#include "gb/redis.h"

/* Entries kept per station feed (approximately). */
#define FEED_MAXLEN 10000
/* Alerts kept in a station's listing (ali:{st:<s>}, GET /v1/alerts): the
 * newest; older ones stay stored but are no longer listed. */
#define FEED_LISTED_MAX 100000
#define FEED_LISTED_MAX_LUA "100000" /* FEED_LISTED_MAX, for the script's text */

/* What feed_store did. */
typedef struct {
  char stream_id[48]; /* the feed entry pushed to the devices; "" when none */
  const char *event;  /* "alert" (first for the station's officers) or "alert.updated" */
  int first_push;     /* the station's officers see it for the first time */
  int warnings;       /* registrants' warnings added to the feed */
} feed_stored_t;

/**
 * Stores alert `json` (sealed with kr, as are the warnings: sealed.h) for
 * station unless a copy of the same or a later
 * revision is stored already (matcher numbers the updates of an alert),
 * and counts it in the station's statistics (alertstats.h) by risk.
 * With push, the station's officers get it (a feed entry "alert" or
 * "alert.updated"; a new alert's state is new, and it joins the station's
 * listing and unclaimed alerts, ali and unc); without (low risk), it is
 * kept for the registrant only (state info) until a later revision is
 * pushed. The registrants' warnings (JSON, nwarn of them) join the feed as
 * "registrant.warning" entries, with the alert's first revision only.
 * @returns 1 and *out, 0 when it was already stored, or GB_EIO.
 */
int feed_store(gb_redis_t *r, const gb_keyring_t *kr, const char *prefix, const char *station,
               const char *alert_id, uint32_t revision, const char *json, const char *risk,
               int push, char *const *warnings, int nwarn, feed_stored_t *out);

/* Whether a feed event is for the devices (registrants' warnings are not). */
int feed_for_devices(const char *event);

/* Whether s is a feed entry id, "<ms>-<seq>". */
int feed_id_valid(const char *s);
/* Feed entry ids compare as number pairs: <0, 0, >0. */
int feed_id_cmp(const char *a, const char *b);
/* The id just before id, for reading id itself with feed_replay (which
 * reads after the id it is given). 0, or -1 for a malformed or zero id. */
int feed_id_before(const char *id, char *out, size_t size);

/* Called for each feed entry after `after_id`, oldest first, at most max. */
typedef void (*feed_entry_fn)(const char *id, const char *event, const char *json, void *ud);

/* What feed_replay read: entries of any kind (warnings and unreadable
 * ones included), and the id of the last ("" when none). */
typedef struct {
  int read;
  char last[48];
} feed_read_t;

/* Entries for the devices are opened with kr (an entry that does not open
 * is logged and skipped) and passed to fn. Reads at most max entries of
 * any kind; *got (may be NULL) says how many and the last one's id, to
 * read on from. Returns the number of entries passed to fn, or GB_EIO. */
int feed_replay(gb_redis_t *r, const gb_keyring_t *kr, const char *prefix, const char *station,
                const char *after_id, int max, feed_entry_fn fn, void *ud, feed_read_t *got);

#endif
