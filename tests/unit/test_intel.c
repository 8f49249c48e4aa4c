/* Unit tests for fraud indicators (gb/intel.h): reading them from JSON and
 * from protobuf, valid and invalid shapes. No Redis here; storing and
 * looking up are covered by tests/integration/intel.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gb/err.h"
#include "gb/intel.h"
#include "goldenbell/v1/intel.pb-c.h"

#define ROWS(t) (t), sizeof(t) / sizeof((t)[0])

typedef struct {
  const char *json;
  const char *reason; /* NULL: accepted */
  /* accepted: the normalised value; rejected: a substring of the detail */
  const char *want;
  gb_indicator_kind_t kind; /* accepted only */
} json_row_t;

static int json_parse(gb_indicator_t *ind, const char *text, gb_reject_t *r) {
  json_error_t je;
  json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
  assert_non_null(o);
  int rc = gb_indicator_from_json(ind, o, r);
  json_decref(o);
  return rc;
}

static void check_rows(const json_row_t *rows, size_t n) {
  int failed = 0;
  for (size_t i = 0; i < n; i++) {
    const json_row_t *row = &rows[i];
    gb_indicator_t ind;
    gb_reject_t r;
    memset(&ind, 0x5A, sizeof(ind));
    memset(&r, 0, sizeof(r));
    int rc = json_parse(&ind, row->json, &r);
    if (!row->reason) {
      if (rc != 0 || strcmp(ind.value, row->want) != 0 || ind.kind != row->kind) {
        fprintf(stderr, "row %zu %s: want %s, got rc=%d value=%s (%s: %s)\n", i, row->json,
                row->want, rc, rc ? "-" : ind.value, r.reason ? r.reason : "", r.detail);
        failed++;
      }
    } else if (rc != GB_EINVAL || !r.reason || strcmp(r.reason, row->reason) != 0 ||
               !strstr(r.detail, row->want)) {
      fprintf(stderr, "row %zu %s: want %s '%s', got rc=%d %s '%s'\n", i, row->json,
              row->reason, row->want, rc, r.reason ? r.reason : "-", r.detail);
      failed++;
    } else if (ind.kind != (gb_indicator_kind_t)0x5A5A5A5A) {
      fprintf(stderr, "row %zu: *ind written on failure\n", i);
      failed++;
    }
  }
  assert_int_equal(failed, 0);
}

static void test_intel__json_phone(void **state) {
  (void)state;
  static const json_row_t rows[] = {
      {"{\"kind\":\"phone\",\"value\":\"+86 170 0000 0000\"}", NULL, "+8617000000000",
       GB_IND_PHONE},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\"}", NULL, "+8617000000000", GB_IND_PHONE},
      {"{\"kind\":\"phone\",\"value\":\"0086-170-0000-0000\"}", NULL, "+8617000000000",
       GB_IND_PHONE},
      {"{\"kind\":\"phone\",\"value\":\"(0755) 8888 8888\"}", NULL, "+8675588888888",
       GB_IND_PHONE},
      {"{\"kind\":\"phone\",\"value\":\"\xef\xbc\x8b\xef\xbc\x98\xef\xbc\x96 170 0000 0000\"}",
       NULL, "+8617000000000", GB_IND_PHONE},
      {"{\"kind\":\"phone\",\"value\":\"+852 9123 4567\"}", NULL, "+85291234567", GB_IND_PHONE},
      {"{\"kind\":\"phone\",\"value\":\"110\"}", "invalid_value",
       "a service number cannot be a fraud indicator", 0},
      {"{\"kind\":\"phone\",\"value\":\"12381\"}", "invalid_value",
       "a service number cannot be a fraud indicator", 0},
      {"{\"kind\":\"phone\",\"value\":\"170000000\"}", "invalid_value", "value: phone: ", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000 ext 12\"}", "invalid_value",
       "value: phone: ", 0},
      {"{\"kind\":\"phone\",\"value\":\"\"}", "invalid_value", "value: phone: ", 0},
      {"{\"kind\":\"phone\",\"value\":17000000000}", "wrong_type", "value: is a whole number",
       0},
      {"{\"kind\":\"phone\"}", "missing_field", "value: missing", 0},
      {"{\"kind\":\"phone\",\"value\":null}", "missing_field", "value: missing", 0},
  };
  check_rows(ROWS(rows));
}

