/* Police stations and publicity units in Redis (layout in gb/stations.h).
 *
 * A put writes the unit's hash, then its name in st:all, then its place in
 * st:geo (or removes it from there when inactive), pipelined in one round
 * trip. These are three keys in different slots, so no MULTI: a crash
 * between them leaves a unit half written, and writing it again (every
 * command sets values) repairs it. Readers therefore take the hash as the
 * truth: a unit st:geo or st:all offers is used only if its hash exists, is
 * active and (for a search) still matches. */
#include "gb/stations.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/keys.h"
#include "gb/timeparse.h"

#define LAT_LIMIT 85.05 /* Redis GEO takes +-85.05112878 */
/* Half the earth's circumference by Redis' radius is 20,015 km: a search
 * this wide covers the whole earth. */
#define EARTH_WIDE_M 20100000.0

static const char *key_unit(char *out, const char *prefix, const char *id) {
  snprintf(out, GB_KEY_MAX, "%sst:{st:%s}", prefix, id);
  return out;
}

static const char *key_geo(char *out, const char *prefix) {
  snprintf(out, GB_KEY_MAX, "%sst:geo", prefix);
  return out;
}

static const char *key_all(char *out, const char *prefix) {
  snprintf(out, GB_KEY_MAX, "%sst:all", prefix);
  return out;
}

bool gb_station_id_valid(const char *id) {
  if (!id) return false;
  size_t len = strlen(id);
  return len > 0 && len <= GB_STATION_ID_MAX &&
         strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == len;
}

/* Strict UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) without control characters, which would break the tools'
 * tab-separated output. Returns NULL or what is wrong. */
static const char *text_problem(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned c = *p;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return "holds a control character";
      p++;
      continue;
    }
    int n;
    unsigned cp, min;
    if (c >= 0xc2 && c <= 0xdf) n = 1, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) n = 2, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) n = 3, cp = c & 0x07, min = 0x10000;
    else return "is not valid UTF-8";
    for (int i = 1; i <= n; i++) {
      if ((p[i] & 0xc0) != 0x80) return "is not valid UTF-8";
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return "is not valid UTF-8";
    p += n + 1;
  }
  return NULL;
}

int gb_station_validate(const gb_station_t *st, char *errstr, size_t errstr_size) {
  const char *why;
  if (!gb_station_id_valid(st->id)) {
    gb_errstr_set(errstr, errstr_size, "id: want 1-%d of letters, digits, '-', '_', '.'",
                  GB_STATION_ID_MAX);
    return GB_EINVAL;
  }
  size_t nl = strnlen(st->name, sizeof(st->name));
  if (nl == 0 || nl > GB_STATION_NAME_MAX) {
    gb_errstr_set(errstr, errstr_size, "name: want 1-%d bytes of UTF-8", GB_STATION_NAME_MAX);
    return GB_EINVAL;
  }
  if ((why = text_problem(st->name)) != NULL) {
    gb_errstr_set(errstr, errstr_size, "name: %s", why);
    return GB_EINVAL;
  }
  if (!gb_station_id_valid(st->bureau)) {
    gb_errstr_set(errstr, errstr_size, "bureau: want 1-%d of letters, digits, '-', '_', '.'",
                  GB_STATION_ID_MAX);
    return GB_EINVAL;
  }
  if (!isfinite(st->lat) || st->lat < -LAT_LIMIT || st->lat > LAT_LIMIT) {
    gb_errstr_set(errstr, errstr_size, "lat: %.15g is outside -%.2f..%.2f degrees", st->lat,
                  LAT_LIMIT, LAT_LIMIT);
    return GB_EINVAL;
  }
  if (!isfinite(st->lon) || st->lon < -180.0 || st->lon > 180.0) {
    gb_errstr_set(errstr, errstr_size, "lon: %.15g is outside -180..180 degrees", st->lon);
    return GB_EINVAL;
  }
  return 0;
}

static void redis_reason(char *errstr, size_t errstr_size, gb_redis_t *r, redisReply *rep) {
  if (rep && rep->type == REDIS_REPLY_ERROR)
    gb_errstr_set(errstr, errstr_size, "redis: %s", rep->str);
  else
    gb_errstr_set(errstr, errstr_size, "redis: %s", gb_redis_errstr(r));
}

