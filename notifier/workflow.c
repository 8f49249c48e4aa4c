/* The alert workflow (docs/API.md, "Alert workflow"):
 *   POST /v1/alerts/:id/claim     new -> claimed by exactly one officer
 *   POST /v1/alerts/:id/release   claimed -> new (the claimer, or a station
 *                                 or bureau administrator)
 *   POST /v1/alerts/:id/resolve   claimed -> resolved, with the dissuasion record
 *   POST /v1/alerts/:id/dispute   new|claimed -> disputed, with the reason
 *   POST /v1/alerts/:id/settle    disputed -> new (rejected), resolved, or reassigned:
 *                                 the right station gets its own copy, as new
 * The alert is the station's copy (al:{st:<station>}:<id>); the station is
 * the caller's own, or ?station= for a bureau administrator. Each change is
 * one Lua script: it checks and changes the state, appends to the station's
 * audit trail (audit:{st:<station>}, who, what, when) and to its push feed,
 * so every connected device of the station learns at once who has it. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertstats.h"
#include "auth.h"
#include "feed.h"
#include "gb/err.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/registry.h"
#include "gb/timeparse.h"
#include "notifier.h"
#include "respond.h"
#include "sealed.h"


/* KEYS: alert, feed, audit, then the statistics (alertstats.h): live, day,
 * time to claim, time to resolve; the station's unclaimed alerts (unc,
 * gb/keys.h). ARGV: action, account, now_ms, feed
 * maxlen, is_admin (1/0), alert id, details (JSON text: the dissuasion
 * record or the dispute, "" otherwise), station.
 * Transitions: claim new -> claimed; release claimed -> new; resolve
 * claimed -> resolved; dispute new|claimed -> disputed; settle disputed ->
 * new, resolved or reassigned. Release and resolve are the claimer's (or an
 * administrator's); settling is an administrator's.
 * In the same step: the alert joins the unclaimed ones when it enters new
 * and leaves them when it leaves new; closing it (resolved, reassigned)
 * takes it off the open counts, open:<the risk it was counted under at
 * first push> and escalated_open if it was escalated (feed.c,
 * escalation.c; an alert stored before those counts has no open_risk and
 * no esc_open, and is taken off nothing). */
