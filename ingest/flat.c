#include "flat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "gb/err.h"
#include "gb/timeparse.h"

static const char *keep(flat_rec_t *r, const unsigned char *s, size_t len) {
  if (len + 1 > FLAT_TEXT_MAX - r->used) {
    r->why = "too_large";
    return NULL;
  }
  char *p = r->text + r->used;
  memcpy(p, s, len);
  p[len] = '\0';
  r->used += len + 1;
  return p;
}

/* A value at depth 1 fills the member whose key came last. */
static flat_field_t *member(flat_rec_t *r) {
  if (r->depth != 1 || r->n == 0) return NULL;
  return &r->f[r->n - 1];
}

static int on_null(void *ctx) {
  flat_field_t *f = member(ctx);
  if (f) f->type = FLAT_NULL;
  return 1;
}

static int on_bool(void *ctx, int b) {
  flat_field_t *f = member(ctx);
  if (f) f->type = FLAT_BOOL, f->b = b;
  return 1;
}

static int on_int(void *ctx, long long i) {
  flat_field_t *f = member(ctx);
  if (f) f->type = FLAT_INT, f->i = i;
  return 1;
}

static int on_double(void *ctx, double d) {
  flat_field_t *f = member(ctx);
  if (f) f->type = FLAT_REAL, f->d = d;
  return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len) {
  flat_rec_t *r = ctx;
  flat_field_t *f = member(r);
  if (!f) return 1;
  if (!(f->s = keep(r, s, len))) return 0;
  f->type = FLAT_STRING;
  f->len = len;
  return 1;
}

static int on_key(void *ctx, const unsigned char *k, size_t len) {
  flat_rec_t *r = ctx;
  if (r->depth != 1) return 1;
  for (int i = 0; i < r->n; i++) {
    if (r->f[i].klen == len && memcmp(r->f[i].key, k, len) == 0) {
      r->why = "duplicate";
      snprintf(r->dup, sizeof(r->dup), "%.*s", (int)(len < 60 ? len : 60), (const char *)k);
      return 0;
    }
  }
  if (r->n == FLAT_MAX_FIELDS) {
    r->why = "too_many_fields";
    return 0;
  }
  flat_field_t *f = &r->f[r->n];
  memset(f, 0, sizeof(*f));
  if (!(f->key = keep(r, k, len))) return 0;
  f->klen = len;
  r->n++;
  return 1;
}

static int open_container(flat_rec_t *r, flat_type_t t) {
  if (r->depth == 0) r->top_type = t;
  flat_field_t *f = member(r);
  if (f) f->type = t;
  r->depth++;
  return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, FLAT_OBJECT); }
static int on_start_array(void *ctx) { return open_container(ctx, FLAT_ARRAY); }
static int on_end(void *ctx) {
  ((flat_rec_t *)ctx)->depth--;
  return 1;
}

static const yajl_callbacks callbacks = {
    on_null, on_bool, on_int, on_double, NULL, on_string,
    on_start_map, on_key, on_end, on_start_array, on_end,
};

int flat_parse(flat_rec_t *r, const char *json, size_t len, size_t *consumed, gb_reject_t *rj) {
  r->n = 0;
  r->depth = 0;
  r->top_type = FLAT_NULL;
  r->why = NULL;
  r->used = 0;
  *consumed = len;
  yajl_handle h = yajl_alloc(&callbacks, NULL, r);
  if (!h) return gb_reject(rj, "too_large", "", "out of memory");
  /* Stop after the first value: the caller looks for the next record. */
  yajl_config(h, yajl_allow_trailing_garbage, 1);
  yajl_status st = yajl_parse(h, (const unsigned char *)json, len);
  size_t used = yajl_get_bytes_consumed(h);
  if (st == yajl_status_ok) st = yajl_complete_parse(h);
  int err = 0;
  if (st != yajl_status_ok) {
    if (r->why && strcmp(r->why, "duplicate") == 0) {
      err = gb_reject(rj, "bad_json", r->dup, "duplicate member '%s'", r->dup);
    } else if (r->why && strcmp(r->why, "too_large") == 0) {
      err = gb_reject(rj, "too_large", "", "more than %d bytes of text in one record",
                      FLAT_TEXT_MAX);
    } else if (r->why) {
      err = gb_reject(rj, "too_large", "", "more than %d members in one record", FLAT_MAX_FIELDS);
    } else {
      unsigned char *e = yajl_get_error(h, 0, NULL, 0);
      const char *msg = (const char *)e;
      err = gb_reject(rj, strstr(msg, "UTF8") ? "invalid_utf8" : "bad_json", "",
                      "at byte %zu: %s", used, msg);
      size_t l = strlen(rj->detail);
      while (l > 0 && (rj->detail[l - 1] == '\n' || rj->detail[l - 1] == ' '))
        rj->detail[--l] = '\0';
      yajl_free_error(h, e);
    }
  }
  *consumed = used;
  yajl_free(h);
  return err;
}