int gb_station_put(gb_redis_t *r, const char *prefix, const gb_station_t *st, char *errstr,
                   size_t errstr_size) {
  char kunit[GB_KEY_MAX], kall[GB_KEY_MAX], kgeo[GB_KEY_MAX];
  char lat[32], lon[32], now[32];
  int err;
  if ((err = gb_station_validate(st, errstr, errstr_size)) != 0) return err;
  /* %.15g reads back as the same degrees for any value with up to 12
   * decimals, and prints 24.4539 as 24.4539. */
  snprintf(lat, sizeof(lat), "%.15g", st->lat);
  snprintf(lon, sizeof(lon), "%.15g", st->lon);
  snprintf(now, sizeof(now), "%lld", (long long)gb_now_ms());
  key_unit(kunit, prefix, st->id);
  key_all(kall, prefix);
  key_geo(kgeo, prefix);

  int sent = 0;
  if (gb_redis_append(r, "HSET %s name %s bureau %s lat %s lon %s real %s active %s updated_ms %s",
                      kunit, st->name, st->bureau, lat, lon, st->real ? "1" : "0",
                      st->active ? "1" : "0", now) == 0)
    sent++;
  if (sent == 1 && gb_redis_append(r, "HSET %s %s %s", kall, st->id, st->name) == 0) sent++;
  if (sent == 2 &&
      (st->active ? gb_redis_append(r, "GEOADD %s %s %s %s", kgeo, lon, lat, st->id)
                  : gb_redis_append(r, "ZREM %s %s", kgeo, st->id)) == 0)
    sent++;
  err = sent == 3 ? 0 : GB_EIO;
  if (err) gb_errstr_set(errstr, errstr_size, "redis: %s", gb_redis_errstr(r));
  /* Every appended command's reply is read, so the connection stays in step. */
  for (int i = 0; i < sent; i++) {
    redisReply *rep = gb_redis_reply(r);
    if ((!rep || rep->type == REDIS_REPLY_ERROR) && !err) {
      redis_reason(errstr, errstr_size, r, rep);
      err = GB_EIO;
    }
    if (rep) freeReplyObject(rep);
  }
  return err;
}

static void copy_str(char *dst, size_t size, const redisReply *e) {
  size_t n = 0;
  if (e && e->type == REDIS_REPLY_STRING) {
    n = e->len < size - 1 ? e->len : size - 1;
    memcpy(dst, e->str, n);
  }
  dst[n] = '\0';
}

static double reply_double(const redisReply *e) {
  return e && e->type == REDIS_REPLY_STRING ? strtod(e->str, NULL) : 0.0;
}

static bool reply_flag(const redisReply *e) {
  return e && e->type == REDIS_REPLY_STRING && e->len == 1 && e->str[0] == '1';
}

/* The fields HMGET_FIELDS asks for, in that order. */
#define HMGET_FIELDS "name bureau lat lon real active"

/* Fills out from an HMGET_FIELDS reply. GB_ENOTFOUND when the hash does not
 * exist (every field nil), GB_EIO for an error reply. */
static int from_hmget(const redisReply *rep, const char *id, gb_station_t *out) {
  if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 6) return GB_EIO;
  if (rep->element[0]->type != REDIS_REPLY_STRING) return GB_ENOTFOUND;
  memset(out, 0, sizeof(*out));
  snprintf(out->id, sizeof(out->id), "%s", id);
  copy_str(out->name, sizeof(out->name), rep->element[0]);
  copy_str(out->bureau, sizeof(out->bureau), rep->element[1]);
  out->lat = reply_double(rep->element[2]);
  out->lon = reply_double(rep->element[3]);
  out->real = reply_flag(rep->element[4]);
  out->active = reply_flag(rep->element[5]);
  return 0;
}

int gb_station_get(gb_redis_t *r, const char *prefix, const char *id, gb_station_t *out) {
  char k[GB_KEY_MAX];
  gb_station_t st;
  if (!gb_station_id_valid(id)) return GB_ENOTFOUND;
  redisReply *rep = gb_redis_command(r, "HMGET %s " HMGET_FIELDS, key_unit(k, prefix, id));
  int err = from_hmget(rep, id, &st);
  if (rep) freeReplyObject(rep);
  if (err == 0) *out = st;
  return err;
}

