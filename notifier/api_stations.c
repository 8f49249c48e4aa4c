/* The stations API (docs/API.md, "Stations API"). For the registration
 * back end, public:
 *
 *   GET /v1/stations/nearest?lat=&lon=[&n=5]   the n active units nearest first
 *   GET /v1/stations?name=<text>[&n=20]         active units whose name contains text
 *   GET /v1/stations/:id                        one unit, active or not
 *
 * For bureau administrators (a token; 401 without, 403 for other roles):
 *
 *   GET  /v1/stations?all=1                     every unit, active or not, by id
 *   POST /v1/stations                           create (201) or replace (200) a unit
 *   POST /v1/stations/:id/deactivate            stop offering it (204)
 *   POST /v1/stations/:id/activate              offer it again (204)
 *
 * A citizen picks the unit to register with from these answers. A unit with
 * "real": false is a publicity unit, not a police station: its registrants
 * are not protected, and the mini-program must say so. Runs on the loop
 * thread with notifier's synchronous Redis connection, like the stream's
 * replay; the citizen's location is not logged. Every change is logged as
 * station.changed with the administrator's account. */
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
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

/* Signs the caller in and holds the route to bureau administrators:
 * false when it has answered (401, 403 or 503). */
static bool require_bureau_admin(notifier_t *n, gb_http_req_t *req, gb_auth_t *a) {
  if (!auth_require(n, req, a)) return false;
  if (a->account.role == GB_ROLE_BUREAU_ADMIN) return true;
  gb_info("auth.forbidden", "account=%s route=stations", a->account.id);
  respond_error(req, 403, "account %s may not manage stations: bureau administrators do",
                a->account.id);
  return false;
}

/* GET /v1/stations?all=1: the administrator's list, inactive and publicity
 * units included. The public search's parameters make no sense with it and
 * are refused rather than ignored. */
static void on_list_all(gb_http_req_t *req, notifier_t *n) {
  gb_auth_t a;
  char buf[4];
  if (!require_bureau_admin(n, req, &a)) return;
  const char *all = gb_http_req_query_param(req, "all", buf, sizeof(buf));
  if (!all || strcmp(all, "1") != 0) {
    respond_error(req, 400, "all: only all=1, every unit");
    return;
  }
  if (query_has(req, "name") || query_has(req, "n")) {
    respond_error(req, 400, "all=1 lists every unit: leave out name and n");
    return;
  }
  gb_station_t *list = NULL;
  int count = gb_stations_list(n->redis, n->prefix, &list);
  if (count < 0) {
    if (count == GB_ENOMEM) respond_error(req, 500, "out of memory");
    else respond_unavailable(req, n, "list");
    return;
  }
  respond_json(req, 200, units_json(list, NULL, count));
  free(list);
}

static void on_search(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  char q[4 * GB_STATION_NAME_MAX];
  int max;
  if (query_has(req, "all")) {
    on_list_all(req, n);
    return;
  }
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

/* Copies the string member key of o into dst (size bytes). One that does
 * not fit or holds a NUL is copied as "", which gb_station_validate
 * refuses with the field's rule. Returns -1 when the member is missing or
 * not a string. */
static int take_string(const json_t *o, const char *key, char *dst, size_t size) {
  const json_t *v = json_object_get(o, key);
  if (!json_is_string(v)) return -1;
  const char *s = json_string_value(v);
  size_t len = json_string_length(v);
  if (len >= size || strlen(s) != len) len = 0;
  memcpy(dst, s, len);
  dst[len] = '\0';
  return 0;
}

/* Reads the body of POST /v1/stations into st; *active is -1 when the body
 * leaves it out, else 0 or 1. Returns NULL, or what is wrong, naming the
 * field (in errstr when it needs formatting). */
static const char *unit_from_body(const char *body, size_t len, gb_station_t *st, int *active,
                                  char *errstr, size_t errstr_size) {
  static const char *const known[] = {"id", "name", "bureau", "lat", "lon", "real", "active"};
  json_error_t je;
  json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
  const char *bad = NULL;
  memset(st, 0, sizeof(*st));
  *active = -1;
  if (!o || !json_is_object(o)) {
    bad = "the body is not a JSON object: give {\"id\", \"name\", \"bureau\", \"lat\", "
          "\"lon\", \"real\"[, \"active\"]}";
    goto cleanup;
  }
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) {
    size_t i = 0;
    while (i < sizeof(known) / sizeof(known[0]) && strcmp(key, known[i]) != 0) i++;
    if (i == sizeof(known) / sizeof(known[0])) {
      if (strlen(key) <= GB_STATION_ID_MAX)
        gb_errstr_set(errstr, errstr_size,
                      "%s: unknown field; want id, name, bureau, lat, lon, real, active", key);
      else
        gb_errstr_set(errstr, errstr_size,
                      "unknown field; want id, name, bureau, lat, lon, real, active");
      bad = errstr;
      goto cleanup;
    }
  }
  const json_t *lat = json_object_get(o, "lat"), *lon = json_object_get(o, "lon");
  const json_t *real = json_object_get(o, "real"), *act = json_object_get(o, "active");
  if (take_string(o, "id", st->id, sizeof(st->id)) != 0)
    bad = "id: want a string, 1-64 of letters, digits, '-', '_', '.'";
  else if (take_string(o, "name", st->name, sizeof(st->name)) != 0)
    bad = "name: want a string, 1-128 bytes of UTF-8";
  else if (take_string(o, "bureau", st->bureau, sizeof(st->bureau)) != 0)
    bad = "bureau: want a string, 1-64 of letters, digits, '-', '_', '.'";
  else if (!json_is_number(lat))
    bad = "lat: want a number, decimal degrees within -85.05..85.05";
  else if (!json_is_number(lon))
    bad = "lon: want a number, decimal degrees within -180..180";
  else if (!json_is_boolean(real))
    bad = "real: want true (a police station) or false (a publicity unit)";
  else if (act && !json_is_boolean(act))
    bad = "active: want true or false, or leave it out";
  if (bad) goto cleanup;
  st->lat = json_number_value(lat);
  st->lon = json_number_value(lon);
  st->real = json_is_true(real);
  if (act) *active = json_is_true(act);
  if (gb_station_validate(st, errstr, errstr_size) != 0) bad = errstr;
cleanup:
  json_decref(o);
  return bad;
}

