/* matcher's contact log: number encoding, hunting across chunks, the since
 * filter, expiry by lookback, capacity eviction and the stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "contacts.h"
#include "gb/err.h"

static uint64_t enc(const char *s) { return contacts_num_encode(s, strlen(s)); }

static void roundtrip(const char *s) {
  char out[32];
  uint64_t v = enc(s);
  if (v == 0) fail_msg("'%s' refused", s);
  assert_int_equal(contacts_num_decode(v, out, sizeof(out)), 0);
  assert_string_equal(out, s);
  /* Exactly enough room, and one byte short. */
  assert_int_equal(contacts_num_decode(v, out, strlen(s) + 1), 0);
  assert_string_equal(out, s);
  assert_int_equal(contacts_num_decode(v, out, strlen(s)), GB_EINVAL);
  assert_string_equal(out, "");
}

static void test_contacts__num_encode_decode(void **state) {
  (void)state;
  roundtrip("+8613800000001");
  roundtrip("13800000001");
  roundtrip("10086");
  roundtrip("0110");
  roundtrip("000");
  roundtrip("0");
  roundtrip("+0");
  roundtrip("9");
  roundtrip("123456789012345678");  /* 18 digits */
  roundtrip("+999999999999999999"); /* the largest */
  roundtrip("000000000000000000");
  assert_int_equal(enc("8613800000001"), UINT64_C(18613800000001));
  assert_int_equal(enc("+8613800000001"), UINT64_C(18613800000001) | CONTACTS_NUM_PLUS);
  assert_int_equal(enc("0110"), 10110);
  /* Leading zeros and the plus make different numbers. */
  assert_true(enc("0") != enc("00"));
  assert_true(enc("110") != enc("0110"));
  assert_true(enc("+861") != enc("861"));
  /* Refusals. */
  assert_int_equal(contacts_num_encode("", 0), 0);
  assert_int_equal(contacts_num_encode(NULL, 0), 0);
  assert_int_equal(enc("+"), 0);
  assert_int_equal(enc("1234567890123456789"), 0); /* 19 digits */
  assert_int_equal(enc("+1234567890123456789"), 0);
  assert_int_equal(enc("12a3"), 0);
  assert_int_equal(enc("+86 138"), 0);
  assert_int_equal(enc(" 123"), 0);
  assert_int_equal(enc("-123"), 0);
  assert_int_equal(enc("1+23"), 0);
  assert_int_equal(enc("++123"), 0);
  assert_int_equal(contacts_num_encode("12\0" "3", 4), 0);
  /* len, not the NUL, ends the input. */
  assert_int_equal(contacts_num_encode("12345", 3), enc("123"));
  /* Values no encoding produces. */
  char out[32] = "x";
  assert_int_equal(contacts_num_decode(0, out, sizeof(out)), GB_EINVAL);
  assert_string_equal(out, "");
  assert_int_equal(contacts_num_decode(1, out, sizeof(out)), GB_EINVAL); /* marker, no digits */
  assert_int_equal(contacts_num_decode(CONTACTS_NUM_PLUS, out, sizeof(out)), GB_EINVAL);
  assert_int_equal(contacts_num_decode(CONTACTS_NUM_PLUS | 1, out, sizeof(out)), GB_EINVAL);
  assert_int_equal(contacts_num_decode(25, out, sizeof(out)), GB_EINVAL); /* no marker */
  assert_int_equal(contacts_num_decode(UINT64_C(2000000000000000000), out, sizeof(out)), GB_EINVAL);
  assert_int_equal(contacts_num_decode(UINT64_MAX, out, sizeof(out)), GB_EINVAL);
  assert_int_equal(contacts_num_decode(enc("123"), NULL, 0), GB_EINVAL);
  /* Random numbers of every length, with and without the plus. */
  uint64_t seed = 7;
  for (int i = 0; i < 20000; i++) {
    char s[24];
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    size_t len = (size_t)(seed >> 59) % CONTACTS_NUM_MAX_DIGITS + 1, p = 0;
    if (seed & 1) s[p++] = '+';
    for (size_t d = 0; d < len; d++) {
      seed = seed * 6364136223846793005u + 1442695040888963407u;
      s[p++] = (char)('0' + (seed >> 33) % 10);
    }
    s[p] = '\0';
    roundtrip(s);
  }
}

