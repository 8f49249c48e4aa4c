#include "feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "alertstats.h"
#include "gb/keys.h"
#include "gb/registry.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "sealed.h"

/* KEYS: alert hash, feed stream, live and day statistics (alertstats.h),
 * the station's listing and unclaimed alerts (ali, unc: gb/keys.h).
 * ARGV: revision, json, maxlen, push (1/0), risk, now_ms, alert id, then
 * the registrants' warnings. Returns false when a copy at least as new is
 * stored, else {feed entry id or "", event, first push 1/0, warnings}.
 *
 * The first push (state new for the first time) lists the alert and counts
 * it open under its risk (open_risk). A revision of a higher risk moves it
 * up, in the open counts while it is open and in the day's count by risk
 * when it arrived that same day (day_risk, day_key): each alert counts once,
 * at the highest risk it reached; a lower one never moves it down. Its arrived_ms is the
 * listing's cursor: kept unique and increasing per station (a ms after the
 * newest listed when the clock gives no later one), so that paging by it
 * never skips an alert that arrived in the same millisecond. */
static const char store_lua[] =
    "local cur = redis.call('HGET', KEYS[1], 'revision')\n"
    "if cur and tonumber(cur) >= tonumber(ARGV[1]) then return false end\n"
    "local state = redis.call('HGET', KEYS[1], 'state')\n"
    "local id, ev, first = '', 'alert', 0\n"
    "if ARGV[4] == '1' then\n"
    "  if cur and state ~= 'info' then ev = 'alert.updated' end\n"
    "  id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event', ev, 'json', ARGV[2])\n"
    "  if not state or state == 'info' then\n"
    "    local t = tonumber(ARGV[6])\n"
    "    local last = redis.call('ZREVRANGE', KEYS[5], 0, 0, 'WITHSCORES')\n"
    "    if last[2] and tonumber(last[2]) >= t then t = tonumber(last[2]) + 1 end\n"
    "    t = string.format('%.0f', t)\n"
    "    redis.call('HSET', KEYS[1], 'state', 'new', 'arrived_ms', t, 'open_risk', ARGV[5])\n"
    "    if state == 'info' then redis.call('HINCRBY', KEYS[3], 'state:info', -1) end\n"
    "    redis.call('HINCRBY', KEYS[3], 'state:new', 1)\n"
    "    redis.call('HINCRBY', KEYS[3], 'open:' .. ARGV[5], 1)\n"
    "    redis.call('ZADD', KEYS[5], t, ARGV[7])\n"
    "    redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -" FEED_LISTED_MAX_LUA " - 1)\n"
    "    redis.call('ZADD', KEYS[6], t, ARGV[7])\n"
    "    first = 1\n"
    "  end\n"
    "elseif not state then\n"
    "  redis.call('HSET', KEYS[1], 'state', 'info')\n"
    "  redis.call('HINCRBY', KEYS[3], 'state:info', 1)\n"
    "end\n"
    "local rank = {low = 1, medium = 2, high = 3}\n"
    "local function higher(r) return r and (rank[ARGV[5]] or 0) > (rank[r] or 0) end\n"
    "if not cur then\n"
    "  redis.call('HINCRBY', KEYS[4], 'risk:' .. ARGV[5], 1)\n"
    "  redis.call('EXPIRE', KEYS[4], " AST_DAY_TTL_LUA ")\n"
    "  redis.call('HSET', KEYS[1], 'day_risk', ARGV[5], 'day_key', KEYS[4])\n"
    "else\n"
    "  local c = redis.call('HMGET', KEYS[1], 'day_risk', 'day_key', 'open_risk', 'state')\n"
    "  if higher(c[1]) and c[2] == KEYS[4] then\n"
    "    redis.call('HINCRBY', KEYS[4], 'risk:' .. c[1], -1)\n"
    "    redis.call('HINCRBY', KEYS[4], 'risk:' .. ARGV[5], 1)\n"
    "    redis.call('HSET', KEYS[1], 'day_risk', ARGV[5])\n"
    "  end\n"
    "  if first == 0 and higher(c[3]) and (c[4] == 'new' or c[4] == 'claimed' or c[4] == 'disputed') then\n"
    "    redis.call('HINCRBY', KEYS[3], 'open:' .. c[3], -1)\n"
    "    redis.call('HINCRBY', KEYS[3], 'open:' .. ARGV[5], 1)\n"
    "    redis.call('HSET', KEYS[1], 'open_risk', ARGV[5])\n"
    "  end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'json', ARGV[2], 'revision', ARGV[1])\n"
    "if id ~= '' then redis.call('HSET', KEYS[1], 'stream_id', id) end\n"
    "local w = 0\n"
    "if not cur then\n"
    "  for i = 8, #ARGV do\n"
    "    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event', 'registrant.warning',"
    " 'json', ARGV[i])\n"
    "    w = w + 1\n"
    "  end\n"
    "end\n"
    "return {id, ev, first, w}\n";

int feed_for_devices(const char *event) { return strncmp(event, "registrant.", 11) != 0; }

