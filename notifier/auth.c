#include "auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gb/err.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "notifier.h"
#include "respond.h"

static void unauthorized(gb_http_req_t *req, const char *why) {
  char body[256];
  int len = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", why);
  gb_http_respond(req, 401, "application/json", "WWW-Authenticate: Bearer\r\n", body,
                  (size_t)len);
}

bool auth_require(notifier_t *n, gb_http_req_t *req, gb_auth_t *a) {
  char qbuf[GB_TOKEN_MAX + 8];
  const char *token = NULL;
  const char *h = gb_http_req_header(req, "authorization");
  if (h && strncasecmp(h, "Bearer ", 7) == 0)
    token = h + 7 + strspn(h + 7, " ");
  else
    token = gb_http_req_query_param(req, "access_token", qbuf, sizeof(qbuf));
  if (!token || !*token) {
    unauthorized(req, "sign in: send Authorization: Bearer <device token>");
    return false;
  }
  int err = gb_token_check(n->redis, n->prefix, token, gb_now_ms(), a);
  if (err == GB_ENOTFOUND) {
    /* Never log the token: its hash names it well enough. */
    gb_info("auth.refused", "peer=%s reason=unknown_revoked_or_expired", gb_http_req_peer(req));
    unauthorized(req, "the device token is unknown, revoked or expired: bind the device again");
    return false;
  }
  if (err) {
    respond_error(req, 503, "accounts unavailable; try again");
    return false;
  }
  return true;
}

bool auth_require_station(notifier_t *n, gb_http_req_t *req, const char *station, gb_auth_t *a) {
  if (!auth_require(n, req, a)) return false;
  if (gb_account_may_station(&a->account, station)) return true;
  /* "*", every station, is a bureau administrator's (may_station's yes
   * for them covers it); nobody else's. */
  gb_info("auth.forbidden", "account=%s station=%s", a->account.id, station ? station : "-");
  respond_error(req, 403, "account %s may not see station %s", a->account.id,
                station ? station : "-");
  return false;
}