static void test_contacts__info(void **state) {
  (void)state;
  assert_int_equal(contact_info(75, CONTACT_OUTGOING), 75 | CONTACT_OUTGOING);
  assert_int_equal(contact_info(UINT32_MAX, CONTACT_INTERNATIONAL),
                   CONTACT_DURATION_MASK | CONTACT_INTERNATIONAL);
  assert_int_equal(contact_info(0x1000000, 0), CONTACT_DURATION_MASK);
  assert_int_equal(contact_info(5, 0xFFFFFFFFu) & CONTACT_DURATION_MASK, 5);
  assert_int_equal(sizeof(contact_t), 24);
}

static void test_contacts__new_free(void **state) {
  (void)state;
  contacts_t *c = (contacts_t *)1;
  assert_int_equal(contacts_new(&c, 0, 3600), GB_EINVAL);
  assert_null(c);
  contacts_free(NULL);
  assert_int_equal(contacts_new(&c, 1, 3600), 0);
  assert_non_null(c);
  contacts_stats_t st;
  contacts_stats(c, &st);
  assert_int_equal(st.entries, 0);
  assert_int_equal(st.chunks, 0);
  assert_true(st.bytes > 0);
  /* A log of one keeps the newest contact. */
  for (uint32_t t = 1; t <= 5; t++) {
    contact_t e = {.subject = 100 + t, .counterpart = 7, .ts_s = t};
    assert_int_equal(contacts_add(c, &e), 0);
  }
  contacts_stats(c, &st);
  assert_int_equal(st.entries, 1);
  assert_int_equal(st.evicted_early, 4);
  contacts_free(c);
}

/* The test's own copy of what it added, for brute-force answers. */
typedef struct {
  contact_t *all;
  size_t n;
  const contact_t **hits; /* what fn saw */
  size_t nhits, stop_after;
  int stop_with;
} book_t;