int gb_station_deactivate(gb_redis_t *r, const char *prefix, const char *id) {
  char kunit[GB_KEY_MAX], kgeo[GB_KEY_MAX], now[32];
  if (!gb_station_id_valid(id)) return GB_ENOTFOUND;
  key_unit(kunit, prefix, id);
  redisReply *rep = gb_redis_command(r, "EXISTS %s", kunit);
  int err = !rep || rep->type != REDIS_REPLY_INTEGER ? GB_EIO : rep->integer ? 0 : GB_ENOTFOUND;
  if (rep) freeReplyObject(rep);
  if (err) return err;
  /* The hash first: a unit still in st:geo but inactive is not offered,
   * whereas the reverse order could offer it for a moment. */
  snprintf(now, sizeof(now), "%lld", (long long)gb_now_ms());
  rep = gb_redis_command(r, "HSET %s active 0 updated_ms %s", kunit, now);
  err = !rep || rep->type == REDIS_REPLY_ERROR ? GB_EIO : 0;
  if (rep) freeReplyObject(rep);
  if (err) return err;
  rep = gb_redis_command(r, "ZREM %s %s", key_geo(kgeo, prefix), id);
  err = !rep || rep->type == REDIS_REPLY_ERROR ? GB_EIO : 0;
  if (rep) freeReplyObject(rep);
  return err;
}

/* Says whether to keep a unit read for ids[i]. */
typedef bool (*keep_fn)(const gb_station_t *st, size_t i, void *ud);

/* Reads the hashes of n ids with one pipelined round trip into out (which
 * has room for n); keeps, in order, the active ones for which keep (if not
 * NULL) holds. Returns how many were kept, or GB_EIO. */

static int fetch_units(gb_redis_t *r, const char *prefix, const char *const *ids, size_t n,
                       gb_station_t *out, keep_fn keep, void *ud) {
  char k[GB_KEY_MAX];
  size_t sent = 0;
  int err = 0, kept = 0;
  for (; sent < n; sent++)
    if (gb_redis_append(r, "HMGET %s " HMGET_FIELDS, key_unit(k, prefix, ids[sent])) != 0) {
      err = GB_EIO;
      break;
    }
  for (size_t i = 0; i < sent; i++) {
    redisReply *rep = gb_redis_reply(r);
    if (!err) {
      int e = from_hmget(rep, ids[i], &out[kept]);
      if (e == GB_EIO) err = GB_EIO;
      else if (e == 0 && out[kept].active && (!keep || keep(&out[kept], i, ud))) kept++;
    }
    if (rep) freeReplyObject(rep);
  }
  return err ? err : kept;
}

typedef struct {
  double *dist_in;  /* distance of ids[i] */
  double *dist_out; /* the kept ones' distances, or NULL */
  int kept;
} near_ctx_t;

static bool keep_near(const gb_station_t *st, size_t i, void *ud) {
  near_ctx_t *c = ud;
  (void)st;
  if (c->dist_out) c->dist_out[c->kept] = c->dist_in[i];
  c->kept++;
  return true;
}

