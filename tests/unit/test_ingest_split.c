/* ingest's message splitter: every JSON and protobuf batch shape, with the
 * exact bytes of each record and the reason for each bad one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gb/err.h"
#include "goldenbell/v1/input.pb-c.h"
#include "split.h"

#define MAXR 16
typedef struct {
  int n;
  char rec[MAXR][256];
  int ok[MAXR];
  char reason[MAXR][32];
  int index[MAXR];
} seen_t;

static flat_rec_t scratch;

static int on_json(void *ud, const char *rec, size_t len, int index, const flat_rec_t *v,
                   const gb_reject_t *r) {
  seen_t *s = ud;
  assert_true(s->n < MAXR);
  snprintf(s->rec[s->n], sizeof(s->rec[0]), "%.*s", (int)len, rec);
  s->ok[s->n] = v != NULL;
  assert_true((v == NULL) == (r != NULL));
  snprintf(s->reason[s->n], sizeof(s->reason[0]), "%s", r ? r->reason : "");
  s->index[s->n] = index;
  s->n++;
  return 0;
}

static seen_t split(const char *text) {
  seen_t s;
  memset(&s, 0, sizeof(s));
  /* An exact-size copy without a NUL, so that ASan sees any over-read. */
  size_t len = strlen(text);
  char *buf = malloc(len ? len : 1);
  memcpy(buf, text, len);
  int n = -1;
  assert_int_equal(split_json(buf, len, &scratch, on_json, &s, &n), 0);
  assert_int_equal(n, s.n);
  free(buf);
  return s;
}

static void test_ingest_split__single_and_pretty(void **state) {
  (void)state;
  seen_t s = split("{\"a\": 1}");
  assert_int_equal(s.n, 1);
  assert_string_equal(s.rec[0], "{\"a\": 1}");
  s = split("  {\n  \"a\": [1, 2],\n  \"b\": \"x\"\n}\n");
  assert_int_equal(s.n, 1);
  assert_true(s.ok[0]);
  assert_string_equal(s.rec[0], "{\n  \"a\": [1, 2],\n  \"b\": \"x\"\n}");
}

static void test_ingest_split__array(void **state) {
  (void)state;
  seen_t s = split("[{\"a\":\"],[\"}, {\"b\":{\"c\":[1,{}]}} ,{\"d\":\"\\\"\"}]");
  assert_int_equal(s.n, 3);
  assert_string_equal(s.rec[0], "{\"a\":\"],[\"}");
  assert_string_equal(s.rec[1], "{\"b\":{\"c\":[1,{}]}}");
  assert_string_equal(s.rec[2], "{\"d\":\"\\\"\"}");
  for (int i = 0; i < 3; i++) assert_true(s.ok[i]), assert_int_equal(s.index[i], i);
}

static void test_ingest_split__array_keeps_good_records(void **state) {
  (void)state;
  seen_t s = split("[{\"a\":1}, {\"a\":2,}, {\"a\":3}]");
  assert_int_equal(s.n, 3);
  assert_true(s.ok[0]);
  assert_false(s.ok[1]);
  assert_string_equal(s.reason[1], "bad_json");
  assert_string_equal(s.rec[1], "{\"a\":2,}");
  assert_true(s.ok[2]);
}

static void test_ingest_split__array_broken(void **state) {
  (void)state;
  seen_t s = split("[{\"a\":1}, {\"a\":2");
  assert_int_equal(s.n, 2);
  assert_true(s.ok[0]);
  assert_false(s.ok[1]);
  s = split("[{\"a\":1}] trailing");
  assert_int_equal(s.n, 2);
  assert_false(s.ok[1]);
  assert_string_equal(s.rec[1], "trailing");
  s = split("[]");
  assert_int_equal(s.n, 0);
  s = split("   ");
  assert_int_equal(s.n, 1);
  assert_false(s.ok[0]);
}

static void test_ingest_split__ndjson(void **state) {
  (void)state;
  seen_t s = split("{\"a\":1}\n\n{\"a\":2\n{\"a\":3}\r\n{\"a\":4}{\"a\":5}\n");
  assert_int_equal(s.n, 5);
  assert_true(s.ok[0]);
  assert_false(s.ok[1]);
  assert_string_equal(s.rec[1], "{\"a\":2");
  assert_true(s.ok[2]);
  assert_string_equal(s.rec[2], "{\"a\":3}");
  assert_true(s.ok[3]);
  assert_true(s.ok[4]);
  assert_string_equal(s.rec[4], "{\"a\":5}");
}