static void test_intel__json_domain(void **state) {
  (void)state;
  static const json_row_t rows[] = {
      /* A URL lists its registrable domain, so every subdomain matches. */
      {"{\"kind\":\"domain\",\"value\":\"https://pay.example-fraud.com/x?y=1\"}", NULL,
       "example-fraud.com", GB_IND_DOMAIN},
      {"{\"kind\":\"domain\",\"value\":\"pay.Example-Fraud.COM:8443\"}", NULL,
       "example-fraud.com", GB_IND_DOMAIN},
      {"{\"kind\":\"domain\",\"value\":\"example-fraud.com\"}", NULL, "example-fraud.com",
       GB_IND_DOMAIN},
      {"{\"kind\":\"domain\",\"value\":\"www.example-fraud.com.\"}", NULL, "example-fraud.com",
       GB_IND_DOMAIN},
      {"{\"kind\":\"domain\",\"value\":\"a.b.example.com.cn\"}", NULL, "example.com.cn",
       GB_IND_DOMAIN},
      /* exact: the host itself. */
      {"{\"kind\":\"domain\",\"value\":\"https://pay.example-fraud.com/x\",\"exact\":true}",
       NULL, "pay.example-fraud.com", GB_IND_DOMAIN},
      {"{\"kind\":\"domain\",\"value\":\"pay.example-fraud.com\",\"exact\":false}", NULL,
       "example-fraud.com", GB_IND_DOMAIN},
      /* github.io is a (private) public suffix: evil.github.io is registrable. */
      {"{\"kind\":\"domain\",\"value\":\"https://evil.github.io/login\"}", NULL,
       "evil.github.io", GB_IND_DOMAIN},
      {"{\"kind\":\"domain\",\"value\":\"https://a.evil.github.io/\"}", NULL, "evil.github.io",
       GB_IND_DOMAIN},
      /* IDN to punycode. */
      {"{\"kind\":\"domain\",\"value\":\"https://\xe7\xbd\x91\xe4\xb8\x8a\xe9\x93\xb6\xe8\xa1"
       "\x8c.\xe4\xb8\xad\xe5\x9b\xbd\xe9\x93\xb6\xe8\xa1\x8c.\xe4\xb8\xad\xe5\x9b\xbd/\"}",
       NULL, "xn--fiqs8s856bruk.xn--fiqs8s", GB_IND_DOMAIN},
      {"{\"kind\":\"domain\",\"value\":\"b\xc3\xbc" "cher.de\"}", NULL, "xn--bcher-kva.de",
       GB_IND_DOMAIN},
      {"{\"kind\":\"domain\",\"value\":\"203.0.113.7\"}", NULL, "203.0.113.7", GB_IND_DOMAIN},
      {"{\"kind\":\"domain\",\"value\":\"github.io\"}", "invalid_value", "value: site: ", 0},
      {"{\"kind\":\"domain\",\"value\":\"localhost\"}", "invalid_value", "value: site: ", 0},
      {"{\"kind\":\"domain\",\"value\":\"https:///x\"}", "invalid_value", "value: site: ", 0},
      {"{\"kind\":\"domain\",\"value\":\"xn--zz.com\"}", "invalid_value", "value: site: ", 0},
      {"{\"kind\":\"domain\",\"value\":\"a.com\",\"exact\":\"yes\"}", "wrong_type", "exact", 0},
  };
  check_rows(ROWS(rows));
}

static void test_intel__json_app(void **state) {
  (void)state;
  static const json_row_t rows[] = {
      {"{\"kind\":\"app\",\"value\":\"com.example.loan\"}", NULL, "com.example.loan",
       GB_IND_APP},
      {"{\"kind\":\"app\",\"value\":\"  com.example.loan \\t\"}", NULL, "com.example.loan",
       GB_IND_APP},
      {"{\"kind\":\"app\",\"value\":\"\\u3000com.Example.Loan\\u200b\"}", NULL,
       "com.Example.Loan", GB_IND_APP},
      {"{\"kind\":\"app\",\"value\":\"Quick Loan Pro\"}", NULL, "Quick Loan Pro", GB_IND_APP},
      {"{\"kind\":\"app\",\"value\":\"   \"}", "invalid_value", "value: app: empty", 0},
      {"{\"kind\":\"app\",\"value\":\"com.x\\u0007y\"}", "invalid_value",
       "value: app: control character", 0},
  };
  check_rows(ROWS(rows));
}