int gb_stations_nearest(gb_redis_t *r, const char *prefix, double lat, double lon, int max,
                        gb_station_t *out, double *dist_m) {
  /* Most places have enough units close by: a narrow search first keeps
   * Redis from sorting every unit in the country. */
  static const double radii_m[] = {25000.0, 250000.0, EARTH_WIDE_M};
  /* A few more than wanted, so that a unit half written (in st:geo but not
   * active) does not shorten the answer. */
  enum { SLACK = 4 };
  char kgeo[GB_KEY_MAX], slat[32], slon[32], radius[32], count[16];
  if (max <= 0) return 0;
  if (!isfinite(lat) || !isfinite(lon) || lat < -LAT_LIMIT || lat > LAT_LIMIT || lon < -180.0 ||
      lon > 180.0)
    return GB_EINVAL;
  snprintf(slat, sizeof(slat), "%.15g", lat);
  snprintf(slon, sizeof(slon), "%.15g", lon);
  snprintf(count, sizeof(count), "%d", max + SLACK);
  key_geo(kgeo, prefix);

  redisReply *rep = NULL;
  for (size_t ri = 0; ri < sizeof(radii_m) / sizeof(radii_m[0]); ri++) {
    if (rep) freeReplyObject(rep);
    snprintf(radius, sizeof(radius), "%.0f", radii_m[ri]);
    rep = gb_redis_command(r, "GEOSEARCH %s FROMLONLAT %s %s BYRADIUS %s m ASC COUNT %s WITHDIST",
                           kgeo, slon, slat, radius, count);
    if (!rep || rep->type != REDIS_REPLY_ARRAY) break;
    if (rep->elements >= (size_t)max + SLACK) break;
  }
  if (!rep || rep->type != REDIS_REPLY_ARRAY) {
    if (rep) freeReplyObject(rep);
    return GB_EIO;
  }
  size_t n = rep->elements;
  const char **ids = calloc(n ? n : 1, sizeof(*ids));
  double *dist = calloc(n ? n : 1, sizeof(*dist));
  gb_station_t *found = calloc(n ? n : 1, sizeof(*found));
  double *found_dist = calloc(n ? n : 1, sizeof(*found_dist));
  int ret = GB_ENOMEM;
  if (!ids || !dist || !found || !found_dist) goto cleanup;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    const redisReply *e = rep->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_STRING)
      continue;
    ids[m] = e->element[0]->str;
    dist[m] = strtod(e->element[1]->str, NULL);
    m++;
  }
  near_ctx_t ctx = {dist, found_dist, 0};
  ret = fetch_units(r, prefix, ids, m, found, keep_near, &ctx);
  if (ret < 0) goto cleanup;
  if (ret > max) ret = max;
  memcpy(out, found, (size_t)ret * sizeof(*out));
  if (dist_m) memcpy(dist_m, found_dist, (size_t)ret * sizeof(*dist_m));
cleanup:
  free(ids);
  free(dist);
  free(found);
  free(found_dist);
  freeReplyObject(rep);
  return ret;
}

/* ASCII case-insensitive substring test; bytes >= 0x80 compare exactly,
 * which for valid UTF-8 on both sides is a match of whole characters. */
static bool contains_fold(const char *hay, size_t hl, const char *needle, size_t nl) {
  if (nl == 0) return true;
  for (size_t i = 0; i + nl <= hl; i++) {
    size_t j = 0;
    while (j < nl) {
      unsigned char a = (unsigned char)hay[i + j], b = (unsigned char)needle[j];
      if (a >= 'A' && a <= 'Z') a = (unsigned char)(a - 'A' + 'a');
      if (b >= 'A' && b <= 'Z') b = (unsigned char)(b - 'A' + 'a');
      if (a != b) break;
      j++;
    }
    if (j == nl) return true;
  }
  return false;
}

typedef struct {
  const char *id;
  const char *name;
  size_t name_len;
} cand_t;

static int cand_cmp(const void *a, const void *b) {
  const cand_t *x = a, *y = b;
  size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
  int c = memcmp(x->name, y->name, n);
  if (c) return c;
  if (x->name_len != y->name_len) return x->name_len < y->name_len ? -1 : 1;
  return strcmp(x->id, y->id);
}

static bool keep_match(const gb_station_t *st, size_t i, void *ud) {
  const char *q = ud;
  (void)i;
  return contains_fold(st->name, strlen(st->name), q, strlen(q));
}

/* The entries of st:all whose name matches query (every one for NULL), by
 * name then id; *out_rep owns the strings. Returns the count or GB_EIO. */
static int candidates(gb_redis_t *r, const char *prefix, const char *query, cand_t **out,
                      redisReply **out_rep) {
  char kall[GB_KEY_MAX];
  /* One HGETALL: tens of thousands of units are a few hundred KB, well
   * under what a whole-hash scan would cost in round trips. */
  redisReply *rep = gb_redis_command(r, "HGETALL %s", key_all(kall, prefix));
  *out = NULL;
  *out_rep = NULL;
  if (!rep || rep->type != REDIS_REPLY_ARRAY) {
    if (rep) freeReplyObject(rep);
    return GB_EIO;
  }
  size_t pairs = rep->elements / 2, n = 0;
  cand_t *c = calloc(pairs ? pairs : 1, sizeof(*c));
  if (!c) {
    freeReplyObject(rep);
    return GB_ENOMEM;
  }
  size_t ql = query ? strlen(query) : 0;
  for (size_t i = 0; i < pairs; i++) {
    const redisReply *k = rep->element[2 * i], *v = rep->element[2 * i + 1];
    if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
    if (query && !contains_fold(v->str, v->len, query, ql)) continue;
    c[n++] = (cand_t){k->str, v->str, v->len};
  }
  qsort(c, n, sizeof(*c), cand_cmp);
  *out = c;
  *out_rep = rep;
  return (int)n;
}

