#include "split.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gb/pbwire.h"

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static size_t skip_ws(const char *buf, size_t len, size_t off) {
  while (off < len && is_ws(buf[off])) off++;
  return off;
}

/* Names the record in a reason the parser gave. */
static void prefix_index(gb_reject_t *r, int index) {
  char d[sizeof(r->detail) + 32];
  snprintf(d, sizeof(d), "record %d: %s", index, r->detail);
  snprintf(r->detail, sizeof(r->detail), "%.*s", (int)sizeof(r->detail) - 1, d);
}

static int parse_one(flat_rec_t *fr, const char *rec, size_t len, int index, split_json_fn fn,
                     void *ud) {
  gb_reject_t r;
  size_t used;
  if (flat_parse(fr, rec, len, &used, &r) != 0) {
    prefix_index(&r, index);
    return fn(ud, rec, len, index, NULL, &r);
  }
  if (skip_ws(rec, len, used) != len) {
    gb_reject(&r, "bad_json", "", "record %d: text after the value at byte %zu", index, used);
    return fn(ud, rec, len, index, NULL, &r);
  }
  return fn(ud, rec, len, index, fr, NULL);
}

/* The end of the array element starting at off: the first ',' or ']' at
 * depth 0 outside strings. This only finds boundaries; yajl parses each
 * element. Returns len when the array is not closed. */
static size_t element_end(const char *buf, size_t len, size_t off) {
  int depth = 0, in_str = 0;
  for (size_t i = off; i < len; i++) {
    char c = buf[i];
    if (in_str) {
      if (c == '\\') i++;
      else if (c == '"') in_str = 0;
      continue;
    }
    if (c == '"') in_str = 1;
    else if (c == '{' || c == '[') depth++;
    else if (c == '}' || c == ']') {
      if (depth == 0) return c == ']' ? i : len;
      depth--;
    } else if (c == ',' && depth == 0) return i;
  }
  return len;
}

static int split_array(const char *buf, size_t len, size_t off, flat_rec_t *fr, split_json_fn fn,
                       void *ud, int *n) {
  off = skip_ws(buf, len, off + 1); /* past '[' */
  if (off < len && buf[off] == ']') {
    off = skip_ws(buf, len, off + 1);
    if (off == len) return 0; /* an empty batch holds no records */
  }
  while (off < len) {
    size_t end = element_end(buf, len, off);
    size_t rec_end = end;
    while (rec_end > off && is_ws(buf[rec_end - 1])) rec_end--;
    if (end == len) {
      gb_reject_t r;
      gb_reject(&r, "bad_json", "", "record %d: the array is not closed", *n);
      return fn(ud, buf + off, len - off, (*n)++, NULL, &r);
    }
    int err = parse_one(fr, buf + off, rec_end - off, (*n)++, fn, ud);
    if (err) return err;
    if (buf[end] == ']') {
      off = skip_ws(buf, len, end + 1);
      if (off < len) {
        gb_reject_t r;
        gb_reject(&r, "bad_json", "", "record %d: text after the end of the array", *n);
        return fn(ud, buf + off, len - off, (*n)++, NULL, &r);
      }
      return 0;
    }
    off = skip_ws(buf, len, end + 1);
  }
  return 0;
}

/* Values one after another. The parser reads one value and says where it
 * stopped; a record that does not parse ends at the next newline, where the
 * next record is looked for. */
static int split_sequence(const char *buf, size_t len, size_t off, flat_rec_t *fr,
                          split_json_fn fn, void *ud, int *n) {
  while ((off = skip_ws(buf, len, off)) < len) {
    gb_reject_t r = {0};
    size_t used = 0;
    int err;
    if (flat_parse(fr, buf + off, len - off, &used, &r) == 0 && used > 0) {
      err = fn(ud, buf + off, used, (*n)++, fr, NULL);
      off += used;
    } else {
      const char *nl = memchr(buf + off, '\n', len - off);
      size_t end = nl ? (size_t)(nl - buf) : len;
      if (used == 0 && !r.reason) gb_reject(&r, "bad_json", "", "no value");
      prefix_index(&r, *n);
      err = fn(ud, buf + off, end - off, (*n)++, NULL, &r);
      off = end;
    }
    if (err) return err;
  }
  return 0;
}

int split_json(const char *buf, size_t len, flat_rec_t *scratch, split_json_fn fn, void *ud,
               int *nrecords) {
  size_t off = skip_ws(buf, len, 0);
  *nrecords = 0;
  if (off == len) {
    gb_reject_t r;
    gb_reject(&r, "bad_json", "", "empty message");
    (*nrecords)++;
    return fn(ud, buf, len, 0, NULL, &r);
  }
  if (buf[off] == '[') return split_array(buf, len, off, scratch, fn, ud, nrecords);
  return split_sequence(buf, len, off, scratch, fn, ud, nrecords);
}

int split_proto_batch(const char *buf, size_t len, split_proto_fn fn, void *ud, int *nrecords) {
  gb_pbwire_t w;
  gb_pbfield_t f;
  gb_pbwire_init(&w, buf, len);
  *nrecords = 0;
  for (;;) {
    size_t start = w.off;
    const char *why = NULL;
    int rc = gb_pbwire_next(&w, &f, &why);
    if (rc == 0) return 0;
    if (rc < 0) {
      /* Everything from the bad field on is one bad record: its length
       * cannot be trusted, so neither can where the next record starts. */
      gb_reject_t r;
      gb_reject(&r, "bad_protobuf", "", "record %d: %s at byte %zu", *nrecords, why, start);
      return fn(ud, buf + start, len - start, (*nrecords)++, &r);
    }
    /* Other fields, and a field 1 that is not length-delimited, are skipped. */
    if (f.field == 1 && f.wire == GB_PBWIRE_LEN) {
      int err = fn(ud, (const char *)f.data, f.len, (*nrecords)++, NULL);
      if (err) return err;
    }
  }
}
