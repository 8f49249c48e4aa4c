/* ingest's call-record reader: valid shapes and every rejection reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "call.h"
#include "gb/err.h"

#define NOW 1795000000000LL /* 2026-11-18 */

static flat_rec_t rec;

static int read_call(ingest_call_t *c, const char *json, gb_reject_t *r) {
  size_t used;
  assert_int_equal(flat_parse(&rec, json, strlen(json), &used, r), 0);
  return ingest_call_from_json(c, &rec, NOW, 300000, r);
}

static void test_ingest_call__carrier_example(void **state) {
  (void)state;
  ingest_call_t c;
  gb_reject_t r;
  assert_int_equal(read_call(&c,
                             "{\"call_id\": \"c-1\", \"caller\": \"+8613800138000\", \"callee\": "
                             "\"13900139000\", \"start\": \"2026-11-17T10:00:00Z\", "
                             "\"duration_s\": 312, \"carrier\": \"CMCC\"}",
                             &r),
                   0);
  assert_string_equal(c.call_id, "c-1");
  assert_string_equal(c.caller, "+8613800138000");
  assert_string_equal(c.callee, "+8613900139000");
  assert_int_equal(c.start_ms, 1794909600000LL);
  assert_int_equal(c.duration_s, 312);
  assert_string_equal(c.carrier, "CMCC");
  assert_int_equal(c.ongoing, 0);
  assert_int_equal(c.international, 0);
}

static void test_ingest_call__epoch_ms_ongoing_international(void **state) {
  (void)state;
  ingest_call_t c;
  gb_reject_t r;
  assert_int_equal(read_call(&c,
                             "{\"call_id\": \"c-2\", \"caller\": \"+852 6123 4567\", \"callee\": "
                             "\"139-0013-9000\", \"start\": 1794909600000, \"duration_s\": 75, "
                             "\"status\": \"ongoing\"}",
                             &r),
                   0);
  assert_int_equal(c.start_ms, 1794909600000LL);
  assert_int_equal(c.ongoing, 1);
  assert_int_equal(c.international, 1);
  assert_string_equal(c.carrier, "");
}

static void expect_reject(const char *json, const char *reason, const char *field,
                          const char *detail) {
  ingest_call_t c;
  gb_reject_t r;
  assert_int_equal(read_call(&c, json, &r), GB_EINVAL);
  assert_string_equal(r.reason, reason);
  assert_string_equal(r.field, field);
  if (!strstr(r.detail, detail)) fail_msg("detail '%s' lacks '%s'", r.detail, detail);
}

static void test_ingest_call__rejections(void **state) {
  (void)state;
  expect_reject("[1]", "wrong_type", "", "object");
  expect_reject("{\"caller\":\"13800138000\"}", "missing_field", "call_id", "missing");
  expect_reject("{\"call_id\":\"\",\"caller\":\"1\"}", "missing_field", "call_id", "missing or empty");
  expect_reject("{\"call_id\":7}", "wrong_type", "call_id", "want a string");
  expect_reject("{\"call_id\":\"x\",\"caller\":\"12\",\"callee\":\"13900139000\"}",
                "invalid_value", "caller", "phone");
  expect_reject("{\"call_id\":\"x\",\"caller\":\"13800138000\",\"callee\":\"13900139000\"}",
                "missing_field", "start", "missing");
  expect_reject("{\"call_id\":\"x\",\"caller\":\"13800138000\",\"callee\":\"13900139000\","
                "\"start\":\"yesterday\",\"duration_s\":1}",
                "invalid_value", "start", "start");
  expect_reject("{\"call_id\":\"x\",\"caller\":\"13800138000\",\"callee\":\"13900139000\","
                "\"start\":1794909600,\"duration_s\":-1}",
                "invalid_value", "duration_s", "outside");
  expect_reject("{\"call_id\":\"x\",\"caller\":\"13800138000\",\"callee\":\"13900139000\","
                "\"start\":1794909600,\"duration_s\":\"60\"}",
                "wrong_type", "duration_s", "whole number");
  expect_reject("{\"call_id\":\"x\",\"caller\":\"13800138000\",\"callee\":\"13900139000\","
                "\"start\":1794909600,\"duration_s\":60,\"status\":\"paused\"}",
                "unknown_enum", "status", "paused");
  /* An hour ahead of NOW, with a 300 s allowance. */
  expect_reject("{\"call_id\":\"x\",\"caller\":\"13800138000\",\"callee\":\"13900139000\","
                "\"start\":1795003600,\"duration_s\":60}",
                "future_time", "start", "in the future");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ingest_call__carrier_example),
      cmocka_unit_test(test_ingest_call__epoch_ms_ongoing_international),
      cmocka_unit_test(test_ingest_call__rejections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
