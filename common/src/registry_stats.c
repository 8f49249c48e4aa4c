/* The live statistics of the index: read, and recomputed from the index
 * itself to find and repair drift (gb/registry.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/registry.h"

static long long field(const redisReply *rep, const char *name) {
  for (size_t i = 0; rep && i + 1 < rep->elements; i += 2)
    if (strcmp(rep->element[i]->str, name) == 0) return strtoll(rep->element[i + 1]->str, NULL, 10);
  return 0;
}

int gb_stats_get(gb_redis_t *r, const char *prefix, const char *station, int day,
                 gb_station_stats_t *out) {
  memset(out, 0, sizeof(*out));
  gb_redis_append(r, "HGETALL %sstat:{st:%s}", prefix, station);
  gb_redis_append(r, "HGETALL %sstatd:{st:%s}:%d", prefix, station, day);
  redisReply *a = gb_redis_reply(r), *b = gb_redis_reply(r);
  int ok = a && a->type == REDIS_REPLY_ARRAY && b && b->type == REDIS_REPLY_ARRAY;
  if (ok) {
    out->followers = field(a, "followers");
    out->registered = field(a, "registered");
    out->protected_ = field(a, "protected");
    out->registrations_today = field(b, "registrations");
    out->follows_today = field(b, "follows");
    out->unfollows_today = field(b, "unfollows");
  }
  if (a) freeReplyObject(a);
  if (b) freeReplyObject(b);
  return ok ? 0 : GB_EIO;
}

/* A small map station -> figures, for the recount. */
typedef struct {
  char station[65];
  gb_station_stats_t s;
} tally_t;

typedef struct {
  tally_t *t;
  int n, cap;
} tallies_t;

static gb_station_stats_t *tally(tallies_t *ts, const char *station, size_t len) {
  if (len > 64) len = 64;
  for (int i = 0; i < ts->n; i++)
    if (strlen(ts->t[i].station) == len && memcmp(ts->t[i].station, station, len) == 0)
      return &ts->t[i].s;
  if (ts->n == ts->cap) {
    int cap = ts->cap ? ts->cap * 2 : 64;
    tally_t *t = realloc(ts->t, sizeof(*t) * (size_t)cap);
    if (!t) return NULL;
    ts->t = t, ts->cap = cap;
  }
  tally_t *x = &ts->t[ts->n++];
  memset(x, 0, sizeof(*x));
  memcpy(x->station, station, len);
  return &x->s;
}

/* Calls each(key) for every key matching pattern; returns 0 or GB_EIO. */
static int scan(gb_redis_t *r, const char *pattern, int (*each)(gb_redis_t *, const char *, void *),
                void *ud) {
  char cursor[32] = "0";
  do {
    redisReply *rep = gb_redis_command(r, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
      if (rep) freeReplyObject(rep);
      return GB_EIO;
    }
    snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
    redisReply *keys = rep->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
      int err = each(r, keys->element[i]->str, ud);
      if (err) {
        freeReplyObject(rep);
        return err;
      }
    }
    freeReplyObject(rep);
  } while (strcmp(cursor, "0") != 0);
  return 0;
}

static int count_registrant(gb_redis_t *r, const char *key, void *ud) {
  redisReply *rep = gb_redis_command(r, "HMGET %s station real following", key);
  if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3) {
    if (rep) freeReplyObject(rep);
    return GB_EIO;
  }
  const redisReply *st = rep->element[0];
  if (st->type == REDIS_REPLY_STRING) {
    gb_station_stats_t *s = tally(ud, st->str, st->len);
    if (!s) {
      freeReplyObject(rep);
      return GB_ENOMEM;
    }
    if (rep->element[1]->type == REDIS_REPLY_STRING && rep->element[1]->str[0] == '1') s->registered++;
    if (rep->element[2]->type == REDIS_REPLY_STRING && rep->element[2]->str[0] == '1') s->followers++;
  }
  freeReplyObject(rep);
  return 0;
}

/* A number counts once at each station that has an owner of it. */
static int count_number(gb_redis_t *r, const char *key, void *ud) {
  redisReply *rep = gb_redis_command(r, "HVALS %s", key);
  if (!rep || rep->type != REDIS_REPLY_ARRAY) {
    if (rep) freeReplyObject(rep);
    return GB_EIO;
  }
  for (size_t i = 0; i < rep->elements; i++) {
    const char *v = rep->element[i]->str, *tab = strchr(v, '\t');
    size_t len = tab ? (size_t)(tab - v) : strlen(v);
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) {
      const char *w = rep->element[j]->str, *t2 = strchr(w, '\t');
      size_t l2 = t2 ? (size_t)(t2 - w) : strlen(w);
      seen = l2 == len && memcmp(v, w, len) == 0;
    }
    if (seen) continue;
    gb_station_stats_t *s = tally(ud, v, len);
    if (!s) {
      freeReplyObject(rep);
      return GB_ENOMEM;
    }
    s->protected_++;
  }
  freeReplyObject(rep);
  return 0;
}

typedef struct {
  tallies_t *ts;
  const char *prefix;
} stored_ctx_t;

/* Stations that have stored figures but nothing in the index any more. */
static int note_stored(gb_redis_t *r, const char *key, void *ud) {
  (void)r;
  stored_ctx_t *c = ud;
  const char *open = strstr(key, "{st:");
  const char *close = open ? strchr(open, '}') : NULL;
  if (!open || !close) return 0;
  return tally(c->ts, open + 4, (size_t)(close - open - 4)) ? 0 : GB_ENOMEM;
}

int gb_registry_reconcile(gb_redis_t *r, const char *prefix, bool fix, gb_reconcile_fn fn,
                          void *ud, int *stations, int *drifted) {
  tallies_t ts = {0};
  char pattern[256];
  int err;
  *stations = *drifted = 0;
  snprintf(pattern, sizeof(pattern), "%srg:{*}", prefix);
  if ((err = scan(r, pattern, count_registrant, &ts))) goto done;
  snprintf(pattern, sizeof(pattern), "%spn:{*}", prefix);
  if ((err = scan(r, pattern, count_number, &ts))) goto done;
  stored_ctx_t sc = {&ts, prefix};
  snprintf(pattern, sizeof(pattern), "%sstat:{st:*}", prefix);
  if ((err = scan(r, pattern, note_stored, &sc))) goto done;
  for (int i = 0; i < ts.n; i++) {
    gb_station_stats_t stored;
    if ((err = gb_stats_get(r, prefix, ts.t[i].station, 0, &stored))) goto done;
    const gb_station_stats_t *a = &ts.t[i].s;
    (*stations)++;
    if (stored.followers == a->followers && stored.registered == a->registered &&
        stored.protected_ == a->protected_)
      continue;
    (*drifted)++;
    if (fn) fn(ts.t[i].station, &stored, a, ud);
    if (fix) {
      redisReply *rep = gb_redis_command(r, "HSET %sstat:{st:%s} followers %lld registered %lld "
                                            "protected %lld",
                                         prefix, ts.t[i].station, a->followers, a->registered,
                                         a->protected_);
      if (!rep || rep->type == REDIS_REPLY_ERROR) err = GB_EIO;
      if (rep) freeReplyObject(rep);
      if (err) goto done;
    }
  }
done:
  free(ts.t);
  return err;
}
