/* Follows the index's change feed (gb.index) into the local view (view.h):
 * at start, reads the whole feed as it stood (the topic is compacted, so
 * that is about one message per entry); afterwards, applies what arrives,
 * from every worker, between batches, well within a second.
 *
 * Additions are applied at once. A removal is applied only after Redis
 * confirms that nobody protects the number any more: entries of one number
 * owned by different registrants travel on different partitions, in no
 * order relative to each other, and the view must never drop a number that
 * is still protected. */
#ifndef MATCHER_FOLLOW_H
#define MATCHER_FOLLOW_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>

#include "gb/config.h"
#include "gb/numkey.h"
#include "gb/phone.h"
#include "gb/redis.h"
#include "view.h"

typedef struct {
  char hash[GB_NUMKEY_HEX_LEN + 1];
  uint64_t tag;
} follow_removal_t;

typedef struct {
  rd_kafka_t *rk;
  const char *topic;
  view_t *view;
  gb_redis_t *redis;
  const char *prefix;
  int64_t *high; /* each partition's end at the start, then -1 once reached */
  int npart, behind;
  follow_removal_t *rm; /* removals awaiting Redis' word */
  size_t nrm, caprm;
  char (*phones)[GB_PHONE_MAX]; /* phone indicators new since the last take */
  size_t nphones, capphones;
  uint64_t applied, bad, removed, kept;
} follow_t;

int follow_open(follow_t *f, const gb_config_t *cfg, const char *topic, view_t *view,
                gb_redis_t *redis, const char *prefix, char *errstr, size_t errstr_size);
void follow_close(follow_t *f);

/* Reads the feed up to where it stood at open, then confirms the removals.
 * Returns 0, or GB_EIO (Redis), or GB_ECANCELED when *stop was set. */
int follow_load(follow_t *f, volatile sig_atomic_t *stop);

/* Applies what has arrived, for at most budget_ms, and confirms pending
 * removals. Returns the number of messages applied, or GB_EIO when Redis
 * could not confirm removals (they stay pending, and are tried again). */
int follow_poll(follow_t *f, int budget_ms);

/* The same steps for a change this worker made itself, so that it matches
 * under the change at once rather than when the feed brings it back. */
int follow_protected(follow_t *f, const char *number_hash, uint64_t tag, bool removed);
int follow_indicator(follow_t *f, gb_indicator_kind_t kind, const char *value, bool removed);

/* The phone numbers that became indicators since the last clear (for
 * retro-hunting): *n of them, valid until the next follow_* call. Cleared
 * by the caller once handled, so a hunt that failed is tried again. */
const char (*follow_new_phones(const follow_t *f, size_t *n))[GB_PHONE_MAX];
void follow_clear_new_phones(follow_t *f);

#endif
