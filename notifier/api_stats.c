/* Live statistics (DOMAIN.md, "Statistics"): the figures the real system
 * shows a day late, here within a second of the change that moves them.
 *   GET /v1/stats/stations/:id   one station (its own accounts, and bureau administrators)
 *   GET /v1/stats[?bureau=<id>]  every unit (of a bureau), and the totals (bureau
 *                                administrators) */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/registry.h"
#include "gb/stations.h"
#include "gb/timeparse.h"
#include "auth.h"
#include "notifier.h"
#include "respond.h"


static json_t *figures(const gb_station_stats_t *s) {
  return json_pack("{s:I, s:I, s:I, s:{s:I, s:I, s:I}}", "followers", (json_int_t)s->followers,
                   "registered", (json_int_t)s->registered, "protected",
                   (json_int_t)s->protected_, "today", "registrations",
                   (json_int_t)s->registrations_today, "follows", (json_int_t)s->follows_today,
                   "unfollows", (json_int_t)s->unfollows_today);
}

static void on_station(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  const char *id = gb_http_req_param(req, "id");
  gb_auth_t auth;
  if (!auth_require_station(n, req, id, &auth)) return;
  gb_station_t st;
  int err = gb_station_get(n->redis, n->prefix, id, &st);
  if (err == GB_ENOTFOUND || !gb_station_id_valid(id)) {
    respond_json(req, 404, json_pack("{s:s}", "error", "no such station"));
    return;
  }
  int day = gb_china_day(gb_now_ms());
  gb_station_stats_t s;
  if (err || gb_stats_get(n->redis, n->prefix, id, day, &s) != 0) {
    respond_json(req, 503, json_pack("{s:s}", "error", "statistics unavailable; try again"));
    return;
  }
  json_t *o = figures(&s);
  json_object_set_new(o, "station", gb_station_json(&st));
  json_object_set_new(o, "day", json_integer(day));
  respond_json(req, 200, o);
}

static void on_all(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  char bureau[80];
  gb_auth_t auth;
  if (!auth_require(n, req, &auth)) return;
  if (auth.account.role != GB_ROLE_BUREAU_ADMIN) {
    respond_error(req, 403, "every unit's statistics are for bureau administrators; see "
                  "/v1/stats/stations/%s", auth.account.station);
    return;
  }
  const char *b = gb_http_req_query_param(req, "bureau", bureau, sizeof(bureau));
  gb_station_t *list = NULL;
  int count = gb_stations_list(n->redis, n->prefix, &list);
  if (count < 0) {
    respond_json(req, 503, json_pack("{s:s}", "error", "statistics unavailable; try again"));
    return;
  }
  int day = gb_china_day(gb_now_ms());
  gb_station_stats_t total;
  memset(&total, 0, sizeof(total));
  json_t *rows = json_array();
  for (int i = 0; i < count; i++) {
    if (b && strcmp(list[i].bureau, b) != 0) continue;
    gb_station_stats_t s;
    if (gb_stats_get(n->redis, n->prefix, list[i].id, day, &s) != 0) {
      json_decref(rows);
      free(list);
      respond_json(req, 503, json_pack("{s:s}", "error", "statistics unavailable; try again"));
      return;
    }
    total.followers += s.followers;
    total.registered += s.registered;
    total.protected_ += s.protected_;
    total.registrations_today += s.registrations_today;
    total.follows_today += s.follows_today;
    total.unfollows_today += s.unfollows_today;
    json_t *row = figures(&s);
    json_object_set_new(row, "station", gb_station_json(&list[i]));
    json_array_append_new(rows, row);
  }
  free(list);
  json_t *o = json_pack("{s:i, s:o, s:o}", "day", day, "total", figures(&total), "stations", rows);
  if (b) json_object_set_new(o, "bureau", json_string(b));
  respond_json(req, 200, o);
}

void notifier_api_stats_register(notifier_t *n) {
  gb_http_route(n->http, "GET", "/v1/stats", on_all, n);
  gb_http_route(n->http, "GET", "/v1/stats/stations/:id", on_station, n);
}
