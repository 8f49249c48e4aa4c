/* Fraud indicators: reading them (JSON, protobuf), storing them in Redis and
 * looking them up. The layout and the domain rule are in gb/intel.h. */
#include "gb/intel.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/phone.h"
#include "goldenbell/v1/intel.pb-c.h"

/* prefix + "fi:domain:" + a value of at most 255 bytes. */
#define KEY_MAX 1024
/* A DNS name of 253 characters has at most 127 labels. */

const char *gb_indicator_kind_name(gb_indicator_kind_t k) {
  switch (k) {
  case GB_IND_PHONE: return "phone";
  case GB_IND_DOMAIN: return "domain";
  case GB_IND_APP: return "app";
  }
  return "?";
}

const char *gb_indicator_action_name(gb_indicator_action_t a) {
  switch (a) {
  case GB_IND_ADD: return "add";
  case GB_IND_CONFIRM: return "confirm";
  case GB_IND_WITHDRAW: return "withdraw";
  }
  return "?";
}

/* ---- reading ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. Overlong
 * forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *s, size_t n, unsigned *cp) {
  size_t k, i;
  unsigned c, min;
  if (s[0] < 0x80) return *cp = s[0], 1;
  if (s[0] >= 0xC2 && s[0] <= 0xDF) k = 2, c = s[0] & 0x1F, min = 0x80;
  else if (s[0] >= 0xE0 && s[0] <= 0xEF) k = 3, c = s[0] & 0x0F, min = 0x800;
  else if (s[0] >= 0xF0 && s[0] <= 0xF4) k = 4, c = s[0] & 0x07, min = 0x10000;
  else return 0;
  if (n < k) return 0;
  for (i = 1; i < k; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return k;
}

/* source: at most 64 bytes of UTF-8 without control characters. */
static int check_source(const char *s, size_t len, gb_reject_t *r) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i, k;
  unsigned cp;
  if (len > GB_IND_SOURCE_MAX - 1)
    return gb_reject(r, "invalid_value", "source", "source: %zu bytes, at most %d", len,
                     GB_IND_SOURCE_MAX - 1);
  for (i = 0; i < len; i += k) {
    if ((k = utf8_len(u + i, len - i, &cp)) == 0)
      return gb_reject(r, "invalid_utf8", "source", "source: invalid UTF-8 at byte %zu", i);
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
      return gb_reject(r, "invalid_value", "source",
                       "source: control character U+%04X at byte %zu", cp, i);
  }
  return 0;
}

/* What both wire forms carry, before validation. */
typedef struct {
  gb_indicator_kind_t kind;
  gb_indicator_action_t action;
  const char *value;
  size_t value_len;
  const char *source; /* NULL: none */
  size_t source_len;
  int64_t confidence;
  int64_t first_seen_ms;
  int64_t expires_ms;
  bool exact;
} raw_t;

