#include "incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/keys.h"

/* KEYS: inc evi itm sig itl
 * ARGV: 1 ts, 2 rule, 3 risk, 4 evkey, 5 itemkey, 6 digest, 7 blob, 8 new id,
 *       9 suppression ms, 10 combination window ms, 11 signal, 12 rule-4 calls,
 *       13 rule-4 window ms, 14 rule-4 call id, 15 ttl ms, 16 resend (1/0)
 * Returns {0} (nothing new) or {action, id, risk, rule, count, rev, first,
 * last, items}; with resend, evidence of the current incident that changes
 * nothing returns the incident too, with a tenth element, 1 (incident.h). */
static const char incident_lua[] =
    "local ts = tonumber(ARGV[1])\n"
    "local rule, risk = tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local n = 0\n"
    "if ARGV[14] ~= '' then\n"
    /* Rule 4: alert when some window of w ms holding this call holds the
     * threshold's number of calls; order of arrival does not matter. */
    "  local w = tonumber(ARGV[13])\n"
    "  redis.call('ZADD', KEYS[5], ts, ARGV[14])\n"
    "  local top = redis.call('ZRANGE', KEYS[5], -1, -1, 'WITHSCORES')\n"
    "  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. (tonumber(top[2]) - 2 * w))\n"
    "  redis.call('PEXPIRE', KEYS[5], ARGV[15])\n"
    "  local s = redis.call('ZRANGEBYSCORE', KEYS[5], ts - w, ts + w, 'WITHSCORES')\n"
    "  local t = {}\n"
    "  for i = 2, #s, 2 do t[#t + 1] = tonumber(s[i]) end\n"
    "  local j = 1\n"
    "  for i = 1, #t do\n"
    "    if t[i] > ts then break end\n"
    "    if j < i then j = i end\n"
    "    while j <= #t and t[j] - t[i] <= w do j = j + 1 end\n"
    "    if ts - t[i] <= w and j - i > n then n = j - i end\n"
    "  end\n"
    "  if n < tonumber(ARGV[12]) then return {0} end\n"
    "end\n"
    "local inc = redis.call('HMGET', KEYS[1], 'id', 'first', 'last', 'risk', 'rule', 'count',"
    " 'rev', 'closed_ms')\n"
    "local id = inc[1]\n"
    "local prev = redis.call('HGET', KEYS[2], ARGV[4])\n"
    /* Evidence of an earlier incident: it was alerted then. */
    "if prev and prev ~= id then return {0} end\n"
    "local S = tonumber(ARGV[9])\n"
    "local first, last = tonumber(inc[2]), tonumber(inc[3])\n"
    "local irisk, irule = tonumber(inc[4]), tonumber(inc[5])\n"
    "local count, rev = tonumber(inc[6]), tonumber(inc[7])\n"
    "local fresh = false\n"
    "if not (id and (prev == id or not inc[8] or (ts <= last + S and ts >= first - S))) then\n"
    "  id, first, last, irisk, irule, count, rev, fresh = ARGV[8], ts, ts, 0, 0, 0, 0, true\n"
    "  redis.call('DEL', KEYS[1], KEYS[3])\n"
    "end\n"
    "local changed = false\n"
    "if not prev then\n"
    "  count = count + 1\n"
    "  redis.call('HSET', KEYS[2], ARGV[4], id)\n"
    "  changed = true\n"
    "end\n"
    "local header = ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[1] .. '|' .. n .. '|' .. ARGV[6] .."
    " '|'\n"
    "local old = redis.call('HGET', KEYS[3], ARGV[5])\n"
    "local ots = old and tonumber(string.match(old, '^%d+|%d+|(%-?%d+)|')) or nil\n"
    /* An item is replaced by newer news only: a re-delivered earlier record
     * of a call must not shorten it. */
    "if not old or (ots <= ts and string.sub(old, 1, #header) ~= header) then\n"
    "  if old or redis.call('HLEN', KEYS[3]) < 64 then\n"
    "    redis.call('HSET', KEYS[3], ARGV[5], header .. ARGV[7])\n"
    "  end\n"
    "  changed = true\n"
    "end\n"
    "if risk > irisk then irisk, irule, changed = risk, rule, true end\n"
    "if ARGV[11] ~= '' then\n"
    /* Rule 5: two different medium signals within the window. */
    "  local W = tonumber(ARGV[10])\n"
    "  redis.call('ZADD', KEYS[4], ts, ARGV[11])\n"
    "  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. (ts - tonumber(ARGV[15])))\n"
    "  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], ts - W, ts + W)) do\n"
    "    if m ~= ARGV[11] and (irisk < 3 or irule ~= 5) then\n"
    "      irisk, irule, changed = 3, 5, true\n"
    "    end\n"
    "  end\n"
    "  redis.call('PEXPIRE', KEYS[4], ARGV[15])\n"
    "end\n"
    "if not changed then\n"
    "  if ARGV[16] ~= '1' or not rev then return {0} end\n"
    "  return {rev == 1 and 1 or 2, id, irisk, irule, count, rev, first, last,"
    " redis.call('HVALS', KEYS[3]), 1}\n"
    "end\n"
    "rev = rev + 1\n"
    "if ts > last then last = ts end\n"
    "if ts < first then first = ts end\n"
    "redis.call('HSET', KEYS[1], 'id', id, 'first', first, 'last', last, 'risk', irisk,"
    " 'rule', irule, 'count', count, 'rev', rev)\n"
    "for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[15]) end\n"
    "return {fresh and 1 or 2, id, irisk, irule, count, rev, first, last,"
    " redis.call('HVALS', KEYS[3])}\n";

