#include "gb/pbwire.h"

#include <limits.h>

#include "gb/err.h"

/* Reads a varint of at most max bytes, telling a cut one from a long one. */
static size_t varint_max(const gb_pbwire_t *w, size_t max, uint64_t *v, const char **why,
                         const char *truncated, const char *too_long) {
  size_t left = w->len - w->off;
  size_t k = gb_pbwire_varint(w->p + w->off, left < max ? left : max, v);
  if (!k) *why = left < max ? truncated : too_long;
  return k;
}

int gb__pbwire_next(gb_pbwire_t *w, gb_pbfield_t *f, const char **why) {
  gb_pbwire_t at = *w; /* w moves only once the whole field has been read */
  uint64_t tag, v = 0;
  size_t k;
  if (at.off >= at.len) return 0;
  if (!(k = varint_max(&at, 5, &tag, why, "truncated field tag", "field tag over 5 bytes")))
    return GB_EINVAL;
  at.off += k;
  /* Field 0 is invalid. protobuf-c refuses it only in its one-byte form
   * (the one an encoder could write by mistake) and takes a padded one as
   * an unknown field; so do we, to agree with it. */
  if (tag >> 3 == 0 && k == 1) {
    *why = "field number 0";
    return GB_EINVAL;
  }
  f->field = (uint32_t)(tag >> 3); /* at most 32 bits in a 5-byte tag */
  f->wire = (int)(tag & 7);
  f->varint = 0;
  switch (f->wire) {
  case GB_PBWIRE_VARINT:
    if (!(k = varint_max(&at, 10, &v, why, "truncated varint", "varint over 10 bytes")))
      return GB_EINVAL;
    f->varint = v;
    break;
  case GB_PBWIRE_I64:
  case GB_PBWIRE_I32:
    k = f->wire == GB_PBWIRE_I64 ? 8 : 4;
    if (at.len - at.off < k) {
      *why = k == 8 ? "truncated fixed64" : "truncated fixed32";
      return GB_EINVAL;
    }
    /* Byte by byte: little-endian on any host, and no unaligned loads. */
    for (size_t i = k; i-- > 0;) f->varint = f->varint << 8 | at.p[at.off + i];
    break;
  case GB_PBWIRE_LEN:
    /* Messages are under 2 GiB, so protobuf-c reads at most 5 bytes of
     * length and refuses more than INT_MAX; so do we, to agree with it. */
    if (!(k = varint_max(&at, 5, &v, why, "truncated length", "length over 5 bytes")))
      return GB_EINVAL;
    at.off += k;
    if (v > INT_MAX || v > at.len - at.off) {
      *why = "length runs past the end of the message";
      return GB_EINVAL;
    }
    k = (size_t)v;
    f->data = at.p + at.off;
    f->len = k;
    w->off = at.off + k;
    return 1;
  case 3:
  case 4:
    *why = "group wire type (unsupported)";
    return GB_EINVAL;
  default:
    *why = "unknown wire type";
    return GB_EINVAL;
  }
  f->data = at.p + at.off;
  f->len = k;
  w->off = at.off + k;
  return 1;
}