/* Validates and normalises raw into *ind (written only on success). */
static int finish(gb_indicator_t *ind, const raw_t *raw, gb_reject_t *r) {
  gb_indicator_t out;
  char e[200];
  int err;
  memset(&out, 0, sizeof(out));
  out.kind = raw->kind;
  out.action = raw->action;
  out.confidence = (int)raw->confidence;
  out.first_seen_ms = raw->first_seen_ms;
  out.expires_ms = raw->expires_ms;
  switch (raw->kind) {
  case GB_IND_PHONE: {
    gb_phone_class_t c = gb_phone_normalize(out.value, sizeof(out.value), raw->value,
                                            raw->value_len, e, sizeof(e));
    if (c == GB_PHONE_INVALID) return gb_reject(r, "invalid_value", "value", "value: %s", e);
    /* 110 or 12381 on a fraud list would flag every citizen who calls the
     * police or the anti-fraud centre. */
    if (c == GB_PHONE_SERVICE)
      return gb_reject(r, "invalid_value", "value",
                       "value: a service number cannot be a fraud indicator");
    break;
  }
  case GB_IND_DOMAIN: {
    gb_site_t s;
    if ((err = gb_site_normalize(&s, raw->value, raw->value_len, e, sizeof(e))) != 0)
      return gb_reject(r, "invalid_value", "value", "value: %s",
                       err == GB_EINVAL ? e : "site: no public suffix list");
    snprintf(out.value, sizeof(out.value), "%s", raw->exact ? s.host : s.domain);
    break;
  }
  case GB_IND_APP:
    if (gb_app_normalize(out.value, sizeof(out.value), raw->value, raw->value_len, e,
                         sizeof(e)) != 0)
      return gb_reject(r, "invalid_value", "value", "value: %s", e);
    break;
  default:
    return gb_reject(r, "unknown_enum", "kind", "kind: %d is not phone, domain or app",
                     (int)raw->kind);
  }
  if (raw->source && (err = check_source(raw->source, raw->source_len, r)) != 0) return err;
  if (raw->source) snprintf(out.source, sizeof(out.source), "%.*s", (int)raw->source_len,
                            raw->source);
  if (raw->first_seen_ms < 0)
    return gb_reject(r, "invalid_value", "first_seen", "first_seen: before 1970");
  if (raw->expires_ms < 0)
    return gb_reject(r, "invalid_value", "expires", "expires: before 1970");
  if (raw->first_seen_ms && raw->expires_ms && raw->expires_ms <= raw->first_seen_ms)
    return gb_reject(r, "invalid_value", "expires",
                     "expires: %lld ms is not after first_seen (%lld ms)",
                     (long long)raw->expires_ms, (long long)raw->first_seen_ms);
  *ind = out;
  return 0;
}

int gb_indicator_from_json(gb_indicator_t *ind, const json_t *obj, gb_reject_t *r) {
  raw_t raw = {.confidence = GB_IND_CONFIDENCE_DEFAULT, .action = GB_IND_ADD};
  const char *kind, *action = NULL;
  int err;
  if (!json_is_object(obj))
    return gb_reject(r, "wrong_type", "", "a fraud indicator is a JSON object");
  if ((err = gb_json_str(obj, "kind", true, &kind, NULL, r)) != 0 ||
      (err = gb_json_str(obj, "value", true, &raw.value, &raw.value_len, r)) != 0 ||
      (err = gb_json_str(obj, "action", false, &action, NULL, r)) != 0 ||
      (err = gb_json_str(obj, "source", false, &raw.source, &raw.source_len, r)) != 0 ||
      (err = gb_json_int(obj, "confidence", false, 0, 100, &raw.confidence, r)) != 0 ||
      (err = gb_json_time(obj, "first_seen", false, &raw.first_seen_ms, r)) != 0 ||
      (err = gb_json_time(obj, "expires", false, &raw.expires_ms, r)) != 0 ||
      (err = gb_json_bool(obj, "exact", false, &raw.exact, r)) != 0)
    return err;
  if (strcmp(kind, "phone") == 0) raw.kind = GB_IND_PHONE;
  else if (strcmp(kind, "domain") == 0) raw.kind = GB_IND_DOMAIN;
  else if (strcmp(kind, "app") == 0) raw.kind = GB_IND_APP;
  else
    return gb_reject(r, "unknown_enum", "kind", "kind: '%.40s' is not phone, domain or app",
                     kind);
  if (!action || strcmp(action, "add") == 0) raw.action = GB_IND_ADD;
  else if (strcmp(action, "confirm") == 0) raw.action = GB_IND_CONFIRM;
  else if (strcmp(action, "withdraw") == 0) raw.action = GB_IND_WITHDRAW;
  else
    return gb_reject(r, "unknown_enum", "action",
                     "action: '%.40s' is not add, confirm or withdraw", action);
  /* jansson refuses \u0000 in strings, but a caller may have built obj. */
  if (raw.source && strlen(raw.source) != raw.source_len)
    return gb_reject(r, "invalid_value", "source", "source: holds a NUL byte");
  return finish(ind, &raw, r);
}

