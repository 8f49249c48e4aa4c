/* The alert workflow (docs/API.md, "Alert workflow"), first steps:
 *   POST /v1/alerts/:id/claim     new -> claimed by exactly one officer
 *   POST /v1/alerts/:id/release   claimed -> new (the claimer, or a station
 *                                 or bureau administrator)
 * The alert is the station's copy (al:{st:<station>}:<id>); the station is
 * the caller's own, or ?station= for a bureau administrator. Each change is
 * one Lua script: it checks and changes the state, appends to the station's
 * audit trail (audit:{st:<station>}, who, what, when) and to its push feed,
 * so every connected device of the station learns at once who has it. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "feed.h"
#include "gb/err.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "notifier.h"
#include "respond.h"


/* KEYS: alert, feed, audit. ARGV: action, account, now_ms, feed maxlen,
 * is_admin (1/0), alert id. */
static const char workflow_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end\n"
    "local st = redis.call('HMGET', KEYS[1], 'state', 'claimed_by')\n"
    "local state, by = st[1] or 'new', st[2] or ''\n"
    "if ARGV[1] == 'claim' then\n"
    "  if state ~= 'new' then return {'conflict', state, by} end\n"
    "  redis.call('HSET', KEYS[1], 'state', 'claimed', 'claimed_by', ARGV[2], 'claimed_ms', ARGV[3])\n"
    "  state, by = 'claimed', ARGV[2]\n"
    "else\n"
    "  if state ~= 'claimed' then return {'conflict', state, by} end\n"
    "  if by ~= ARGV[2] and ARGV[5] ~= '1' then return {'forbidden', state, by} end\n"
    "  redis.call('HSET', KEYS[1], 'state', 'new', 'claimed_by', '', 'released_ms', ARGV[3])\n"
    "  state, by = 'new', ''\n"
    "end\n"
    "redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*', 'alert', ARGV[6], 'action',"
    " ARGV[1], 'by', ARGV[2], 'at', ARGV[3])\n"
    "local data = cjson.encode({alert_id = ARGV[6], action = ARGV[1], by = ARGV[2],"
    " state = state, claimed_by = by})\n"
    "local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'event',"
    " 'alert.workflow', 'json', data)\n"
    "return {'ok', state, by, id, data}\n";

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
  char ka[GB_KEY_MAX], kf[GB_KEY_MAX], kaud[GB_KEY_MAX], now[24], maxlen[16];
  snprintf(kaud, sizeof(kaud), "%saudit:{st:%s}", n->prefix, station);
  snprintf(now, sizeof(now), "%lld", (long long)gb_now_ms());
  snprintf(maxlen, sizeof(maxlen), "%d", FEED_MAXLEN);
  bool admin = a.account.role != GB_ROLE_OFFICER;
  const char *argv[] = {"EVAL", workflow_lua, "3", gb_key_alert(ka, n->prefix, station, id),
                        gb_key_feed(kf, n->prefix, station), kaud, action, a.account.id, now,
                        maxlen, admin ? "1" : "0", id};
  redisReply *r = gb_redis_commandargv(n->redis, 12, argv, NULL);
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
                                                          "administrator, may release it"
                          : by && *by ? "already claimed" : "not in a state that allows it",
                          "state", state, "claimed_by", by && *by ? by : NULL);
    respond_json(req, !strcmp(verdict, "forbidden") ? 403 : 409, o);
  } else if (r->elements >= 5) {
    const char *fid = r->element[3]->str, *data = r->element[4]->str;
    int devices = hub_broadcast(&n->hub, station, fid, "alert.workflow", data, strlen(data));
    gb_info("alert.workflow", "alert=%s station=%s action=%s by=%s devices=%d", id, station,
            action, a.account.id, devices);
    gb_http_respond(req, 200, "application/json", NULL, data, strlen(data));
  } else {
    respond_error(req, 503, "alerts unavailable; try again");
  }
  freeReplyObject(r);
}

static void on_claim(gb_http_req_t *req, void *ud) { act(req, ud, "claim"); }
static void on_release(gb_http_req_t *req, void *ud) { act(req, ud, "release"); }

void notifier_workflow_register(notifier_t *n) {
  gb_http_route(n->http, "POST", "/v1/alerts/:id/claim", on_claim, n);
  gb_http_route(n->http, "POST", "/v1/alerts/:id/release", on_release, n);
}
