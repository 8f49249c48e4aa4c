/* Accounts and devices (docs/API.md, "Accounts and devices"):
 *   POST /v1/devices/bind               {"code", "device"} -> a device token (public,
 *                                       rate-limited per address)
 *   GET  /v1/me                         the caller's account
 *   POST /v1/devices/revoke             revokes the caller's own token
 *   POST /v1/accounts                   create or replace an account
 *   GET  /v1/accounts[?station=]        list accounts
 *   POST /v1/accounts/:id/binding-code  a one-time code to bind a device
 *   POST /v1/accounts/:id/deactivate    stop an account and all its devices
 * A bureau administrator manages every account; a station administrator
 * the officers of their own station; an officer none. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "gb/err.h"
#include "gb/log.h"
#include "gb/stations.h"
#include "gb/timeparse.h"
#include "notifier.h"
#include "respond.h"

#define BIND_FAIL_WINDOW_S 300
#define BIND_FAIL_MAX 10
#define CODE_TTL_S 86400
#define TOKEN_TTL_S (90 * 86400)

static json_t *account_json(const gb_account_t *a) {
  return json_pack("{s:s, s:s, s:s, s:s?, s:b}", "id", a->id, "name", a->name, "role",
                   gb_role_name(a->role), "station_id", a->station[0] ? a->station : NULL,
                   "active", a->active);
}

/* Whether the caller may manage account `target` (or create one like it). */
static bool may_manage(const gb_account_t *caller, const gb_account_t *target) {
  if (caller->role == GB_ROLE_BUREAU_ADMIN) return true;
  return caller->role == GB_ROLE_STATION_ADMIN && target->role == GB_ROLE_OFFICER &&
         strcmp(caller->station, target->station) == 0;
}

static void on_bind(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  const char *peer = gb_http_req_peer(req);
  int fails = gb_rate_failures(n->redis, n->prefix, "bind", peer);
  if (fails < 0) {
    respond_error(req, 503, "accounts unavailable; try again");
    return;
  }
  if (fails >= BIND_FAIL_MAX) {
    gb_warn("auth.bind_rate_limited", "peer=%s failures=%d", peer, fails);
    static const char msg[] =
        "{\"error\":\"too many wrong binding codes from this address; wait 5 minutes\"}";
    gb_http_respond(req, 429, "application/json", "Retry-After: 300\r\n", msg, sizeof(msg) - 1);
    return;
  }
  size_t len;
  const char *body = gb_http_req_body(req, &len);
  json_error_t je;
  json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
  const char *code = json_string_value(json_object_get(o, "code"));
  const char *device = json_string_value(json_object_get(o, "device"));
  if (!o || !code) {
    json_decref(o);
    respond_error(req, 400, "give {\"code\": \"<binding code>\", \"device\": \"<a name for it>\"}");
    return;
  }
  if (device && strlen(device) >= GB_ACCOUNT_NAME_MAX) {
    json_decref(o);
    respond_error(req, 400, "device: at most %d bytes", GB_ACCOUNT_NAME_MAX - 1);
    return;
  }
  gb_grant_t g;
  int err = gb_bind(n->redis, n->prefix, code, device ? device : "", TOKEN_TTL_S, &g);
  json_decref(o);
  if (err == GB_ENOTFOUND) {
    int f = gb_rate_fail(n->redis, n->prefix, "bind", peer, BIND_FAIL_WINDOW_S);
    gb_info("auth.bind_refused", "peer=%s failures=%d", peer, f);
    respond_error(req, 401, "unknown, used or expired binding code");
    return;
  }
  if (err) {
    respond_error(req, 503, "accounts unavailable; try again");
    return;
  }
  char exp[40];
  gb_time_format(exp, sizeof(exp), g.expires_ms);
  gb_info("auth.bound", "account=%s peer=%s", g.account.id, peer);
  respond_json(req, 201, json_pack("{s:s, s:s, s:o}", "token", g.token, "expires", exp,
                                   "account", account_json(&g.account)));
  sodium_memzero(g.token, sizeof(g.token));
}

static void on_me(gb_http_req_t *req, void *ud) {
  gb_auth_t a;
  if (!auth_require(ud, req, &a)) return;
  char exp[40];
  gb_time_format(exp, sizeof(exp), a.expires_ms);
  respond_json(req, 200, json_pack("{s:o, s:s, s:s}", "account", account_json(&a.account),
                                   "device", a.device, "token_expires", exp));
}

static void on_revoke(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  gb_auth_t a;
  if (!auth_require(n, req, &a)) return;
  if (gb_token_revoke(n->redis, n->prefix, a.account.id, a.token_hash) != 0) {
    respond_error(req, 503, "accounts unavailable; try again");
    return;
  }
  gb_info("auth.revoked", "account=%s", a.account.id);
  gb_http_respond(req, 204, NULL, NULL, "", 0);
}