static const flat_field_t *find(const flat_rec_t *r, const char *name) {
  size_t len = strlen(name);
  for (int i = 0; i < r->n; i++)
    if (r->f[i].klen == len && memcmp(r->f[i].key, name, len) == 0) return &r->f[i];
  return NULL;
}

static const char *type_name(flat_type_t t) {
  switch (t) {
  case FLAT_OBJECT: return "an object";
  case FLAT_ARRAY: return "an array";
  case FLAT_STRING: return "a string";
  case FLAT_INT: return "a whole number";
  case FLAT_REAL: return "a number";
  case FLAT_BOOL: return "a boolean";
  default: return "null";
  }
}

static const flat_field_t *get(const flat_rec_t *r, const char *name, bool required, int *err,
                               gb_reject_t *rj) {
  const flat_field_t *f = find(r, name);
  *err = 0;
  if (!f || f->type == FLAT_NULL) {
    if (required) *err = gb_reject(rj, "missing_field", name, "%s: missing", name);
    return NULL;
  }
  return f;
}

int flat_str(const flat_rec_t *r, const char *name, bool required, const char **out, size_t *len,
             gb_reject_t *rj) {
  int err;
  const flat_field_t *f = get(r, name, required, &err, rj);
  *out = NULL;
  if (len) *len = 0;
  if (!f) return err;
  if (f->type != FLAT_STRING)
    return gb_reject(rj, "wrong_type", name, "%s: is %s, want a string", name, type_name(f->type));
  *out = f->s;
  if (len) *len = f->len;
  return 0;
}

int flat_int(const flat_rec_t *r, const char *name, bool required, int64_t min, int64_t max,
             int64_t *out, gb_reject_t *rj) {
  int err;
  const flat_field_t *f = get(r, name, required, &err, rj);
  if (!f) return err;
  if (f->type != FLAT_INT)
    return gb_reject(rj, "wrong_type", name, "%s: is %s, want a whole number", name,
                     type_name(f->type));
  if (f->i < min || f->i > max)
    return gb_reject(rj, "invalid_value", name, "%s: %lld is outside %lld..%lld", name, f->i,
                     (long long)min, (long long)max);
  *out = f->i;
  return 0;
}

int flat_bool(const flat_rec_t *r, const char *name, bool required, bool *out, gb_reject_t *rj) {
  int err;
  const flat_field_t *f = get(r, name, required, &err, rj);
  if (!f) return err;
  if (f->type != FLAT_BOOL)
    return gb_reject(rj, "wrong_type", name, "%s: is %s, want true or false", name,
                     type_name(f->type));
  *out = f->b;
  return 0;
}

int flat_time(const flat_rec_t *r, const char *name, bool required, int64_t *out_ms,
              gb_reject_t *rj) {
  int err;
  const flat_field_t *f = get(r, name, required, &err, rj);
  if (!f) return err;
  char e[200];
  if (f->type == FLAT_INT || f->type == FLAT_REAL) {
    double v = f->type == FLAT_INT ? (double)f->i : f->d;
    if (gb_time_from_epoch(out_ms, v, e, sizeof(e)) != 0)
      return gb_reject(rj, "invalid_value", name, "%s: %s", name, e);
    return 0;
  }
  if (f->type != FLAT_STRING)
    return gb_reject(rj, "wrong_type", name, "%s: is %s, want RFC 3339 or epoch seconds/ms",
                     name, type_name(f->type));
  size_t digits = strspn(f->s, "0123456789");
  if (f->len > 0 && digits == f->len && f->len <= 15) {
    if (gb_time_from_epoch(out_ms, strtod(f->s, NULL), e, sizeof(e)) != 0)
      return gb_reject(rj, "invalid_value", name, "%s: %s", name, e);
    return 0;
  }
  if (gb_time_parse_rfc3339(out_ms, f->s, f->len, e, sizeof(e)) != 0)
    return gb_reject(rj, "invalid_value", name, "%s: %s", name, e);
  return 0;
}
