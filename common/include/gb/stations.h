/* Police stations (派出所) and publicity units: the units a citizen picks
 * when registering. Managed by the bureau administrator (tools/gb-stations),
 * read by the registry (is the unit a real station?) and by the HTTP API of
 * the registration back end (nearest units, search by name).
 *
 * Redis layout (prefix omitted; see gb/keys.h):
 *   st:{st:<id>}   HASH  name, bureau, lat, lon, real (1/0), active (1/0), updated_ms
 *   st:geo         GEO   active units by location (member = id)
 *   st:all         HASH  id -> name, for search and listing
 * Single-key commands only, so the layout works on Redis Cluster. */
#ifndef GB_STATIONS_H
#define GB_STATIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "gb/redis.h"

#define GB_STATION_ID_MAX 64   /* letters, digits, - _ . */
#define GB_STATION_NAME_MAX 128 /* UTF-8 bytes */

typedef struct {
  char id[GB_STATION_ID_MAX + 1];
  char name[GB_STATION_NAME_MAX + 1];
  char bureau[GB_STATION_ID_MAX + 1];
  double lat, lon; /* WGS84 degrees */
  bool real;       /* a police station; false for a publicity unit (not protected) */
  bool active;     /* deactivated units keep their record but are not offered */
} gb_station_t;

/* Checks an id: 1-64 of [A-Za-z0-9._-]. */
bool gb_station_id_valid(const char *id);

/* Creates or replaces a unit. Returns 0, GB_EINVAL (bad id, name, location)
 * or GB_EIO, with the reason in errstr. */
int gb_station_put(gb_redis_t *r, const char *prefix, const gb_station_t *st, char *errstr,
                   size_t errstr_size);

/* Returns 0 and *out, GB_ENOTFOUND, or GB_EIO. */
int gb_station_get(gb_redis_t *r, const char *prefix, const char *id, gb_station_t *out);

/* Marks a unit inactive (kept, no longer offered). 0, GB_ENOTFOUND or GB_EIO. */
int gb_station_deactivate(gb_redis_t *r, const char *prefix, const char *id);

/* The active units nearest to (lat, lon), nearest first, at most max, with
 * their distances in metres. Returns the number found (>= 0) or GB_EIO. */
int gb_stations_nearest(gb_redis_t *r, const char *prefix, double lat, double lon, int max,
                        gb_station_t *out, double *dist_m);

/* Active units whose name contains query (case-insensitive for ASCII;
 * Chinese matched as given), at most max, by name. Returns the number found
 * or GB_EIO. */
int gb_stations_search(gb_redis_t *r, const char *prefix, const char *query, int max,
                       gb_station_t *out);

#endif