static int record(const contact_t *e, void *ud) {
  book_t *b = ud;
  b->hits[b->nhits++] = e;
  if (b->stop_after && b->nhits == b->stop_after) return b->stop_with;
  return b->nhits % 2 ? 1 : 0; /* positive values go on, like 0 */
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Hunts and checks the hits against a scan of b->all[from..]: the same
 * entries, in arrival order, and nothing else. */
static void hunt_and_check(contacts_t *c, book_t *b, size_t from, const uint64_t *want, size_t nwant,
                           uint32_t since) {
  uint64_t *sorted = malloc((nwant + 1) * sizeof(*sorted));
  assert_non_null(sorted);
  memcpy(sorted, want, nwant * sizeof(*sorted));
  qsort(sorted, nwant, sizeof(*sorted), cmp_u64);
  b->nhits = 0;
  b->stop_after = 0;
  long got = contacts_hunt(c, sorted, nwant, since, record, b);
  assert_int_equal(contacts_hunt(c, sorted, nwant, since, NULL, NULL), got);
  size_t k = 0;
  for (size_t i = from; i < b->n; i++) {
    const contact_t *e = &b->all[i];
    bool match = false;
    for (size_t j = 0; j < nwant; j++) match = match || e->counterpart == want[j];
    if (!match || e->ts_s < since) continue;
    if (k >= b->nhits) fail_msg("entry %zu missing (only %zu hits)", i, b->nhits);
    assert_memory_equal(b->hits[k], e, sizeof(*e));
    k++;
  }
  assert_int_equal(k, b->nhits);
  assert_int_equal(got, (long)k);
  free(sorted);
}

/* Counterparts cycle through ten numbers; subjects are distinct so every
 * entry can be told apart. Times step forward with some entries late. */
static void fill(contacts_t *c, book_t *b, size_t n, uint32_t t0) {
  for (size_t i = 0; i < n; i++) {
    contact_t e = {
        .subject = enc("+8613800000000") + b->n,
        .counterpart = enc("+8613900000000") + (b->n * 7) % 10,
        .ts_s = t0 + (uint32_t)i - (i % 5 == 3 ? 4 : 0), /* every fifth arrives late */
        .info = contact_info((uint32_t)i, i % 2 ? CONTACT_OUTGOING : 0),
    };
    assert_int_equal(contacts_add(c, &e), 0);
    b->all[b->n++] = e;
  }
}

static void test_contacts__hunt_across_chunks(void **state) {
  (void)state;
  enum { N = 1000 };
  contacts_t *c;
  assert_int_equal(contacts_new(&c, 1000, 72 * 3600), 0); /* chunks of 125 */
  book_t b = {.all = calloc(N, sizeof(contact_t)), .hits = calloc(N, sizeof(contact_t *))};
  assert_non_null(b.all);
  assert_non_null(b.hits);
  fill(c, &b, 600, 1700000000);
  contacts_stats_t st;
  contacts_stats(c, &st);
  assert_int_equal(st.entries, 600);
  assert_int_equal(st.chunks, 5);
  assert_int_equal(st.added, 600);
  assert_int_equal(st.expired + st.evicted_early, 0);

  uint64_t base = enc("+8613900000000");
  const uint64_t one[] = {base + 3};
  const uint64_t three[] = {base + 9, base + 0, base + 4};
  const uint64_t all[] = {base + 0, base + 1, base + 2, base + 3, base + 4,
                          base + 5, base + 6, base + 7, base + 8, base + 9};
  const uint64_t none[] = {base + 10, enc("10086"), 1};
  const uint64_t dup[] = {base + 3, base + 3, base + 5};
  hunt_and_check(c, &b, 0, one, 1, 0);
  assert_int_equal(b.nhits, 60);
  hunt_and_check(c, &b, 0, three, 3, 0);
  assert_int_equal(b.nhits, 180);
  hunt_and_check(c, &b, 0, all, 10, 0);
  assert_int_equal(b.nhits, 600);
  hunt_and_check(c, &b, 0, none, 3, 0);
  assert_int_equal(b.nhits, 0);
  hunt_and_check(c, &b, 0, dup, 3, 0);
  assert_int_equal(b.nhits, 120);
  /* The since filter, at chunk edges and between them, on each entry's own
   * time (some entries arrived late). */
  const uint32_t sinces[] = {1700000000, 1700000123, 1700000125, 1700000126, 1700000300,
                             1700000596, 1700000599, 1700000600, 1800000000};
  for (size_t i = 0; i < sizeof(sinces) / sizeof(sinces[0]); i++) {
    hunt_and_check(c, &b, 0, all, 10, sinces[i]);
    hunt_and_check(c, &b, 0, three, 3, sinces[i]);
  }
  hunt_and_check(c, &b, 0, all, 10, 1700000599);
  assert_int_equal(b.nhits, 1);
  hunt_and_check(c, &b, 0, all, 10, 1700000600);
  assert_int_equal(b.nhits, 0);
  contacts_free(c);
  free(b.all);
  free(b.hits);
}

/* Random counterparts from a pool of 20000 and random batches of up to 5000
 * indicators: big batches let many non-members through the hunt's first
 * filter, and the binary search must turn them all away. */
static void test_contacts__hunt_random(void **state) {
  (void)state;
  enum { N = 5000, POOL = 20000 };
  contacts_t *c;
  assert_int_equal(contacts_new(&c, 100000, 72 * 3600), 0);
  book_t b = {.all = calloc(N, sizeof(contact_t)), .hits = calloc(N, sizeof(contact_t *))};
  uint64_t *want = calloc(N, sizeof(uint64_t));
  assert_non_null(b.all);
  assert_non_null(b.hits);
  assert_non_null(want);
  /* Scattered numbers: a run of consecutive ones would spread evenly over
   * the filter and never share a bit. */
  static uint64_t pool[POOL];
  uint64_t seed = 42, base = enc("+8613900000000");
  for (size_t i = 0; i < POOL; i++) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    pool[i] = base + (seed >> 24) % 1000000000;
  }
  for (size_t i = 0; i < N; i++) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    contact_t e = {.subject = i + 1, .counterpart = pool[(seed >> 33) % POOL],
                   .ts_s = 1700000000 + (uint32_t)(seed >> 20) % 1000};
    assert_int_equal(contacts_add(c, &e), 0);
    b.all[b.n++] = e;
  }
  const size_t sizes[] = {1, 2, 10, 100, 1000, 5000};
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    for (size_t i = 0; i < sizes[k]; i++) {
      seed = seed * 6364136223846793005u + 1442695040888963407u;
      want[i] = pool[(seed >> 33) % POOL];
    }
    hunt_and_check(c, &b, 0, want, sizes[k], 0);
    hunt_and_check(c, &b, 0, want, sizes[k], 1700000500);
  }
  contacts_free(c);
  free(want);
  free(b.all);
  free(b.hits);
}

