/* GET /v1/stats/alerts[?station=<id>|*][&day=YYYYMMDD]: a station's alert
 * figures for a day (default today in China): alerts received by risk, open
 * alerts by state (now), claims, time to claim and to resolve (median and
 * 90th percentile, nearest rank), outcomes, escalations and reminders; and
 * live: open alerts by risk, open alerts escalated, the oldest unclaimed.
 * Officers and station administrators see their own station; a bureau
 * administrator any, or every station with the totals (station=*), read in
 * one pipeline whatever the number of stations. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertstats.h"
#include "auth.h"
#include "gb/registry.h"
#include "gb/stations.h"
#include "gb/timeparse.h"
#include "notifier.h"
#include "respond.h"

void ast_keys(ast_keys_t *k, const char *prefix, const char *station, int day) {
  snprintf(k->live, sizeof(k->live), "%sast:{st:%s}", prefix, station);
  snprintf(k->day, sizeof(k->day), "%sast:{st:%s}:%d", prefix, station, day);
  snprintf(k->ttc, sizeof(k->ttc), "%sast:{st:%s}:%d:ttc", prefix, station, day);
  snprintf(k->ttr, sizeof(k->ttr), "%sast:{st:%s}:%d:ttr", prefix, station, day);
}

/* Durations in ms, growing as they are merged. */
typedef struct {
  double *v;
  size_t n, cap;
} durations_t;

static void durations_add(durations_t *d, double ms) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 64;
    double *v = realloc(d->v, cap * sizeof(*v));
    if (!v) return;
    d->v = v, d->cap = cap;
  }
  d->v[d->n++] = ms;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* {"count", "p50_s", "p90_s"}: nearest rank; null figures when none. */
static json_t *percentiles(durations_t *d) {
  if (d->n == 0) return json_pack("{s:i, s:n, s:n}", "count", 0, "p50_s", "p90_s");
  qsort(d->v, d->n, sizeof(*d->v), cmp_double);
  size_t i50 = (d->n * 50 + 99) / 100, i90 = (d->n * 90 + 99) / 100;
  return json_pack("{s:I, s:f, s:f}", "count", (json_int_t)d->n, "p50_s",
                   d->v[i50 ? i50 - 1 : 0] / 1000.0, "p90_s", d->v[i90 ? i90 - 1 : 0] / 1000.0);
}

/* Adds a hash reply's "<group>:<name>" fields to obj[group][name] and the
 * plain ones to obj[name]. */
static void add_fields(json_t *obj, const redisReply *h) {
  for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
    const char *f = h->element[i]->str, *colon = strchr(f, ':');
    json_int_t v = atoll(h->element[i + 1]->str);
    json_t *into = obj;
    const char *name = f;
    if (colon) {
      char group[32];
      snprintf(group, sizeof(group), "%.*s", (int)(colon - f), f);
      into = json_object_get(obj, group);
      if (!into) json_object_set_new(obj, group, into = json_object());
      name = colon + 1;
    }
    json_t *cur = json_object_get(into, name);
    json_object_set_new(into, name, json_integer(v + (cur ? json_integer_value(cur) : 0)));
  }
}

typedef struct {
  json_t *counts; /* {"risk": {...}, "state": {...}, "outcome": {...}, "escalated": {...},
                     "open": {<risk>: n}, "claimed", "reminders", "escalated_open"} */
  durations_t ttc, ttr;
  char oldest_id[80], oldest_station[GB_ACCOUNT_ID_MAX]; /* "" when nothing is unclaimed */
  int64_t oldest_ms;
} figures_t;

#define STATION_COMMANDS 5

/* Appends the commands that read a station's figures (STATION_COMMANDS of
 * them), to be read with collect_station: all stations in one pipeline. */
static void append_station(notifier_t *n, const char *station, int day) {
  ast_keys_t k;
  char ku[GB_KEY_MAX];
  ast_keys(&k, n->prefix, station, day);
  gb_redis_append(n->redis, "HGETALL %s", k.live);
  gb_redis_append(n->redis, "HGETALL %s", k.day);
  gb_redis_append(n->redis, "ZRANGE %s 0 -1 WITHSCORES", k.ttc);
  gb_redis_append(n->redis, "ZRANGE %s 0 -1 WITHSCORES", k.ttr);
  gb_redis_append(n->redis, "ZRANGE %s 0 0 WITHSCORES",
                  gb_key_station(ku, n->prefix, "unc", station));
}

