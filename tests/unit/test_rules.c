/* matcher's rules file: defaults, every setting, and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "gb/err.h"
#include "rules.h"

static int parse(matcher_rules_t *r, const char *json, char *err) {
  return matcher_rules_parse(r, json, strlen(json), err, 256);
}

static void test_rules__defaults(void **state) {
  (void)state;
  matcher_rules_t r;
  char err[256];
  assert_int_equal(parse(&r, "{}", err), 0);
  assert_int_equal(r.long_call_s, 60);
  assert_true(r.fraud_contact);
  assert_int_equal(r.suppression_s, 1800);
  assert_int_equal(r.retro_lookback_s, 72 * 3600);
  matcher_rules_t d;
  assert_int_equal(matcher_rules_load(&d, "", err, sizeof(err)), 0);
  assert_int_equal(d.long_call_s, r.long_call_s);
  assert_int_equal(d.fraud_contact, r.fraud_contact);
  assert_int_equal(d.intl_min_calls, r.intl_min_calls);
  assert_int_equal(d.intl_window_s, r.intl_window_s);
  assert_int_equal(d.combo_window_s, r.combo_window_s);
  assert_int_equal(d.suppression_s, r.suppression_s);
  assert_int_equal(d.retro_lookback_s, r.retro_lookback_s);
}

static void test_rules__every_setting(void **state) {
  (void)state;
  matcher_rules_t r;
  char err[256];
  assert_int_equal(parse(&r,
                         "{\"version\":1, \"long_call\":{\"min_duration_s\":90},"
                         " \"fraud_contact\":{\"enabled\":false},"
                         " \"international\":{\"min_calls\":3,\"window_s\":600},"
                         " \"combination\":{\"window_s\":7200},"
                         " \"alerts\":{\"suppression_window_s\":900},"
                         " \"retro_hunt\":{\"lookback_s\":86400}}",
                         err),
                   0);
  assert_int_equal(r.long_call_s, 90);
  assert_false(r.fraud_contact);
  assert_int_equal(r.intl_min_calls, 3);
  assert_int_equal(r.intl_window_s, 600);
  assert_int_equal(r.combo_window_s, 7200);
  assert_int_equal(r.suppression_s, 900);
  assert_int_equal(r.retro_lookback_s, 86400);
}

static void refused(const char *json, const char *why) {
  matcher_rules_t r;
  char err[256] = "";
  matcher_rules_defaults(&r);
  r.long_call_s = 42; /* must stay untouched on refusal */
  assert_int_equal(parse(&r, json, err), GB_EINVAL);
  if (!strstr(err, why)) fail_msg("'%s' lacks '%s'", err, why);
  assert_int_equal(r.long_call_s, 42);
}

static void test_rules__refusals(void **state) {
  (void)state;
  refused("{\"long_call\":{\"min_duration_s\":0}}", "long_call.min_duration_s: want a whole number 1..86400");
  refused("{\"long_call\":{\"min_duration_s\":\"60\"}}", "want a whole number");
  refused("{\"long_call\":{\"min_duraton_s\":60}}", "unknown setting 'long_call.min_duraton_s'");
  refused("{\"long_calls\":{}}", "unknown section 'long_calls'");
  refused("{\"fraud_contact\":{\"enabled\":1}}", "want true or false");
  refused("{\"international\":{\"window_s\":10}}", "60..");
  refused("{\"version\":2}", "reads version 1");
  refused("{\"long_call\":60}", "long_call: want an object");
  refused("[1]", "not an object");
  refused("{\"long_call\":{\"min_duration_s\":60,}}", "line 1");
  refused("{\"alerts\":{\"suppression_window_s\":1},\"alerts\":{}}", "line 1");
}

static void test_rules__missing_file(void **state) {
  (void)state;
  matcher_rules_t r;
  char err[256];
  assert_int_equal(matcher_rules_load(&r, "/nonexistent/rules.json", err, sizeof(err)), GB_EINVAL);
  assert_non_null(strstr(err, "cannot open /nonexistent/rules.json"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rules__defaults),
      cmocka_unit_test(test_rules__every_setting),
      cmocka_unit_test(test_rules__refusals),
      cmocka_unit_test(test_rules__missing_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
