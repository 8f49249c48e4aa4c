/* A JSON record read flat: its top-level members, parsed by yajl's
 * streaming parser straight into a fixed table, without building a tree.
 * Input records are flat objects of a few strings and numbers, and reading
 * them this way costs a sixth of a jansson tree (docs/BENCHMARKS.md).
 * Nested members are checked and skipped; duplicate member names are
 * rejected, as jansson's JSON_REJECT_DUPLICATES does. One thread. */
#ifndef INGEST_FLAT_H
#define INGEST_FLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gb/jsonutil.h"

#define FLAT_MAX_FIELDS 64
#define FLAT_TEXT_MAX 16384 /* bytes of member names and string values kept */

typedef enum {
  FLAT_NULL,
  FLAT_BOOL,
  FLAT_INT,
  FLAT_REAL,
  FLAT_STRING,
  FLAT_OBJECT,
  FLAT_ARRAY,
} flat_type_t;

typedef struct {
  const char *key;
  size_t klen;
  flat_type_t type;
  const char *s; /* FLAT_STRING: its bytes (NUL-terminated; may hold NUL) */
  size_t len;
  long long i;
  double d;
  bool b;
} flat_field_t;

typedef struct {
  flat_field_t f[FLAT_MAX_FIELDS];
  int n;
  /* parser state */
  int depth;
  int top_type; /* the record's own JSON type (FLAT_*) */
  const char *why; /* set by a callback that stopped the parse */
  char dup[64];    /* the member named twice, when why is "duplicate" */
  size_t used;
  char text[FLAT_TEXT_MAX];
} flat_rec_t;

/**
 * Parses one JSON value at the start of json (len bytes); text after it is
 * left alone and *consumed says where the value ended. Returns 0 (the value
 * may be any JSON type; see r->top_type), or GB_EINVAL with rj filled
 * (bad_json, invalid_utf8, too_large).
 */
int flat_parse(flat_rec_t *r, const char *json, size_t len, size_t *consumed, gb_reject_t *rj);

/* Typed members, with the same rules and messages as gb_json_* (jsonutil.h). */
int flat_str(const flat_rec_t *r, const char *name, bool required, const char **out, size_t *len,
             gb_reject_t *rj);
int flat_int(const flat_rec_t *r, const char *name, bool required, int64_t min, int64_t max,
             int64_t *out, gb_reject_t *rj);
int flat_bool(const flat_rec_t *r, const char *name, bool required, bool *out, gb_reject_t *rj);
int flat_time(const flat_rec_t *r, const char *name, bool required, int64_t *out_ms,
              gb_reject_t *rj);

#endif