int gb_indicator_from_proto(gb_indicator_t *ind, const void *buf, size_t len, gb_reject_t *r) {
  Goldenbell__V1__FraudIndicator *pb =
      goldenbell__v1__fraud_indicator__unpack(NULL, len, (const uint8_t *)(buf ? buf : ""));
  raw_t raw = {0};
  int err;
  if (!pb)
    return gb_reject(r, "bad_protobuf", "", "not a goldenbell.v1.FraudIndicator (%zu bytes)",
                     len);
  if (pb->version > 1) {
    err = gb_reject(r, "unsupported_version", "version", "version: %u, this build reads 1",
                    (unsigned)pb->version);
    goto cleanup;
  }
  switch ((int)pb->kind) {
  case GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_PHONE: raw.kind = GB_IND_PHONE; break;
  case GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_DOMAIN: raw.kind = GB_IND_DOMAIN; break;
  case GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_APP: raw.kind = GB_IND_APP; break;
  case GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_UNSPECIFIED:
    err = gb_reject(r, "missing_field", "kind", "kind: missing");
    goto cleanup;
  default:
    err = gb_reject(r, "unknown_enum", "kind", "kind: %d is not phone, domain or app",
                    (int)pb->kind);
    goto cleanup;
  }
  switch ((int)pb->action) {
  case GOLDENBELL__V1__INDICATOR_ACTION__INDICATOR_ACTION_UNSPECIFIED:
  case GOLDENBELL__V1__INDICATOR_ACTION__INDICATOR_ACTION_ADD: raw.action = GB_IND_ADD; break;
  case GOLDENBELL__V1__INDICATOR_ACTION__INDICATOR_ACTION_CONFIRM:
    raw.action = GB_IND_CONFIRM;
    break;
  case GOLDENBELL__V1__INDICATOR_ACTION__INDICATOR_ACTION_WITHDRAW:
    raw.action = GB_IND_WITHDRAW;
    break;
  default:
    err = gb_reject(r, "unknown_enum", "action", "action: %d is not add, confirm or withdraw",
                    (int)pb->action);
    goto cleanup;
  }
  /* protobuf-c hands strings over NUL-terminated, without their length: a
   * value with a NUL byte in it is read up to that byte. No phone, host or
   * app id holds one. */
  raw.value = pb->value ? pb->value : "";
  raw.value_len = strlen(raw.value);
  if (raw.value_len == 0) {
    err = gb_reject(r, "missing_field", "value", "value: missing");
    goto cleanup;
  }
  if (pb->source && pb->source[0]) {
    raw.source = pb->source;
    raw.source_len = strlen(pb->source);
  }
  if (pb->confidence > 100) {
    err = gb_reject(r, "invalid_value", "confidence", "confidence: %u is outside 0..100",
                    (unsigned)pb->confidence);
    goto cleanup;
  }
  raw.confidence = pb->confidence ? pb->confidence : GB_IND_CONFIDENCE_DEFAULT;
  raw.first_seen_ms = pb->first_seen_ms;
  raw.expires_ms = pb->expires_ms;
  raw.exact = pb->exact;
  err = finish(ind, &raw, r);
cleanup:
  goldenbell__v1__fraud_indicator__free_unpacked(pb, NULL);
  return err;
}

/* ---- Redis ---- */

static int make_key(char *out, size_t size, const char *prefix, gb_indicator_kind_t kind,
                    const char *value) {
  int n = snprintf(out, size, "%sfi:%s:%s", prefix, gb_indicator_kind_name(kind), value);
  return n < 0 || (size_t)n >= size ? GB_EINVAL : 0;
}

/* Reads n pipelined replies; returns 0 when every one arrived and none is a
 * Redis error, else GB_EIO. The replies are kept in rep (free them). */
static int read_replies(gb_redis_t *rd, redisReply **rep, int n) {
  int i, err = 0;
  for (i = 0; i < n; i++) {
    rep[i] = gb_redis_reply(rd);
    if (!rep[i] || rep[i]->type == REDIS_REPLY_ERROR) err = GB_EIO;
  }
  return err;
}

static void free_replies(redisReply **rep, int n) {
  int i;
  for (i = 0; i < n; i++)
    if (rep[i]) freeReplyObject(rep[i]);
}