static void test_intel__json_fields(void **state) {
  (void)state;
  static const json_row_t rows[] = {
      {"{\"kind\":\"url\",\"value\":\"a.com\"}", "unknown_enum",
       "kind: 'url' is not phone, domain or app", 0},
      {"{\"kind\":\"Phone\",\"value\":\"17000000000\"}", "unknown_enum", "kind: 'Phone'", 0},
      {"{\"value\":\"17000000000\"}", "missing_field", "kind: missing", 0},
      {"{\"kind\":1,\"value\":\"17000000000\"}", "wrong_type", "kind: is a whole number", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"action\":\"remove\"}", "unknown_enum",
       "action: 'remove' is not add, confirm or withdraw", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"confidence\":101}", "invalid_value",
       "confidence: 101 is outside 0..100", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"confidence\":-1}", "invalid_value",
       "confidence: -1 is outside 0..100", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"confidence\":90.5}", "wrong_type",
       "confidence: is a number", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"confidence\":\"90\"}", "wrong_type",
       "confidence: is a string", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"source\":\"a\\nb\"}", "invalid_value",
       "source: control character U+000A at byte 1", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"source\":"
       "\"0123456789012345678901234567890123456789012345678901234567890123X\"}",
       "invalid_value", "source: 65 bytes, at most 64", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"expires\":\"2026-13-01T00:00:00Z\"}",
       "invalid_value", "expires: ", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"expires\":\"2026-12-01T00:00:00\"}",
       "invalid_value", "expires: time: no time zone", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"first_seen\":true}", "wrong_type",
       "first_seen: is a boolean", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"first_seen\":\"2026-12-01T00:00:00Z\","
       "\"expires\":\"2026-11-01T00:00:00Z\"}",
       "invalid_value", "is not after first_seen", 0},
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"first_seen\":1795435140,"
       "\"expires\":1795435140000}",
       "invalid_value", "is not after first_seen", 0},
      /* Unknown members are ignored, as matcher always has. */
      {"{\"kind\":\"phone\",\"value\":\"17000000000\",\"note\":{\"x\":1}}", NULL,
       "+8617000000000", GB_IND_PHONE},
  };
  check_rows(ROWS(rows));
}

static void test_intel__json_defaults_and_times(void **state) {
  (void)state;
  gb_indicator_t ind;
  gb_reject_t r;
  assert_int_equal(json_parse(&ind, "{\"kind\":\"phone\",\"value\":\"17000000000\"}", &r), 0);
  assert_int_equal(ind.action, GB_IND_ADD);
  assert_int_equal(ind.confidence, GB_IND_CONFIDENCE_DEFAULT);
  assert_string_equal(ind.source, "");
  assert_int_equal(ind.first_seen_ms, 0);
  assert_int_equal(ind.expires_ms, 0);

  assert_int_equal(json_parse(&ind,
                              "{\"kind\":\"domain\",\"value\":\"x.example-fraud.com\","
                              "\"action\":\"confirm\",\"source\":\"national-12381\","
                              "\"confidence\":0,\"first_seen\":\"2026-11-23T18:00:00+08:00\","
                              "\"expires\":1798761600}",
                              &r),
                   0);
  assert_int_equal(ind.action, GB_IND_CONFIRM);
  assert_string_equal(ind.source, "national-12381");
  assert_int_equal(ind.confidence, 0);
  assert_int_equal(ind.first_seen_ms, 1795428000000LL);
  assert_int_equal(ind.expires_ms, 1798761600000LL);

  assert_int_equal(json_parse(&ind,
                              "{\"kind\":\"app\",\"value\":\"com.x\",\"action\":\"withdraw\","
                              "\"expires\":\"1798761600000\"}",
                              &r),
                   0);
  assert_int_equal(ind.action, GB_IND_WITHDRAW);
  assert_int_equal(ind.expires_ms, 1798761600000LL);

  /* Not an object. */
  json_t *a = json_array();
  memset(&r, 0, sizeof(r));
  assert_int_equal(gb_indicator_from_json(&ind, a, &r), GB_EINVAL);
  assert_string_equal(r.reason, "wrong_type");
  json_decref(a);
  assert_int_equal(gb_indicator_from_json(&ind, NULL, &r), GB_EINVAL);
  assert_string_equal(r.reason, "wrong_type");

  /* A caller-built string with a NUL in source. */
  json_t *o = json_pack("{s:s, s:s, s:s#}", "kind", "phone", "value", "17000000000", "source",
                        "a\0b", (size_t)3);
  assert_non_null(o);
  assert_int_equal(gb_indicator_from_json(&ind, o, &r), GB_EINVAL);
  assert_string_equal(r.reason, "invalid_value");
  json_decref(o);
}

