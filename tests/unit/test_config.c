/* Config parsing: defaults, environment, flags, validation, kafka.* pass-through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gb/config.h"
#include "gb/err.h"

static const gb_opt_t opts[] = {
    {"a.str", GB_OPT_STRING, "dflt", 0, 0, "A string."},
    {"a.num", GB_OPT_INT, "5", 1, 10, "A number."},
    {"a.flag", GB_OPT_BOOL, "false", 0, 0, "A flag."},
    GB_OPT_END,
};
static const gb_opt_t required[] = {
    {"must.have", GB_OPT_STRING, NULL, 0, 0, "Required."},
    GB_OPT_END,
};

static int parse(gb_config_t **cfg, const gb_opt_t *t, int argc, char **argv, char *err) {
  const gb_opt_t *const tables[] = {t, NULL};
  return gb_config_parse(cfg, "t", "test", tables, argc, argv, err, 256);
}

static void test_config__defaults(void **state) {
  (void)state;
  gb_config_t *cfg;
  char err[256];
  char *argv[] = {"t"};
  assert_int_equal(parse(&cfg, opts, 1, argv, err), 0);
  assert_string_equal(gb_config_str(cfg, "a.str"), "dflt");
  assert_int_equal(gb_config_int(cfg, "a.num"), 5);
  assert_false(gb_config_bool(cfg, "a.flag"));
  assert_int_equal(gb_config_kafka_count(cfg), 0);
  gb_config_free(cfg);
}

static void test_config__env_then_flags(void **state) {
  (void)state;
  gb_config_t *cfg;
  char err[256];
  setenv("GB_A_STR", "from-env", 1);
  setenv("GB_A_NUM", "7", 1);
  char *argv[] = {"t", "--a.num=9", "--a.flag", "--a.str", "from-flag"};
  assert_int_equal(parse(&cfg, opts, 5, argv, err), 0);
  assert_string_equal(gb_config_str(cfg, "a.str"), "from-flag");
  assert_int_equal(gb_config_int(cfg, "a.num"), 9);
  assert_true(gb_config_bool(cfg, "a.flag"));
  gb_config_free(cfg);
  char *argv2[] = {"t"};
  assert_int_equal(parse(&cfg, opts, 1, argv2, err), 0);
  assert_string_equal(gb_config_str(cfg, "a.str"), "from-env");
  assert_int_equal(gb_config_int(cfg, "a.num"), 7);
  gb_config_free(cfg);
  unsetenv("GB_A_STR");
  unsetenv("GB_A_NUM");
}

static void test_config__bad_values(void **state) {
  (void)state;
  gb_config_t *cfg;
  char err[256];
  char *a1[] = {"t", "--a.num=abc"};
  assert_int_equal(parse(&cfg, opts, 2, a1, err), GB_EINVAL);
  assert_non_null(strstr(err, "'abc' is not a whole number"));
  char *a2[] = {"t", "--a.num=11"};
  assert_int_equal(parse(&cfg, opts, 2, a2, err), GB_ERANGE);
  assert_non_null(strstr(err, "outside 1..10"));
  char *a3[] = {"t", "--nope=1"};
  assert_int_equal(parse(&cfg, opts, 2, a3, err), GB_EINVAL);
  assert_non_null(strstr(err, "unknown option --nope"));
  char *a4[] = {"t", "--a.flag=maybe"};
  assert_int_equal(parse(&cfg, opts, 2, a4, err), GB_EINVAL);
  char *a5[] = {"t", "--a.str"};
  assert_int_equal(parse(&cfg, opts, 2, a5, err), GB_EINVAL);
  assert_non_null(strstr(err, "needs a value"));
  setenv("GB_A_NUM", "0", 1);
  char *a6[] = {"t"};
  assert_int_equal(parse(&cfg, opts, 1, a6, err), GB_ERANGE);
  assert_non_null(strstr(err, "(from GB_A_NUM)"));
  unsetenv("GB_A_NUM");
}

static void test_config__required(void **state) {
  (void)state;
  gb_config_t *cfg;
  char err[256];
  char *argv[] = {"t"};
  assert_int_equal(parse(&cfg, required, 1, argv, err), GB_EINVAL);
  assert_non_null(strstr(err, "--must.have (or GB_MUST_HAVE) is required"));
}

static void test_config__kafka_passthrough(void **state) {
  (void)state;
  gb_config_t *cfg;
  char err[256];
  setenv("GB_KAFKA_SESSION_TIMEOUT_MS", "6000", 1);
  char *argv[] = {"t", "--kafka.bootstrap.servers=127.0.0.1:9", "--kafka.session.timeout.ms",
                  "7000"};
  assert_int_equal(parse(&cfg, opts, 4, argv, err), 0);
  assert_int_equal(gb_config_kafka_count(cfg), 2);
  const char *k, *v;
  int found = 0;
  for (int i = 0; i < gb_config_kafka_count(cfg); i++) {
    gb_config_kafka_get(cfg, i, &k, &v);
    if (strcmp(k, "session.timeout.ms") == 0) assert_string_equal(v, "7000"), found++;
    if (strcmp(k, "bootstrap.servers") == 0) assert_string_equal(v, "127.0.0.1:9"), found++;
  }
  assert_int_equal(found, 2);
  gb_config_free(cfg);
  unsetenv("GB_KAFKA_SESSION_TIMEOUT_MS");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config__defaults),
      cmocka_unit_test(test_config__env_then_flags),
      cmocka_unit_test(test_config__bad_values),
      cmocka_unit_test(test_config__required),
      cmocka_unit_test(test_config__kafka_passthrough),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