int incident_append(gb_redis_t *r, const char *prefix, const char *h,
                    const matcher_rules_t *rules, const incident_in_t *in, bool resend) {
  char keys[5][GB_KEY_MAX];
  static const char *const names[5] = {"inc", "evi", "itm", "sig", "itl"};
  for (int i = 0; i < 5; i++) snprintf(keys[i], sizeof(keys[i]), "%s%s:{%s}", prefix, names[i], h);
  char ts[24], rule[8], risk[8], supp[24], combo[24], intl_n[16], intl_w[24], ttl[24];
  snprintf(ts, sizeof(ts), "%lld", (long long)in->ts_ms);
  snprintf(rule, sizeof(rule), "%d", in->rule);
  snprintf(risk, sizeof(risk), "%d", in->risk);
  snprintf(supp, sizeof(supp), "%lld", (long long)rules->suppression_s * 1000);
  snprintf(combo, sizeof(combo), "%lld", (long long)rules->combo_window_s * 1000);
  snprintf(intl_n, sizeof(intl_n), "%u", rules->intl_min_calls);
  snprintf(intl_w, sizeof(intl_w), "%lld", (long long)rules->intl_window_s * 1000);
  snprintf(ttl, sizeof(ttl), "%lld", INCIDENT_TTL_MS);
  const char *argv[] = {"EVAL", incident_lua, "5", keys[0], keys[1], keys[2], keys[3], keys[4],
                        ts, rule, risk, in->evkey, in->itemkey, in->digest, in->blob, in->new_id,
                        supp, combo, in->signal, intl_n, intl_w, in->intl_call, ttl,
                        resend ? "1" : "0"};
  return gb_redis_appendargv(r, (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL) == 0
             ? 0
             : GB_EIO;
}

static int64_t int_of(const redisReply *e) {
  if (e->type == REDIS_REPLY_INTEGER) return e->integer;
  if (e->type == REDIS_REPLY_STRING) return strtoll(e->str, NULL, 10);
  return 0;
}

/* "<rule>|<risk>|<ts>|<n>|<digest>|<blob>" */
static int parse_item(const char *s, incident_item_t *it) {
  char *end;
  it->rule = (int)strtol(s, &end, 10);
  if (*end != '|') return -1;
  it->risk = (int)strtol(end + 1, &end, 10);
  if (*end != '|') return -1;
  it->ts_ms = strtoll(end + 1, &end, 10);
  if (*end != '|') return -1;
  it->n = (uint32_t)strtoul(end + 1, &end, 10);
  if (*end != '|') return -1;
  const char *bar = strchr(end + 1, '|');
  if (!bar) return -1;
  snprintf(it->digest, sizeof(it->digest), "%.*s", (int)(bar - end - 1), end + 1);
  it->blob = bar + 1;
  return 0;
}

int incident_read(gb_redis_t *r, incident_out_t *out) {
  memset(out, 0, sizeof(*out));
  redisReply *rep = gb_redis_reply(r);
  if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1) {
    if (rep) freeReplyObject(rep);
    return GB_EIO;
  }
  out->reply = rep;
  out->action = (int)int_of(rep->element[0]);
  if (out->action == 0) return 0;
  if (rep->elements < 9 || rep->element[1]->type != REDIS_REPLY_STRING ||
      rep->element[8]->type != REDIS_REPLY_ARRAY) {
    incident_out_free(out);
    return GB_EIO;
  }
  snprintf(out->id, sizeof(out->id), "%s", rep->element[1]->str);
  out->risk = (int)int_of(rep->element[2]);
  out->rule = (int)int_of(rep->element[3]);
  out->count = (uint32_t)int_of(rep->element[4]);
  out->rev = (uint32_t)int_of(rep->element[5]);
  out->first_ms = int_of(rep->element[6]);
  out->last_ms = int_of(rep->element[7]);
  out->resent = rep->elements >= 10 && int_of(rep->element[9]) == 1;
  const redisReply *items = rep->element[8];
  for (size_t i = 0; i < items->elements && out->nitems < INCIDENT_ITEMS_MAX; i++) {
    if (items->element[i]->type != REDIS_REPLY_STRING) continue;
    if (parse_item(items->element[i]->str, &out->items[out->nitems]) == 0) out->nitems++;
  }
  return 0;
}

void incident_out_free(incident_out_t *out) {
  if (out->reply) freeReplyObject(out->reply);
  out->reply = NULL;
}
