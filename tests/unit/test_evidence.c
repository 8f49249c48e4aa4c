/* The evidence in words (matcher/evidence.c): what an officer reads first,
 * in English (Alert.evidence) and in Chinese (Alert.evidence_zh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evidence.h"
#include "gb/utf8.h"
#include "goldenbell/v1/alert.pb-c.h"

#define RULE(x) GOLDENBELL__V1__RULE__RULE_##x
#define RISK(x) GOLDENBELL__V1__RISK__RISK_##x

static const int64_t T = 1800000000000; /* the latest evidence */

static void call_event(Goldenbell__V1__Event *e, Goldenbell__V1__CallView *c,
                       const char *counterpart, uint32_t duration_s, int ongoing) {
  goldenbell__v1__call_view__init(c);
  c->counterpart = (char *)counterpart;
  c->duration_s = duration_s;
  c->status = ongoing ? GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING
                      : GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_FINAL;
  goldenbell__v1__event__init(e);
  e->body_case = GOLDENBELL__V1__EVENT__BODY_CALL;
  e->call = c;
}

static void visit_event(Goldenbell__V1__Event *e, Goldenbell__V1__VisitView *v, int app,
                        const char *target, const char *domain) {
  goldenbell__v1__visit_view__init(v);
  v->kind = app ? GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP
                : GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_SITE;
  v->target = (char *)target;
  v->domain = (char *)domain;
  goldenbell__v1__event__init(e);
  e->body_case = GOLDENBELL__V1__EVENT__BODY_VISIT;
  e->visit = v;
}

/* One item told alone, in lang. */
static void one(char *out, size_t size, const evidence_item_t *it, const matcher_rules_t *rules,
                evidence_lang_t lang) {
  evidence_text(out, size, it, 1, T, rules, lang);
}

static void test_evidence__duration(void **state) {
  (void)state;
  static const struct {
    uint32_t s;
    const char *en, *zh;
  } cases[] = {
      {0, "0 s", "0秒"},
      {35, "35 s", "35秒"},
      {59, "59 s", "59秒"},
      {60, "1 min 0 s", "1分钟"},
      {252, "4 min 12 s", "4分12秒"},
      {600, "10 min 0 s", "10分钟"},
      {3600, "1 h 0 min", "1小时"},
      {3720, "1 h 2 min", "1小时2分"},
      {3725, "1 h 2 min", "1小时2分"},
      {UINT32_MAX, "1193046 h 28 min", "1193046小时28分"},
  };
  char b[32];
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    evidence_duration(b, sizeof(b), cases[i].s, EVIDENCE_EN);
    assert_string_equal(b, cases[i].en);
    evidence_duration(b, sizeof(b), cases[i].s, EVIDENCE_ZH);
    assert_string_equal(b, cases[i].zh);
  }
}

static void test_evidence__call_and_site(void **state) {
  (void)state;
  matcher_rules_t rules;
  matcher_rules_defaults(&rules);
  Goldenbell__V1__CallView call;
  Goldenbell__V1__VisitView visit;
  Goldenbell__V1__Event c, v;
  call_event(&c, &call, "+85290001234", 252, 1);
  visit_event(&v, &visit, 0, "pay.example-fraud.com", "example-fraud.com");
  evidence_item_t items[2] = {
      {RULE(FRAUD_SITE_OR_APP), RISK(MEDIUM), T - 600000, 0, "example-fraud.com", &v},
      {RULE(LONG_FRAUD_CALL), RISK(HIGH), T, 0, "", &c},
  };
  evidence_sort(items, 2);
  char out[512];
  evidence_text(out, sizeof(out), items, 2, T, &rules, EVIDENCE_EN);
  assert_string_equal(out, "on a call with fraud number +85290001234 for 4 min 12 s, still "
                           "ongoing; visited pay.example-fraud.com, a listed fraud site "
                           "(example-fraud.com), 10 min 0 s earlier");
  evidence_text(out, sizeof(out), items, 2, T, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "正在与诈骗号码 +85290001234 通话，已持续 4分12秒；"
                           "访问了已列入诈骗名单的网站 pay.example-fraud.com"
                           "（example-fraud.com），10分钟前");
  /* Too little room: cut with an ellipsis, never overflowing. */
  char small[40];
  evidence_text(small, sizeof(small), items, 2, T, &rules, EVIDENCE_EN);
  assert_true(strlen(small) < sizeof(small));
  assert_non_null(strstr(small, "..."));
  evidence_text(small, sizeof(small), items, 2, T, &rules, EVIDENCE_ZH);
  assert_string_equal(small, "……");
}