static void on_put(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  gb_auth_t a;
  char errstr[256];
  gb_station_t st, old;
  int active;
  if (!require_bureau_admin(n, req, &a)) return;
  size_t len;
  const char *body = gb_http_req_body(req, &len);
  const char *bad = unit_from_body(body, len, &st, &active, errstr, sizeof(errstr));
  if (bad) {
    respond_error(req, 400, "%s", bad);
    return;
  }
  int exists = gb_station_get(n->redis, n->prefix, st.id, &old);
  if (exists != 0 && exists != GB_ENOTFOUND) {
    respond_unavailable(req, n, "put");
    return;
  }
  /* A replaced unit keeps its standing unless the body says otherwise:
   * correcting a name must not offer a unit the bureau withdrew. */
  st.active = active >= 0 ? active == 1 : exists == 0 ? old.active : true;
  int err = gb_station_put(n->redis, n->prefix, &st, errstr, sizeof(errstr));
  if (err == GB_EINVAL) {
    respond_error(req, 400, "%s", errstr);
    return;
  }
  if (err) {
    respond_unavailable(req, n, "put");
    return;
  }
  gb_info("station.changed", "id=%s by=%s action=%s real=%d active=%d", st.id, a.account.id,
          exists == 0 ? "replaced" : "created", st.real ? 1 : 0, st.active ? 1 : 0);
  respond_json(req, exists == 0 ? 200 : 201, gb_station_json(&st));
}

/* POST /v1/stations/:id/activate and .../deactivate. */
static void set_active(gb_http_req_t *req, notifier_t *n, bool active) {
  gb_auth_t a;
  gb_station_t st;
  char errstr[256];
  if (!require_bureau_admin(n, req, &a)) return;
  const char *id = gb_http_req_param(req, "id");
  int err;
  if (!active) {
    err = gb_station_deactivate(n->redis, n->prefix, id);
  } else if ((err = gb_station_get(n->redis, n->prefix, id, &st)) == 0) {
    /* The store's way to offer a unit again: put it back whole. */
    st.active = true;
    err = gb_station_put(n->redis, n->prefix, &st, errstr, sizeof(errstr));
  }
  if (err == GB_ENOTFOUND) {
    respond_error(req, 404, "no such station");
    return;
  }
  if (err) {
    respond_unavailable(req, n, active ? "activate" : "deactivate");
    return;
  }
  gb_info("station.changed", "id=%s by=%s action=%s", id, a.account.id,
          active ? "activated" : "deactivated");
  gb_http_respond(req, 204, NULL, NULL, "", 0);
}

static void on_activate(gb_http_req_t *req, void *ud) { set_active(req, ud, true); }
static void on_deactivate(gb_http_req_t *req, void *ud) { set_active(req, ud, false); }

void notifier_api_stations_register(notifier_t *n) {
  /* "nearest" before ":id": routes are tried in order. */
  gb_http_route(n->http, "GET", "/v1/stations/nearest", on_nearest, n);
  gb_http_route(n->http, "GET", "/v1/stations", on_search, n);
  gb_http_route(n->http, "GET", "/v1/stations/:id", on_get, n);
  gb_http_route(n->http, "POST", "/v1/stations", on_put, n);
  gb_http_route(n->http, "POST", "/v1/stations/:id/deactivate", on_deactivate, n);
  gb_http_route(n->http, "POST", "/v1/stations/:id/activate", on_activate, n);
}
