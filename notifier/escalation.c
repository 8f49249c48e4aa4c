/* Escalation (docs/API.md, "Escalation"): an alert nobody has claimed
 * notifier.escalate-after-s after it reached its station is pushed again
 * to the station's devices and raised to the station administrator
 * (level 1); still unclaimed as long again, to the bureau (level 2).
 * Reminders: a claimed alert with no record notifier.remind-after-s after
 * the claim is pushed again as alert.reminder, naming the officer who has
 * it, and again each time as long passes, until it is resolved, released
 * or disputed.
 *
 * Due escalations wait in one sorted set (<p>due: "<station>|<alert>|<level>",
 * reminders "<station>|<alert>|r<claimed_ms>", by due time). Every notifier
 * worker looks once a second; taking the due ones is one script, so each is
 * handled by one worker at a time. Taking leases them (their due time moves
 * TAKE_LEASE_MS ahead) rather than removing them, and each is removed once
 * handled: a reply lost to a timeout (Redis stopped, then resumed), a worker
 * dying mid-way or a failed step leaves it to come back when the lease
 * ends, never lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertstats.h"
#include "feed.h"
#include "gb/err.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/registry.h"
#include "gb/timeparse.h"
#include "notifier.h"
#include "sealed.h"

#define TAKE_MAX 100
#define TAKE_LEASE_MS 60000

/* ARGV: now, limit, lease until. */
static const char take_lua[] =
    "local m = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])\n"
    "for _, x in ipairs(m) do redis.call('ZADD', KEYS[1], ARGV[3], x) end\n"
    "return m\n";

/* KEYS: alert, feed, audit, the day's statistics, the live ones. ARGV:
 * level, now_ms, feed maxlen, alert id, to. The first escalation of an
 * alert counts it in escalated_open (esc_open marks it counted, until
 * workflow.c takes it off when the alert closes). */
static const char escalate_lua[] =
    "if redis.call('HGET', KEYS[1], 'state') ~= 'new' then return {'done'} end\n"
    /* Taken again after its lease (its removal failed): once is enough. */
    "if tonumber(redis.call('HGET', KEYS[1], 'escalated') or '0') >= tonumber(ARGV[1]) then"
    " return {'done'} end\n"
    "redis.call('HINCRBY', KEYS[4], 'escalated:' .. ARGV[5], 1)\n"
    "redis.call('EXPIRE', KEYS[4], " AST_DAY_TTL_LUA ")\n"
    "if not redis.call('HGET', KEYS[1], 'esc_open') then\n"
    "  redis.call('HSET', KEYS[1], 'esc_open', '1')\n"
    "  redis.call('HINCRBY', KEYS[5], 'escalated_open', 1)\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'escalated', ARGV[1], 'escalated_ms', ARGV[2])\n"
    "redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*', 'alert', ARGV[4], 'action',"
    " 'escalate', 'by', 'notifier', 'at', ARGV[2], 'details', cjson.encode({to = ARGV[5],"
    " level = tonumber(ARGV[1])}), 'from', 'new', 'to', 'escalated')\n"
    "local json = redis.call('HGET', KEYS[1], 'json') or '{}'\n"
    "local extra = cjson.encode({escalation = {level = tonumber(ARGV[1]), to = ARGV[5]}})\n"
    "local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event',"
    " 'alert.escalated', 'json', json, 'extra', extra)\n"
    "return {'ok', id, json, extra}\n";

/* KEYS: alert, feed, audit, the day's statistics. ARGV: claimed_ms, now_ms,
 * feed maxlen, alert id. Only the same claim, still without a record. The
 * alert counts its reminders (reminders, reminded_ms: GET /v1/alerts). */