static void test_evidence__calls_zh(void **state) {
  (void)state;
  matcher_rules_t rules;
  matcher_rules_defaults(&rules);
  Goldenbell__V1__CallView call;
  Goldenbell__V1__Event c;
  char out[512];
  /* Rule 1, ongoing and ended. */
  call_event(&c, &call, "+85290001234", 252, 1);
  evidence_item_t it = {RULE(LONG_FRAUD_CALL), RISK(HIGH), T, 0, "", &c};
  one(out, sizeof(out), &it, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "正在与诈骗号码 +85290001234 通话，已持续 4分12秒");
  call.status = GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_FINAL;
  one(out, sizeof(out), &it, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "与诈骗号码 +85290001234 通话 4分12秒，已结束");
  /* An older record: how long before the latest evidence. */
  it.ts_ms = T - 173000;
  call.duration_s = 75;
  call.status = GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING;
  one(out, sizeof(out), &it, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "正在与诈骗号码 +85290001234 通话，已持续 1分15秒，2分53秒前");
  one(out, sizeof(out), &it, &rules, EVIDENCE_EN);
  assert_string_equal(out, "on a call with fraud number +85290001234 for 1 min 15 s, still "
                           "ongoing, 2 min 53 s earlier");
  /* Rule 3, below the threshold: told the same way. */
  it = (evidence_item_t){RULE(FRAUD_CONTACT), RISK(LOW), T, 0, "", &c};
  call.duration_s = 20;
  call.status = GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_FINAL;
  one(out, sizeof(out), &it, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "与诈骗号码 +85290001234 通话 20秒，已结束");
  /* A long one. */
  call.duration_s = 3720;
  one(out, sizeof(out), &it, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "与诈骗号码 +85290001234 通话 1小时2分，已结束");
}

static void test_evidence__site_and_app_zh(void **state) {
  (void)state;
  matcher_rules_t rules;
  matcher_rules_defaults(&rules);
  Goldenbell__V1__VisitView visit;
  Goldenbell__V1__Event v;
  char out[512];
  visit_event(&v, &visit, 1, "com.example.fraudpay", "");
  evidence_item_t it = {RULE(FRAUD_SITE_OR_APP), RISK(MEDIUM), T - 600000, 0, "", &v};
  one(out, sizeof(out), &it, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "安装了诈骗 App com.example.fraudpay，10分钟前");
  one(out, sizeof(out), &it, &rules, EVIDENCE_EN);
  assert_string_equal(out, "installed the fraud app com.example.fraudpay, 10 min 0 s earlier");
  it.ts_ms = T;
  visit.target = "高收益理财";
  one(out, sizeof(out), &it, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "安装了诈骗 App 高收益理财");
  /* A site: the listing it matched, or its own domain without one. */
  visit_event(&v, &visit, 0, "pay.example-fraud.com", "example-fraud.com");
  it.digest = NULL;
  one(out, sizeof(out), &it, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "访问了已列入诈骗名单的网站 pay.example-fraud.com（example-fraud.com）");
  it.ts_ms = T - 3720000;
  it.digest = "fraud.example";
  one(out, sizeof(out), &it, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "访问了已列入诈骗名单的网站 pay.example-fraud.com（fraud.example），"
                           "1小时2分前");
}

static void test_evidence__international_and_retro(void **state) {
  (void)state;
  matcher_rules_t rules;
  matcher_rules_defaults(&rules);
  rules.intl_window_s = 600;
  Goldenbell__V1__CallView call;
  Goldenbell__V1__Event c;
  call_event(&c, &call, "+447700900001", 300, 0);
  call.start_ms = 1795000000000; /* 2026-11-18 11:06:40 UTC: 19:06 in Beijing */
  evidence_item_t it = {RULE(INTERNATIONAL_CALLS), RISK(MEDIUM), 0, 3, "", &c};
  char out[512];
  evidence_text(out, sizeof(out), &it, 1, 0, &rules, EVIDENCE_EN);
  assert_string_equal(out, "3 incoming international calls within 10 min 0 s (one from "
                           "+447700900001)");
  evidence_text(out, sizeof(out), &it, 1, 0, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "10分钟内接到 3 个境外来电（其中一个来自 +447700900001）");
  rules.intl_window_s = 3600;
  it.n = 5;
  evidence_text(out, sizeof(out), &it, 1, 0, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "1小时内接到 5 个境外来电（其中一个来自 +447700900001）");
  /* Without the call at hand, the count alone. */
  it.ev = NULL;
  evidence_text(out, sizeof(out), &it, 1, 0, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "1小时内接到 5 个境外来电");
  evidence_text(out, sizeof(out), &it, 1, 0, &rules, EVIDENCE_EN);
  assert_string_equal(out, "5 incoming international calls within 1 h 0 min (one from ?)");
  it.ev = &c;
  it.rule = RULE(RETRO_HUNT);
  evidence_text(out, sizeof(out), &it, 1, 0, &rules, EVIDENCE_EN);
  assert_string_equal(out, "was on a call with +447700900001 for 5 min 0 s on 2026-11-18 19:06 "
                           "(Beijing time), a number listed as fraud since");
  evidence_text(out, sizeof(out), &it, 1, 0, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "曾于 2026-11-18 19:06（北京时间）与 +447700900001 通话 5分钟，"
                           "该号码此后被列为诈骗号码");
  call.duration_s = 252;
  evidence_text(out, sizeof(out), &it, 1, 0, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "曾于 2026-11-18 19:06（北京时间）与 +447700900001 通话 4分12秒，"
                           "该号码此后被列为诈骗号码");
}