static const char workflow_lua[] =
    "local st = redis.call('HMGET', KEYS[1], 'revision', 'state', 'claimed_by', 'arrived_ms')\n"
    "if not st[1] then return {'missing'} end\n"
    "local state, by = st[2] or 'new', st[3] or ''\n"
    "local from, outcome = state, nil\n"
    "local a, who, now = ARGV[1], ARGV[2], ARGV[3]\n"
    "local mine = by == who or ARGV[5] == '1'\n"
    "if a == 'claim' then\n"
    "  if state ~= 'new' then return {'conflict', state, by} end\n"
    "  redis.call('HSET', KEYS[1], 'state', 'claimed', 'claimed_by', who, 'claimed_ms', now)\n"
    "  state, by = 'claimed', who\n"
    "elseif a == 'release' or a == 'resolve' then\n"
    "  if state ~= 'claimed' then return {'conflict', state, by} end\n"
    "  if not mine then return {'forbidden', state, by} end\n"
    "  if a == 'release' then\n"
    "    redis.call('HSET', KEYS[1], 'state', 'new', 'claimed_by', '', 'released_ms', now)\n"
    "    state, by = 'new', ''\n"
    "  else\n"
    "    redis.call('HSET', KEYS[1], 'state', 'resolved', 'resolved_by', who, 'resolved_ms', now,"
    " 'record', ARGV[7])\n"
    "    state, outcome = 'resolved', cjson.decode(ARGV[7]).outcome\n"
    "  end\n"
    "elseif a == 'settle' then\n"
    /* A station administrator settles a dispute: reject puts the alert
     * back to new; uphold resolves it (not fraud, duplicate) or, for the
     * wrong station, marks it reassigned (notifier then gives the right
     * station its own copy, as new). */
    "  if state ~= 'disputed' then return {'conflict', state, by} end\n"
    "  if ARGV[5] ~= '1' then return {'forbidden', state, by} end\n"
    "  local d = cjson.decode(redis.call('HGET', KEYS[1], 'dispute') or '{}')\n"
    "  local decision = cjson.decode(ARGV[7]).decision\n"
    "  if decision == 'reject' then\n"
    "    state, by = 'new', ''\n"
    "    redis.call('HSET', KEYS[1], 'state', state, 'claimed_by', '')\n"
    "  elseif d.reason == 'wrong_station' then\n"
    "    state, outcome = 'reassigned', 'reassigned'\n"
    "    redis.call('HSET', KEYS[1], 'state', state, 'reassigned_to', d.station_id)\n"
    "  else\n"
    "    state, outcome = 'resolved', d.reason\n"
    "    redis.call('HSET', KEYS[1], 'state', state, 'resolved_by', who, 'resolved_ms', now,"
    " 'record', cjson.encode({outcome = d.reason, settled = true}))\n"
    "  end\n"
    "  redis.call('HSET', KEYS[1], 'settled_by', who, 'settled_ms', now)\n"
    "elseif a == 'dispute' then\n"
    "  if state ~= 'new' and state ~= 'claimed' then return {'conflict', state, by} end\n"
    "  redis.call('HSET', KEYS[1], 'state', 'disputed', 'disputed_by', who, 'disputed_ms', now,"
    " 'dispute', ARGV[7])\n"
    "  state = 'disputed'\n"
    "else\n"
    "  return {'missing'}\n"
    "end\n"
    /* The statistics, in the same step. */
    "if from ~= state then\n"
    "  redis.call('HINCRBY', KEYS[4], 'state:' .. from, -1)\n"
    "  redis.call('HINCRBY', KEYS[4], 'state:' .. state, 1)\n"
    "  if state == 'new' then redis.call('ZADD', KEYS[8], st[4] or now, ARGV[6]) end\n"
    "  if from == 'new' then redis.call('ZREM', KEYS[8], ARGV[6]) end\n"
    "  if state == 'resolved' or state == 'reassigned' then\n"
    "    local c = redis.call('HMGET', KEYS[1], 'open_risk', 'esc_open')\n"
    "    if c[1] then redis.call('HINCRBY', KEYS[4], 'open:' .. c[1], -1) end\n"
    "    if c[2] == '1' then\n"
    "      redis.call('HINCRBY', KEYS[4], 'escalated_open', -1)\n"
    "      redis.call('HSET', KEYS[1], 'esc_open', '0')\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local since = now - tonumber(st[4] or now)\n"
    "if a == 'claim' and redis.call('HSETNX', KEYS[1], 'first_claimed_ms', now) == 1 then\n"
    "  redis.call('ZADD', KEYS[6], since, ARGV[6])\n"
    "  redis.call('HINCRBY', KEYS[5], 'claimed', 1)\n"
    "end\n"
    "if state == 'resolved' then redis.call('ZADD', KEYS[7], since, ARGV[6]) end\n"
    "if outcome then redis.call('HINCRBY', KEYS[5], 'outcome:' .. outcome, 1) end\n"
    "for i = 5, 7 do redis.call('EXPIRE', KEYS[i], " AST_DAY_TTL_LUA ") end\n"
    "redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*', 'alert', ARGV[6], 'action', a,"
    " 'by', who, 'at', now, 'details', ARGV[7], 'from', from, 'to', state)\n"
    "local ev = {alert_id = ARGV[6], station_id = ARGV[8], action = a, by = who, state = state,"
    " claimed_by = by}\n"
    "if ARGV[7] ~= '' then ev.details = cjson.decode(ARGV[7]) end\n"
    "if a == 'settle' then ev.dispute = cjson.decode(redis.call('HGET', KEYS[1], 'dispute') or"
    " '{}') end\n"
    "local data = cjson.encode(ev)\n"
    "local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'event',"
    " 'alert.workflow', 'json', data)\n"
    /* The alert itself only for a reassignment, which copies it. */
    "local json = state == 'reassigned' and redis.call('HGET', KEYS[1], 'json') or ''\n"
    "return {'ok', state, by, id, data, json, st[1]}\n";

/* The dissuasion record of a resolve, checked: method, outcome, amount
 * (when money was already transferred), notes. Returns the JSON to store,
 * or NULL with *why. */
static char *record_json(const json_t *in, const char **why) {
  static const char *const methods[] = {"call", "visit", "reached_family", NULL};
  static const char *const outcomes[] = {"dissuaded", "could_not_reach", "money_transferred",
                                         "not_fraud", NULL};
  const char *method = json_string_value(json_object_get(in, "method"));
  const char *outcome = json_string_value(json_object_get(in, "outcome"));
  const char *notes = json_string_value(json_object_get(in, "notes"));
  json_t *amount = json_object_get(in, "amount");
  int ok = 0;
  for (int i = 0; method && methods[i]; i++) ok |= !strcmp(method, methods[i]);
  if (!ok) return *why = "method: call, visit or reached_family", NULL;
  ok = 0;
  for (int i = 0; outcome && outcomes[i]; i++) ok |= !strcmp(outcome, outcomes[i]);
  if (!ok) return *why = "outcome: dissuaded, could_not_reach, money_transferred or not_fraud", NULL;
  bool money = !strcmp(outcome, "money_transferred");
  if (money && (!json_is_number(amount) || json_number_value(amount) <= 0))
    return *why = "amount: the sum transferred, in yuan, when the outcome is money_transferred", NULL;
  if (notes && strlen(notes) > 2000) return *why = "notes: at most 2000 bytes", NULL;
  json_t *o = json_pack("{s:s, s:s, s:s}", "method", method, "outcome", outcome, "notes",
                        notes ? notes : "");
  if (money) json_object_set_new(o, "amount", json_real(json_number_value(amount)));
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}

