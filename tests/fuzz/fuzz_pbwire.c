/* The protobuf wire reader (common/src/pbwire.c, gb/pbwire.h) that
 * ingest's batch splitter and matcher's scanners and index follower walk
 * untrusted messages with, without copying.
 *
 * Input: a message. Checks, field by field: the inlined fast path
 * (gb_pbwire_next) and the general one (gb__pbwire_next) agree exactly;
 * every payload lies inside the message and the position only moves
 * forward; a varint field's value decodes from its own bytes; an error
 * leaves the position on the bad field with a reason, and fails again the
 * same way. Then pbwire.h's promise to accept what protobuf-c accepts: read
 * as a goldenbell.v1.Origin (two strings, two varints), protobuf-c takes
 * the bytes exactly when the walk succeeds and each known field has its
 * wire type. */
#include <string.h>

#include "fuzz.h"
#include "gb/err.h"
#include "gb/pbwire.h"
#include "goldenbell/v1/common.pb-c.h"

static int same_field(const gb_pbfield_t *a, const gb_pbfield_t *b) {
  return a->field == b->field && a->wire == b->wire && a->varint == b->varint &&
         a->data == b->data && a->len == b->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gb_pbwire_t fast, slow;
  gb_pbfield_t f, g;
  const char *why = NULL, *why2 = NULL;
  int rc, rc2, wire_ok = 1;
  gb_pbwire_init(&fast, data, size);
  gb_pbwire_init(&slow, data, size);
  for (;;) {
    size_t at = fast.off;
    rc = gb_pbwire_next(&fast, &f, &why);
    rc2 = gb__pbwire_next(&slow, &g, &why2);
    FUZZ_CHECK(rc == rc2, "fast path %d, general %d at byte %zu", rc, rc2, at);
    FUZZ_CHECK(fast.off == slow.off, "positions %zu and %zu", fast.off, slow.off);
    if (rc <= 0) break;
    FUZZ_CHECK(same_field(&f, &g), "the paths read field %u differently at byte %zu", f.field, at);
    FUZZ_CHECK(fast.off > at && fast.off <= size, "position %zu after %zu", fast.off, at);
    FUZZ_CHECK(f.data >= data + at && f.data + f.len == data + fast.off,
               "payload outside its field at byte %zu", at);
    switch (f.wire) {
    case GB_PBWIRE_VARINT: {
      uint64_t v = 0;
      FUZZ_CHECK(f.len >= 1 && f.len <= 10 && gb_pbwire_varint(f.data, f.len, &v) == f.len &&
                     v == f.varint,
                 "varint at byte %zu", at);
      if (f.field == 1 || f.field == 4) wire_ok = 0;
      break;
    }
    case GB_PBWIRE_I64:
    case GB_PBWIRE_I32:
      FUZZ_CHECK(f.len == (f.wire == GB_PBWIRE_I64 ? 8u : 4u), "fixed field of %zu bytes", f.len);
      if (f.field >= 1 && f.field <= 4) wire_ok = 0;
      break;
    case GB_PBWIRE_LEN:
      FUZZ_CHECK(f.varint == 0 && f.len <= 0x7fffffff, "length %zu", f.len);
      if (f.field == 2 || f.field == 3) wire_ok = 0;
      break;
    default: FUZZ_CHECK(0, "wire type %d", f.wire);
    }
  }
  if (rc < 0) {
    FUZZ_CHECK(rc == GB_EINVAL && why && why2 && strcmp(why, why2) == 0, "reasons '%s' '%s'",
               why ? why : "-", why2 ? why2 : "-");
    size_t at = fast.off;
    const char *again = NULL;
    FUZZ_CHECK(gb_pbwire_next(&fast, &f, &again) == GB_EINVAL && fast.off == at && again == why,
               "a second call after an error");
  }
  Goldenbell__V1__Origin *o = goldenbell__v1__origin__unpack(NULL, size, data);
  FUZZ_CHECK((o != NULL) == (rc == 0 && wire_ok), "protobuf-c %s what the walk %s%s",
             o ? "took" : "refused", rc == 0 ? "took" : "refused",
             rc == 0 && !wire_ok ? " (with a field of the wrong wire type)" : "");
  goldenbell__v1__origin__free_unpacked(o, NULL);
  return 0;
}