static void test_evidence__generic(void **state) {
  (void)state;
  matcher_rules_t rules;
  matcher_rules_defaults(&rules);
  char out[128];
  /* A rule the words do not know, or one missing its event. */
  evidence_item_t it = {RULE(COMBINATION), RISK(HIGH), T, 0, "", NULL};
  one(out, sizeof(out), &it, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "预警信号（规则 5）");
  one(out, sizeof(out), &it, &rules, EVIDENCE_EN);
  assert_string_equal(out, "a warning sign (rule 5)");
  it = (evidence_item_t){RULE(LONG_FRAUD_CALL), RISK(HIGH), T - 120000, 0, "", NULL};
  one(out, sizeof(out), &it, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "预警信号（规则 1），2分钟前");
}

static void test_evidence__many(void **state) {
  (void)state;
  matcher_rules_t rules;
  matcher_rules_defaults(&rules);
  Goldenbell__V1__CallView call;
  Goldenbell__V1__Event c;
  call_event(&c, &call, "+85290001234", 75, 0);
  evidence_item_t items[7];
  for (int i = 0; i < 7; i++)
    items[i] = (evidence_item_t){RULE(LONG_FRAUD_CALL), RISK(HIGH), 0, 0, "", &c};
  char out[2048], want[1024];
  const char *en = "on a call with fraud number +85290001234 for 1 min 15 s, ended";
  const char *zh = "与诈骗号码 +85290001234 通话 1分15秒，已结束";
  evidence_text(out, sizeof(out), items, 7, 0, &rules, EVIDENCE_EN);
  snprintf(want, sizeof(want), "%s; %s; %s; %s; and 3 more", en, en, en, en);
  assert_string_equal(out, want);
  evidence_text(out, sizeof(out), items, 7, 0, &rules, EVIDENCE_ZH);
  snprintf(want, sizeof(want), "%s；%s；%s；%s；另有 3 项", zh, zh, zh, zh);
  assert_string_equal(out, want);
  evidence_text(out, sizeof(out), items, 6, 0, &rules, EVIDENCE_ZH);
  snprintf(want, sizeof(want), "%s；%s；%s；%s；另有 2 项", zh, zh, zh, zh);
  assert_string_equal(out, want);
  /* Five: all five told, no "and 1 more" in place of the last. */
  evidence_text(out, sizeof(out), items, 5, 0, &rules, EVIDENCE_EN);
  snprintf(want, sizeof(want), "%s; %s; %s; %s; %s", en, en, en, en, en);
  assert_string_equal(out, want);
  evidence_text(out, sizeof(out), items, 5, 0, &rules, EVIDENCE_ZH);
  snprintf(want, sizeof(want), "%s；%s；%s；%s；%s", zh, zh, zh, zh, zh);
  assert_string_equal(out, want);
  /* None: nothing. */
  evidence_text(out, sizeof(out), items, 0, 0, &rules, EVIDENCE_ZH);
  assert_string_equal(out, "");
}

/* For every size from 1 to one past the full length: NUL-terminated inside
 * the buffer, valid UTF-8, and either the whole text or whole phrases of it
 * followed by the ellipsis (or nothing when even that does not fit). */
