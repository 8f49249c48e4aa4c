/* Unit tests for gb_phone_normalize: real-world shapes from carrier records,
 * each fed as an exact-size heap copy without a NUL so that ASan catches any
 * read past len. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gb/phone.h"

typedef struct {
  const char *in;
  size_t len; /* 0: strlen(in) */
  gb_phone_class_t cls;
  const char *want; /* output if valid, a substring of errstr if not */
} row_t;

#define ROWS(t) (t), sizeof(t) / sizeof((t)[0])

static gb_phone_class_t normalize_exact(char *out, size_t out_size, const char *in,
                                        size_t len, char *err, size_t err_size) {
  char *copy = malloc(len ? len : 1);
  gb_phone_class_t c;
  assert_non_null(copy);
  memcpy(copy, in, len);
  c = gb_phone_normalize(out, out_size, copy, len, err, err_size);
  free(copy);
  return c;
}

static void run_rows(const row_t *rows, size_t n) {
  size_t i, failures = 0;
  for (i = 0; i < n; i++) {
    const row_t *r = &rows[i];
    size_t len = r->len ? r->len : strlen(r->in);
    char out[GB_PHONE_MAX], err[128];
    gb_phone_class_t c;
    memset(out, 'Z', sizeof(out));
    memset(err, 'Z', sizeof(err));
    c = normalize_exact(out, sizeof(out), r->in, len, err, sizeof(err));
    if (memchr(err, '\0', sizeof(err)) == NULL) {
      print_error("row %zu \"%s\": errstr not terminated\n", i, r->in);
      failures++;
      continue;
    }
    if (c != r->cls) {
      print_error("row %zu \"%s\": class %s, want %s (err \"%s\")\n", i, r->in,
                  gb_phone_class_name(c), gb_phone_class_name(r->cls), err);
      failures++;
    } else if (c != GB_PHONE_INVALID) {
      if (strcmp(out, r->want) != 0 || err[0] != '\0') {
        print_error("row %zu \"%s\": out \"%s\" err \"%s\", want \"%s\"\n", i, r->in,
                    out, err, r->want);
        failures++;
      }
    } else {
      if (strstr(err, r->want) == NULL || out[0] != 'Z') {
        print_error("row %zu \"%s\": err \"%s\", want it to contain \"%s\"%s\n", i,
                    r->in, err, r->want, out[0] != 'Z' ? " (out was written)" : "");
        failures++;
      }
    }
  }
  assert_int_equal(failures, 0);
}

static void test_phone__mobile(void **state) {
  static const row_t rows[] = {
      {"13800138000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"+86 138 0013 8000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"+86-138-0013-8000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"+8613800138000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"0086-138-0013-8000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"0086 13800138000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"86 13800138000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"8613800138000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"(+86)13800138000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"(+86) 138-0013-8000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"+0086 138 0013 8000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"+86 (0) 138 0013 8000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"138-0013-8000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"138 0013 8000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"138.0013.8000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"  13800138000\t", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"013800138000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"19912345678", 0, GB_PHONE_MOBILE, "+8619912345678"},
      {"166 1234 5678", 0, GB_PHONE_MOBILE, "+8616612345678"},
      /* full-width digits and plus, as typed with a Chinese IME */
      {"１３８００１３８０００", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"＋８６ １３８ ００１３ ８０００", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"１３８－００１３－８０００", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"138\u30000013\u30008000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"138\u00a00013\u00a08000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"138\u20130013\u20138000", 0, GB_PHONE_MOBILE, "+8613800138000"},
      {"\ufeff13800138000", 0, GB_PHONE_MOBILE, "+8613800138000"},
  };
  (void)state;
  run_rows(ROWS(rows));
}

