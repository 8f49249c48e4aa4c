/* GET /v1/stats/series[?station=<id>|*][&days=N]: daily series of a
 * station's figures for the dashboard's charts (docs/API.md), the N days in
 * China (1-31, default 14) oldest first, ending today:
 *   - from the alert statistics (alertstats.h, ast:{st:<s>}:<day>): alerts
 *     received by risk, claims, outcomes, escalations (every level summed)
 *     and reminders; the times to claim as a histogram over the period;
 *   - from the registry's (gb/registry.h, statd:{st:<s>}:<day>):
 *     registrations, follows, unfollows; and the protected persons now
 *     (stat:{st:<s>} protected).
 * Read only: the figures are written by the scripts that change alerts and
 * by the registry. Officers and station administrators see their own
 * station (the default); a bureau administrator any, or every station
 * summed (station=*, the default for them). Every read of a request is
 * pipelined, in batches of about BATCH_COMMANDS commands: 100 stations over
 * 14 days are 2 round trips (over 31 days, 4), plus 2 to list the stations
 * (about 70 ms in all, measured). Loop thread, with notifier's synchronous
 * Redis connection: the loop waits for those round trips, as for
 * GET /v1/stats/alerts. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertstats.h"
#include "auth.h"
#include "gb/err.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/registry.h"
#include "gb/stations.h"
#include "gb/timeparse.h"
#include "notifier.h"
#include "respond.h"

#define DAYS_DEFAULT 14
#define DAYS_MAX 31
#define BATCH_COMMANDS 8192
#define DAY_MS 86400000LL

/* Time to claim: bucket i holds the claims that took at most
 * ttc_bounds_s[i] and more than the bound before; the last bucket, longer
 * than every bound. */
#define TTC_BOUNDS 7
static const int ttc_bounds_s[TTC_BOUNDS] = {30, 60, 120, 300, 600, 1800, 3600};

/* Commands per station and day: the day's alert statistics, the day's
 * registry statistics, one ZCOUNT per time-to-claim bucket. */
#define CMDS_PER_DAY (2 + TTC_BOUNDS + 1)

typedef struct {
  int day;          /* YYYYMMDD, China */
  json_t *alerts;   /* risk -> alerts received */
  json_t *outcomes; /* outcome -> count, every one recorded */
  json_int_t claimed, escalated, reminders, registrations, follows, unfollows;
} day_t;

typedef struct {
  int ndays;
  day_t day[DAYS_MAX];
  json_int_t ttc[TTC_BOUNDS + 1];
  json_int_t protected_total;
} series_t;

static void series_init(series_t *s, int ndays, int64_t now_ms) {
  memset(s, 0, sizeof(*s));
  s->ndays = ndays;
  for (int i = 0; i < ndays; i++) {
    day_t *d = &s->day[i];
    /* China keeps no summer time: each day is 86,400 s. */
    d->day = gb_china_day(now_ms - (int64_t)(ndays - 1 - i) * DAY_MS);
    d->alerts = json_pack("{s:i, s:i, s:i}", "high", 0, "medium", 0, "low", 0);
    d->outcomes = json_object();
  }
}

static void series_free(series_t *s) {
  for (int i = 0; i < s->ndays; i++) {
    json_decref(s->day[i].alerts);
    json_decref(s->day[i].outcomes);
  }
}

static void bump(json_t *obj, const char *name, json_int_t v) {
  json_t *cur = json_object_get(obj, name);
  json_object_set_new(obj, name, json_integer(v + (cur ? json_integer_value(cur) : 0)));
}

/* Calls fn for each field of an HGETALL reply. -1 for anything but a hash. */
static int hash_each(const redisReply *h, void (*fn)(day_t *, const char *, json_int_t),
                     day_t *d) {
  if (!h || h->type != REDIS_REPLY_ARRAY) return -1;
  for (size_t i = 0; i + 1 < h->elements; i += 2) {
    const redisReply *f = h->element[i], *v = h->element[i + 1];
    if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) return -1;
    fn(d, f->str, strtoll(v->str, NULL, 10));
  }
  return 0;
}

/* A field of ast:{st:<s>}:<day>. */
static void add_alert_field(day_t *d, const char *f, json_int_t v) {
  if (!strncmp(f, "risk:", 5)) bump(d->alerts, f + 5, v);
  else if (!strncmp(f, "outcome:", 8)) bump(d->outcomes, f + 8, v);
  else if (!strncmp(f, "escalated:", 10)) d->escalated += v;
  else if (!strcmp(f, "claimed")) d->claimed += v;
  else if (!strcmp(f, "reminders")) d->reminders += v;
}

