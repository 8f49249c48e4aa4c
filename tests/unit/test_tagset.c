/* matcher's tag set: membership, tag 0, growth, backward-shift deletion in
 * clusters, and a long random run against a naive reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gb/err.h"
#include "tagset.h"

/* splitmix64: a fixed seed makes every run the same. */
static uint64_t rnd(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* The invariants every operation must keep: n counts the occupied slots, the
 * load is within 0.75, and every stored tag is found from its home slot
 * without crossing an empty slot. */
static void check_table(const tagset_t *s) {
  if (!s->slots) {
    assert_int_equal(s->cap, 0);
    assert_int_equal(s->n, 0);
    return;
  }
  assert_true(s->cap >= 16 && (s->cap & (s->cap - 1)) == 0);
  assert_true(s->n * 4 <= s->cap * 3);
  size_t used = 0, mask = s->cap - 1;
  for (size_t i = 0; i < s->cap; i++) {
    uint64_t v = s->slots[i];
    if (!v) continue;
    used++;
    for (size_t j = (size_t)v & mask; j != i; j = (j + 1) & mask)
      if (!s->slots[j]) fail_msg("slot %zu: tag %#llx cut off from its home", i, (unsigned long long)v);
  }
  assert_int_equal(used, s->n);
  assert_int_equal(tagset_bytes(s), s->cap * sizeof(uint64_t));
}

static void test_tagset__add_has_del(void **state) {
  (void)state;
  tagset_t s;
  assert_int_equal(tagset_init(&s, 0), 0);
  assert_int_equal(s.cap, 16);
  assert_false(tagset_has(&s, 42));
  assert_int_equal(tagset_add(&s, 42), 1);
  assert_int_equal(tagset_add(&s, 43), 1);
  assert_int_equal(tagset_add(&s, 42), 0); /* duplicate */
  assert_int_equal(tagset_count(&s), 2);
  assert_true(tagset_has(&s, 42));
  assert_true(tagset_has(&s, 43));
  assert_false(tagset_has(&s, 44));
  assert_int_equal(tagset_del(&s, 44), 0);
  assert_int_equal(tagset_del(&s, 42), 1);
  assert_int_equal(tagset_del(&s, 42), 0);
  assert_false(tagset_has(&s, 42));
  assert_true(tagset_has(&s, 43));
  assert_int_equal(tagset_count(&s), 1);
  assert_int_equal(tagset_add(&s, 42), 1); /* back again after deletion */
  assert_int_equal(tagset_count(&s), 2);
  assert_int_equal(tagset_add(&s, UINT64_MAX), 1);
  assert_true(tagset_has(&s, UINT64_MAX));
  check_table(&s);
  tagset_free(&s);
}

static void test_tagset__tag_zero(void **state) {
  (void)state;
  tagset_t s;
  assert_int_equal(tagset_init(&s, 4), 0);
  assert_false(tagset_has(&s, 0));
  assert_int_equal(tagset_del(&s, 0), 0);
  assert_int_equal(tagset_add(&s, 0), 1);
  assert_int_equal(tagset_add(&s, 0), 0);
  assert_true(tagset_has(&s, 0));
  assert_int_equal(tagset_count(&s), 1);
  /* The documented alias: the same member. */
  assert_true(tagset_has(&s, TAGSET_ZERO_TAG));
  assert_int_equal(tagset_add(&s, TAGSET_ZERO_TAG), 0);
  check_table(&s);
  assert_int_equal(tagset_del(&s, 0), 1);
  assert_false(tagset_has(&s, 0));
  assert_int_equal(tagset_count(&s), 0);
  tagset_free(&s);
}

static void test_tagset__free_and_reuse(void **state) {
  (void)state;
  tagset_t s = {0};
  /* A zeroed set is empty and usable; so is a freed one. */
  assert_false(tagset_has(&s, 1));
  assert_int_equal(tagset_del(&s, 1), 0);
  assert_int_equal(tagset_bytes(&s), 0);
  assert_int_equal(tagset_add(&s, 1), 1);
  assert_true(tagset_has(&s, 1));
  check_table(&s);
  tagset_free(&s);
  tagset_free(&s);
  tagset_free(NULL);
  assert_int_equal(tagset_count(&s), 0);
  assert_int_equal(tagset_bytes(&s), 0);
  assert_false(tagset_has(&s, 1));
  assert_int_equal(tagset_init(&s, 100), 0);
  assert_int_equal(tagset_add(&s, 1), 1);
  assert_int_equal(tagset_count(&s), 1);
  tagset_free(&s);
  assert_int_equal(tagset_add(&s, 2), 1);
  assert_false(tagset_has(&s, 1));
  tagset_free(&s);
}

static void test_tagset__init_sizes(void **state) {
  (void)state;
  const struct {
    size_t expected, cap;
  } cases[] = {{0, 16}, {1, 16}, {12, 16}, {13, 32}, {24, 32}, {25, 64},
               {768, 1024}, {769, 2048}, {10000000, 1u << 24}};
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    tagset_t s;
    assert_int_equal(tagset_init(&s, cases[c].expected), 0);
    assert_int_equal(s.cap, cases[c].cap);
    assert_int_equal(tagset_bytes(&s), cases[c].cap * 8);
    tagset_free(&s);
  }
  /* Absurd sizes are refused, not wrapped around. */
  tagset_t s;
  assert_int_equal(tagset_init(&s, SIZE_MAX), GB_ENOMEM);
  assert_null(s.slots);
  assert_int_equal(tagset_count(&s), 0);
  tagset_free(&s);
}