static void test_phone__landline(void **state) {
  static const row_t rows[] = {
      {"010-12345678", 0, GB_PHONE_LANDLINE, "+861012345678"},
      {"(010) 6552 9988", 0, GB_PHONE_LANDLINE, "+861065529988"},
      {"021-55556666", 0, GB_PHONE_LANDLINE, "+862155556666"},
      {"(0755) 8888 8888", 0, GB_PHONE_LANDLINE, "+8675588888888"},
      {"0571-8765432", 0, GB_PHONE_LANDLINE, "+865718765432"},
      {"0311-8765 4321", 0, GB_PHONE_LANDLINE, "+8631187654321"},
      {"+86 21 5555 6666", 0, GB_PHONE_LANDLINE, "+862155556666"},
      {"+86 755 8888 8888", 0, GB_PHONE_LANDLINE, "+8675588888888"},
      {"+86-10-12345678", 0, GB_PHONE_LANDLINE, "+861012345678"},
      {"+86 (0)21 5555 6666", 0, GB_PHONE_LANDLINE, "+862155556666"},
      {"0086 10 6552 9988", 0, GB_PHONE_LANDLINE, "+861065529988"},
      {"86 21 5555 6666", 0, GB_PHONE_LANDLINE, "+862155556666"},
      {"86 0571 8765432", 0, GB_PHONE_LANDLINE, "+865718765432"},
      {"（０２１）５５５５－６６６６", 0, GB_PHONE_LANDLINE, "+862155556666"},
  };
  (void)state;
  run_rows(ROWS(rows));
}

static void test_phone__service(void **state) {
  static const row_t rows[] = {
      {"110", 0, GB_PHONE_SERVICE, "110"},
      {"119", 0, GB_PHONE_SERVICE, "119"},
      {"120", 0, GB_PHONE_SERVICE, "120"},
      {"122", 0, GB_PHONE_SERVICE, "122"},
      {"１１０", 0, GB_PHONE_SERVICE, "110"},
      {"12110", 0, GB_PHONE_SERVICE, "12110"},
      {"12345", 0, GB_PHONE_SERVICE, "12345"},
      {"12381", 0, GB_PHONE_SERVICE, "12381"},
      {"96110", 0, GB_PHONE_SERVICE, "96110"},
      {"95588", 0, GB_PHONE_SERVICE, "95588"},
      {"95555", 0, GB_PHONE_SERVICE, "95555"},
      {"10086", 0, GB_PHONE_SERVICE, "10086"},
      {"10010", 0, GB_PHONE_SERVICE, "10010"},
      {"10000", 0, GB_PHONE_SERVICE, "10000"},
      {"400-810-8888", 0, GB_PHONE_SERVICE, "4008108888"},
      {"800-820-8820", 0, GB_PHONE_SERVICE, "8008208820"},
      {"+86 95588", 0, GB_PHONE_SERVICE, "95588"},
      {"0086 400 810 8888", 0, GB_PHONE_SERVICE, "4008108888"},
  };
  (void)state;
  run_rows(ROWS(rows));
}

static void test_phone__international(void **state) {
  static const row_t rows[] = {
      {"+852 9123 4567", 0, GB_PHONE_INTERNATIONAL, "+85291234567"},
      {"00852 91234567", 0, GB_PHONE_INTERNATIONAL, "+85291234567"},
      {"+853 6612 3456", 0, GB_PHONE_INTERNATIONAL, "+85366123456"},
      {"+886 912 345 678", 0, GB_PHONE_INTERNATIONAL, "+886912345678"},
      {"+886 2 2345 6789", 0, GB_PHONE_INTERNATIONAL, "+886223456789"},
      {"+1 (415) 555-2671", 0, GB_PHONE_INTERNATIONAL, "+14155552671"},
      {"+44 20 7946 0958", 0, GB_PHONE_INTERNATIONAL, "+442079460958"},
      {"0044 20 7946 0958", 0, GB_PHONE_INTERNATIONAL, "+442079460958"},
      {"+81 3-1234-5678", 0, GB_PHONE_INTERNATIONAL, "+81312345678"},
      {"+7 495 123-45-67", 0, GB_PHONE_INTERNATIONAL, "+74951234567"},
      {"+63 917 123 4567", 0, GB_PHONE_INTERNATIONAL, "+639171234567"},
      {"+855 12 345 678", 0, GB_PHONE_INTERNATIONAL, "+85512345678"},
      {"+95 9 123 456 789", 0, GB_PHONE_INTERNATIONAL, "+959123456789"},
      {"+683 4002", 0, GB_PHONE_INTERNATIONAL, "+6834002"},
      {"+800 1234 5678", 0, GB_PHONE_INTERNATIONAL, "+80012345678"},
      {"+49 1234 567890123", 0, GB_PHONE_INTERNATIONAL, "+491234567890123"},
  };
  (void)state;
  run_rows(ROWS(rows));
}