int gb_indicator_apply(gb_redis_t *rd, const char *prefix, const gb_indicator_t *ind,
                       int64_t now_ms) {
  char key[KEY_MAX];
  redisReply *rep[5] = {0};
  int n = 0, err;
  if ((err = make_key(key, sizeof(key), prefix, ind->kind, ind->value)) != 0) return err;
  if (ind->action == GB_IND_WITHDRAW || (ind->expires_ms && ind->expires_ms <= now_ms)) {
    redisReply *r1 = gb_redis_command(rd, "DEL %s", key);
    err = !r1 || r1->type == REDIS_REPLY_ERROR ? GB_EIO : 0;
    if (r1) freeReplyObject(r1);
    return err;
  }
  long long first = ind->first_seen_ms ? ind->first_seen_ms : now_ms;
  /* One transaction: the hash never lives without its expiry. */
  if (gb_redis_append(rd, "MULTI") != 0) goto append_failed;
  n++;
  if (gb_redis_append(rd, "HSET %s source %s confidence %d expires_ms %lld updated_ms %lld",
                      key, ind->source, ind->confidence, (long long)ind->expires_ms,
                      (long long)now_ms) != 0)
    goto append_failed;
  n++;
  /* The first sighting stays the first: only an add that states one moves
   * it, so a re-delivered or later message without one changes nothing. */
  if (gb_redis_append(rd,
                      ind->action == GB_IND_ADD && ind->first_seen_ms
                          ? "HSET %s first_seen_ms %lld"
                          : "HSETNX %s first_seen_ms %lld",
                      key, first) != 0)
    goto append_failed;
  n++;
  if ((ind->expires_ms ? gb_redis_append(rd, "PEXPIREAT %s %lld", key,
                                         (long long)ind->expires_ms)
                       : gb_redis_append(rd, "PERSIST %s", key)) != 0)
    goto append_failed;
  n++;
  if (gb_redis_append(rd, "EXEC") != 0) goto append_failed;
  n++;
  err = read_replies(rd, rep, n);
  /* EXEC answers nil when the transaction was aborted. */
  if (!err && rep[4]->type != REDIS_REPLY_ARRAY) err = GB_EIO;
  if (!err) {
    size_t i;
    for (i = 0; i < rep[4]->elements; i++)
      if (rep[4]->element[i]->type == REDIS_REPLY_ERROR) err = GB_EIO;
  }
  free_replies(rep, n);
  return err;
append_failed:
  /* Keep the connection in step and out of the transaction: read what was
   * sent, then give up. */
  if (n > 0 && n < 5 && gb_redis_append(rd, "DISCARD") == 0) n++;
  read_replies(rd, rep, n);
  free_replies(rep, n);
  return GB_EIO;
}

/* Fills *out from an HGETALL reply; returns 1 when it is a live indicator. */
static int from_hash(const redisReply *h, gb_indicator_kind_t kind, const char *value,
                     int64_t now_ms, gb_indicator_t *out) {
  gb_indicator_t ind;
  size_t i;
  if (h->type != REDIS_REPLY_ARRAY || h->elements < 2) return 0;
  memset(&ind, 0, sizeof(ind));
  ind.kind = kind;
  ind.action = GB_IND_ADD;
  snprintf(ind.value, sizeof(ind.value), "%s", value);
  for (i = 0; i + 1 < h->elements; i += 2) {
    const redisReply *f = h->element[i], *v = h->element[i + 1];
    if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
    if (strcmp(f->str, "source") == 0)
      snprintf(ind.source, sizeof(ind.source), "%s", v->str);
    else if (strcmp(f->str, "confidence") == 0)
      ind.confidence = atoi(v->str);
    else if (strcmp(f->str, "first_seen_ms") == 0)
      ind.first_seen_ms = strtoll(v->str, NULL, 10);
    else if (strcmp(f->str, "expires_ms") == 0)
      ind.expires_ms = strtoll(v->str, NULL, 10);
  }
  if (ind.expires_ms && ind.expires_ms <= now_ms) return 0;
  if (out) *out = ind;
  return 1;
}