static const char remind_lua[] =
    "local st = redis.call('HMGET', KEYS[1], 'state', 'claimed_ms', 'claimed_by')\n"
    "if st[1] ~= 'claimed' or st[2] ~= ARGV[1] then return {'done'} end\n"
    "redis.call('HINCRBY', KEYS[4], 'reminders', 1)\n"
    "redis.call('HINCRBY', KEYS[1], 'reminders', 1)\n"
    "redis.call('HSET', KEYS[1], 'reminded_ms', ARGV[2])\n"
    "redis.call('EXPIRE', KEYS[4], " AST_DAY_TTL_LUA ")\n"
    "redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*', 'alert', ARGV[4], 'action',"
    " 'remind', 'by', 'notifier', 'at', ARGV[2], 'details', cjson.encode({officer = st[3]}),"
    " 'from', 'claimed', 'to', 'claimed')\n"
    "local json = redis.call('HGET', KEYS[1], 'json') or '{}'\n"
    "local extra = cjson.encode({reminder = {officer = st[3], claimed_ms = tonumber(ARGV[1])}})\n"
    "local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event',"
    " 'alert.reminder', 'json', json, 'extra', extra)\n"
    "return {'ok', id, json, extra}\n";

static void due_key(char *out, const char *prefix) { snprintf(out, GB_KEY_MAX, "%sdue", prefix); }

/* A taken member is done with. If this fails, it comes back after its
 * lease, and the scripts find nothing left to do. */
static void forget(notifier_t *n, const char *member) {
  char k[GB_KEY_MAX];
  due_key(k, n->prefix);
  redisReply *r = gb_redis_command(n->redis, "ZREM %s %s", k, member);
  if (r) freeReplyObject(r);
}

int escalation_schedule(notifier_t *n, const char *station, const char *id, int level) {
  char k[GB_KEY_MAX], member[160], due[24];
  due_key(k, n->prefix);
  snprintf(member, sizeof(member), "%s|%s|%d", station, id, level);
  snprintf(due, sizeof(due), "%lld", (long long)(gb_now_ms() + n->escalate_ms));
  redisReply *r = gb_redis_command(n->redis, "ZADD %s NX %s %s", k, due, member);
  int ok = r && r->type == REDIS_REPLY_INTEGER;
  if (r) freeReplyObject(r);
  return ok ? 0 : GB_EIO;
}

int reminder_schedule(notifier_t *n, const char *station, const char *id, const char *claimed_ms) {
  char k[GB_KEY_MAX], member[200], due[24];
  due_key(k, n->prefix);
  snprintf(member, sizeof(member), "%s|%s|r%s", station, id, claimed_ms);
  snprintf(due, sizeof(due), "%lld", (long long)(gb_now_ms() + n->remind_ms));
  redisReply *r = gb_redis_command(n->redis, "ZADD %s %s %s", k, due, member);
  int ok = r && r->type == REDIS_REPLY_INTEGER;
  if (r) freeReplyObject(r);
  return ok ? 0 : GB_EIO;
}

static void remind(notifier_t *n, const char *member, const char *station, const char *id,
                   const char *claimed_ms) {
  char ka[GB_KEY_MAX], kf[GB_KEY_MAX], kaud[GB_KEY_MAX], now[24], maxlen[16];
  snprintf(kaud, sizeof(kaud), "%saudit:{st:%s}", n->prefix, station);
  snprintf(now, sizeof(now), "%lld", (long long)gb_now_ms());
  snprintf(maxlen, sizeof(maxlen), "%d", FEED_MAXLEN);
  ast_keys_t ks;
  ast_keys(&ks, n->prefix, station, gb_china_day(gb_now_ms()));
  const char *argv[] = {"EVAL", remind_lua, "4", gb_key_alert(ka, n->prefix, station, id),
                        gb_key_feed(kf, n->prefix, station), kaud, ks.day, claimed_ms, now,
                        maxlen, id};
  redisReply *r = gb_redis_commandargv(n->redis, 11, argv, NULL);
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
    gb_warn("reminder.failed", "alert=%s station=%s reason=\"%s\" action=retry_after_lease", id,
            station, gb_redis_errstr(n->redis));
    if (r) freeReplyObject(r);
    return; /* still leased: it comes back */
  }
  if (!strcmp(r->element[0]->str, "ok") && r->elements >= 4) {
    notifier_feed_changed(n, station, r->element[1]->str, 1);
    gb_warn("alert.reminder", "alert=%s station=%s claimed_ms=%s feed_id=%s", id, station,
            claimed_ms, r->element[1]->str);
    reminder_schedule(n, station, id, claimed_ms);
  } else {
    gb_info("alert.reminder_done", "alert=%s station=%s", id, station);
    forget(n, member);
  }
  freeReplyObject(r);
}