static void test_phone__invalid(void **state) {
  static const row_t rows[] = {
      {"", 0, GB_PHONE_INVALID, "phone: empty"},
      {"   ", 0, GB_PHONE_INVALID, "phone: empty"},
      {"\u3000", 0, GB_PHONE_INVALID, "phone: empty"},
      {"-()-", 0, GB_PHONE_INVALID, "phone: no digits"},
      {"+", 0, GB_PHONE_INVALID, "no digits after '+'"},
      {"00", 0, GB_PHONE_INVALID, "no digits after international prefix 00"},
      {"+86", 0, GB_PHONE_INVALID, "no digits after country code 86"},
      {"12", 0, GB_PHONE_INVALID, "2 digits, too short"},
      {"1380013800", 0, GB_PHONE_INVALID, "10 digits, a Chinese mobile has 11"},
      {"138001380", 0, GB_PHONE_INVALID, "9 digits, a Chinese mobile has 11"},
      {"138001380001", 0, GB_PHONE_INVALID, "12 digits, a Chinese mobile has 11"},
      {"01380013800", 0, GB_PHONE_INVALID, "a mobile with trunk prefix 0 has 12"},
      {"12346", 0, GB_PHONE_INVALID, "starting 12 is neither a mobile"},
      {"+86 123 4567 8901", 0, GB_PHONE_INVALID,
       "+86 number with 11 digits is neither mobile nor landline"},
      {"+86 138 0013 80000", 0, GB_PHONE_INVALID, "+86 number with 12 digits"},
      {"+86 5555 666", 0, GB_PHONE_INVALID, "+86 number with 7 digits"},
      {"86 1380013800", 0, GB_PHONE_INVALID, "86 number with 10 digits"},
      {"abc", 0, GB_PHONE_INVALID, "unexpected 'a' at byte 0"},
      {"1380013800x", 0, GB_PHONE_INVALID, "unexpected 'x' at byte 10"},
      {"13800138000 ext 12", 0, GB_PHONE_INVALID, "unexpected 'e' at byte 12"},
      {"13800138000#", 0, GB_PHONE_INVALID, "unexpected '#' at byte 11"},
      {"*13800138000", 0, GB_PHONE_INVALID, "unexpected '*' at byte 0"},
      {"tel:+8613800138000", 0, GB_PHONE_INVALID, "unexpected 't' at byte 0"},
      {"电话13800138000", 0, GB_PHONE_INVALID, "unexpected U+7535 at byte 0"},
      {"１３８ａ", 0, GB_PHONE_INVALID, "unexpected U+FF41 at byte 9"},
      {"138\xff" "00138000", 0, GB_PHONE_INVALID, "invalid UTF-8 byte 0xFF at byte 3"},
      {"138\xe3\x80", 0, GB_PHONE_INVALID, "invalid UTF-8 byte 0xE3 at byte 3"},
      {"138\0" "00138000", 12, GB_PHONE_INVALID, "unexpected byte 0x00 at byte 3"},
      {"++8613800138000", 0, GB_PHONE_INVALID, "unexpected '+' at byte 1"},
      {"138+00138000", 0, GB_PHONE_INVALID, "unexpected '+' at byte 3"},
      {"+0123456", 0, GB_PHONE_INVALID, "country code after '+' cannot start with 0"},
      {"000 8613800138000", 0, GB_PHONE_INVALID, "cannot start with 0"},
      {"+1234567890123456", 0, GB_PHONE_INVALID, "16 digits, E.164 allows at most 15"},
      {"0086 12345678901234", 0, GB_PHONE_INVALID, "16 digits, E.164 allows at most 15"},
      {"1234567890123456789012345678901234567890", 0, GB_PHONE_INVALID,
       "40 digits, E.164 allows at most 15"},
      {"+280 1234567", 0, GB_PHONE_INVALID, "+280 is not an assigned country code"},
      {"+4", 0, GB_PHONE_INVALID, "1 digit after '+', E.164 needs at least 7"},
      {"+44 12", 0, GB_PHONE_INVALID, "4 digits after '+', E.164 needs at least 7"},
      {"+1 415 555 267", 0, GB_PHONE_INVALID, "+1 number with 9 digits, want 10"},
      {"+852 9123 456", 0, GB_PHONE_INVALID, "+852 number with 7 digits, want 8-9"},
      {"5555 6666", 0, GB_PHONE_INVALID, "8-digit local number without area code"},
      {"021-5555666", 0, GB_PHONE_INVALID,
       "area code 021 needs an 8-digit local number, got 7"},
      {"0571-876543", 0, GB_PHONE_INVALID,
       "area code 0571 needs a 7- or 8-digit local number, got 6"},
      {"010-0123 4567", 0, GB_PHONE_INVALID,
       "local number after area code 010 starts with 0"},
      {"0123456789", 0, GB_PHONE_INVALID, "no Chinese area code starts 012"},
      {"400-810-888", 0, GB_PHONE_INVALID, "9 digits starting 400, a 400 number has 10"},
      {"9558", 0, GB_PHONE_INVALID, "4 digits starting 95, a 95 service number has 5"},
      {"123456789012", 0, GB_PHONE_INVALID, "12 digits starting 12"},
  };
  (void)state;
  run_rows(ROWS(rows));
}

