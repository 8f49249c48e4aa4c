/* Who is calling (gb/accounts.h): every route but the public ones checks
 * the caller's device token. Loop thread only. */
#ifndef NOTIFIER_AUTH_H
#define NOTIFIER_AUTH_H

#include <stdbool.h>

#include "gb/accounts.h"
#include "gb/http.h"

typedef struct notifier notifier_t;

/* Reads the token ("Authorization: Bearer <token>", or ?access_token= for a
 * browser's EventSource, which cannot set headers) and checks it. Returns
 * true and *a; otherwise it has answered the request (401, or 503 when
 * Redis failed) and returns false. */
bool auth_require(notifier_t *n, gb_http_req_t *req, gb_auth_t *a);

/* auth_require, then the station: false (answered 403) when the account
 * may not see or act on it. */
bool auth_require_station(notifier_t *n, gb_http_req_t *req, const char *station, gb_auth_t *a);

/* Routes: POST /v1/devices/bind, GET /v1/me, POST /v1/devices/revoke,
 * POST|GET /v1/accounts, POST /v1/accounts/:id/binding-code,
 * POST /v1/accounts/:id/deactivate. */
void notifier_api_accounts_register(notifier_t *n);

#endif