static char *settle_json(const json_t *in, const char **why) {
  const char *d = json_string_value(json_object_get(in, "decision"));
  if (!d || (strcmp(d, "uphold") != 0 && strcmp(d, "reject") != 0))
    return *why = "decision: uphold or reject", NULL;
  json_t *o = json_pack("{s:s}", "decision", d);
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}

static char *dispute_json(const json_t *in, const char **why) {
  static const char *const reasons[] = {"wrong_station", "not_fraud", "duplicate", NULL};
  const char *reason = json_string_value(json_object_get(in, "reason"));
  const char *station = json_string_value(json_object_get(in, "station_id"));
  const char *notes = json_string_value(json_object_get(in, "notes"));
  int ok = 0;
  for (int i = 0; reason && reasons[i]; i++) ok |= !strcmp(reason, reasons[i]);
  if (!ok) return *why = "reason: wrong_station, not_fraud or duplicate", NULL;
  if (!strcmp(reason, "wrong_station") && (!station || !gb_account_id_valid(station)))
    return *why = "station_id: the right station, for reason wrong_station", NULL;
  if (notes && strlen(notes) > 2000) return *why = "notes: at most 2000 bytes", NULL;
  json_t *o = json_pack("{s:s, s:s?, s:s}", "reason", reason, "station_id",
                        !strcmp(reason, "wrong_station") ? station : NULL, "notes",
                        notes ? notes : "");
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}

/* Gives the station the dispute named its own copy of the alert, as new. */
static int reassign(notifier_t *n, const char *id, const char *sealed, uint32_t revision,
                    const char *event) {
  json_t *ev = json_loads(event, 0, NULL);
  const char *to = json_string_value(json_object_get(json_object_get(ev, "dispute"), "station_id"));
  char *json = sealed_open(&n->keys, SEALED_FEED, sealed);
  json_t *alert = json ? json_loads(json, 0, NULL) : NULL;
  free(json);
  char *copy = NULL;
  int err = GB_EIO;
  if (to && alert) {
    json_object_set_new(alert, "station_id", json_string(to));
    copy = json_dumps(alert, JSON_COMPACT);
  }
  feed_stored_t st;
  if (copy) {
    const char *risk = json_string_value(json_object_get(alert, "risk"));
    int stored = feed_store(n->redis, &n->keys, n->prefix, to, id, revision, copy, risk ? risk : "medium", 1,
                            NULL, 0, &st);
    if (stored >= 0) err = 0;
    if (stored == 1 && st.first_push) escalation_schedule(n, to, id, 1);
    if (stored == 1) {
      notifier_feed_changed(n, to, st.stream_id, 0);
      gb_info("alert.reassigned", "alert=%s to=%s feed_id=%s", id, to, st.stream_id);
    }
  }
  free(copy);
  json_decref(alert);
  json_decref(ev);
  return err;
}

