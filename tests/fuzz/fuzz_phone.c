/* gb_phone_normalize (common/src/phone.c): every number in call and visit
 * records, registry changes and fraud indicators goes through it.
 *
 * Input: one byte choosing the output and error buffer sizes, then the
 * number. Checks: the class is one of the enum; on success the output is a
 * NUL-terminated E.164 string (or a service number's digits) of the shape
 * its class promises, that normalises again to itself with the same class;
 * on failure out is untouched and errstr says why; errstr is always
 * NUL-terminated within its size; nothing is written past either buffer
 * (both are exact-size heap blocks). */
#include <string.h>

#include "fuzz.h"
#include "gb/phone.h"

static void check_shape(const char *out, gb_phone_class_t c) {
  size_t n = strlen(out);
  FUZZ_CHECK(n > 0 && n < GB_PHONE_MAX, "length %zu", n);
  const char *d = out;
  if (c != GB_PHONE_SERVICE) {
    FUZZ_CHECK(out[0] == '+', "'%s' has no '+'", out);
    d++;
  }
  FUZZ_CHECK(strspn(d, "0123456789") == strlen(d) && *d, "'%s' is not + and digits", out);
  FUZZ_CHECK(strlen(d) <= 15, "'%s': more than 15 digits", out);
  switch (c) {
  case GB_PHONE_MOBILE:
    FUZZ_CHECK(strncmp(out, "+861", 4) == 0 && n == 14, "mobile '%s'", out);
    break;
  case GB_PHONE_LANDLINE:
    FUZZ_CHECK(strncmp(out, "+86", 3) == 0 && out[3] != '0', "landline '%s'", out);
    break;
  case GB_PHONE_INTERNATIONAL:
    FUZZ_CHECK(strncmp(out, "+86", 3) != 0 && out[1] != '0', "international '%s'", out);
    break;
  case GB_PHONE_SERVICE: break;
  default: FUZZ_CHECK(0, "class %d", (int)c);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t sel = fuzz_take_byte(&data, &size);
  /* Mostly the documented GB_PHONE_MAX; sometimes less, which must fail
   * cleanly rather than write past the end. */
  size_t out_size = (sel & 0x0F) == 0 ? (size_t)(sel >> 4) : GB_PHONE_MAX;
  size_t err_size = (sel & 0x30) == 0x30 ? 1u + (sel >> 6) * 7u : 160;
  char *out = malloc(out_size ? out_size : 1);
  char *err = malloc(err_size);
  if (!out || !err) abort();
  memset(out, 'Z', out_size ? out_size : 1);
  gb_phone_class_t c =
      gb_phone_normalize(out_size ? out : NULL, out_size, (const char *)data, size, err, err_size);
  FUZZ_CHECK(fuzz_terminated(err, err_size), "errstr not terminated");
  FUZZ_CHECK(c >= GB_PHONE_INVALID && c <= GB_PHONE_INTERNATIONAL, "class %d", (int)c);
  FUZZ_CHECK(strcmp(gb_phone_class_name(c), "?") != 0, "class without a name");
  if (c == GB_PHONE_INVALID) {
    FUZZ_CHECK(err_size < 2 || err[0] != '\0', "failed without a reason");
    for (size_t i = 0; i < out_size; i++) FUZZ_CHECK(out[i] == 'Z', "out written on failure");
  } else {
    FUZZ_CHECK(err[0] == '\0', "errstr '%s' on success", err);
    FUZZ_CHECK(fuzz_terminated(out, out_size), "out not terminated");
    check_shape(out, c);
    /* Idempotent: the normalised form is its own normal form. */
    char again[GB_PHONE_MAX], e2[160];
    gb_phone_class_t c2 = gb_phone_normalize(again, sizeof(again), out, strlen(out), e2, sizeof(e2));
    FUZZ_CHECK(c2 == c && strcmp(again, out) == 0, "'%s' (%s) normalises to '%s' (%s): %s", out,
               gb_phone_class_name(c), c2 ? again : "", gb_phone_class_name(c2), e2);
  }
  free(out);
  free(err);
  return 0;
}
