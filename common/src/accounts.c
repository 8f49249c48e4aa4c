#include "gb/accounts.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/keys.h"
#include "gb/timeparse.h"

static const char CROCKFORD[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

const char *gb_role_name(gb_role_t r) {
  switch (r) {
  case GB_ROLE_OFFICER: return "officer";
  case GB_ROLE_STATION_ADMIN: return "station_admin";
  case GB_ROLE_BUREAU_ADMIN: return "bureau_admin";
  default: return "?";
  }
}

int gb_role_parse(const char *s, gb_role_t *r) {
  for (int i = GB_ROLE_OFFICER; i <= GB_ROLE_BUREAU_ADMIN; i++)
    if (s && strcmp(s, gb_role_name((gb_role_t)i)) == 0) {
      *r = (gb_role_t)i;
      return 0;
    }
  return GB_EINVAL;
}

bool gb_account_id_valid(const char *id) {
  size_t n = id ? strlen(id) : 0;
  if (n == 0 || n >= GB_ACCOUNT_ID_MAX || !isalnum((unsigned char)id[0])) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (!(islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

static void hash_hex(const char *s, char out[GB_TOKEN_HASH_LEN + 1]) {
  unsigned char h[GB_TOKEN_HASH_LEN / 2];
  crypto_generichash(h, sizeof(h), (const unsigned char *)s, strlen(s), NULL, 0);
  sodium_bin2hex(out, GB_TOKEN_HASH_LEN + 1, h, sizeof(h));
}

static void key(char *out, const char *prefix, const char *fmt, const char *arg) {
  char tail[GB_KEY_MAX];
  snprintf(tail, sizeof(tail), fmt, arg);
  snprintf(out, GB_KEY_MAX, "%s%s", prefix, tail);
}

int gb_account_put(gb_redis_t *r, const char *prefix, const gb_account_t *a) {
  char ka[GB_KEY_MAX], kall[GB_KEY_MAX], created[24];
  key(ka, prefix, "acct:{a:%s}", a->id);
  key(kall, prefix, "%s", "accts");
  snprintf(created, sizeof(created), "%lld",
           (long long)(a->created_ms ? a->created_ms : gb_now_ms()));
  int ok = gb_redis_append(r, "HSET %s id %s name %s role %s station %s active %s created_ms %s",
                           ka, a->id, a->name, gb_role_name(a->role), a->station,
                           a->active ? "1" : "0", created) == 0;
  ok &= gb_redis_append(r, "SADD %s %s", kall, a->id) == 0;
  for (int i = 0; i < 2; i++) {
    redisReply *rep = gb_redis_reply(r);
    ok &= rep && rep->type == REDIS_REPLY_INTEGER;
    if (rep) freeReplyObject(rep);
  }
  return ok ? 0 : GB_EIO;
}

static int from_reply(const redisReply *rep, gb_account_t *a) {
  if (!rep || rep->type != REDIS_REPLY_ARRAY) return GB_EIO;
  if (rep->elements == 0) return GB_ENOTFOUND;
  memset(a, 0, sizeof(*a));
  for (size_t i = 0; i + 1 < rep->elements; i += 2) {
    const char *f = rep->element[i]->str, *v = rep->element[i + 1]->str;
    if (!f || !v) continue;
    if (!strcmp(f, "id")) snprintf(a->id, sizeof(a->id), "%s", v);
    else if (!strcmp(f, "name")) snprintf(a->name, sizeof(a->name), "%s", v);
    else if (!strcmp(f, "role")) gb_role_parse(v, &a->role);
    else if (!strcmp(f, "station")) snprintf(a->station, sizeof(a->station), "%s", v);
    else if (!strcmp(f, "active")) a->active = v[0] == '1';
    else if (!strcmp(f, "created_ms")) a->created_ms = strtoll(v, NULL, 10);
  }
  return a->id[0] && a->role ? 0 : GB_ENOTFOUND;
}

int gb_account_get(gb_redis_t *r, const char *prefix, const char *id, gb_account_t *a) {
  if (!gb_account_id_valid(id)) return GB_ENOTFOUND;
  char ka[GB_KEY_MAX];
  key(ka, prefix, "acct:{a:%s}", id);
  redisReply *rep = gb_redis_command(r, "HGETALL %s", ka);
  int err = from_reply(rep, a);
  if (rep) freeReplyObject(rep);
  return err;
}

static int by_id(const void *x, const void *y) {
  return strcmp(((const gb_account_t *)x)->id, ((const gb_account_t *)y)->id);
}

int gb_account_list(gb_redis_t *r, const char *prefix, const char *station, gb_account_t **out) {
  char kall[GB_KEY_MAX], ka[GB_KEY_MAX];
  *out = NULL;
  key(kall, prefix, "%s", "accts");
  redisReply *ids = gb_redis_command(r, "SMEMBERS %s", kall);
  if (!ids || ids->type != REDIS_REPLY_ARRAY) {
    if (ids) freeReplyObject(ids);
    return GB_EIO;
  }
  gb_account_t *v = calloc(ids->elements ? ids->elements : 1, sizeof(*v));
  if (!v) {
    freeReplyObject(ids);
    return GB_ENOMEM;
  }
  int ok = 1, n = 0;
  for (size_t i = 0; i < ids->elements; i++) {
    key(ka, prefix, "acct:{a:%s}", ids->element[i]->str);
    ok &= gb_redis_append(r, "HGETALL %s", ka) == 0;
  }
  for (size_t i = 0; i < ids->elements; i++) {
    redisReply *rep = gb_redis_reply(r);
    int err = from_reply(rep, &v[n]);
    if (err == GB_EIO) ok = 0;
    if (!err && (!station || !*station || strcmp(v[n].station, station) == 0)) n++;
    if (rep) freeReplyObject(rep);
  }
  freeReplyObject(ids);
  if (!ok) {
    free(v);
    return GB_EIO;
  }
  qsort(v, (size_t)n, sizeof(*v), by_id);
  *out = v;
  return n;
}

int gb_account_deactivate(gb_redis_t *r, const char *prefix, const char *id) {
  gb_account_t a;
  int err = gb_account_get(r, prefix, id, &a);
  if (err) return err;
  a.active = false;
  if ((err = gb_account_put(r, prefix, &a)) != 0) return err;
  char kt[GB_KEY_MAX], k[GB_KEY_MAX];
  key(kt, prefix, "toks:{a:%s}", id);
  redisReply *toks = gb_redis_command(r, "SMEMBERS %s", kt);
  if (!toks || toks->type != REDIS_REPLY_ARRAY) {
    if (toks) freeReplyObject(toks);
    return GB_EIO;
  }
  for (size_t i = 0; i < toks->elements; i++) {
    key(k, prefix, "tok:%s", toks->element[i]->str);
    redisReply *d = gb_redis_command(r, "DEL %s", k);
    if (!d) err = GB_EIO;
    else freeReplyObject(d);
  }
  freeReplyObject(toks);
  redisReply *d = gb_redis_command(r, "DEL %s", kt);
  if (!d) return GB_EIO;
  freeReplyObject(d);
  return err;
}

/* Upper case, separators dropped, look-alikes folded, as Crockford's
 * base32 reads. Returns 0, or GB_EINVAL for anything else. */
static int normalize_code(const char *in, char out[GB_BIND_CODE_LEN + 1]) {
  size_t n = 0;
  for (const char *p = in; p && *p; p++) {
    char c = (char)toupper((unsigned char)*p);
    if (c == ' ' || c == '-') continue;
    if (c == 'O') c = '0';
    if (c == 'I' || c == 'L') c = '1';
    if (!strchr(CROCKFORD, c) || n == GB_BIND_CODE_LEN) return GB_EINVAL;
    out[n++] = c;
  }
  out[n] = '\0';
  return n == GB_BIND_CODE_LEN ? 0 : GB_EINVAL;
}

int gb_bind_code_new(gb_redis_t *r, const char *prefix, const char *account_id, int ttl_s,
                     char *code) {
  gb_account_t a;
  int err = gb_account_get(r, prefix, account_id, &a);
  if (err) return err;
  if (!a.active) return GB_ENOTFOUND;
  for (int i = 0; i < GB_BIND_CODE_LEN; i++) code[i] = CROCKFORD[randombytes_uniform(32)];
  code[GB_BIND_CODE_LEN] = '\0';
  char h[GB_TOKEN_HASH_LEN + 1], kb[GB_KEY_MAX];
  hash_hex(code, h);
  key(kb, prefix, "bind:%s", h);
  redisReply *rep = gb_redis_command(r, "SET %s %s EX %d", kb, account_id, ttl_s);
  int ok = rep && rep->type == REDIS_REPLY_STATUS;
  if (rep) freeReplyObject(rep);
  return ok ? 0 : GB_EIO;
}

int gb_bind(gb_redis_t *r, const char *prefix, const char *code, const char *device,
            int token_ttl_s, gb_grant_t *g) {
  char norm[GB_BIND_CODE_LEN + 1], h[GB_TOKEN_HASH_LEN + 1], kb[GB_KEY_MAX];
  if (normalize_code(code, norm) != 0) return GB_ENOTFOUND;
  hash_hex(norm, h);
  key(kb, prefix, "bind:%s", h);
  redisReply *rep = gb_redis_command(r, "GETDEL %s", kb);
  if (!rep || (rep->type != REDIS_REPLY_STRING && rep->type != REDIS_REPLY_NIL)) {
    if (rep) freeReplyObject(rep);
    return GB_EIO;
  }
  char account[GB_ACCOUNT_ID_MAX] = "";
  if (rep->type == REDIS_REPLY_STRING) snprintf(account, sizeof(account), "%s", rep->str);
  freeReplyObject(rep);
  if (!account[0]) return GB_ENOTFOUND;
  int err = gb_account_get(r, prefix, account, &g->account);
  if (err) return err;
  if (!g->account.active) return GB_ENOTFOUND;

  unsigned char raw[32];
  char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  randombytes_buf(raw, sizeof(raw));
  sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof(raw));
  /* The account id travels in the token (it is no secret), so that a
   * check reads the token and its account in one round trip. */
  snprintf(g->token, sizeof(g->token), "gbt_%s~%s", account, b64);
  int64_t now = gb_now_ms();
  g->expires_ms = now + (int64_t)token_ttl_s * 1000;
  char th[GB_TOKEN_HASH_LEN + 1], kt[GB_KEY_MAX], kts[GB_KEY_MAX], c[24], e[24];
  hash_hex(g->token, th);
  key(kt, prefix, "tok:%s", th);
  key(kts, prefix, "toks:{a:%s}", account);
  snprintf(c, sizeof(c), "%lld", (long long)now);
  snprintf(e, sizeof(e), "%lld", (long long)g->expires_ms);
  int ok = gb_redis_append(r, "HSET %s account %s device %s created_ms %s expires_ms %s", kt,
                           account, device ? device : "", c, e) == 0;
  ok &= gb_redis_append(r, "PEXPIREAT %s %s", kt, e) == 0;
  ok &= gb_redis_append(r, "SADD %s %s", kts, th) == 0;
  for (int i = 0; i < 3; i++) {
    redisReply *x = gb_redis_reply(r);
    ok &= x && x->type == REDIS_REPLY_INTEGER;
    if (x) freeReplyObject(x);
  }
  return ok ? 0 : GB_EIO;
}

/* The account a token names ("gbt_<account>~<random>"); "" for a token of
 * the first format ("gbt_<random>"), whose account only Redis knows. */
static void token_account(const char *token, char out[GB_ACCOUNT_ID_MAX]) {
  const char *tilde = strrchr(token, '~');
  out[0] = '\0';
  if (!tilde || tilde - token - 4 <= 0 || tilde - token - 4 >= GB_ACCOUNT_ID_MAX) return;
  snprintf(out, GB_ACCOUNT_ID_MAX, "%.*s", (int)(tilde - token - 4), token + 4);
  if (!gb_account_id_valid(out)) out[0] = '\0';
}

int gb_token_check(gb_redis_t *r, const char *prefix, const char *token, int64_t now_ms,
                   gb_auth_t *a) {
  if (!token || strncmp(token, "gbt_", 4) != 0 || strlen(token) >= GB_TOKEN_MAX)
    return GB_ENOTFOUND;
  char kt[GB_KEY_MAX], ka[GB_KEY_MAX], named[GB_ACCOUNT_ID_MAX];
  memset(a, 0, sizeof(*a));
  hash_hex(token, a->token_hash);
  key(kt, prefix, "tok:%s", a->token_hash);
  token_account(token, named);
  /* Both hashes in one round trip when the token names its account. */
  int piped = named[0] != '\0';
  if (gb_redis_append(r, "HGETALL %s", kt) != 0) return GB_EIO;
  if (piped) {
    key(ka, prefix, "acct:{a:%s}", named);
    if (gb_redis_append(r, "HGETALL %s", ka) != 0) {
      redisReply *x = gb_redis_reply(r);
      if (x) freeReplyObject(x);
      return GB_EIO;
    }
  }
  redisReply *rep = gb_redis_reply(r);
  redisReply *acc = piped ? gb_redis_reply(r) : NULL;
  int err = 0;
  char account[GB_ACCOUNT_ID_MAX] = "";
  if (!rep || rep->type != REDIS_REPLY_ARRAY || (piped && (!acc || acc->type != REDIS_REPLY_ARRAY)))
    err = GB_EIO;
  for (size_t i = 0; !err && i + 1 < rep->elements; i += 2) {
    const char *f = rep->element[i]->str, *v = rep->element[i + 1]->str;
    if (!f || !v) continue;
    if (!strcmp(f, "account")) snprintf(account, sizeof(account), "%s", v);
    else if (!strcmp(f, "device")) snprintf(a->device, sizeof(a->device), "%s", v);
    else if (!strcmp(f, "expires_ms")) a->expires_ms = strtoll(v, NULL, 10);
  }
  if (rep) freeReplyObject(rep);
  if (!err && (!account[0] || a->expires_ms <= now_ms || (piped && strcmp(account, named) != 0)))
    err = GB_ENOTFOUND;
  if (!err) {
    if (piped) {
      err = from_reply(acc, &a->account);
    } else {
      err = gb_account_get(r, prefix, account, &a->account);
    }
  }
  if (acc) freeReplyObject(acc);
  if (err) return err;
  return a->account.active ? 0 : GB_ENOTFOUND;
}

int gb_token_revoke(gb_redis_t *r, const char *prefix, const char *account_id,
                    const char *token_hash) {
  char kt[GB_KEY_MAX], kts[GB_KEY_MAX];
  key(kt, prefix, "tok:%s", token_hash);
  key(kts, prefix, "toks:{a:%s}", account_id);
  int ok = gb_redis_append(r, "DEL %s", kt) == 0;
  ok &= gb_redis_append(r, "SREM %s %s", kts, token_hash) == 0;
  for (int i = 0; i < 2; i++) {
    redisReply *x = gb_redis_reply(r);
    ok &= x && x->type == REDIS_REPLY_INTEGER;
    if (x) freeReplyObject(x);
  }
  return ok ? 0 : GB_EIO;
}

static void rate_key(char *out, const char *prefix, const char *what, const char *peer) {
  char tail[GB_KEY_MAX];
  snprintf(tail, sizeof(tail), "rl:%s:%s", what, peer);
  snprintf(out, GB_KEY_MAX, "%s%s", prefix, tail);
}

int gb_rate_fail(gb_redis_t *r, const char *prefix, const char *what, const char *peer,
                 int window_s) {
  char k[GB_KEY_MAX];
  rate_key(k, prefix, what, peer);
  int ok = gb_redis_append(r, "INCR %s", k) == 0;
  ok &= gb_redis_append(r, "EXPIRE %s %d NX", k, window_s) == 0;
  long long n = -1;
  for (int i = 0; i < 2; i++) {
    redisReply *x = gb_redis_reply(r);
    if (x && x->type == REDIS_REPLY_INTEGER && i == 0) n = x->integer;
    ok &= x && x->type == REDIS_REPLY_INTEGER;
    if (x) freeReplyObject(x);
  }
  return ok && n >= 0 ? (int)n : GB_EIO;
}

int gb_rate_failures(gb_redis_t *r, const char *prefix, const char *what, const char *peer) {
  char k[GB_KEY_MAX];
  rate_key(k, prefix, what, peer);
  redisReply *x = gb_redis_command(r, "GET %s", k);
  if (!x || (x->type != REDIS_REPLY_STRING && x->type != REDIS_REPLY_NIL)) {
    if (x) freeReplyObject(x);
    return GB_EIO;
  }
  int n = x->type == REDIS_REPLY_STRING ? atoi(x->str) : 0;
  freeReplyObject(x);
  return n;
}

bool gb_account_may_station(const gb_account_t *a, const char *station) {
  if (!a->active) return false;
  if (a->role == GB_ROLE_BUREAU_ADMIN) return true;
  return station && a->station[0] && strcmp(a->station, station) == 0;
}