/* Reads the replies append_station asked for into f; always reads all of
 * them. Returns 0, or -1 when any failed. */
static int collect_station(notifier_t *n, const char *station, figures_t *f) {
  redisReply *r[STATION_COMMANDS];
  int err = 0;
  for (int i = 0; i < STATION_COMMANDS; i++) {
    r[i] = gb_redis_reply(n->redis);
    if (!r[i] || r[i]->type != REDIS_REPLY_ARRAY) err = -1;
  }
  if (!err) {
    add_fields(f->counts, r[0]);
    add_fields(f->counts, r[1]);
    for (int z = 2; z < 4; z++)
      for (size_t i = 1; i < r[z]->elements; i += 2)
        durations_add(z == 2 ? &f->ttc : &f->ttr, atof(r[z]->element[i]->str));
    if (r[4]->elements == 2) {
      snprintf(f->oldest_id, sizeof(f->oldest_id), "%s", r[4]->element[0]->str);
      snprintf(f->oldest_station, sizeof(f->oldest_station), "%s", station);
      f->oldest_ms = strtoll(r[4]->element[1]->str, NULL, 10);
    }
  }
  for (int i = 0; i < STATION_COMMANDS; i++)
    if (r[i]) freeReplyObject(r[i]);
  return err;
}

/* {"alert_id", "station_id", "arrived", "waiting_s"} of the oldest
 * unclaimed alert, or null. */
static json_t *oldest_json(const figures_t *f, int64_t now_ms) {
  if (!f->oldest_id[0]) return json_null();
  char arrived[40];
  gb_time_format(arrived, sizeof(arrived), f->oldest_ms);
  int64_t waiting = now_ms > f->oldest_ms ? (now_ms - f->oldest_ms) / 1000 : 0;
  return json_pack("{s:s, s:s, s:s, s:I}", "alert_id", f->oldest_id, "station_id",
                   f->oldest_station, "arrived", arrived, "waiting_s", (json_int_t)waiting);
}

/* The figures as the API shows them; frees the durations. */
static json_t *render(const char *station, figures_t *f) {
  json_t *c = f->counts;
  json_t *state = json_object_get(c, "state");
  json_t *open = json_object();
  const char *key;
  json_t *v;
  json_object_foreach(state, key, v) {
    if (strcmp(key, "resolved") != 0 && strcmp(key, "reassigned") != 0 && json_integer_value(v))
      json_object_set(open, key, v);
  }
  json_t *o = json_pack(
      "{s:s?, s:o, s:{s:O?, s:I, s:O?, s:O?, s:I}, s:o, s:o}", "station_id", station, "open", open,
      "today", "alerts", json_object_get(c, "risk"), "claimed",
      (json_int_t)json_integer_value(json_object_get(c, "claimed")), "outcomes",
      json_object_get(c, "outcome"), "escalations", json_object_get(c, "escalated"), "reminders",
      (json_int_t)json_integer_value(json_object_get(c, "reminders")), "time_to_claim",
      percentiles(&f->ttc), "time_to_resolve", percentiles(&f->ttr));
  json_t *today = json_object_get(o, "today");
  static const char *const groups[] = {"alerts", "outcomes", "escalations"};
  for (int i = 0; i < 3; i++)
    if (!json_is_object(json_object_get(today, groups[i])))
      json_object_set_new(today, groups[i], json_object());
  /* Live, whatever the day asked for. */
  json_t *by_risk = json_object_get(c, "open");
  json_object_set_new(o, "open_by_risk",
                      json_pack("{s:I, s:I, s:I}", "high",
                                (json_int_t)json_integer_value(json_object_get(by_risk, "high")),
                                "medium",
                                (json_int_t)json_integer_value(json_object_get(by_risk, "medium")),
                                "low",
                                (json_int_t)json_integer_value(json_object_get(by_risk, "low"))));
  json_object_set_new(o, "escalated_open",
                      json_integer(json_integer_value(json_object_get(c, "escalated_open"))));
  json_object_set_new(o, "oldest_unclaimed", oldest_json(f, gb_now_ms()));
  free(f->ttc.v);
  free(f->ttr.v);
  json_decref(f->counts);
  return o;
}