static void test_phone__long_input(void **state) {
  char big[2048], out[GB_PHONE_MAX], err[128];
  (void)state;
  memset(big, ' ', sizeof(big));
  memcpy(big + 1000, "13800138000", 11);
  assert_int_equal(normalize_exact(out, sizeof(out), big, sizeof(big), err, sizeof(err)),
                   GB_PHONE_INVALID);
  assert_string_equal(err, "phone: 2048 bytes, longer than any number (limit 256)");
  assert_int_equal(normalize_exact(out, sizeof(out), big + 1000 - 100, 256, err,
                                   sizeof(err)),
                   GB_PHONE_MOBILE);
  assert_string_equal(out, "+8613800138000");
}

static void test_phone__output_only_on_success(void **state) {
  char out[GB_PHONE_MAX], err[128];
  (void)state;
  memset(out, 'Z', sizeof(out));
  /* "+8613800138000" needs 15 bytes with its NUL */
  assert_int_equal(gb_phone_normalize(out, 14, "13800138000", 11, err, sizeof(err)),
                   GB_PHONE_INVALID);
  assert_string_equal(err, "phone: output buffer of 14 bytes is too small, need 15");
  assert_int_equal(out[0], 'Z');
  assert_int_equal(gb_phone_normalize(NULL, 0, "110", 3, err, sizeof(err)),
                   GB_PHONE_INVALID);
  assert_int_equal(gb_phone_normalize(out, 15, "13800138000", 11, err, sizeof(err)),
                   GB_PHONE_MOBILE);
  assert_string_equal(out, "+8613800138000");
  assert_int_equal(out[15], 'Z');
}

static void test_phone__errstr_contract(void **state) {
  char out[GB_PHONE_MAX], err[8];
  (void)state;
  assert_int_equal(gb_phone_normalize(out, sizeof(out), "abc", 3, NULL, 0),
                   GB_PHONE_INVALID);
  assert_int_equal(gb_phone_normalize(out, sizeof(out), "abc", 3, NULL, 64),
                   GB_PHONE_INVALID);
  memset(err, 'Z', sizeof(err));
  assert_int_equal(gb_phone_normalize(out, sizeof(out), "abc", 3, err, 1),
                   GB_PHONE_INVALID);
  assert_int_equal(err[0], '\0');
  assert_int_equal(err[1], 'Z');
  assert_int_equal(gb_phone_normalize(out, sizeof(out), "abc", 3, err, sizeof(err)),
                   GB_PHONE_INVALID);
  assert_string_equal(err, "phone: ");
  assert_int_equal(gb_phone_normalize(out, sizeof(out), "110", 3, err, sizeof(err)),
                   GB_PHONE_SERVICE);
  assert_string_equal(err, "");
  assert_int_equal(gb_phone_normalize(out, sizeof(out), NULL, 5, err, sizeof(err)),
                   GB_PHONE_INVALID);
  assert_int_equal(gb_phone_normalize(out, sizeof(out), NULL, 0, err, sizeof(err)),
                   GB_PHONE_INVALID);
}

