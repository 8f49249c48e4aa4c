/* The protobuf wire reader: varints, each wire type, and every way a field
 * can be malformed. Buffers are exact-size heap copies so that ASan sees
 * any read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gb/err.h"
#include "gb/pbwire.h"

static uint8_t *dup_exact(const uint8_t *p, size_t len) {
  uint8_t *b = malloc(len ? len : 1);
  assert_non_null(b);
  if (len) memcpy(b, p, len);
  return b;
}

/* The reason the first field of these bytes is refused for. */
static const char *refused(const uint8_t *p, size_t len) {
  uint8_t *b = dup_exact(p, len);
  gb_pbwire_t w;
  gb_pbfield_t f;
  const char *why = NULL;
  gb_pbwire_init(&w, b, len);
  assert_int_equal(gb_pbwire_next(&w, &f, &why), GB_EINVAL);
  assert_non_null(why);
  /* The reader stays on the bad field, and fails the same way again. */
  assert_int_equal(w.off, 0);
  const char *again = NULL;
  assert_int_equal(gb_pbwire_next(&w, &f, &again), GB_EINVAL);
  assert_ptr_equal(again, why);
  free(b);
  return why;
}

static void test_pbwire__varint(void **state) {
  (void)state;
  uint64_t v = 7;
  assert_int_equal(gb_pbwire_varint((const uint8_t *)"\x00", 1, &v), 1);
  assert_int_equal(v, 0);
  assert_int_equal(gb_pbwire_varint((const uint8_t *)"\xac\x02", 2, &v), 2);
  assert_int_equal(v, 300);
  static const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  assert_int_equal(gb_pbwire_varint(max, sizeof(max), &v), 10);
  assert_true(v == UINT64_MAX);
  /* A 10th byte carries one bit; the rest are dropped, as protobuf-c does. */
  static const uint8_t wide[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f};
  assert_int_equal(gb_pbwire_varint(wide, sizeof(wide), &v), 10);
  assert_true(v == (uint64_t)1 << 63);
  static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                   0x80, 0x80, 0x80, 0x80, 0x01};
  assert_int_equal(gb_pbwire_varint(eleven, sizeof(eleven), &v), 0);
  assert_int_equal(gb_pbwire_varint((const uint8_t *)"\x80\x80", 2, &v), 0);
  assert_int_equal(gb_pbwire_varint((const uint8_t *)"", 0, &v), 0);
}

static void test_pbwire__every_wire_type(void **state) {
  (void)state;
  static const uint8_t msg[] = {
      0x08, 0x96, 0x01,                                     /* 1: varint 150 */
      0x11, 1, 2, 3, 4, 5, 6, 7, 8,                         /* 2: fixed64 */
      0x1a, 0x03, 'a', 'b', 'c',                            /* 3: "abc" */
      0x25, 0xff, 0xff, 0xff, 0xff,                         /* 4: fixed32 */
      0x2a, 0x00,                                           /* 5: "" */
      0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01,                   /* 536870911 (max): varint 1 */
      0x82, 0x01, 0x01, 'z',                                /* 16, in a 2-byte tag: "z" */
  };
  uint8_t *b = dup_exact(msg, sizeof(msg));
  gb_pbwire_t w;
  gb_pbfield_t f;
  const char *why = NULL;
  gb_pbwire_init(&w, b, sizeof(msg));

  assert_int_equal(gb_pbwire_next(&w, &f, &why), 1);
  assert_int_equal(f.field, 1);
  assert_int_equal(f.wire, GB_PBWIRE_VARINT);
  assert_int_equal(f.varint, 150);
  assert_ptr_equal(f.data, b + 1); /* a varint's payload is its own bytes */
  assert_int_equal(f.len, 2);
  assert_int_equal(w.off, 3);

  assert_int_equal(gb_pbwire_next(&w, &f, &why), 1);
  assert_int_equal(f.field, 2);
  assert_int_equal(f.wire, GB_PBWIRE_I64);
  assert_true(f.varint == 0x0807060504030201ull);
  assert_ptr_equal(f.data, b + 4);
  assert_int_equal(f.len, 8);

  assert_int_equal(gb_pbwire_next(&w, &f, &why), 1);
  assert_int_equal(f.field, 3);
  assert_int_equal(f.wire, GB_PBWIRE_LEN);
  assert_int_equal(f.len, 3);
  assert_memory_equal(f.data, "abc", 3);
  assert_ptr_equal(f.data, b + 14);

  assert_int_equal(gb_pbwire_next(&w, &f, &why), 1);
  assert_int_equal(f.field, 4);
  assert_int_equal(f.wire, GB_PBWIRE_I32);
  assert_true(f.varint == 0xffffffffu);
  assert_int_equal(f.len, 4);

  assert_int_equal(gb_pbwire_next(&w, &f, &why), 1);
  assert_int_equal(f.field, 5);
  assert_int_equal(f.len, 0);

  assert_int_equal(gb_pbwire_next(&w, &f, &why), 1);
  assert_int_equal(f.field, 536870911);
  assert_int_equal(f.varint, 1);

  assert_int_equal(gb_pbwire_next(&w, &f, &why), 1);
  assert_int_equal(f.field, 16);
  assert_int_equal(f.len, 1);
  assert_int_equal(f.data[0], 'z');

  assert_int_equal(gb_pbwire_next(&w, &f, &why), 0);
  assert_int_equal(gb_pbwire_next(&w, &f, &why), 0);
  assert_null(why);
  free(b);

  gb_pbwire_init(&w, NULL, 0);
  assert_int_equal(gb_pbwire_next(&w, &f, &why), 0);
}

