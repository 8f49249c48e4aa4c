/* The stations API of the registration back end (docs/API.md):
 *
 *   GET /v1/stations/nearest?lat=&lon=[&n=5]   the n active units nearest first
 *   GET /v1/stations?name=<text>[&n=20]         active units whose name contains text
 *   GET /v1/stations/:id                        one unit, active or not
 *
 * A citizen picks the unit to register with from these answers. A unit with
 * "real": false is a publicity unit, not a police station: its registrants
 * are not protected, and the mini-program must say so. Runs on the loop
 * thread with notifier's synchronous Redis connection, like the stream's
 * replay; the citizen's location is not logged. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/log.h"
#include "gb/stations.h"
#include "notifier.h"
#include "respond.h"

#define NEAREST_DEFAULT 5
#define NEAREST_MAX 20
#define SEARCH_DEFAULT 20
#define SEARCH_MAX 50



static void respond_unavailable(gb_http_req_t *req, notifier_t *n, const char *what) {
  gb_warn("stations.redis_failed", "request=%s reason=\"%s\"", what, gb_redis_errstr(n->redis));
  respond_error(req, 503, "stations are unavailable for a moment; try again");
}

/* {"stations": [unit, ...]}, with "distance_m" when dist is given. */
static json_t *units_json(const gb_station_t *st, const double *dist, int count) {
  json_t *arr = json_array();
  for (int i = 0; arr && i < count; i++) {
    json_t *o = gb_station_json(&st[i]);
    if (o && dist) json_object_set_new(o, "distance_m", json_integer((json_int_t)(dist[i] + 0.5)));
    if (!o || json_array_append_new(arr, o) != 0) {
      json_decref(arr);
      return NULL;
    }
  }
  return arr ? json_pack("{s:o}", "stations", arr) : NULL;
}

/* Decimal degrees within [-lim, lim]. */
static int parse_deg(const char *s, double lim, double *out) {
  return gb_parse_degrees(s, out) == 0 && *out >= -lim && *out <= lim ? 0 : -1;
}

/* Whether the raw query has a parameter called name, with or without a
 * value. */
static int query_has(gb_http_req_t *req, const char *name) {
  size_t nl = strlen(name);
  for (const char *q = gb_http_req_query(req); *q;) {
    if (!strncmp(q, name, nl) && (q[nl] == '=' || q[nl] == '&' || q[nl] == '\0')) return 1;
    q += strcspn(q, "&");
    if (*q == '&') q++;
  }
  return 0;
}

/* ?n=: absent gives def; otherwise a whole number 1..max. */
static int parse_n(gb_http_req_t *req, int def, int max, int *out) {
  char buf[16];
  const char *s = gb_http_req_query_param(req, "n", buf, sizeof(buf));
  if (!s) {
    if (query_has(req, "n")) return -1; /* too long to be a count */
    *out = def;
    return 0;
  }
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || *end || v < 1 || v > max) return -1;
  *out = (int)v;
  return 0;
}

static void on_nearest(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  char latb[40], lonb[40];
  double lat, lon;
  int max;
  const char *la = gb_http_req_query_param(req, "lat", latb, sizeof(latb));
  const char *lo = gb_http_req_query_param(req, "lon", lonb, sizeof(lonb));
  if (!la || parse_deg(la, 85.05, &lat) != 0) {
    respond_error(req, 400, "lat: give ?lat=<decimal degrees, -85.05..85.05>");
  } else if (!lo || parse_deg(lo, 180.0, &lon) != 0) {
    respond_error(req, 400, "lon: give ?lon=<decimal degrees, -180..180>");
  } else if (parse_n(req, NEAREST_DEFAULT, NEAREST_MAX, &max) != 0) {
    respond_error(req, 400, "n: want a whole number 1-%d", NEAREST_MAX);
  } else {
    gb_station_t st[NEAREST_MAX];
    double dist[NEAREST_MAX];
    int count = gb_stations_nearest(n->redis, n->prefix, lat, lon, max, st, dist);
    if (count < 0) respond_unavailable(req, n, "nearest");
    else respond_json(req, 200, units_json(st, dist, count));
  }
}

/* Whether s is UTF-8: jansson refuses to make a string of anything else. */
static int is_utf8(const char *s) {
  json_t *j = json_string(s);
  json_decref(j);
  return j != NULL;
}

static void on_search(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  char q[4 * GB_STATION_NAME_MAX];
  int max;
  const char *s = gb_http_req_query_param(req, "name", q, sizeof(q));
  if (!s || !*s) {
    respond_error(req, 400, "name: give ?name=<part of the station's name>");
  } else if (strlen(s) > GB_STATION_NAME_MAX || strstr(gb_http_req_query(req), "%00")) {
    /* "%00" would cut the decoded text short and search for less. */
    respond_error(req, 400, "name: at most %d bytes, no NUL", GB_STATION_NAME_MAX);
  } else if (!is_utf8(s)) {
    respond_error(req, 400, "name: not valid UTF-8");
  } else if (parse_n(req, SEARCH_DEFAULT, SEARCH_MAX, &max) != 0) {
    respond_error(req, 400, "n: want a whole number 1-%d", SEARCH_MAX);
  } else {
    gb_station_t *st = calloc((size_t)max, sizeof(*st));
    int count = st ? gb_stations_search(n->redis, n->prefix, s, max, st) : GB_ENOMEM;
    if (count == GB_ENOMEM) respond_error(req, 500, "out of memory");
    else if (count < 0) respond_unavailable(req, n, "search");
    else respond_json(req, 200, units_json(st, NULL, count));
    free(st);
  }
}

static void on_get(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  const char *id = gb_http_req_param(req, "id");
  gb_station_t st;
  int err = id ? gb_station_get(n->redis, n->prefix, id, &st) : GB_ENOTFOUND;
  if (err == GB_ENOTFOUND) respond_error(req, 404, "no such station");
  else if (err) respond_unavailable(req, n, "get");
  else respond_json(req, 200, gb_station_json(&st));
}

void notifier_api_stations_register(notifier_t *n) {
  /* "nearest" before ":id": routes are tried in order. */
  gb_http_route(n->http, "GET", "/v1/stations/nearest", on_nearest, n);
  gb_http_route(n->http, "GET", "/v1/stations", on_search, n);
  gb_http_route(n->http, "GET", "/v1/stations/:id", on_get, n);
}