/* ---- protobuf ---- */

static uint8_t *pack(const Goldenbell__V1__FraudIndicator *pb, size_t *len) {
  *len = goldenbell__v1__fraud_indicator__get_packed_size(pb);
  uint8_t *buf = malloc(*len ? *len : 1);
  assert_non_null(buf);
  assert_int_equal(goldenbell__v1__fraud_indicator__pack(pb, buf), *len);
  return buf;
}

static int proto_parse(gb_indicator_t *ind, const Goldenbell__V1__FraudIndicator *pb,
                       gb_reject_t *r) {
  size_t len;
  uint8_t *buf = pack(pb, &len);
  memset(r, 0, sizeof(*r));
  int rc = gb_indicator_from_proto(ind, buf, len, r);
  free(buf);
  return rc;
}

static void test_intel__proto_round_trip(void **state) {
  (void)state;
  Goldenbell__V1__FraudIndicator pb = GOLDENBELL__V1__FRAUD_INDICATOR__INIT;
  gb_indicator_t ind;
  gb_reject_t r;
  pb.version = 1;
  pb.kind = GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_DOMAIN;
  pb.value = "https://Pay.Example-Fraud.com:8443/login";
  pb.action = GOLDENBELL__V1__INDICATOR_ACTION__INDICATOR_ACTION_CONFIRM;
  pb.source = "bureau-3";
  pb.confidence = 80;
  pb.first_seen_ms = 1795435140000LL;
  pb.expires_ms = 1798761600000LL;
  assert_int_equal(proto_parse(&ind, &pb, &r), 0);
  assert_int_equal(ind.kind, GB_IND_DOMAIN);
  assert_string_equal(ind.value, "example-fraud.com");
  assert_int_equal(ind.action, GB_IND_CONFIRM);
  assert_string_equal(ind.source, "bureau-3");
  assert_int_equal(ind.confidence, 80);
  assert_int_equal(ind.first_seen_ms, 1795435140000LL);
  assert_int_equal(ind.expires_ms, 1798761600000LL);
  /* exact: the host itself, not its registrable domain. */
  pb.exact = 1;
  assert_int_equal(proto_parse(&ind, &pb, &r), 0);
  assert_string_equal(ind.value, "pay.example-fraud.com");
  pb.exact = 0;

  /* proto3 defaults: version 0, action add, confidence 50, no source, no
   * times. */
  Goldenbell__V1__FraudIndicator min = GOLDENBELL__V1__FRAUD_INDICATOR__INIT;
  min.kind = GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_PHONE;
  min.value = "0086 170-0000-0000";
  assert_int_equal(proto_parse(&ind, &min, &r), 0);
  assert_int_equal(ind.kind, GB_IND_PHONE);
  assert_string_equal(ind.value, "+8617000000000");
  assert_int_equal(ind.action, GB_IND_ADD);
  assert_int_equal(ind.confidence, GB_IND_CONFIDENCE_DEFAULT);
  assert_string_equal(ind.source, "");
  assert_int_equal(ind.first_seen_ms, 0);
  assert_int_equal(ind.expires_ms, 0);

  min.kind = GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_APP;
  min.value = " com.example.loan ";
  min.action = GOLDENBELL__V1__INDICATOR_ACTION__INDICATOR_ACTION_WITHDRAW;
  assert_int_equal(proto_parse(&ind, &min, &r), 0);
  assert_string_equal(ind.value, "com.example.loan");
  assert_int_equal(ind.action, GB_IND_WITHDRAW);
}