static void escalate(notifier_t *n, const char *member) {
  char station[80], id[80], what[32];
  if (sscanf(member, "%79[^|]|%79[^|]|%31s", station, id, what) != 3) return;
  if (what[0] == 'r') {
    remind(n, member, station, id, what + 1);
    return;
  }
  int level = atoi(what);
  const char *to = level >= 2 ? "bureau" : "station_admin";
  char ka[GB_KEY_MAX], kf[GB_KEY_MAX], kaud[GB_KEY_MAX], lv[8], now[24], maxlen[16];
  snprintf(kaud, sizeof(kaud), "%saudit:{st:%s}", n->prefix, station);
  snprintf(lv, sizeof(lv), "%d", level);
  snprintf(now, sizeof(now), "%lld", (long long)gb_now_ms());
  snprintf(maxlen, sizeof(maxlen), "%d", FEED_MAXLEN);
  ast_keys_t ks;
  ast_keys(&ks, n->prefix, station, gb_china_day(gb_now_ms()));
  const char *argv[] = {"EVAL", escalate_lua, "5", gb_key_alert(ka, n->prefix, station, id),
                        gb_key_feed(kf, n->prefix, station), kaud, ks.day, ks.live, lv, now,
                        maxlen, id, to};
  redisReply *r = gb_redis_commandargv(n->redis, 13, argv, NULL);
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
    gb_warn("escalation.failed", "alert=%s station=%s level=%d reason=\"%s\" "
            "action=retry_after_lease", id, station, level, gb_redis_errstr(n->redis));
    if (r) freeReplyObject(r);
    return; /* still leased: it comes back */
  }
  if (!strcmp(r->element[0]->str, "ok") && r->elements >= 4) {
    notifier_feed_changed(n, station, r->element[1]->str, 1);
    gb_warn("alert.escalated", "alert=%s station=%s level=%d to=%s feed_id=%s", id, station,
            level, to, r->element[1]->str);
    if (level < 2) escalation_schedule(n, station, id, level + 1);
  }
  forget(n, member);
  freeReplyObject(r);
}

static void on_timer(uv_timer_t *t) {
  notifier_t *n = t->data;
  char k[GB_KEY_MAX], now[24], take[8], lease[24];
  due_key(k, n->prefix);
  snprintf(now, sizeof(now), "%lld", (long long)gb_now_ms());
  snprintf(take, sizeof(take), "%d", TAKE_MAX);
  snprintf(lease, sizeof(lease), "%lld", (long long)(gb_now_ms() + TAKE_LEASE_MS));
  static gb_script_t script = GB_SCRIPT(take_lua);
  const char *argv[] = {"1", k, now, take, lease};
  redisReply *r = gb_redis_eval(n->redis, &script, 5, argv);
  if (!r || r->type != REDIS_REPLY_ARRAY) {
    if (r) freeReplyObject(r);
    return; /* Redis is down: the due ones wait in Redis for the next turn */
  }
  for (size_t i = 0; i < r->elements; i++)
    if (r->element[i]->type == REDIS_REPLY_STRING) escalate(n, r->element[i]->str);
  freeReplyObject(r);
}

int notifier_escalation_start(notifier_t *n) {
  uv_timer_init(n->loop, &n->escalate_timer);
  n->escalate_timer.data = n;
  return uv_timer_start(&n->escalate_timer, on_timer, 1000, 1000) == 0 ? 0 : GB_EIO;
}

void notifier_escalation_stop(notifier_t *n) {
  uv_timer_stop(&n->escalate_timer);
  uv_close((uv_handle_t *)&n->escalate_timer, NULL);
}