static void test_ingest_split__invalid_utf8(void **state) {
  (void)state;
  seen_t s = split("{\"a\":\"\xff\xfe\"}\n{\"a\":1}");
  assert_int_equal(s.n, 2);
  assert_false(s.ok[0]);
  assert_string_equal(s.reason[0], "invalid_utf8");
  assert_true(s.ok[1]);
}

/* ---- protobuf ---- */

static int on_proto(void *ud, const char *rec, size_t len, int index, const gb_reject_t *r) {
  seen_t *s = ud;
  assert_true(s->n < MAXR);
  s->ok[s->n] = r == NULL;
  snprintf(s->reason[s->n], sizeof(s->reason[0]), "%s", r ? r->reason : "");
  s->index[s->n] = index;
  if (!r) {
    Goldenbell__V1__CallRecord *c =
        goldenbell__v1__call_record__unpack(NULL, len, (const uint8_t *)rec);
    assert_non_null(c);
    snprintf(s->rec[s->n], sizeof(s->rec[0]), "%s", c->call_id);
    goldenbell__v1__call_record__free_unpacked(c, NULL);
  }
  s->n++;
  return 0;
}

static uint8_t *batch_of(int n, size_t *len) {
  Goldenbell__V1__CallRecord recs[4], *ptrs[4];
  char ids[4][16];
  for (int i = 0; i < n; i++) {
    goldenbell__v1__call_record__init(&recs[i]);
    snprintf(ids[i], sizeof(ids[i]), "c%d", i);
    recs[i].version = 1;
    recs[i].call_id = ids[i];
    recs[i].caller = "13800138000";
    recs[i].duration_s = (uint32_t)i * 10;
    ptrs[i] = &recs[i];
  }
  Goldenbell__V1__CallRecordBatch b = GOLDENBELL__V1__CALL_RECORD_BATCH__INIT;
  b.n_records = (size_t)n;
  b.records = ptrs;
  *len = goldenbell__v1__call_record_batch__get_packed_size(&b);
  uint8_t *buf = malloc(*len);
  goldenbell__v1__call_record_batch__pack(&b, buf);
  return buf;
}

static void test_ingest_split__proto_batch(void **state) {
  (void)state;
  size_t len;
  uint8_t *buf = batch_of(3, &len);
  seen_t s;
  memset(&s, 0, sizeof(s));
  int n;
  assert_int_equal(split_proto_batch((char *)buf, len, on_proto, &s, &n), 0);
  assert_int_equal(n, 3);
  for (int i = 0; i < 3; i++) {
    char want[16];
    snprintf(want, sizeof(want), "c%d", i);
    assert_true(s.ok[i]);
    assert_string_equal(s.rec[i], want);
  }
  /* Truncated: the good records before the cut are kept. */
  memset(&s, 0, sizeof(s));
  assert_int_equal(split_proto_batch((char *)buf, len - 3, on_proto, &s, &n), 0);
  assert_int_equal(n, 3);
  assert_true(s.ok[0]);
  assert_true(s.ok[1]);
  assert_false(s.ok[2]);
  assert_string_equal(s.reason[2], "bad_protobuf");
  free(buf);
}

static void test_ingest_split__proto_garbage_and_unknown_fields(void **state) {
  (void)state;
  /* field 2 (varint 5) is skipped; then a record (field 1, 0 bytes); then wire type 7. */
  const char msg[] = {0x10, 0x05, 0x0a, 0x00, 0x0f};
  seen_t s;
  memset(&s, 0, sizeof(s));
  int n;
  assert_int_equal(split_proto_batch(msg, sizeof(msg), on_proto, &s, &n), 0);
  assert_int_equal(n, 2);
  assert_true(s.ok[0]);
  assert_false(s.ok[1]);
  assert_string_equal(s.reason[1], "bad_protobuf");
  memset(&s, 0, sizeof(s));
  assert_int_equal(split_proto_batch("", 0, on_proto, &s, &n), 0);
  assert_int_equal(n, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ingest_split__single_and_pretty),
      cmocka_unit_test(test_ingest_split__array),
      cmocka_unit_test(test_ingest_split__array_keeps_good_records),
      cmocka_unit_test(test_ingest_split__array_broken),
      cmocka_unit_test(test_ingest_split__ndjson),
      cmocka_unit_test(test_ingest_split__invalid_utf8),
      cmocka_unit_test(test_ingest_split__proto_batch),
      cmocka_unit_test(test_ingest_split__proto_garbage_and_unknown_fields),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
