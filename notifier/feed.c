#include "feed.h"

#include <stdio.h>
#include <string.h>

#include "gb/err.h"
#include "gb/keys.h"

/* KEYS: alert hash, feed stream. ARGV: revision, json, maxlen.
 * Returns false when a copy at least as new is stored, else
 * {feed entry id, "alert" or "alert.updated"}. */
static const char store_lua[] =
    "local cur = redis.call('HGET', KEYS[1], 'revision')\n"
    "if cur and tonumber(cur) >= tonumber(ARGV[1]) then return false end\n"
    "local ev = cur and 'alert.updated' or 'alert'\n"
    "local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*',"
    " 'event', ev, 'json', ARGV[2])\n"
    "redis.call('HSET', KEYS[1], 'json', ARGV[2], 'revision', ARGV[1], 'stream_id', id)\n"
    "redis.call('HSETNX', KEYS[1], 'state', 'new')\n"
    "return {id, ev}\n";

int feed_store(gb_redis_t *r, const char *prefix, const char *station, const char *alert_id,
               uint32_t revision, const char *json, char *stream_id, size_t stream_id_size,
               const char **event) {
  char ka[GB_KEY_MAX], kf[GB_KEY_MAX];
  redisReply *rep = gb_redis_command(r, "EVAL %s 2 %s %s %lld %s %d", store_lua,
                                     gb_key_alert(ka, prefix, station, alert_id),
                                     gb_key_feed(kf, prefix, station), (long long)revision,
                                     json, FEED_MAXLEN);
  if (!rep || rep->type == REDIS_REPLY_ERROR) {
    if (rep) freeReplyObject(rep);
    return GB_EIO;
  }
  int stored = rep->type == REDIS_REPLY_ARRAY && rep->elements == 2;
  if (stored) {
    snprintf(stream_id, stream_id_size, "%s", rep->element[0]->str);
    *event = strcmp(rep->element[1]->str, "alert") == 0 ? "alert" : "alert.updated";
  }
  freeReplyObject(rep);
  return stored;
}

/* A feed entry id is "<ms>-<seq>"; anything else is not one of ours. */
static int valid_id(const char *s) {
  size_t d1 = strspn(s, "0123456789");
  if (d1 == 0 || d1 > 20 || s[d1] != '-') return 0;
  size_t d2 = strspn(s + d1 + 1, "0123456789");
  return d2 > 0 && d2 <= 20 && s[d1 + 1 + d2] == '\0';
}

int feed_replay(gb_redis_t *r, const char *prefix, const char *station, const char *after_id,
                int max, feed_entry_fn fn, void *ud) {
  if (!valid_id(after_id)) return 0;
  char kf[GB_KEY_MAX], start[48];
  snprintf(start, sizeof(start), "(%s", after_id);
  redisReply *rep = gb_redis_command(r, "XRANGE %s %s + COUNT %d",
                                     gb_key_feed(kf, prefix, station), start, max);
  if (!rep || rep->type != REDIS_REPLY_ARRAY) {
    if (rep) freeReplyObject(rep);
    return GB_EIO;
  }
  int n = 0;
  for (size_t i = 0; i < rep->elements; i++) {
    redisReply *e = rep->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
    const char *event = "alert", *json = NULL;
    redisReply *f = e->element[1];
    for (size_t j = 0; j + 1 < f->elements; j += 2) {
      if (strcmp(f->element[j]->str, "json") == 0) json = f->element[j + 1]->str;
      if (strcmp(f->element[j]->str, "event") == 0) event = f->element[j + 1]->str;
    }
    if (json) {
      fn(e->element[0]->str, event, json, ud);
      n++;
    }
  }
  freeReplyObject(rep);
  return n;
}