static void on_create(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  gb_auth_t a;
  if (!auth_require(n, req, &a)) return;
  size_t len;
  const char *body = gb_http_req_body(req, &len);
  json_error_t je;
  json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
  const char *id = json_string_value(json_object_get(o, "id"));
  const char *name = json_string_value(json_object_get(o, "name"));
  const char *role = json_string_value(json_object_get(o, "role"));
  const char *station = json_string_value(json_object_get(o, "station_id"));
  gb_account_t t;
  memset(&t, 0, sizeof(t));
  const char *bad = !o ? "the body is not JSON"
                    : !gb_account_id_valid(id) ? "id: 1-64 of a-z 0-9 . _ -"
                    : gb_role_parse(role, &t.role) != 0 ? "role: officer, station_admin or bureau_admin"
                    : (t.role != GB_ROLE_BUREAU_ADMIN && !gb_account_id_valid(station))
                        ? "station_id: required for officers and station administrators"
                    : (name && strlen(name) >= sizeof(t.name)) ? "name: too long"
                    : NULL;
  if (bad) {
    respond_error(req, 400, "%s", bad);
    json_decref(o);
    return;
  }
  snprintf(t.id, sizeof(t.id), "%s", id);
  snprintf(t.name, sizeof(t.name), "%s", name ? name : id);
  snprintf(t.station, sizeof(t.station), "%s", t.role == GB_ROLE_BUREAU_ADMIN ? "" : station);
  t.active = true;
  json_decref(o);
  gb_station_t st;
  int sterr = t.station[0] ? gb_station_get(n->redis, n->prefix, t.station, &st) : 0;
  if (sterr == GB_ENOTFOUND) {
    respond_error(req, 400, "station_id: no station %s", t.station);
    return;
  }
  gb_account_t old;
  int exists = sterr ? sterr : gb_account_get(n->redis, n->prefix, t.id, &old);
  if (!may_manage(&a.account, &t) || (exists == 0 && !may_manage(&a.account, &old))) {
    respond_error(req, 403, "account %s may not manage this account", a.account.id);
    return;
  }
  if (exists == 0) t.created_ms = old.created_ms;
  if ((exists != 0 && exists != GB_ENOTFOUND) || gb_account_put(n->redis, n->prefix, &t) != 0) {
    respond_error(req, 503, "accounts unavailable; try again");
    return;
  }
  gb_info("account.saved", "account=%s role=%s station=%s by=%s", t.id, gb_role_name(t.role),
          t.station[0] ? t.station : "-", a.account.id);
  respond_json(req, exists == 0 ? 200 : 201, account_json(&t));
}

static void on_list(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  gb_auth_t a;
  if (!auth_require(n, req, &a)) return;
  char sbuf[GB_ACCOUNT_ID_MAX];
  const char *station = gb_http_req_query_param(req, "station", sbuf, sizeof(sbuf));
  if (a.account.role == GB_ROLE_OFFICER) {
    respond_error(req, 403, "officers do not manage accounts");
    return;
  }
  if (a.account.role == GB_ROLE_STATION_ADMIN) {
    if (station && *station && strcmp(station, a.account.station) != 0) {
      respond_error(req, 403, "account %s may not see station %s", a.account.id, station);
      return;
    }
    station = a.account.station;
  }
  gb_account_t *v = NULL;
  int count = gb_account_list(n->redis, n->prefix, station, &v);
  if (count < 0) {
    respond_error(req, 503, "accounts unavailable; try again");
    return;
  }
  json_t *arr = json_array();
  for (int i = 0; i < count; i++) json_array_append_new(arr, account_json(&v[i]));
  free(v);
  respond_json(req, 200, json_pack("{s:o}", "accounts", arr));
}

/* The target of /v1/accounts/:id/..., if the caller may manage it;
 * otherwise answered. */
static bool target(notifier_t *n, gb_http_req_t *req, gb_auth_t *a, gb_account_t *t) {
  if (!auth_require(n, req, a)) return false;
  int err = gb_account_get(n->redis, n->prefix, gb_http_req_param(req, "id"), t);
  if (err == GB_ENOTFOUND || (err == 0 && !may_manage(&a->account, t))) {
    /* 404 either way: a station administrator learns nothing of others. */
    respond_error(req, 404, "no such account (that you manage)");
    return false;
  }
  if (err) {
    respond_error(req, 503, "accounts unavailable; try again");
    return false;
  }
  return true;
}

static void on_code(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  gb_auth_t a;
  gb_account_t t;
  if (!target(n, req, &a, &t)) return;
  char code[GB_BIND_CODE_LEN + 1], exp[40];
  int err = gb_bind_code_new(n->redis, n->prefix, t.id, CODE_TTL_S, code);
  if (err == GB_ENOTFOUND) {
    respond_error(req, 409, "account %s is deactivated", t.id);
    return;
  }
  if (err) {
    respond_error(req, 503, "accounts unavailable; try again");
    return;
  }
  gb_time_format(exp, sizeof(exp), gb_now_ms() + CODE_TTL_S * 1000LL);
  gb_info("account.code_issued", "account=%s by=%s", t.id, a.account.id);
  respond_json(req, 201, json_pack("{s:s, s:s, s:s}", "account_id", t.id, "code", code,
                                   "expires", exp));
}

static void on_deactivate(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  gb_auth_t a;
  gb_account_t t;
  if (!target(n, req, &a, &t)) return;
  if (gb_account_deactivate(n->redis, n->prefix, t.id) != 0) {
    respond_error(req, 503, "accounts unavailable; try again");
    return;
  }
  gb_info("account.deactivated", "account=%s by=%s", t.id, a.account.id);
  gb_http_respond(req, 204, NULL, NULL, "", 0);
}

void notifier_api_accounts_register(notifier_t *n) {
  gb_http_route(n->http, "POST", "/v1/devices/bind", on_bind, n);
  gb_http_route(n->http, "POST", "/v1/devices/revoke", on_revoke, n);
  gb_http_route(n->http, "GET", "/v1/me", on_me, n);
  gb_http_route(n->http, "POST", "/v1/accounts", on_create, n);
  gb_http_route(n->http, "GET", "/v1/accounts", on_list, n);
  gb_http_route(n->http, "POST", "/v1/accounts/:id/binding-code", on_code, n);
  gb_http_route(n->http, "POST", "/v1/accounts/:id/deactivate", on_deactivate, n);
}
