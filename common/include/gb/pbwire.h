/* A reader of the protobuf wire format that copies and allocates nothing:
 * it walks a message's fields one by one and hands out each one's number,
 * wire type and payload as a pointer into the caller's buffer. For code
 * that needs a few fields of many records faster than a full protobuf-c
 * unpack (which mallocs every string and submessage), and for splitting
 * batches into records without decoding them.
 *
 * It accepts what protobuf-c (1.4) accepts, so that a fast path built on it
 * and a protobuf-c unpack of the same bytes never disagree about whether
 * they are valid: a tag takes at most 5 bytes, a varint at most 10, a length
 * prefix at most 5 and under 2 GiB. Groups (wire types 3 and 4) are refused,
 * as protobuf-c refuses them, and so is field number 0, except (again as in
 * protobuf-c) in a tag padded to more than one byte, which no encoder
 * writes: that one comes out as a field 0, which callers skip as unknown.
 *
 * Pure functions over caller memory; any thread. */
#ifndef GB_PBWIRE_H
#define GB_PBWIRE_H

#include <stddef.h>
#include <stdint.h>

#define GB_PBWIRE_VARINT 0
#define GB_PBWIRE_I64 1
#define GB_PBWIRE_LEN 2
#define GB_PBWIRE_I32 5

/* A position in a message: len bytes at p, the next field at p + off. */
typedef struct {
  const uint8_t *p;
  size_t len, off;
} gb_pbwire_t;

/* One field. data and len are its payload, inside the message: a varint's
 * own bytes, a fixed field's 8 or 4 bytes, or a length-delimited field's
 * contents (prefix excluded). varint is the value of a varint field, or the
 * little-endian value of a fixed one; 0 for a length-delimited one. */
typedef struct {
  uint32_t field;
  int wire; /* GB_PBWIRE_* */
  uint64_t varint;
  const uint8_t *data;
  size_t len;
} gb_pbfield_t;

static inline void gb_pbwire_init(gb_pbwire_t *w, const void *p, size_t len) {
  w->p = p;
  w->len = len;
  w->off = 0;
}

/* Reads a base-128 varint of at most 10 bytes from len bytes at p. Returns
 * the bytes used with *v set, or 0 when it is truncated or longer. Bits
 * past the 64th (in a 10th byte) are dropped, as protobuf-c drops them. */
static inline size_t gb_pbwire_varint(const uint8_t *p, size_t len, uint64_t *v) {
  uint64_t x = 0;
  for (size_t i = 0; i < len && i < 10; i++) {
    x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    if (!(p[i] & 0x80)) {
      *v = x;
      return i + 1;
    }
  }
  return 0;
}

/* The general case of gb_pbwire_next: every field, and every error. */
int gb__pbwire_next(gb_pbwire_t *w, gb_pbfield_t *f, const char **why);

/* Reads the field at w->off and moves past it. Returns 1 with *f set, 0 at
 * the end of the message, or GB_EINVAL when the bytes there are not a field
 * (truncated, bad wire type, field 0, a length running past the end...)
 * with a short static reason in *why; w->off is then left at the start of
 * the bad field, so the caller can say where it was and a second call
 * fails the same way.
 *
 * Inlined, always (gcc at -O2 would rather not), because it runs once per
 * field on the hot path, where a call per field cost more than the reading:
 * the fields of our messages nearly all have a one-byte tag (numbers 1 to
 * 15) and are varints or length-delimited, and those are read here when
 * well-formed. Anything else, errors included, is left to gb__pbwire_next. */
__attribute__((always_inline)) static inline int gb_pbwire_next(gb_pbwire_t *w, gb_pbfield_t *f,
                                                                const char **why) {
  const uint8_t *p = w->p + w->off;
  size_t left = w->len - w->off, k;
  uint64_t v;
  if (left == 0) return 0;
  if (left >= 2 && p[0] >= 0x08 && p[0] < 0x80) {
    if ((p[0] & 7) == GB_PBWIRE_VARINT && (k = gb_pbwire_varint(p + 1, left - 1, &v))) {
      f->field = p[0] >> 3;
      f->wire = GB_PBWIRE_VARINT;
      f->varint = v;
      f->data = p + 1;
      f->len = k;
      w->off += 1 + k;
      return 1;
    }
    /* A length takes at most 5 bytes and is under 2 GiB, as in protobuf-c. */
    if ((p[0] & 7) == GB_PBWIRE_LEN &&
        (k = gb_pbwire_varint(p + 1, left - 1 < 5 ? left - 1 : 5, &v)) && v <= 0x7fffffff &&
        v <= left - 1 - k) {
      f->field = p[0] >> 3;
      f->wire = GB_PBWIRE_LEN;
      f->varint = 0;
      f->data = p + 1 + k;
      f->len = (size_t)v;
      w->off += 1 + k + (size_t)v;
      return 1;
    }
  }
  return gb__pbwire_next(w, f, why);
}

#endif