static void test_contacts__hunt_stops(void **state) {
  (void)state;
  contacts_t *c;
  assert_int_equal(contacts_new(&c, 1000, 3600), 0);
  book_t b = {.all = calloc(300, sizeof(contact_t)), .hits = calloc(300, sizeof(contact_t *))};
  assert_non_null(b.all);
  assert_non_null(b.hits);
  fill(c, &b, 300, 1000000);
  const uint64_t want[] = {enc("+8613900000000") + 2};
  b.stop_after = 4;
  b.stop_with = -7;
  assert_int_equal(contacts_hunt(c, want, 1, 0, record, &b), -7);
  assert_int_equal(b.nhits, 4);
  contacts_free(c);
  free(b.all);
  free(b.hits);
}

static void test_contacts__empty_hunt(void **state) {
  (void)state;
  contacts_t *c;
  assert_int_equal(contacts_new(&c, 1000, 3600), 0);
  const uint64_t want[] = {enc("+8613900000000")};
  assert_int_equal(contacts_hunt(c, want, 1, 0, NULL, NULL), 0); /* empty log */
  contact_t e = {.subject = enc("+8613800000001"), .counterpart = want[0], .ts_s = 5000};
  assert_int_equal(contacts_add(c, &e), 0);
  assert_int_equal(contacts_hunt(c, NULL, 0, 0, NULL, NULL), 0); /* no indicators */
  assert_int_equal(contacts_hunt(c, want, 0, 0, NULL, NULL), 0);
  assert_int_equal(contacts_hunt(c, want, 1, 5001, NULL, NULL), 0); /* all too old */
  assert_int_equal(contacts_hunt(c, want, 1, 5000, NULL, NULL), 1);
  contacts_free(c);
}

static void add_at(contacts_t *c, uint32_t ts, size_t n, uint64_t counterpart) {
  for (size_t i = 0; i < n; i++) {
    contact_t e = {.subject = enc("+8613800000001"), .counterpart = counterpart, .ts_s = ts};
    assert_int_equal(contacts_add(c, &e), 0);
  }
}

static void test_contacts__expiry_by_lookback(void **state) {
  (void)state;
  contacts_t *c;
  contacts_stats_t st;
  assert_int_equal(contacts_new(&c, 1000, 100), 0); /* chunks of 125 */
  add_at(c, 1000, 125, 1);                         /* chunk 1, newest at 1000 */
  add_at(c, 1050, 124, 2);                         /* chunk 2 ... */
  add_at(c, 990, 1, 2);                            /* ... one late, newest still 1050 */
  add_at(c, 1100, 1, 3);                           /* cutoff 1000: chunk 1 is not older */
  contacts_stats(c, &st);
  assert_int_equal(st.entries, 251);
  assert_int_equal(st.chunks, 3);
  assert_int_equal(st.expired, 0);
  add_at(c, 1101, 1, 3); /* cutoff 1001: chunk 1 goes */
  contacts_stats(c, &st);
  assert_int_equal(st.entries, 127);
  assert_int_equal(st.chunks, 2);
  assert_int_equal(st.expired, 125);
  assert_int_equal(st.evicted_early, 0);
  const uint64_t one[] = {1}, two[] = {2};
  assert_int_equal(contacts_hunt(c, one, 1, 0, NULL, NULL), 0);
  assert_int_equal(contacts_hunt(c, two, 1, 0, NULL, NULL), 125);
  assert_int_equal(contacts_hunt(c, two, 1, 1001, NULL, NULL), 124); /* the late one is older */
  /* A late event does not move time forward or expire anything. */
  add_at(c, 10, 1, 4);
  contacts_stats(c, &st);
  assert_int_equal(st.entries, 128);
  assert_int_equal(st.expired, 125);
  /* A shorter lookback on rules reload frees at once; a longer one keeps
   * everything. */
  contacts_set_lookback(c, 1000);
  contacts_stats(c, &st);
  assert_int_equal(st.entries, 128);
  contacts_set_lookback(c, 50); /* cutoff 1051: chunk 2 (newest 1050) goes */
  contacts_stats(c, &st);
  assert_int_equal(st.entries, 3);
  assert_int_equal(st.chunks, 1);
  assert_int_equal(st.expired, 250);
  /* Time moving far ahead empties the log, including the newest chunk, and
   * the log carries on. */
  add_at(c, 100000, 1, 5);
  contacts_stats(c, &st);
  assert_int_equal(st.entries, 1);
  assert_int_equal(st.chunks, 1);
  assert_int_equal(st.expired, 253);
  assert_int_equal(st.added, 254);
  const uint64_t five[] = {5};
  assert_int_equal(contacts_hunt(c, five, 1, 0, NULL, NULL), 1);
  contacts_free(c);
}