/* For many sizes: a set sized for n never grows while taking n members, one
 * started empty grows to hold them, and both find exactly them. */
static void test_tagset__growth(void **state) {
  (void)state;
  static const size_t sizes[] = {1, 2, 3, 7, 11, 12, 13, 17, 24, 25, 48, 49, 100,
                                 767, 768, 769, 1000, 4097, 12345, 100000, 300000};
  uint64_t seed = 1;
  for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
    size_t n = sizes[z];
    uint64_t *tags = malloc(n * sizeof(*tags));
    assert_non_null(tags);
    for (size_t i = 0; i < n; i++) tags[i] = rnd(&seed);
    for (int presized = 0; presized < 2; presized++) {
      tagset_t s;
      assert_int_equal(tagset_init(&s, presized ? n : 0), 0);
      size_t cap0 = s.cap;
      for (size_t i = 0; i < n; i++) {
        assert_int_equal(tagset_add(&s, tags[i]), 1);
        if (!presized && (i & (i + 1)) == 0) check_table(&s); /* now and then */
      }
      if (presized) assert_int_equal(s.cap, cap0);
      assert_int_equal(tagset_count(&s), n);
      check_table(&s);
      /* Smallest power of two that holds n at 0.75. */
      assert_true(s.cap == 16 || (s.cap / 2) * 3 < n * 4);
      for (size_t i = 0; i < n; i++) {
        assert_true(tagset_has(&s, tags[i]));
        assert_int_equal(tagset_add(&s, tags[i]), 0);
      }
      uint64_t other = UINT64_C(0xDEADBEEF) + z;
      for (size_t i = 0; i < n; i++) assert_false(tagset_has(&s, rnd(&other)));
      tagset_free(&s);
    }
    free(tags);
  }
}

/* Tags sharing their low bits all have the same home slot; high bits tell
 * them apart. */
static uint64_t at_home(size_t home, uint64_t k) { return (k << 32) | home; }

/* A cluster that wraps from the end of the table to its start, with members
 * of three homes interleaved. Each member in turn is deleted from a fresh
 * copy; all the others must still be found and the table stay consistent. */
static void test_tagset__delete_in_cluster(void **state) {
  (void)state;
  enum { N = 12 };
  uint64_t tags[N];
  /* cap 16: homes 13, 14 and 0; inserted in an order that puts home-0 tags
   * after the home-13 and home-14 ones that spill over the end. */
  const size_t homes[N] = {13, 13, 14, 13, 14, 0, 13, 0, 14, 0, 13, 1};
  for (size_t i = 0; i < N; i++) tags[i] = at_home(homes[i], i + 1);
  for (size_t victim = 0; victim < N; victim++) {
    tagset_t s;
    assert_int_equal(tagset_init(&s, N), 0);
    assert_int_equal(s.cap, 16);
    for (size_t i = 0; i < N; i++) assert_int_equal(tagset_add(&s, tags[i]), 1);
    assert_int_equal(s.cap, 16);
    check_table(&s);
    assert_int_equal(tagset_del(&s, tags[victim]), 1);
    check_table(&s);
    for (size_t i = 0; i < N; i++) assert_int_equal(tagset_has(&s, tags[i]), i != victim);
    /* Then empty it in a scrambled order, checking as we go. */
    for (size_t k = 0; k < N; k++) {
      size_t i = (k * 5 + victim) % N;
      assert_int_equal(tagset_del(&s, tags[i]), i != victim);
      check_table(&s);
      for (size_t m = 0; m < N; m++) {
        bool gone = m == victim;
        for (size_t q = 0; q <= k; q++) gone = gone || m == (q * 5 + victim) % N;
        assert_int_equal(tagset_has(&s, tags[m]), !gone);
      }
    }
    assert_int_equal(tagset_count(&s), 0);
    for (size_t i = 0; i < 16; i++) assert_int_equal(s.slots[i], 0);
    tagset_free(&s);
  }
}