int gb_stations_search(gb_redis_t *r, const char *prefix, const char *query, int max,
                       gb_station_t *out) {
  enum { CHUNK = 64 };
  cand_t *c = NULL;
  redisReply *rep = NULL;
  const char *ids[CHUNK];
  gb_station_t *buf = NULL;
  if (max <= 0) return 0;
  if (!query) query = "";
  int n = candidates(r, prefix, query, &c, &rep);
  if (n < 0) return n;
  int found = 0, err = 0;
  buf = calloc(CHUNK, sizeof(*buf));
  if (!buf) {
    err = GB_ENOMEM;
    goto cleanup;
  }
  /* Candidates in name order, a chunk at a time, until max active units
   * are found: a deactivated unit is skipped, not counted. */
  for (int i = 0; i < n && found < max; i += CHUNK) {
    size_t k = 0;
    for (; k < CHUNK && i + (int)k < n; k++) ids[k] = c[i + (int)k].id;
    int kept = fetch_units(r, prefix, ids, k, buf, keep_match, (void *)query);
    if (kept < 0) {
      err = kept;
      goto cleanup;
    }
    for (int j = 0; j < kept && found < max; j++) out[found++] = buf[j];
  }
cleanup:
  free(buf);
  free(c);
  if (rep) freeReplyObject(rep);
  return err ? err : found;
}

static int by_id(const void *a, const void *b) {
  return strcmp(((const gb_station_t *)a)->id, ((const gb_station_t *)b)->id);
}

int gb_stations_list(gb_redis_t *r, const char *prefix, gb_station_t **out) {
  char k[GB_KEY_MAX];
  cand_t *c = NULL;
  redisReply *rep = NULL;
  gb_station_t *all = NULL;
  *out = NULL;
  int n = candidates(r, prefix, NULL, &c, &rep);
  if (n < 0) return n;
  int err = 0, kept = 0;
  all = calloc(n ? (size_t)n : 1, sizeof(*all));
  if (!all) {
    err = GB_ENOMEM;
    goto cleanup;
  }
  for (int i = 0; i < n; i++)
    if (gb_redis_append(r, "HMGET %s " HMGET_FIELDS, key_unit(k, prefix, c[i].id)) != 0) {
      err = GB_EIO;
      n = i;
      break;
    }
  for (int i = 0; i < n; i++) {
    redisReply *h = gb_redis_reply(r);
    if (!err) {
      int e = from_hmget(h, c[i].id, &all[kept]);
      if (e == GB_EIO) err = GB_EIO;
      else if (e == 0) kept++;
    }
    if (h) freeReplyObject(h);
  }
  if (!err && kept > 0) {
    qsort(all, (size_t)kept, sizeof(*all), by_id);
    *out = all, all = NULL;
  }
cleanup:
  free(all);
  free(c);
  if (rep) freeReplyObject(rep);
  return err ? err : kept;
}

json_t *gb_station_json(const gb_station_t *st) {
  return json_pack("{s:s, s:s, s:s, s:f, s:f, s:b, s:b}", "id", st->id, "name", st->name, "bureau",
                   st->bureau, "lat", st->lat, "lon", st->lon, "real", st->real, "active",
                   st->active);
}

int gb_parse_degrees(const char *s, double *out) {
  const char *p = s;
  int digits = 0, dots = 0;
  if (*p == '-' || *p == '+') p++;
  for (; *p; p++) {
    if (*p >= '0' && *p <= '9') digits++;
    else if (*p == '.' && !dots) dots++;
    else return -1;
  }
  if (!digits || p - s > 32) return -1;
  *out = strtod(s, NULL);
  return isfinite(*out) ? 0 : -1;
}