int gb_ind_query_value(gb_ind_query_t *q, gb_indicator_kind_t kind, const char *value) {
  memset(q, 0, sizeof(*q));
  q->kind = kind;
  if (kind == GB_IND_DOMAIN) {
    gb_site_t site;
    if (gb_site_normalize(&site, value, strlen(value), NULL, 0) != 0) return GB_EINVAL;
    return gb_ind_query_site(q, &site);
  }
  snprintf(q->host, sizeof(q->host), "%s", value);
  q->n = 1;
  return 0;
}

int gb_ind_query_site(gb_ind_query_t *q, const gb_site_t *site) {
  memset(q, 0, sizeof(*q));
  q->kind = GB_IND_DOMAIN;
  snprintf(q->host, sizeof(q->host), "%s", site->host);
  snprintf(q->domain, sizeof(q->domain), "%s", site->domain);
  const char *h = q->host;
  size_t hl = strlen(q->host), dl = strlen(q->domain);
  /* host, its parents, ..., the registrable domain, which is a suffix of
   * the host at a label boundary (an address is its own domain). */
  bool suffix = hl >= dl && strcmp(h + hl - dl, q->domain) == 0 &&
                (hl == dl || h[hl - dl - 1] == '.');
  q->level[q->n++] = 0;
  if (suffix) {
    while (strlen(h) > dl && q->n < GB_IND_LEVELS_MAX) {
      h = strchr(h, '.');
      if (!h) break;
      q->level[q->n++] = (uint16_t)(++h - q->host);
    }
  } else if (strcmp(q->host, q->domain) != 0) {
    q->level[q->n++] = GB_IND_LEVEL_DOMAIN;
  }
  return 0;
}

static const char *query_level(const gb_ind_query_t *q, int i) {
  return q->level[i] == GB_IND_LEVEL_DOMAIN ? q->domain : q->host + q->level[i];
}

int gb_ind_query_append(gb_redis_t *rd, const char *prefix, const gb_ind_query_t *q) {
  char key[KEY_MAX];
  for (int i = 0; i < q->n; i++) {
    if (make_key(key, sizeof(key), prefix, q->kind, query_level(q, i)) != 0 ||
        gb_redis_append(rd, "HGETALL %s", key) != 0)
      return GB_EIO; /* the caller reads q->n replies all the same */
  }
  return 0;
}

int gb_ind_query_read(gb_redis_t *rd, const gb_ind_query_t *q, int64_t now_ms,
                      gb_indicator_t *out) {
  redisReply *rep[GB_IND_LEVELS_MAX] = {0};
  int err = read_replies(rd, rep, q->n) != 0 ? GB_EIO : 0, found = 0;
  for (int i = 0; !err && !found && i < q->n; i++)
    found = from_hash(rep[i], q->kind, query_level(q, i), now_ms, out);
  free_replies(rep, q->n);
  return err ? err : found;
}

/* Looks a query up in one pipeline; the first (most specific) live level
 * wins. */
static int lookup_query(gb_redis_t *rd, const char *prefix, const gb_ind_query_t *q,
                        int64_t now_ms, gb_indicator_t *out) {
  int err = gb_ind_query_append(rd, prefix, q);
  int found = gb_ind_query_read(rd, q, now_ms, out);
  return err ? err : found;
}

int gb_indicator_lookup_site(gb_redis_t *rd, const char *prefix, const gb_site_t *site,
                             int64_t now_ms, gb_indicator_t *out) {
  gb_ind_query_t q;
  gb_ind_query_site(&q, site);
  return lookup_query(rd, prefix, &q, now_ms, out);
}

int gb_indicator_lookup(gb_redis_t *rd, const char *prefix, gb_indicator_kind_t kind,
                        const char *value, int64_t now_ms, gb_indicator_t *out) {
  gb_ind_query_t q;
  int err = gb_ind_query_value(&q, kind, value);
  return err ? err : lookup_query(rd, prefix, &q, now_ms, out);
}