/* Every prefix of every valid shape: no over-read (ASan), errstr terminated,
 * and a valid result is a fixed point of normalisation. */
static void test_phone__prefixes_and_idempotence(void **state) {
  static const char *shapes[] = {
      "+86 138 0013 8000", "0086-138-0013-8000", "(0755) 8888 8888",
      "＋８６ １３８ ００１３ ８０００", "+852 9123 4567", "400-810-8888",
      "+1 (415) 555-2671", "138\u30000013\u30008000", "010-12345678",
  };
  size_t i, k;
  (void)state;
  for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
    size_t len = strlen(shapes[i]);
    for (k = 0; k <= len; k++) {
      char out[GB_PHONE_MAX], again[GB_PHONE_MAX], err[128];
      gb_phone_class_t c, c2;
      err[0] = 'Z';
      c = normalize_exact(out, sizeof(out), shapes[i], k, err, sizeof(err));
      assert_non_null(memchr(err, '\0', sizeof(err)));
      if (c == GB_PHONE_INVALID) {
        assert_true(strncmp(err, "phone: ", 7) == 0);
        continue;
      }
      assert_true(strlen(out) < GB_PHONE_MAX);
      c2 = normalize_exact(again, sizeof(again), out, strlen(out), err, sizeof(err));
      assert_int_equal(c2, c);
      assert_string_equal(again, out);
    }
  }
}

/* Random strings over the characters the scanner treats specially. */
static void test_phone__random_inputs(void **state) {
  static const char *atoms[] = {"0", "1", "3", "8", "6", "9", "5", " ", "-", "+",
                                "(", ")", ".", "x", "\u3000", "１", "＋", "\xe3",
                                "\0", "00", "86", "138", "\u00a0"};
  const size_t natoms = sizeof(atoms) / sizeof(atoms[0]);
  uint32_t seed = 12345;
  int iter;
  (void)state;
  for (iter = 0; iter < 50000; iter++) {
    char buf[64], out[GB_PHONE_MAX], again[GB_PHONE_MAX], err[128];
    size_t len = 0, parts, j;
    gb_phone_class_t c;
    seed = seed * 1103515245u + 12345u;
    parts = (seed >> 16) % 16;
    for (j = 0; j < parts; j++) {
      const char *a;
      size_t al;
      seed = seed * 1103515245u + 12345u;
      a = atoms[(seed >> 16) % natoms];
      al = a[0] ? strlen(a) : 1;
      if (len + al > sizeof(buf)) break;
      memcpy(buf + len, a, al);
      len += al;
    }
    c = normalize_exact(out, sizeof(out), buf, len, err, sizeof(err));
    if (c == GB_PHONE_INVALID) {
      assert_true(strncmp(err, "phone: ", 7) == 0);
      continue;
    }
    assert_true(out[0] == '+' || (out[0] >= '0' && out[0] <= '9'));
    assert_true(strlen(out) <= 16);
    assert_int_equal(normalize_exact(again, sizeof(again), out, strlen(out), err,
                                     sizeof(err)),
                     c);
    assert_string_equal(again, out);
  }
}

static void test_phone__class_names(void **state) {
  (void)state;
  assert_string_equal(gb_phone_class_name(GB_PHONE_INVALID), "invalid");
  assert_string_equal(gb_phone_class_name(GB_PHONE_MOBILE), "mobile");
  assert_string_equal(gb_phone_class_name(GB_PHONE_LANDLINE), "landline");
  assert_string_equal(gb_phone_class_name(GB_PHONE_SERVICE), "service");
  assert_string_equal(gb_phone_class_name(GB_PHONE_INTERNATIONAL), "international");
  assert_string_equal(gb_phone_class_name((gb_phone_class_t)42), "invalid");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_phone__mobile),
      cmocka_unit_test(test_phone__landline),
      cmocka_unit_test(test_phone__service),
      cmocka_unit_test(test_phone__international),
      cmocka_unit_test(test_phone__invalid),
      cmocka_unit_test(test_phone__long_input),
      cmocka_unit_test(test_phone__output_only_on_success),
      cmocka_unit_test(test_phone__errstr_contract),
      cmocka_unit_test(test_phone__prefixes_and_idempotence),
      cmocka_unit_test(test_phone__random_inputs),
      cmocka_unit_test(test_phone__class_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
