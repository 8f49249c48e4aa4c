/* Unit tests for event-time parsing, epoch interpretation, skew and
 * formatting. Inputs are exact-size heap copies without a NUL, so ASan
 * catches any read past len. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gb/err.h"
#include "gb/timeparse.h"

#define T_2026_11_23_10Z INT64_C(1795428000000)

typedef struct {
  const char *in;
  int ok;
  int64_t ms;       /* if ok */
  const char *want; /* substring of errstr if not ok */
} trow_t;

static int parse_exact(int64_t *ms, const char *in, size_t len, char *err,
                       size_t err_size) {
  char *copy = malloc(len ? len : 1);
  int rc;
  assert_non_null(copy);
  memcpy(copy, in, len);
  rc = gb_time_parse_rfc3339(ms, copy, len, err, err_size);
  free(copy);
  return rc;
}

static void run_rows(const trow_t *rows, size_t n) {
  size_t i, failures = 0;
  for (i = 0; i < n; i++) {
    const trow_t *r = &rows[i];
    int64_t ms = INT64_C(-424242);
    char err[160];
    int rc;
    memset(err, 'Z', sizeof(err));
    rc = parse_exact(&ms, r->in, strlen(r->in), err, sizeof(err));
    if (memchr(err, '\0', sizeof(err)) == NULL) {
      print_error("row %zu \"%s\": errstr not terminated\n", i, r->in);
      failures++;
    } else if (r->ok && (rc != 0 || ms != r->ms || err[0] != '\0')) {
      print_error("row %zu \"%s\": rc %d ms %lld err \"%s\", want %lld\n", i, r->in, rc,
                  (long long)ms, err, (long long)r->ms);
      failures++;
    } else if (!r->ok &&
               (rc != GB_EINVAL || ms != INT64_C(-424242) || !strstr(err, r->want))) {
      print_error("row %zu \"%s\": rc %d err \"%s\", want EINVAL with \"%s\"\n", i,
                  r->in, rc, err, r->want);
      failures++;
    }
  }
  assert_int_equal(failures, 0);
}