static void check_every_size(const evidence_item_t *items, int n, const matcher_rules_t *rules,
                             evidence_lang_t lang) {
  const char *ell = lang == EVIDENCE_ZH ? "……" : "...";
  const char *sep = lang == EVIDENCE_ZH ? "；" : "; ";
  size_t ell_len = strlen(ell);
  char full[4096];
  evidence_text(full, sizeof(full), items, n, T, rules, lang);
  size_t len = strlen(full);
  assert_true(len > 0 && len < sizeof(full) - 1);
  assert_true(gb_utf8_valid(full, len));
  char *out = malloc(len + 1);
  assert_non_null(out);
  for (size_t size = 1; size <= len + 1; size++) {
    memset(out, 0xFF, len + 1); /* no NUL but the one written */
    evidence_text(out, size, items, n, T, rules, lang);
    size_t got = strnlen(out, size);
    assert_true(got < size);
    assert_true(gb_utf8_valid(out, got));
    if (size == len + 1) {
      assert_string_equal(out, full);
    } else if (got > 0) {
      assert_true(got >= ell_len);
      assert_memory_equal(out + got - ell_len, ell, ell_len);
      size_t head = got - ell_len;
      assert_memory_equal(out, full, head);
      /* The cut falls between two phrases. */
      if (head > 0) assert_memory_equal(full + head, sep, strlen(sep));
    } else {
      assert_true(size <= ell_len);
    }
    /* Nothing written past the buffer. */
    if (size <= len) assert_int_equal((unsigned char)out[size], 0xFF);
  }
  free(out);
}

static void test_evidence__truncation_utf8(void **state) {
  (void)state;
  matcher_rules_t rules;
  matcher_rules_defaults(&rules);
  Goldenbell__V1__CallView call, intl;
  Goldenbell__V1__VisitView site, app;
  Goldenbell__V1__Event c, i, s, a;
  call_event(&c, &call, "+85290001234", 252, 1);
  call_event(&i, &intl, "+447700900001", 30, 0);
  visit_event(&s, &site, 0, "pay.example-fraud.com", "example-fraud.com");
  visit_event(&a, &app, 1, "高收益理财助手", "");
  evidence_item_t items[6] = {
      {RULE(LONG_FRAUD_CALL), RISK(HIGH), T, 0, "", &c},
      {RULE(FRAUD_SITE_OR_APP), RISK(MEDIUM), T - 600000, 0, "example-fraud.com", &s},
      {RULE(FRAUD_SITE_OR_APP), RISK(MEDIUM), T - 700000, 0, "", &a},
      {RULE(INTERNATIONAL_CALLS), RISK(MEDIUM), T - 800000, 5, "", &i},
      {RULE(RETRO_HUNT), RISK(LOW), T - 900000, 0, "", &c},
      {RULE(FRAUD_CONTACT), RISK(LOW), T - 1000000, 0, "", &c},
  };
  for (int n = 1; n <= 6; n++) {
    check_every_size(items, n, &rules, EVIDENCE_ZH);
    check_every_size(items, n, &rules, EVIDENCE_EN);
  }
}

/* A phrase longer than the room for one (a very long name): its head, cut
 * between two characters, then the ellipsis. */
static void test_evidence__long_phrase_utf8(void **state) {
  (void)state;
  matcher_rules_t rules;
  matcher_rules_defaults(&rules);
  char name[1024] = "";
  for (int k = 0; k < 200; k++) strcat(name, k % 2 ? "诈" : "a骗"); /* 700 bytes, 1 + 3 + 3 a pair */
  Goldenbell__V1__VisitView app;
  Goldenbell__V1__Event a;
  visit_event(&a, &app, 1, name, "");
  evidence_item_t it = {RULE(FRAUD_SITE_OR_APP), RISK(MEDIUM), T, 0, "", &a};
  for (int lang = EVIDENCE_EN; lang <= EVIDENCE_ZH; lang++) {
    char out[2048];
    const char *ell = lang == EVIDENCE_ZH ? "……" : "...";
    evidence_text(out, sizeof(out), &it, 1, T, &rules, (evidence_lang_t)lang);
    size_t len = strlen(out);
    assert_true(len > 400 && len < 512);
    assert_true(gb_utf8_valid(out, len));
    assert_string_equal(out + len - strlen(ell), ell);
    check_every_size(&it, 1, &rules, (evidence_lang_t)lang);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_evidence__duration),
      cmocka_unit_test(test_evidence__call_and_site),
      cmocka_unit_test(test_evidence__calls_zh),
      cmocka_unit_test(test_evidence__site_and_app_zh),
      cmocka_unit_test(test_evidence__international_and_retro),
      cmocka_unit_test(test_evidence__generic),
      cmocka_unit_test(test_evidence__many),
      cmocka_unit_test(test_evidence__truncation_utf8),
      cmocka_unit_test(test_evidence__long_phrase_utf8),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
