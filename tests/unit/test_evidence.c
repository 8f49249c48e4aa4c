/* The evidence in words (matcher/evidence.c): what an officer reads first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evidence.h"
#include "goldenbell/v1/alert.pb-c.h"

static void test_duration(void **state) {
  (void)state;
  char b[32];
  evidence_duration(b, sizeof(b), 0);
  assert_string_equal(b, "0 s");
  evidence_duration(b, sizeof(b), 59);
  assert_string_equal(b, "59 s");
  evidence_duration(b, sizeof(b), 252);
  assert_string_equal(b, "4 min 12 s");
  evidence_duration(b, sizeof(b), 3720);
  assert_string_equal(b, "1 h 2 min");
}

static void test_call_and_site(void **state) {
  (void)state;
  matcher_rules_t rules;
  matcher_rules_defaults(&rules);
  Goldenbell__V1__CallView call = GOLDENBELL__V1__CALL_VIEW__INIT;
  call.counterpart = "+85290001234";
  call.duration_s = 252;
  call.status = GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING;
  Goldenbell__V1__Event c = GOLDENBELL__V1__EVENT__INIT;
  c.body_case = GOLDENBELL__V1__EVENT__BODY_CALL;
  c.call = &call;
  Goldenbell__V1__VisitView visit = GOLDENBELL__V1__VISIT_VIEW__INIT;
  visit.kind = GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_SITE;
  visit.target = "pay.example-fraud.com";
  visit.domain = "example-fraud.com";
  Goldenbell__V1__Event v = GOLDENBELL__V1__EVENT__INIT;
  v.body_case = GOLDENBELL__V1__EVENT__BODY_VISIT;
  v.visit = &visit;
  int64_t t = 1800000000000;
  evidence_item_t items[2] = {
      {GOLDENBELL__V1__RULE__RULE_FRAUD_SITE_OR_APP, GOLDENBELL__V1__RISK__RISK_MEDIUM,
       t - 600000, 0, "example-fraud.com", &v},
      {GOLDENBELL__V1__RULE__RULE_LONG_FRAUD_CALL, GOLDENBELL__V1__RISK__RISK_HIGH, t, 0, "", &c},
  };
  evidence_sort(items, 2);
  char out[512];
  evidence_text(out, sizeof(out), items, 2, t, &rules);
  assert_string_equal(out, "on a call with fraud number +85290001234 for 4 min 12 s, still "
                           "ongoing; visited pay.example-fraud.com, a listed fraud site "
                           "(example-fraud.com), 10 min 0 s earlier");
  /* Too little room: cut with an ellipsis, never overflowing. */
  char small[40];
  evidence_text(small, sizeof(small), items, 2, t, &rules);
  assert_true(strlen(small) < sizeof(small));
  assert_non_null(strstr(small, "..."));
}

static void test_international_and_retro(void **state) {
  (void)state;
  matcher_rules_t rules;
  matcher_rules_defaults(&rules);
  rules.intl_window_s = 600;
  Goldenbell__V1__CallView call = GOLDENBELL__V1__CALL_VIEW__INIT;
  call.counterpart = "+447700900001";
  call.duration_s = 300;
  call.start_ms = 1795000000000; /* 2026-11-18 11:06:40 UTC: 19:06 in Beijing */
  Goldenbell__V1__Event c = GOLDENBELL__V1__EVENT__INIT;
  c.body_case = GOLDENBELL__V1__EVENT__BODY_CALL;
  c.call = &call;
  evidence_item_t it = {GOLDENBELL__V1__RULE__RULE_INTERNATIONAL_CALLS,
                        GOLDENBELL__V1__RISK__RISK_MEDIUM, 0, 3, "", &c};
  char out[512];
  evidence_text(out, sizeof(out), &it, 1, 0, &rules);
  assert_string_equal(out, "3 incoming international calls within 10 min 0 s (one from "
                           "+447700900001)");
  it.rule = GOLDENBELL__V1__RULE__RULE_RETRO_HUNT;
  evidence_text(out, sizeof(out), &it, 1, 0, &rules);
  assert_string_equal(out, "was on a call with +447700900001 for 5 min 0 s on 2026-11-18 19:06 "
                           "(Beijing time), a number listed as fraud since");
}

static void test_many(void **state) {
  (void)state;
  matcher_rules_t rules;
  matcher_rules_defaults(&rules);
  Goldenbell__V1__CallView call = GOLDENBELL__V1__CALL_VIEW__INIT;
  call.counterpart = "+85290001234";
  call.duration_s = 75;
  Goldenbell__V1__Event c = GOLDENBELL__V1__EVENT__INIT;
  c.body_case = GOLDENBELL__V1__EVENT__BODY_CALL;
  c.call = &call;
  evidence_item_t items[7];
  for (int i = 0; i < 7; i++)
    items[i] = (evidence_item_t){GOLDENBELL__V1__RULE__RULE_LONG_FRAUD_CALL,
                                 GOLDENBELL__V1__RISK__RISK_HIGH, 0, 0, "", &c};
  char out[2048];
  evidence_text(out, sizeof(out), items, 7, 0, &rules);
  const char *one = "on a call with fraud number +85290001234 for 1 min 15 s, ended";
  char want[1024];
  snprintf(want, sizeof(want), "%s; %s; %s; %s; and 3 more", one, one, one, one);
  assert_string_equal(out, want);
  /* Five: all five told, no "and 1 more" in place of the last. */
  evidence_text(out, sizeof(out), items, 5, 0, &rules);
  snprintf(want, sizeof(want), "%s; %s; %s; %s; %s", one, one, one, one, one);
  assert_string_equal(out, want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_duration),
      cmocka_unit_test(test_call_and_site),
      cmocka_unit_test(test_international_and_retro),
      cmocka_unit_test(test_many),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