int feed_store(gb_redis_t *r, const gb_keyring_t *kr, const char *prefix, const char *station,
               const char *alert_id, uint32_t revision, const char *json, const char *risk,
               int push, char *const *warnings, int nwarn, feed_stored_t *out) {
  char ka[GB_KEY_MAX], kf[GB_KEY_MAX], kl[GB_KEY_MAX], ku[GB_KEY_MAX], rev[16], maxlen[16],
      now[24];
  int64_t t = gb_now_ms();
  ast_keys_t ks;
  ast_keys(&ks, prefix, station, gb_china_day(t));
  snprintf(rev, sizeof(rev), "%u", revision);
  snprintf(maxlen, sizeof(maxlen), "%d", FEED_MAXLEN);
  snprintf(now, sizeof(now), "%lld", (long long)t);
  static gb_script_t script = GB_SCRIPT(store_lua);
  int argc = 14 + nwarn;
  /* The alert and the warnings carry phone numbers: sealed (sealed.h). */
  char **sealed = calloc((size_t)nwarn + 1, sizeof(*sealed));
  const char **argv = calloc((size_t)argc, sizeof(*argv));
  int err = sealed && argv ? 0 : GB_ENOMEM;
  for (int i = 0; !err && i <= nwarn; i++)
    if (!(sealed[i] = sealed_seal(kr, SEALED_FEED, i ? warnings[i - 1] : json))) err = GB_ENOMEM;
  if (err) {
    for (int i = 0; sealed && i <= nwarn; i++) free(sealed[i]);
    free(sealed);
    free(argv);
    return err;
  }
  argv[0] = "6";
  argv[1] = gb_key_alert(ka, prefix, station, alert_id);
  argv[2] = gb_key_feed(kf, prefix, station);
  argv[3] = ks.live, argv[4] = ks.day;
  argv[5] = gb_key_station(kl, prefix, "ali", station);
  argv[6] = gb_key_station(ku, prefix, "unc", station);
  argv[7] = rev, argv[8] = sealed[0], argv[9] = maxlen, argv[10] = push ? "1" : "0";
  argv[11] = risk, argv[12] = now, argv[13] = alert_id;
  for (int i = 0; i < nwarn; i++) argv[14 + i] = sealed[i + 1];
  redisReply *rep = gb_redis_eval(r, &script, argc, argv);
  for (int i = 0; i <= nwarn; i++) free(sealed[i]);
  free(sealed);
  free(argv);
  if (!rep || rep->type == REDIS_REPLY_ERROR) {
    if (rep) freeReplyObject(rep);
    return GB_EIO;
  }
  int stored = rep->type == REDIS_REPLY_ARRAY && rep->elements == 4;
  if (stored) {
    snprintf(out->stream_id, sizeof(out->stream_id), "%s", rep->element[0]->str);
    out->event = strcmp(rep->element[1]->str, "alert") == 0 ? "alert" : "alert.updated";
    out->first_push = rep->element[2]->integer == 1;
    out->warnings = (int)rep->element[3]->integer;
  }
  freeReplyObject(rep);
  return stored;
}

/* A feed entry id is "<ms>-<seq>"; anything else is not one of ours. */
int feed_id_valid(const char *s) {
  size_t d1 = strspn(s, "0123456789");
  if (d1 == 0 || d1 > 20 || s[d1] != '-') return 0;
  size_t d2 = strspn(s + d1 + 1, "0123456789");
  return d2 > 0 && d2 <= 20 && s[d1 + 1 + d2] == '\0';
}

int feed_id_cmp(const char *a, const char *b) {
  unsigned long long am = 0, as = 0, bm = 0, bs = 0;
  sscanf(a, "%llu-%llu", &am, &as);
  sscanf(b, "%llu-%llu", &bm, &bs);
  if (am != bm) return am < bm ? -1 : 1;
  return as < bs ? -1 : as > bs;
}

int feed_id_before(const char *id, char *out, size_t size) {
  unsigned long long ms, seq;
  char tail;
  if (sscanf(id, "%llu-%llu%c", &ms, &seq, &tail) != 2) return -1;
  if (seq > 0) snprintf(out, size, "%llu-%llu", ms, seq - 1);
  else if (ms > 0) snprintf(out, size, "%llu-%llu", ms - 1, 18446744073709551615ULL);
  else return -1;
  return 0;
}

int feed_replay(gb_redis_t *r, const gb_keyring_t *kr, const char *prefix, const char *station,
                const char *after_id, int max, feed_entry_fn fn, void *ud, feed_read_t *got) {
  if (got) got->read = 0, got->last[0] = '\0';
  if (!feed_id_valid(after_id)) return 0;
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
    if (got) {
      got->read++;
      snprintf(got->last, sizeof(got->last), "%s", e->element[0]->str);
    }
    const char *event = "alert", *json = NULL, *extra = NULL;
    redisReply *f = e->element[1];
    for (size_t j = 0; j + 1 < f->elements; j += 2) {
      if (strcmp(f->element[j]->str, "json") == 0) json = f->element[j + 1]->str;
      if (strcmp(f->element[j]->str, "event") == 0) event = f->element[j + 1]->str;
      if (strcmp(f->element[j]->str, "extra") == 0) extra = f->element[j + 1]->str;
    }
    if (!json || !feed_for_devices(event)) continue;
    char *plain = sealed_feed_json(kr, json, extra);
    if (!plain) {
      gb_error("feed.unreadable", "station=%s entry=%s reason=\"does not open with the keyring\"",
               station, e->element[0]->str);
      continue;
    }
    fn(e->element[0]->str, event, plain, ud);
    free(plain);
    n++;
  }
  freeReplyObject(rep);
  return n;
}