/* Many tags with a handful of low-bit patterns in a large table: long
 * clusters, repeatedly cut from the middle. */
static void test_tagset__delete_heavy_collisions(void **state) {
  (void)state;
  enum { N = 3000 };
  tagset_t s;
  assert_int_equal(tagset_init(&s, 4 * N), 0);
  uint64_t tags[N];
  for (size_t i = 0; i < N; i++) tags[i] = at_home((i % 7) * 3, i + 1);
  for (size_t i = 0; i < N; i++) assert_int_equal(tagset_add(&s, tags[i]), 1);
  check_table(&s);
  for (size_t i = N / 2; i < N; i += 2) assert_int_equal(tagset_del(&s, tags[i]), 1);
  for (size_t i = 1; i < N / 2; i += 3) assert_int_equal(tagset_del(&s, tags[i]), 1);
  check_table(&s);
  for (size_t i = 0; i < N; i++) {
    bool gone = i >= N / 2 ? (i - N / 2) % 2 == 0 : i % 3 == 1;
    assert_int_equal(tagset_has(&s, tags[i]), !gone);
  }
  tagset_free(&s);
}

/* 200000 random adds, deletes and lookups over a pool of 5000 tags (with
 * clustered low bits for half of them, plus 0), checked against a plain
 * array of flags. */
static void test_tagset__random_against_reference(void **state) {
  (void)state;
  enum { POOL = 5000, OPS = 200000 };
  static uint64_t pool[POOL];
  static bool in[POOL];
  uint64_t seed = 20240601;
  memset(in, 0, sizeof(in));
  for (size_t i = 0; i < POOL; i++) {
    uint64_t r = rnd(&seed);
    pool[i] = i % 2 ? r : (r & ~UINT64_C(0xFFFF)) | (r % 5); /* five low-bit patterns */
  }
  pool[0] = 0;
  for (size_t i = 0; i < POOL; i++)
    for (size_t j = 0; j < i; j++) assert_true(pool[j] != pool[i]);
  tagset_t s;
  assert_int_equal(tagset_init(&s, 0), 0);
  size_t n = 0;
  for (size_t op = 0; op < OPS; op++) {
    uint64_t r = rnd(&seed);
    size_t i = (size_t)(r >> 8) % POOL;
    int kind = (int)(r % 4);
    if (kind == 1 && n > POOL / 2) kind = 2; /* adds outnumber deletes until half the pool is in */
    switch (kind) {
    case 0:
    case 1:
      assert_int_equal(tagset_add(&s, pool[i]), !in[i]);
      n += !in[i];
      in[i] = true;
      break;
    case 2:
      assert_int_equal(tagset_del(&s, pool[i]), in[i]);
      n -= in[i];
      in[i] = false;
      break;
    default:
      assert_int_equal(tagset_has(&s, pool[i]), in[i]);
    }
    assert_int_equal(tagset_count(&s), n);
    if (op % 20000 == 0) {
      check_table(&s);
      for (size_t k = 0; k < POOL; k++) assert_int_equal(tagset_has(&s, pool[k]), in[k]);
    }
  }
  check_table(&s);
  for (size_t k = 0; k < POOL; k++) assert_int_equal(tagset_has(&s, pool[k]), in[k]);
  tagset_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tagset__add_has_del),
      cmocka_unit_test(test_tagset__tag_zero),
      cmocka_unit_test(test_tagset__free_and_reuse),
      cmocka_unit_test(test_tagset__init_sizes),
      cmocka_unit_test(test_tagset__growth),
      cmocka_unit_test(test_tagset__delete_in_cluster),
      cmocka_unit_test(test_tagset__delete_heavy_collisions),
      cmocka_unit_test(test_tagset__random_against_reference),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