static void test_pbwire__malformed(void **state) {
  (void)state;
  assert_string_equal(refused((const uint8_t *)"\x80", 1), "truncated field tag");
  assert_string_equal(refused((const uint8_t *)"\x80\x80\x80\x80\x80\x01", 6),
                      "field tag over 5 bytes");
  assert_string_equal(refused((const uint8_t *)"\x00\x01", 2), "field number 0");
  /* ...but a padded field 0 is an unknown field, as protobuf-c takes it. */
  gb_pbwire_t w;
  gb_pbfield_t f;
  const char *why = NULL;
  uint8_t *b = dup_exact((const uint8_t *)"\x80\x00\x01", 3);
  gb_pbwire_init(&w, b, 3);
  assert_int_equal(gb_pbwire_next(&w, &f, &why), 1);
  assert_int_equal(f.field, 0);
  assert_int_equal(f.varint, 1);
  assert_int_equal(gb_pbwire_next(&w, &f, &why), 0);
  free(b);
  assert_string_equal(refused((const uint8_t *)"\x0b\x0c", 2), "group wire type (unsupported)");
  assert_string_equal(refused((const uint8_t *)"\x0c", 1), "group wire type (unsupported)");
  assert_string_equal(refused((const uint8_t *)"\x0e\x00", 2), "unknown wire type");
  assert_string_equal(refused((const uint8_t *)"\x0f\x00", 2), "unknown wire type");
  assert_string_equal(refused((const uint8_t *)"\x08", 1), "truncated varint");
  assert_string_equal(refused((const uint8_t *)"\x08\xff", 2), "truncated varint");
  assert_string_equal(
      refused((const uint8_t *)"\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12),
      "varint over 10 bytes");
  assert_string_equal(refused((const uint8_t *)"\x09\x01\x02\x03\x04\x05\x06\x07", 8),
                      "truncated fixed64");
  assert_string_equal(refused((const uint8_t *)"\x0d\x01\x02\x03", 4), "truncated fixed32");
  assert_string_equal(refused((const uint8_t *)"\x0a", 1), "truncated length");
  assert_string_equal(refused((const uint8_t *)"\x0a\x80", 2), "truncated length");
  assert_string_equal(refused((const uint8_t *)"\x0a\x03\x61\x62", 4),
                      "length runs past the end of the message");
  /* The same past a two-byte tag (field 16), which takes another path. */
  assert_string_equal(refused((const uint8_t *)"\x80\x01", 2), "truncated varint");
  assert_string_equal(refused((const uint8_t *)"\x82\x01\x05\x61", 4),
                      "length runs past the end of the message");
  /* 2^31: over protobuf's 2 GiB limit, whatever the buffer holds. */
  assert_string_equal(refused((const uint8_t *)"\x0a\x80\x80\x80\x80\x08", 6),
                      "length runs past the end of the message");
  /* A padded length: protobuf-c reads at most 5 bytes of it. */
  assert_string_equal(refused((const uint8_t *)"\x0a\x80\x80\x80\x80\x80\x00", 7),
                      "length over 5 bytes");
}

/* A good field, then a bad one: the first is read, then the reader stops
 * at the start of the second. */
static void test_pbwire__stops_at_the_bad_field(void **state) {
  (void)state;
  static const uint8_t msg[] = {0x10, 0x05, 0x0a, 0x05, 'a'};
  uint8_t *b = dup_exact(msg, sizeof(msg));
  gb_pbwire_t w;
  gb_pbfield_t f;
  const char *why = NULL;
  gb_pbwire_init(&w, b, sizeof(msg));
  assert_int_equal(gb_pbwire_next(&w, &f, &why), 1);
  assert_int_equal(w.off, 2);
  assert_int_equal(gb_pbwire_next(&w, &f, &why), GB_EINVAL);
  assert_int_equal(w.off, 2);
  free(b);
}

/* Every prefix of a message with every wire type ends cleanly or is
 * refused; none is read past its end. */
static void test_pbwire__every_prefix(void **state) {
  (void)state;
  static const uint8_t msg[] = {0x08, 0x96, 0x01, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1a, 0x83,
                                0x01, [15 ... 15 + 130] = 'x', 0x25, 1, 2, 3, 4};
  for (size_t cut = 0; cut <= sizeof(msg); cut++) {
    uint8_t *b = dup_exact(msg, cut);
    gb_pbwire_t w;
    gb_pbfield_t f;
    const char *why = NULL;
    int rc, n = 0;
    gb_pbwire_init(&w, b, cut);
    while ((rc = gb_pbwire_next(&w, &f, &why)) == 1) {
      assert_true(f.data >= b && f.data + f.len <= b + cut);
      n++;
    }
    /* The cuts between fields leave a good, shorter message. */
    int whole = cut == 0 || cut == 3 || cut == 12 || cut == 146 || cut == sizeof(msg);
    assert_int_equal(rc, whole ? 0 : GB_EINVAL);
    if (cut == sizeof(msg)) assert_int_equal(n, 4);
    free(b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pbwire__varint),
      cmocka_unit_test(test_pbwire__every_wire_type),
      cmocka_unit_test(test_pbwire__malformed),
      cmocka_unit_test(test_pbwire__stops_at_the_bad_field),
      cmocka_unit_test(test_pbwire__every_prefix),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