static void act(gb_http_req_t *req, notifier_t *n, const char *action) {
  gb_auth_t a;
  if (!auth_require(n, req, &a)) return;
  char sbuf[GB_ACCOUNT_ID_MAX];
  const char *station = a.account.station;
  if (a.account.role == GB_ROLE_BUREAU_ADMIN) {
    station = gb_http_req_query_param(req, "station", sbuf, sizeof(sbuf));
    if (!station || !*station) {
      respond_error(req, 400, "station: a bureau administrator names it, ?station=<id>");
      return;
    }
  }
  const char *id = gb_http_req_param(req, "id");
  if (!id || strlen(id) > 64 || strspn(id, "0123456789abcdef") != strlen(id)) {
    respond_error(req, 404, "no such alert at station %s", station);
    return;
  }
  char *details = NULL;
  if (!strcmp(action, "resolve") || !strcmp(action, "dispute") || !strcmp(action, "settle")) {
    size_t len;
    const char *body = gb_http_req_body(req, &len);
    json_error_t je;
    json_t *in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    const char *why = "the body is not a JSON object";
    if (json_is_object(in))
      details = !strcmp(action, "resolve")   ? record_json(in, &why)
                : !strcmp(action, "dispute") ? dispute_json(in, &why)
                                             : settle_json(in, &why);
    json_decref(in);
    if (!details) {
      respond_error(req, 400, "%s", why);
      return;
    }
  }
  char ka[GB_KEY_MAX], kf[GB_KEY_MAX], kaud[GB_KEY_MAX], ku[GB_KEY_MAX], now[24], maxlen[16];
  snprintf(kaud, sizeof(kaud), "%saudit:{st:%s}", n->prefix, station);
  snprintf(now, sizeof(now), "%lld", (long long)gb_now_ms());
  snprintf(maxlen, sizeof(maxlen), "%d", FEED_MAXLEN);
  bool admin = a.account.role != GB_ROLE_OFFICER;
  ast_keys_t ks;
  ast_keys(&ks, n->prefix, station, gb_china_day(gb_now_ms()));
  static gb_script_t script = GB_SCRIPT(workflow_lua);
  const char *argv[] = {"8", gb_key_alert(ka, n->prefix, station, id),
                        gb_key_feed(kf, n->prefix, station), kaud, ks.live, ks.day, ks.ttc,
                        ks.ttr, gb_key_station(ku, n->prefix, "unc", station), action,
                        a.account.id, now, maxlen, admin ? "1" : "0", id,
                        details ? details : "", station};
  redisReply *r = gb_redis_eval(n->redis, &script, 17, argv);
  free(details);
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
      r->element[0]->type != REDIS_REPLY_STRING) {
    if (r) freeReplyObject(r);
    respond_error(req, 503, "alerts unavailable; try again");
    return;
  }
  const char *verdict = r->element[0]->str;
  if (!strcmp(verdict, "missing")) {
    respond_error(req, 404, "no such alert at station %s", station);
  } else if (!strcmp(verdict, "conflict") || !strcmp(verdict, "forbidden")) {
    const char *state = r->elements > 1 ? r->element[1]->str : "?";
    const char *by = r->elements > 2 ? r->element[2]->str : "";
    json_t *o = json_pack("{s:s, s:s, s:s?}", "error",
                          !strcmp(verdict, "forbidden") ? "only the officer who claimed it, or an "
                                                          "administrator, may do that"
                          : by && *by ? "already claimed" : "not in a state that allows it",
                          "state", state, "claimed_by", by && *by ? by : NULL);
    respond_json(req, !strcmp(verdict, "forbidden") ? 403 : 409, o);
  } else if (r->elements >= 7) {
    const char *fid = r->element[3]->str, *data = r->element[4]->str;
    notifier_feed_changed(n, station, fid, 1);
    if (!strcmp(action, "claim") && reminder_schedule(n, station, id, now) != 0)
      gb_warn("reminder.unscheduled", "alert=%s station=%s", id, station);
    gb_info("alert.workflow", "alert=%s station=%s action=%s by=%s feed_id=%s", id, station,
            action, a.account.id, fid);
    if (!strcmp(r->element[1]->str, "reassigned") &&
        reassign(n, id, r->element[5]->str, (uint32_t)atoi(r->element[6]->str), data) != 0) {
      /* The old station's copy says reassigned; the new one is missing.
       * Settling again is refused (not disputed), so say it plainly. */
      gb_error("alert.reassign_failed", "alert=%s from=%s", id, station);
      respond_error(req, 503, "reassigned, but the new station's copy could not be stored; "
                    "ask a bureau administrator");
      freeReplyObject(r);
      return;
    }
    gb_http_respond(req, 200, "application/json", NULL, data, strlen(data));
  } else {
    respond_error(req, 503, "alerts unavailable; try again");
  }
  freeReplyObject(r);
}

static void on_claim(gb_http_req_t *req, void *ud) { act(req, ud, "claim"); }
static void on_release(gb_http_req_t *req, void *ud) { act(req, ud, "release"); }
static void on_resolve(gb_http_req_t *req, void *ud) { act(req, ud, "resolve"); }
static void on_dispute(gb_http_req_t *req, void *ud) { act(req, ud, "dispute"); }
static void on_settle(gb_http_req_t *req, void *ud) { act(req, ud, "settle"); }

void notifier_workflow_register(notifier_t *n) {
  gb_http_route(n->http, "POST", "/v1/alerts/:id/claim", on_claim, n);
  gb_http_route(n->http, "POST", "/v1/alerts/:id/release", on_release, n);
  gb_http_route(n->http, "POST", "/v1/alerts/:id/resolve", on_resolve, n);
  gb_http_route(n->http, "POST", "/v1/alerts/:id/dispute", on_dispute, n);
  gb_http_route(n->http, "POST", "/v1/alerts/:id/settle", on_settle, n);
}