static void test_intel__proto_invalid(void **state) {
  (void)state;
  gb_indicator_t ind;
  gb_reject_t r;
  struct {
    Goldenbell__V1__FraudIndicator pb;
    const char *reason, *detail;
  } rows[12];
  size_t n = 0;
#define ROW(reason_, detail_)                                                                 \
  rows[n].pb = (Goldenbell__V1__FraudIndicator)GOLDENBELL__V1__FRAUD_INDICATOR__INIT;         \
  rows[n].pb.kind = GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_PHONE;                     \
  rows[n].pb.value = "17000000000";                                                           \
  rows[n].reason = reason_, rows[n].detail = detail_;                                         \
  n++
  ROW("unsupported_version", "version: 2");
  rows[n - 1].pb.version = 2;
  ROW("missing_field", "kind: missing");
  rows[n - 1].pb.kind = GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_UNSPECIFIED;
  ROW("unknown_enum", "kind: 9");
  rows[n - 1].pb.kind = (Goldenbell__V1__IndicatorKind)9;
  ROW("unknown_enum", "action: 7");
  rows[n - 1].pb.action = (Goldenbell__V1__IndicatorAction)7;
  ROW("missing_field", "value: missing");
  rows[n - 1].pb.value = "";
  ROW("invalid_value", "a service number cannot be a fraud indicator");
  rows[n - 1].pb.value = "110";
  ROW("invalid_value", "value: site: ");
  rows[n - 1].pb.kind = GOLDENBELL__V1__INDICATOR_KIND__INDICATOR_KIND_DOMAIN;
  rows[n - 1].pb.value = "com.cn";
  ROW("invalid_value", "confidence: 101");
  rows[n - 1].pb.confidence = 101;
  ROW("invalid_value", "is not after first_seen");
  rows[n - 1].pb.first_seen_ms = 1795435140000LL;
  rows[n - 1].pb.expires_ms = 1795435139999LL;
  ROW("invalid_value", "expires: before 1970");
  rows[n - 1].pb.expires_ms = -5;
  ROW("invalid_utf8", "source: invalid UTF-8 at byte 1");
  rows[n - 1].pb.source = "a\xff";
#undef ROW
  for (size_t i = 0; i < n; i++) {
    memset(&ind, 0x5A, sizeof(ind));
    int rc = proto_parse(&ind, &rows[i].pb, &r);
    if (rc != GB_EINVAL || !r.reason || strcmp(r.reason, rows[i].reason) != 0 ||
        !strstr(r.detail, rows[i].detail))
      fail_msg("row %zu: want %s '%s', got rc=%d %s '%s'", i, rows[i].reason, rows[i].detail,
               rc, r.reason ? r.reason : "-", r.detail);
    assert_int_equal(ind.kind, (gb_indicator_kind_t)0x5A5A5A5A);
  }

  /* Not protobuf at all: a wire type 7 is invalid; so is a truncated
   * length-delimited field. JSON bytes are not a FraudIndicator either. */
  static const uint8_t junk[] = {0x0F, 0x01};
  static const uint8_t truncated[] = {0x1A, 0x10, 'a', 'b'};
  static const char json[] = "{\"kind\":\"phone\",\"value\":\"17000000000\"}";
  assert_int_equal(gb_indicator_from_proto(&ind, junk, sizeof(junk), &r), GB_EINVAL);
  assert_string_equal(r.reason, "bad_protobuf");
  assert_int_equal(gb_indicator_from_proto(&ind, truncated, sizeof(truncated), &r), GB_EINVAL);
  assert_string_equal(r.reason, "bad_protobuf");
  assert_int_equal(gb_indicator_from_proto(&ind, json, sizeof(json) - 1, &r), GB_EINVAL);
  assert_string_equal(r.reason, "bad_protobuf");
  /* Empty: every field at its default, so no kind. */
  assert_int_equal(gb_indicator_from_proto(&ind, NULL, 0, &r), GB_EINVAL);
  assert_string_equal(r.reason, "missing_field");
}

static void test_intel__names(void **state) {
  (void)state;
  assert_string_equal(gb_indicator_kind_name(GB_IND_PHONE), "phone");
  assert_string_equal(gb_indicator_kind_name(GB_IND_DOMAIN), "domain");
  assert_string_equal(gb_indicator_kind_name(GB_IND_APP), "app");
  assert_string_equal(gb_indicator_kind_name((gb_indicator_kind_t)0), "?");
  assert_string_equal(gb_indicator_action_name(GB_IND_ADD), "add");
  assert_string_equal(gb_indicator_action_name(GB_IND_CONFIRM), "confirm");
  assert_string_equal(gb_indicator_action_name(GB_IND_WITHDRAW), "withdraw");
  assert_string_equal(gb_indicator_action_name((gb_indicator_action_t)9), "?");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_intel__json_phone),
      cmocka_unit_test(test_intel__json_domain),
      cmocka_unit_test(test_intel__json_app),
      cmocka_unit_test(test_intel__json_fields),
      cmocka_unit_test(test_intel__json_defaults_and_times),
      cmocka_unit_test(test_intel__proto_round_trip),
      cmocka_unit_test(test_intel__proto_invalid),
      cmocka_unit_test(test_intel__names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