/* A field of statd:{st:<s>}:<day>. */
static void add_registry_field(day_t *d, const char *f, json_int_t v) {
  if (!strcmp(f, "registrations")) d->registrations += v;
  else if (!strcmp(f, "follows")) d->follows += v;
  else if (!strcmp(f, "unfollows")) d->unfollows += v;
}

/* Appends a station's commands, in the order take_reply expects them;
 * *sent counts those appended. 0 or a GB_E* code. */
static int append_station(notifier_t *n, const char *station, const series_t *s, int *sent) {
  char k[GB_KEY_MAX], min[32], max[32];
  ast_keys_t ak;
  if (gb_redis_append(n->redis, "HGET %s protected",
                      gb_key_station(k, n->prefix, "stat", station)) != 0)
    return GB_EIO;
  ++*sent;
  for (int i = 0; i < s->ndays; i++) {
    ast_keys(&ak, n->prefix, station, s->day[i].day);
    snprintf(k, sizeof(k), "%sstatd:{st:%s}:%d", n->prefix, station, s->day[i].day);
    if (gb_redis_append(n->redis, "HGETALL %s", ak.day) != 0) return GB_EIO;
    ++*sent;
    if (gb_redis_append(n->redis, "HGETALL %s", k) != 0) return GB_EIO;
    ++*sent;
    for (int b = 0; b <= TTC_BOUNDS; b++) {
      /* Scores are milliseconds; a bucket is (previous bound, bound]. */
      if (b == 0) snprintf(min, sizeof(min), "-inf");
      else snprintf(min, sizeof(min), "(%d", ttc_bounds_s[b - 1] * 1000);
      if (b == TTC_BOUNDS) snprintf(max, sizeof(max), "+inf");
      else snprintf(max, sizeof(max), "%d", ttc_bounds_s[b] * 1000);
      if (gb_redis_append(n->redis, "ZCOUNT %s %s %s", ak.ttc, min, max) != 0) return GB_EIO;
      ++*sent;
    }
  }
  return 0;
}

/* Adds the reply to command k (counted from the station's first, as
 * append_station sends them) to s. 0, or -1 for a reply of the wrong kind. */
static int take_reply(series_t *s, int k, const redisReply *rep) {
  if (!rep) return -1;
  if (k == 0) {
    if (rep->type == REDIS_REPLY_NIL) return 0;
    if (rep->type != REDIS_REPLY_STRING) return -1;
    s->protected_total += strtoll(rep->str, NULL, 10);
    return 0;
  }
  day_t *d = &s->day[(k - 1) / CMDS_PER_DAY];
  int what = (k - 1) % CMDS_PER_DAY;
  if (what == 0) return hash_each(rep, add_alert_field, d);
  if (what == 1) return hash_each(rep, add_registry_field, d);
  if (rep->type != REDIS_REPLY_INTEGER) return -1;
  s->ttc[what - 2] += rep->integer;
  return 0;
}

/* Sums the figures of the stations into s. 0 or GB_EIO. */
static int read_series(notifier_t *n, const char *const *ids, int nids, series_t *s) {
  int per_station = 1 + s->ndays * CMDS_PER_DAY;
  int chunk = BATCH_COMMANDS / per_station;
  if (chunk < 1) chunk = 1;
  for (int first = 0; first < nids; first += chunk) {
    int last = first + chunk < nids ? first + chunk : nids;
    int sent = 0, err = 0;
    for (int i = first; i < last && !err; i++) err = append_station(n, ids[i], s, &sent);
    /* Every appended command's reply is read, so the connection stays in
     * step even after an error. */
    for (int k = 0; k < sent; k++) {
      redisReply *rep = gb_redis_reply(n->redis);
      if (!err && take_reply(s, k % per_station, rep) != 0) err = GB_EIO;
      if (rep) freeReplyObject(rep);
    }
    if (err) return GB_EIO;
  }
  return 0;
}