static void test_timeparse__rfc3339_valid(void **state) {
  static const trow_t rows[] = {
      {"2026-11-23T10:00:00Z", 1, T_2026_11_23_10Z, NULL},
      {"2026-11-23t10:00:00z", 1, T_2026_11_23_10Z, NULL},
      {"2026-11-23 10:00:00Z", 1, T_2026_11_23_10Z, NULL},
      {"2026-11-23T10:00:00+00:00", 1, T_2026_11_23_10Z, NULL},
      {"2026-11-23T10:00:00-00:00", 1, T_2026_11_23_10Z, NULL},
      {"2026-11-23T18:00:00.250+08:00", 1, T_2026_11_23_10Z + 250, NULL},
      {"2026-11-23T05:30:00-04:30", 1, T_2026_11_23_10Z, NULL},
      {"2026-11-24T09:59:00+23:59", 1, T_2026_11_23_10Z, NULL},
      {"2026-11-23T10:00:00.1Z", 1, T_2026_11_23_10Z + 100, NULL},
      {"2026-11-23T10:00:00.12Z", 1, T_2026_11_23_10Z + 120, NULL},
      {"2026-11-23T10:00:00.123456789Z", 1, T_2026_11_23_10Z + 123, NULL},
      {"2026-11-23T10:00:00.9999999999999999999999Z", 1, T_2026_11_23_10Z + 999, NULL},
      {"2026-11-23T10:00:00.000Z", 1, T_2026_11_23_10Z, NULL},
      {"1970-01-01T00:00:00Z", 1, 0, NULL},
      {"1970-01-01T08:00:00+08:00", 1, 0, NULL},
      {"1969-12-31T23:59:59.999Z", 1, -1, NULL},
      {"2024-02-29T12:00:00Z", 1, INT64_C(1709208000000), NULL},
      {"2000-02-29T00:00:00Z", 1, INT64_C(951782400000), NULL},
      {"2016-12-31T23:59:60Z", 1, INT64_C(1483228799999), NULL},
      {"2017-01-01T07:59:60.5+08:00", 1, INT64_C(1483228799999), NULL},
      {"9999-12-31T23:59:59.999Z", 1, INT64_C(253402300799999), NULL},
      {"0000-01-01T00:00:00Z", 1, INT64_C(-62167219200000), NULL},
  };
  (void)state;
  run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_timeparse__rfc3339_invalid(void **state) {
  static const trow_t rows[] = {
      {"", 0, 0, "time: empty"},
      {"2023-02-29T12:00:00Z", 0, 0, "day 29 out of range for 2023-02 (28 days)"},
      {"1900-02-29T12:00:00Z", 0, 0, "day 29 out of range for 1900-02"},
      {"2026-04-31T12:00:00Z", 0, 0, "day 31 out of range for 2026-04 (30 days)"},
      {"2026-01-00T12:00:00Z", 0, 0, "day 00 out of range"},
      {"2026-13-01T12:00:00Z", 0, 0, "month 13 out of range 01-12"},
      {"2026-00-01T12:00:00Z", 0, 0, "month 00 out of range"},
      {"2026-11-23T24:00:00Z", 0, 0, "hour 24 out of range 00-23"},
      {"2026-11-23T10:60:00Z", 0, 0, "minute 60 out of range 00-59"},
      {"2026-11-23T10:00:61Z", 0, 0, "second 61 out of range 00-60"},
      {"2026-11-23T10:00:00+24:00", 0, 0, "offset hour 24 out of range"},
      {"2026-11-23T10:00:00+08:60", 0, 0, "offset minute 60 out of range"},
      {"2026-11-23T10:00:00", 0, 0, "time: no time zone at byte 19"},
      {"2026-11-23T10:00:00.250", 0, 0, "no time zone"},
      {"2026-11-23T10:00:00Zjunk", 0, 0, "trailing bytes after the time zone at byte 20"},
      {"2026-11-23T10:00:00Z ", 0, 0, "trailing bytes"},
      {"2026-11-23T10:00:00+08:00:00", 0, 0, "trailing bytes"},
      {"2026-11-23T10:00:00 +08:00", 0, 0, "expected time zone 'Z' or +hh:mm at byte 19"},
      {"2026-11-23T10:00:00+0800", 0, 0, "expected ':' in offset (+hh:mm) at byte 22"},
      {"2026-11-23T10:00:00+8:00", 0, 0, "expected offset hour hh at byte 21"},
      {"2026-11-23T10:00:00.Z", 0, 0, "expected fraction digits after '.' at byte 20"},
      {"2026-11-23T10:00Z", 0, 0, "expected ':' after minute at byte 16, got 'Z'"},
      {"2026-11-23T10:00", 0, 0, "expected ':' after minute at byte 16, input ends"},
      {"2026-11-23", 0, 0, "expected time after the date at byte 10"},
      {"2026-11-23_10:00:00Z", 0, 0, "expected 'T' or ' ' after date at byte 10"},
      {"26-11-23T10:00:00Z", 0, 0, "expected year YYYY at byte 2"},
      {"2026/11/23T10:00:00Z", 0, 0, "expected '-' after year at byte 4"},
      {"2026-1-23T10:00:00Z", 0, 0, "expected month MM at byte 6"},
      {"+2026-11-23T10:00:00Z", 0, 0, "expected year YYYY at byte 0"},
      {"1795428000", 0, 0, "expected '-' after year at byte 4"},
      {"2026-11-23T1\xff:00:00Z", 0, 0, "got byte 0xFF"},
  };
  (void)state;
  run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_timeparse__rfc3339_contract(void **state) {
  static const char good[] = "2026-11-23T10:00:00ZXXXX";
  int64_t ms = 7;
  char err[16];
  (void)state;
  /* len bounds the input: bytes after it are not part of the timestamp */
  assert_int_equal(parse_exact(&ms, good, 20, err, sizeof(err)), 0);
  assert_int_equal(ms, T_2026_11_23_10Z);
  assert_string_equal(err, "");
  /* a NUL inside len is a byte like any other */
  assert_int_equal(parse_exact(&ms, "2026-11-23T10:00:00Z\0", 21, err, sizeof(err)),
                   GB_EINVAL);
  /* truncated errstr stays terminated; NULL errstr is allowed */
  assert_string_equal(err, "time: trailing ");
  assert_int_equal(gb_time_parse_rfc3339(&ms, "x", 1, NULL, 0), GB_EINVAL);
  assert_int_equal(gb_time_parse_rfc3339(&ms, NULL, 0, err, sizeof(err)), GB_EINVAL);
  assert_int_equal(ms, T_2026_11_23_10Z);
}

static void test_timeparse__every_prefix(void **state) {
  static const char full[] = "2026-11-23T18:00:00.250+08:00";
  size_t k;
  (void)state;
  for (k = 0; k < sizeof(full) - 1; k++) {
    int64_t ms;
    char err[160];
    assert_int_equal(parse_exact(&ms, full, k, err, sizeof(err)), GB_EINVAL);
    assert_true(strncmp(err, "time: ", 6) == 0);
  }
}

static void test_timeparse__epoch_seconds(void **state) {
  int64_t ms = 0;
  char err[128];
  (void)state;
  assert_int_equal(gb_time_from_epoch(&ms, 1795428000.0, err, sizeof(err)), 0);
  assert_int_equal(ms, T_2026_11_23_10Z);
  assert_string_equal(err, "");
  assert_int_equal(gb_time_from_epoch(&ms, 1795428000.25, err, sizeof(err)), 0);
  assert_int_equal(ms, T_2026_11_23_10Z + 250);
  assert_int_equal(gb_time_from_epoch(&ms, 1795428000.123, err, sizeof(err)), 0);
  assert_int_equal(ms, T_2026_11_23_10Z + 123);
  assert_int_equal(gb_time_from_epoch(&ms, 1795428000.9999, err, sizeof(err)), 0);
  assert_int_equal(ms, T_2026_11_23_10Z + 999);
  assert_int_equal(gb_time_from_epoch(&ms, 0.0, err, sizeof(err)), 0);
  assert_int_equal(ms, 0);
  assert_int_equal(gb_time_from_epoch(&ms, -0.0, err, sizeof(err)), 0);
  assert_int_equal(ms, 0);
  assert_int_equal(gb_time_from_epoch(&ms, 99999999999.0, err, sizeof(err)), 0);
  assert_int_equal(ms, INT64_C(99999999999000));
}

static void test_timeparse__epoch_millis(void **state) {
  int64_t ms = 0;
  char err[128];
  (void)state;
  assert_int_equal(gb_time_from_epoch(&ms, 1795428000123.0, err, sizeof(err)), 0);
  assert_int_equal(ms, T_2026_11_23_10Z + 123);
  assert_int_equal(gb_time_from_epoch(&ms, 1795428000123.75, err, sizeof(err)), 0);
  assert_int_equal(ms, T_2026_11_23_10Z + 123);
  assert_int_equal(gb_time_from_epoch(&ms, 1e11, err, sizeof(err)), 0);
  assert_int_equal(ms, INT64_C(100000000000));
  assert_int_equal(gb_time_from_epoch(&ms, 253402300799999.0, err, sizeof(err)), 0);
  assert_int_equal(ms, INT64_C(253402300799999));
}

static void test_timeparse__epoch_invalid(void **state) {
  int64_t ms = 7;
  char err[128];
  (void)state;
  assert_int_equal(gb_time_from_epoch(&ms, -1.0, err, sizeof(err)), GB_EINVAL);
  assert_string_equal(err, "time: negative epoch -1");
  assert_int_equal(gb_time_from_epoch(&ms, NAN, err, sizeof(err)), GB_EINVAL);
  assert_string_equal(err, "time: epoch is not a finite number");
  assert_int_equal(gb_time_from_epoch(&ms, INFINITY, err, sizeof(err)), GB_EINVAL);
  assert_int_equal(gb_time_from_epoch(&ms, -INFINITY, err, sizeof(err)), GB_EINVAL);
  /* microseconds since the epoch */
  assert_int_equal(gb_time_from_epoch(&ms, 1795428000000000.0, err, sizeof(err)),
                   GB_ERANGE);
  assert_non_null(strstr(err, "microseconds or nanoseconds?"));
  assert_int_equal(gb_time_from_epoch(&ms, 1e300, NULL, 0), GB_ERANGE);
  assert_int_equal(ms, 7);
}

static void test_timeparse__skew(void **state) {
  const int64_t now = T_2026_11_23_10Z, limit = 300000;
  char err[128];
  (void)state;
  assert_int_equal(gb_time_check_skew(now, now, limit, err, sizeof(err)), 0);
  assert_string_equal(err, "");
  assert_int_equal(gb_time_check_skew(now + limit, now, limit, err, sizeof(err)), 0);
  assert_int_equal(gb_time_check_skew(now + 3600000, now, limit, err, sizeof(err)),
                   GB_ERANGE);
  assert_string_equal(err, "time: 3600 s in the future, limit 300 s");
  assert_int_equal(gb_time_check_skew(now + limit + 1, now, limit, err, sizeof(err)),
                   GB_ERANGE);
  assert_string_equal(err, "time: 300.001 s in the future, limit 300 s");
  assert_int_equal(gb_time_check_skew(now + 1500, now, 250, err, sizeof(err)),
                   GB_ERANGE);
  assert_string_equal(err, "time: 1.5 s in the future, limit 0.25 s");
  assert_int_equal(gb_time_check_skew(now + 1, now, -5, err, sizeof(err)), GB_ERANGE);
  assert_int_equal(gb_time_check_skew(INT64_MAX, INT64_MIN, limit, NULL, 0),
                   GB_ERANGE);
  assert_int_equal(gb_time_check_skew(INT64_MIN, INT64_MAX, 0, NULL, 0), 0);
}

static void test_timeparse__late_events_accepted(void **state) {
  const int64_t now = T_2026_11_23_10Z;
  char err[128];
  (void)state;
  assert_int_equal(gb_time_check_skew(now - 1, now, 0, err, sizeof(err)), 0);
  assert_int_equal(gb_time_check_skew(now - INT64_C(86400000) * 365, now, 300000, err,
                                      sizeof(err)),
                   0);
  assert_int_equal(gb_time_check_skew(0, now, 300000, err, sizeof(err)), 0);
}

static void test_timeparse__format(void **state) {
  char out[32];
  (void)state;
  gb_time_format(out, sizeof(out), T_2026_11_23_10Z);
  assert_string_equal(out, "2026-11-23T10:00:00.000Z");
  gb_time_format(out, sizeof(out), 0);
  assert_string_equal(out, "1970-01-01T00:00:00.000Z");
  gb_time_format(out, sizeof(out), -1);
  assert_string_equal(out, "1969-12-31T23:59:59.999Z");
  gb_time_format(out, sizeof(out), INT64_C(1709208000000) + 7);
  assert_string_equal(out, "2024-02-29T12:00:00.007Z");
  gb_time_format(out, sizeof(out), INT64_C(253402300799999));
  assert_string_equal(out, "9999-12-31T23:59:59.999Z");
  gb_time_format(out, 25, T_2026_11_23_10Z);
  assert_int_equal(strlen(out), 24);
  memset(out, 'Z', sizeof(out));
  gb_time_format(out, 11, T_2026_11_23_10Z);
  assert_string_equal(out, "2026-11-23");
  gb_time_format(NULL, 0, 0);
  gb_time_format(out, sizeof(out), INT64_MIN);
  gb_time_format(out, sizeof(out), INT64_MAX);
}

/* Format then parse is the identity, and the calendar agrees with gmtime_r
 * (which needs no TZ for UTC), across leap years and century rules. */
static void test_timeparse__format_round_trip(void **state) {
  int64_t ms, step = INT64_C(86400000) * 7 + 3600 * 1000 * 5 + 61 * 1000 + 17;
  int n = 0;
  (void)state;
  for (ms = INT64_C(-2208988800000); ms < INT64_C(4102444800000); ms += step, n++) {
    char out[32], err[128], want[80];
    int64_t back = 0;
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gb_time_format(out, sizeof(out), ms);
    assert_int_equal(gb_time_parse_rfc3339(&back, out, strlen(out), err, sizeof(err)),
                     0);
    assert_int_equal(back, ms);
    assert_non_null(gmtime_r(&t, &tm));
    snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    assert_memory_equal(out, want, 19);
  }
  assert_true(n > 10000);
}

static void test_timeparse__clocks(void **state) {
  int64_t a, b, now;
  (void)state;
  now = gb_now_ms();
  assert_true(now > INT64_C(1704067200000)); /* after 2024-01-01 */
  assert_true(llabs(now - (int64_t)time(NULL) * 1000) < 2000);
  a = gb_mono_ms();
  b = gb_mono_ms();
  assert_true(b >= a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_timeparse__rfc3339_valid),
      cmocka_unit_test(test_timeparse__rfc3339_invalid),
      cmocka_unit_test(test_timeparse__rfc3339_contract),
      cmocka_unit_test(test_timeparse__every_prefix),
      cmocka_unit_test(test_timeparse__epoch_seconds),
      cmocka_unit_test(test_timeparse__epoch_millis),
      cmocka_unit_test(test_timeparse__epoch_invalid),
      cmocka_unit_test(test_timeparse__skew),
      cmocka_unit_test(test_timeparse__late_events_accepted),
      cmocka_unit_test(test_timeparse__format),
      cmocka_unit_test(test_timeparse__format_round_trip),
      cmocka_unit_test(test_timeparse__clocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