static void test_contacts__capacity_eviction(void **state) {
  (void)state;
  contacts_t *c;
  contacts_stats_t st;
  assert_int_equal(contacts_new(&c, 100, 72 * 3600), 0); /* chunks of 16 */
  for (uint32_t i = 0; i < 100; i++) add_at(c, 1000000 + i, 1, i);
  contacts_stats(c, &st);
  assert_int_equal(st.entries, 100);
  assert_int_equal(st.chunks, 7);
  assert_int_equal(st.evicted_early, 0);
  add_at(c, 1000100, 1, 100); /* the 101st: the oldest 16 go */
  contacts_stats(c, &st);
  assert_int_equal(st.entries, 85);
  assert_int_equal(st.chunks, 6);
  assert_int_equal(st.evicted_early, 16);
  assert_int_equal(st.expired, 0);
  for (uint32_t i = 101; i < 2000; i++) {
    add_at(c, 1000000 + i, 1, i);
    contacts_stats(c, &st);
    assert_true(st.entries <= 100);
    assert_true(st.chunks <= 7);
    assert_int_equal(st.evicted_early + st.entries, i + 1);
  }
  assert_int_equal(st.added, 2000);
  assert_int_equal(st.expired, 0);
  /* What is left is the newest contacts. */
  uint64_t cps[2000];
  for (uint64_t i = 0; i < 2000; i++) cps[i] = i;
  long left = contacts_hunt(c, cps, 2000, 0, NULL, NULL);
  assert_int_equal(left, (long)st.entries);
  assert_int_equal(contacts_hunt(c, cps + 2000 - st.entries, st.entries, 0, NULL, NULL), left);
  assert_int_equal(contacts_hunt(c, cps, 2000 - st.entries, 0, NULL, NULL), 0);
  contacts_free(c);
}

static void test_contacts__stats_bytes(void **state) {
  (void)state;
  contacts_t *c;
  contacts_stats_t st;
  assert_int_equal(contacts_new(&c, 50000000, 72 * 3600), 0); /* full-size chunks */
  contacts_stats(c, &st);
  size_t empty = st.bytes;
  assert_true(empty < 1024);
  add_at(c, 1000, 1, 1);
  contacts_stats(c, &st);
  size_t one = st.bytes;
  assert_int_equal(st.chunks, 1);
  assert_true(one - empty >= CONTACTS_CHUNK_MAX * sizeof(contact_t));
  add_at(c, 1000, CONTACTS_CHUNK_MAX - 1, 1);
  contacts_stats(c, &st);
  assert_int_equal(st.chunks, 1);
  assert_int_equal(st.bytes, one);
  add_at(c, 1000, 1, 1);
  contacts_stats(c, &st);
  assert_int_equal(st.chunks, 2);
  assert_int_equal(st.entries, CONTACTS_CHUNK_MAX + 1);
  assert_int_equal(st.bytes - one, one - empty);
  add_at(c, 1000, 2 * CONTACTS_CHUNK_MAX, 1);
  contacts_stats(c, &st);
  assert_int_equal(st.chunks, 4);
  assert_int_equal(st.bytes, empty + 4 * (one - empty));
  /* About 24 bytes an entry once chunks are full. */
  assert_true(st.bytes < st.entries * 25 + (one - empty));
  contacts_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_contacts__num_encode_decode),
      cmocka_unit_test(test_contacts__info),
      cmocka_unit_test(test_contacts__new_free),
      cmocka_unit_test(test_contacts__hunt_across_chunks),
      cmocka_unit_test(test_contacts__hunt_random),
      cmocka_unit_test(test_contacts__hunt_stops),
      cmocka_unit_test(test_contacts__empty_hunt),
      cmocka_unit_test(test_contacts__expiry_by_lookback),
      cmocka_unit_test(test_contacts__capacity_eviction),
      cmocka_unit_test(test_contacts__stats_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