/* The answer; takes the days' objects out of s. */
static json_t *render(const char *station, series_t *s) {
  json_t *days = json_array(), *bounds = json_array(), *counts = json_array();
  for (int i = 0; i < s->ndays; i++) {
    day_t *d = &s->day[i];
    char date[48];
    snprintf(date, sizeof(date), "%04d-%02d-%02d", d->day / 10000, d->day / 100 % 100,
             d->day % 100);
    json_array_append_new(
        days, json_pack("{s:s, s:o, s:I, s:o, s:I, s:I, s:I, s:I, s:I}", "day", date, "alerts",
                        d->alerts, "claimed", d->claimed, "outcomes", d->outcomes, "escalated",
                        d->escalated, "reminders", d->reminders, "registrations",
                        d->registrations, "follows", d->follows, "unfollows", d->unfollows));
    d->alerts = d->outcomes = NULL; /* owned by days now */
  }
  for (int b = 0; b <= TTC_BOUNDS; b++) {
    if (b < TTC_BOUNDS) json_array_append_new(bounds, json_integer(ttc_bounds_s[b]));
    json_array_append_new(counts, json_integer(s->ttc[b]));
  }
  return json_pack("{s:s, s:o, s:{s:o, s:o}, s:I}", "station", station, "days", days,
                   "time_to_claim", "bounds_s", bounds, "counts", counts, "protected_total",
                   s->protected_total);
}

/* Whether the raw query has a parameter called name, with or without a
 * value (one too long for the caller's buffer reads as absent). */
static bool query_has(gb_http_req_t *req, const char *name) {
  size_t nl = strlen(name);
  for (const char *q = gb_http_req_query(req); *q;) {
    if (!strncmp(q, name, nl) && (q[nl] == '=' || q[nl] == '&' || q[nl] == '\0')) return true;
    q += strcspn(q, "&");
    if (*q == '&') q++;
  }
  return false;
}

static void unavailable(gb_http_req_t *req, notifier_t *n) {
  gb_warn("series.redis_failed", "reason=\"%s\"", gb_redis_errstr(n->redis));
  respond_error(req, 503, "statistics unavailable; try again");
}

static void on_series(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  char sbuf[GB_STATION_ID_MAX + 2], dbuf[8];
  gb_auth_t a;
  const char *station = gb_http_req_query_param(req, "station", sbuf, sizeof(sbuf));
  if (!station && query_has(req, "station")) {
    respond_error(req, 400, "station: an id of at most %d characters, or *", GB_STATION_ID_MAX);
    return;
  }
  if (station && *station) {
    /* 403 for another station's data, or for * but to a bureau
     * administrator, whether the station exists or not. */
    if (!auth_require_station(n, req, station, &a)) return;
  } else {
    /* The caller's own station, which they may see; every station for a
     * bureau administrator, who has none. */
    if (!auth_require(n, req, &a)) return;
    station = a.account.station[0] ? a.account.station : "*";
  }
  int ndays = DAYS_DEFAULT;
  const char *d = gb_http_req_query_param(req, "days", dbuf, sizeof(dbuf));
  if (d || query_has(req, "days")) {
    char *end;
    long v = d ? strtol(d, &end, 10) : 0;
    if (!d || end == d || *end || v < 1 || v > DAYS_MAX) {
      respond_error(req, 400, "days: a whole number 1-%d", DAYS_MAX);
      return;
    }
    ndays = (int)v;
  }

  gb_station_t one, *list = NULL;
  const char **ids = NULL;
  int count = 1;
  if (strcmp(station, "*") != 0) {
    int err = gb_station_get(n->redis, n->prefix, station, &one);
    if (err == GB_ENOTFOUND) {
      respond_error(req, 404, "no such station");
      return;
    }
    if (err) {
      unavailable(req, n);
      return;
    }
    ids = malloc(sizeof(*ids));
    if (ids) ids[0] = one.id;
  } else {
    /* Every unit, active or not, as GET /v1/stats/alerts?station=* sums. */
    count = gb_stations_list(n->redis, n->prefix, &list);
    if (count < 0) {
      unavailable(req, n);
      return;
    }
    ids = malloc(sizeof(*ids) * (size_t)(count ? count : 1));
    for (int i = 0; ids && i < count; i++) ids[i] = list[i].id;
  }
  if (!ids) {
    free(list);
    respond_error(req, 500, "out of memory");
    return;
  }
  series_t s;
  series_init(&s, ndays, gb_now_ms());
  int err = read_series(n, ids, count, &s);
  free(ids);
  free(list);
  if (err) {
    series_free(&s);
    unavailable(req, n);
    return;
  }
  json_t *o = render(station, &s);
  series_free(&s);
  respond_json(req, 200, o);
}

void notifier_api_series_register(notifier_t *n) {
  gb_http_route(n->http, "GET", "/v1/stats/series", on_series, n);
}
