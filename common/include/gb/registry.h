/* The protected-person index: registry changes (gb.registry) applied to
 * Redis, with the live statistics they move. Used by matcher (the changes
 * on the topic) and by the bulk import tool (a bureau's existing list).
 *
 * Redis layout (prefix omitted; h = keyed hash of an E.164 number):
 *   rg:{h}   HASH  one registrant, everything in one slot:
 *                  phone     sealed E.164 of the registrant
 *                  profile   sealed JSON {name, age, occupation, lat, lon}
 *                  station, real (1 when the unit is a police station),
 *                  following, reg_ms, reg_day (YYYYMMDD, UTC+8)
 *                  f:<hf>    sealed JSON {phone, relation}: a family number
 *   pn:{hn}  HASH  who protects number hn: owner h ->
 *                  "<station>\t<following 0|1>\t<sealed JSON {registrant, relation}>"
 *                  (only owners registered with a real station)
 *   stat:{st:<id>}            HASH followers, registered, protected
 *   statd:{st:<id>}:<YYYYMMDD> HASH registrations, follows, unfollows (kept 40 days)
 *
 * Guarantees: a change is applied atomically to its registrant (WATCH/MULTI
 * on the one rg key); the protected-number entries and statistics follow in
 * single-key steps that are idempotent, so a re-delivered change is harmless.
 * A crash between those steps can leave a statistic off by one until the
 * reconciliation recomputes it (docs/OPERATIONS.md). One thread per
 * gb_registry_t. */
#ifndef GB_REGISTRY_H
#define GB_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gb/jsonutil.h"
#include "gb/indexfeed.h"
#include "gb/keyring.h"
#include "gb/numkey.h"
#include "gb/phone.h"
#include "gb/redis.h"

#define GB_FAMILY_MAX 8

typedef enum {
  GB_REG_REGISTER = 1,
  GB_REG_UPDATE_PROFILE,
  GB_REG_ADD_FAMILY,
  GB_REG_REMOVE_FAMILY,
  GB_REG_CHANGE_STATION,
  GB_REG_FOLLOW,
  GB_REG_UNFOLLOW,
  GB_REG_UNREGISTER,
} gb_reg_op_t;

typedef struct {
  gb_reg_op_t op;
  char request_id[129];
  char registrant[GB_PHONE_MAX]; /* E.164 */
  int64_t ts_ms;                 /* when the citizen made the change; 0 = unknown */
  char station_id[65];           /* register, change_station */
  bool following;                /* register */
  bool has_profile;              /* register, update_profile */
  char name[129];
  int age;
  char occupation[65];
  bool has_location;
  double lat, lon;
  char family[GB_PHONE_MAX]; /* add_family, remove_family: E.164 */
  char relation[33];
} gb_reg_change_t;

typedef struct {
  bool accepted;
  bool protected_; /* the registrant is protected after the change */
  char reason[256];
} gb_reg_result_t;

/* "register", "update_profile", ... */
const char *gb_reg_op_name(gb_reg_op_t op);

/**
 * Reads a change from JSON or from a protobuf RegistryChange. A change that
 * cannot even be answered (no request_id, malformed) is GB_EINVAL with r
 * (a dead letter); one with a bad phone number is still read, with
 * *refusal set to the reason to answer it with.
 */
int gb_reg_change_from_json(gb_reg_change_t *c, const json_t *obj, char *refusal,
                            size_t refusal_size, gb_reject_t *r);
int gb_reg_change_from_proto(gb_reg_change_t *c, const void *buf, size_t len, char *refusal,
                             size_t refusal_size, gb_reject_t *r);

typedef struct gb_registry gb_registry_t;

int gb_registry_new(gb_registry_t **out, gb_redis_t *redis, const char *prefix,
                    const gb_numkey_t *numkey, const gb_keyring_t *keys);
void gb_registry_free(gb_registry_t *reg); /* NULL-safe */

/* Called after each protected-number entry is written or removed, so the
 * caller can publish the change feed (gb.index). Returns 0 or a negative
 * code (the change then counts as failed and is applied again). */
typedef int (*gb_registry_feed_fn)(void *ud, const gb_pn_entry_t *e);
void gb_registry_set_feed(gb_registry_t *reg, gb_registry_feed_fn fn, void *ud);

/* Applies a change and fills res (accepted or refused, with the reason in
 * words for the citizen). Returns 0, or GB_EIO when Redis failed (nothing
 * to answer yet: the caller retries or stops without committing). */
int gb_registry_apply(gb_registry_t *reg, const gb_reg_change_t *c, gb_reg_result_t *res);

/* The calendar day of a time in China (UTC+8) as YYYYMMDD: "today" for the
 * daily statistics. */
int gb_china_day(int64_t ms);

/* ---- statistics (registry_stats.c) ---- */

typedef struct {
  long long followers;  /* registrants with the station who follow the account */
  long long registered; /* registrants with the station (a real one) */
  long long protected_; /* distinct numbers protected through the station */
  long long registrations_today, follows_today, unfollows_today;
} gb_station_stats_t;

/* Reads a station's live figures and those of `day` (YYYYMMDD, China).
 * Returns 0 or GB_EIO. */
int gb_stats_get(gb_redis_t *r, const char *prefix, const char *station, int day,
                 gb_station_stats_t *out);

/* Called for each station whose stored figures differ from the index. */
typedef void (*gb_reconcile_fn)(const char *station, const gb_station_stats_t *stored,
                                const gb_station_stats_t *actual, void *ud);

/**
 * Recomputes followers, registered and protected of every station from the
 * index itself (every rg and pn key, read with SCAN), compares them with
 * the stored figures, calls fn for each drift and, with fix, stores the
 * recomputed figures. Sets *stations and *drifted. Returns 0 or GB_EIO.
 * Changes applied while it runs can show as drift; run it when quiet, or
 * run it twice.
 */
int gb_registry_reconcile(gb_redis_t *r, const char *prefix, bool fix, gb_reconcile_fn fn,
                          void *ud, int *stations, int *drifted);

#endif