static void on_stats(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  char sbuf[80], dbuf[16];
  gb_auth_t a;
  if (!auth_require(n, req, &a)) return;
  const char *station = gb_http_req_query_param(req, "station", sbuf, sizeof(sbuf));
  if (!station || !*station) station = a.account.station;
  if (!station || !*station) {
    respond_error(req, 400, "station: name one, ?station=<id>, or * for every station");
    return;
  }
  if (!auth_require_station(n, req, station, &a)) return;
  const char *d = gb_http_req_query_param(req, "day", dbuf, sizeof(dbuf));
  int day = gb_china_day(gb_now_ms());
  if (d) {
    char *end;
    long v = strtol(d, &end, 10);
    if (*end || v < 20000101 || v > 99991231) {
      respond_error(req, 400, "day: YYYYMMDD, a day in China");
      return;
    }
    day = (int)v;
  }
  if (strcmp(station, "*") != 0) {
    figures_t f = {.counts = json_object()};
    append_station(n, station, day);
    if (collect_station(n, station, &f) != 0) {
      json_t *o = render(station, &f);
      json_decref(o);
      respond_error(req, 503, "statistics unavailable; try again");
      return;
    }
    json_t *o = render(station, &f);
    json_object_set_new(o, "day", json_integer(day));
    respond_json(req, 200, o);
    return;
  }
  gb_station_t *list = NULL;
  int count = gb_stations_list(n->redis, n->prefix, &list);
  if (count < 0) {
    respond_error(req, 503, "statistics unavailable; try again");
    return;
  }
  figures_t total = {.counts = json_object()};
  json_t *stations = json_array();
  int err = 0;
  for (int i = 0; i < count; i++) append_station(n, list[i].id, day);
  for (int i = 0; i < count; i++) {
    figures_t f = {.counts = json_object()};
    if (collect_station(n, list[i].id, &f) != 0) err = -1;
    if (f.oldest_id[0] && (!total.oldest_id[0] || f.oldest_ms < total.oldest_ms)) {
      memcpy(total.oldest_id, f.oldest_id, sizeof(total.oldest_id));
      memcpy(total.oldest_station, f.oldest_station, sizeof(total.oldest_station));
      total.oldest_ms = f.oldest_ms;
    }
    for (size_t j = 0; j < f.ttc.n; j++) durations_add(&total.ttc, f.ttc.v[j]);
    for (size_t j = 0; j < f.ttr.n; j++) durations_add(&total.ttr, f.ttr.v[j]);
    const char *g;
    json_t *gv;
    json_object_foreach(f.counts, g, gv) {
      json_t *into = json_object_get(total.counts, g);
      if (json_is_integer(gv)) {
        json_object_set_new(total.counts, g, json_integer(json_integer_value(gv) +
                                                          json_integer_value(into)));
        continue;
      }
      if (!into) json_object_set_new(total.counts, g, into = json_object());
      const char *k2;
      json_t *v2;
      json_object_foreach(gv, k2, v2) {
        json_object_set_new(into, k2, json_integer(json_integer_value(v2) +
                                                   json_integer_value(json_object_get(into, k2))));
      }
    }
    json_array_append_new(stations, render(list[i].id, &f));
  }
  free(list);
  json_t *t = render(NULL, &total);
  if (err) {
    json_decref(t);
    json_decref(stations);
    respond_error(req, 503, "statistics unavailable; try again");
    return;
  }
  respond_json(req, 200, json_pack("{s:i, s:o, s:o}", "day", day, "stations", stations, "total", t));
}

void notifier_api_alertstats_register(notifier_t *n) {
  gb_http_route(n->http, "GET", "/v1/stats/alerts", on_stats, n);
}
