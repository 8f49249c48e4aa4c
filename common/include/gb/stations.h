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

#include <jansson.h>
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

/* Checks an id: 1-64 of [A-Za-z0-9._-]. Bureau ids follow the same rule. */
bool gb_station_id_valid(const char *id);

/* Reads decimal degrees: digits, one '.', an optional sign, at most 32
 * characters; no exponent, hex, inf or nan, which strtod would take.
 * Returns 0 and *out, or -1. The caller checks the range. */
int gb_parse_degrees(const char *s, double *out);

/* Checks a unit as gb_station_put would: id and bureau per
 * gb_station_id_valid; name 1-128 bytes of valid UTF-8 without control
 * characters; lat within -85.05..85.05 (the Redis GEO limit), lon within
 * -180..180. Returns 0 or GB_EINVAL with the reason in errstr
 * ("lat: 95.1 is outside -85.05..85.05 degrees"). */
int gb_station_validate(const gb_station_t *st, char *errstr, size_t errstr_size);

/* Creates or replaces a unit with every field of st; an active unit is
 * offered (put in st:geo), an inactive one is taken out. Idempotent: the
 * same st written twice leaves the same state (but for updated_ms).
 * Returns 0, GB_EINVAL (see gb_station_validate) or GB_EIO, with the
 * reason in errstr. */
int gb_station_put(gb_redis_t *r, const char *prefix, const gb_station_t *st, char *errstr,
                   size_t errstr_size);

/* Any unit, active or not. Returns 0 and *out, GB_ENOTFOUND (also for a
 * malformed id), or GB_EIO. */
int gb_station_get(gb_redis_t *r, const char *prefix, const char *id, gb_station_t *out);

/* Marks a unit inactive (kept, no longer offered); idempotent. 0,
 * GB_ENOTFOUND or GB_EIO. To offer it again, put it with active = true. */
int gb_station_deactivate(gb_redis_t *r, const char *prefix, const char *id);

/* The active units nearest to (lat, lon), nearest first, at most max (out
 * and dist_m, which may be NULL, have room for max), with their distances
 * in metres along the earth's surface. The whole earth is searched, the
 * neighbourhood first. Returns the number found (>= 0), GB_EINVAL for a
 * point outside the ranges of gb_station_validate, GB_ENOMEM or GB_EIO. */
int gb_stations_nearest(gb_redis_t *r, const char *prefix, double lat, double lon, int max,
                        gb_station_t *out, double *dist_m);

/* Active units whose name contains query (case-insensitive for ASCII;
 * Chinese matched as given; "" matches every unit), at most max (out has
 * room for max), by name (UTF-8 byte order, then id). Reads all of st:all:
 * fine for the tens of thousands of units a country has. Returns the number
 * found, GB_ENOMEM or GB_EIO. */
int gb_stations_search(gb_redis_t *r, const char *prefix, const char *query, int max,
                       gb_station_t *out);

/* Every unit, active or not, by id, for the administrator. Returns the
 * count and *out (an array the caller frees with free(); NULL when the
 * count is 0 or on error), GB_ENOMEM or GB_EIO. */
int gb_stations_list(gb_redis_t *r, const char *prefix, gb_station_t **out);

/* The unit as the APIs show it: {"id", "name", "bureau", "lat", "lon",
 * "real", "active"}; a new reference, or NULL when out of memory. */
json_t *gb_station_json(const gb_station_t *st);

#endif
