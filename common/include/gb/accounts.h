/* Officers' accounts, device binding and tokens (docs/API.md, "Accounts and
 * devices"), in Redis:
 *
 *   <p>acct:{a:<id>}     HASH   id, name, role, station, active, created_ms
 *   <p>accts             SET    every account id
 *   <p>bind:<code hash>  STRING the account a one-time binding code is for
 *                               (EX: the code's lifetime; GETDEL uses it)
 *   <p>tok:<token hash>  HASH   account, device, created_ms, expires_ms
 *                               (PEXPIREAT at expiry)
 *   <p>toks:{a:<id>}     SET    the account's token hashes (to revoke them all)
 *   <p>rl:<what>:<peer>  STRING failures in the current window (rate limit)
 *
 * Codes and tokens are stored only as their BLAKE2b-256 hashes: a copy of
 * Redis lets nobody bind a device or act as one. Tokens are 32 random bytes
 * ("gbt_" and base64url), codes 10 characters of Crockford's base32 (50
 * bits, typed by a person, so tried only under a rate limit).
 *
 * Roles: an officer sees and acts on their own station; a station
 * administrator also manages its officers and settles disputes; a bureau
 * administrator sees and manages everything. */
#ifndef GB_ACCOUNTS_H
#define GB_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "gb/redis.h"

typedef enum {
  GB_ROLE_OFFICER = 1,
  GB_ROLE_STATION_ADMIN = 2,
  GB_ROLE_BUREAU_ADMIN = 3,
} gb_role_t;

#define GB_ACCOUNT_ID_MAX 65 /* 64 characters and NUL */
#define GB_ACCOUNT_NAME_MAX 129
#define GB_BIND_CODE_LEN 10
#define GB_TOKEN_MAX 128 /* "gbt_<account>~<43 base64url>" and the NUL */
#define GB_TOKEN_HASH_LEN 64

typedef struct {
  char id[GB_ACCOUNT_ID_MAX];
  char name[GB_ACCOUNT_NAME_MAX];
  gb_role_t role;
  char station[GB_ACCOUNT_ID_MAX]; /* "" for a bureau administrator */
  bool active;
  int64_t created_ms;
} gb_account_t;

/* "officer", "station_admin", "bureau_admin"; "?" otherwise. */
const char *gb_role_name(gb_role_t r);
/* Returns 0 and *r, or GB_EINVAL. */
int gb_role_parse(const char *s, gb_role_t *r);
/* 1..64 of [a-z0-9._-], starting with a letter or digit. */
bool gb_account_id_valid(const char *id);

/* Writes an account (creating or replacing it). Returns 0 or GB_EIO. */
int gb_account_put(gb_redis_t *r, const char *prefix, const gb_account_t *a);
/* Returns 0 and *a, GB_ENOTFOUND or GB_EIO. */
int gb_account_get(gb_redis_t *r, const char *prefix, const char *id, gb_account_t *a);
/* Every account (of station, unless NULL or ""), sorted by id, in a
 * malloc'ed array (free it). Returns the count or GB_EIO / GB_ENOMEM. */
int gb_account_list(gb_redis_t *r, const char *prefix, const char *station, gb_account_t **out);
/* Marks the account inactive and revokes every token it holds. Returns 0,
 * GB_ENOTFOUND or GB_EIO. */
int gb_account_deactivate(gb_redis_t *r, const char *prefix, const char *id);

/* A new one-time binding code for the account, valid ttl_s seconds. The
 * code is written to code (GB_BIND_CODE_LEN + 1 bytes). Returns 0,
 * GB_ENOTFOUND (no such active account) or GB_EIO. */
int gb_bind_code_new(gb_redis_t *r, const char *prefix, const char *account_id, int ttl_s,
                     char *code);

typedef struct {
  char token[GB_TOKEN_MAX]; /* shown once; only its hash is kept */
  int64_t expires_ms;
  gb_account_t account;
} gb_grant_t;

/* Exchanges a binding code (case, spaces and dashes ignored; O read as 0,
 * I and L as 1) for a device token valid token_ttl_s seconds. The code is
 * used up whatever happens next. Returns 0 and *g, GB_ENOTFOUND (unknown,
 * used or expired code, or an inactive account) or GB_EIO. */
int gb_bind(gb_redis_t *r, const char *prefix, const char *code, const char *device,
            int token_ttl_s, gb_grant_t *g);

typedef struct {
  gb_account_t account;
  char token_hash[GB_TOKEN_HASH_LEN + 1];
  char device[GB_ACCOUNT_NAME_MAX];
  int64_t expires_ms;
} gb_auth_t;

/* Checks a presented token at now_ms. Returns 0 and *a, GB_ENOTFOUND
 * (unknown, revoked or expired token, or an inactive account) or GB_EIO. */
int gb_token_check(gb_redis_t *r, const char *prefix, const char *token, int64_t now_ms,
                   gb_auth_t *a);
/* Revokes one token by its hash. Returns 0 or GB_EIO. */
int gb_token_revoke(gb_redis_t *r, const char *prefix, const char *account_id,
                    const char *token_hash);

/* Counts one failure of `what` from peer in a window of window_s seconds.
 * Returns the failures in the window so far (this one included), or
 * GB_EIO. */
int gb_rate_fail(gb_redis_t *r, const char *prefix, const char *what, const char *peer,
                 int window_s);
/* The failures counted so far in the window, or GB_EIO. */
int gb_rate_failures(gb_redis_t *r, const char *prefix, const char *what, const char *peer);

/* Whether an authenticated account may see or act on station's alerts. */
bool gb_account_may_station(const gb_account_t *a, const char *station);

#endif
