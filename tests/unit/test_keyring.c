/* The data-encryption keyring: sealing, opening, key ids, tampering,
 * contexts and rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "gb/config.h"
#include "gb/err.h"
#include "gb/keyring.h"

#define K1 "k1=1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "k2=2222222222222222222222222222222222222222222222222222222222222222"

static int load(gb_keyring_t *kr, const char *env, const char *current, char *err) {
  const gb_opt_t *const tables[] = {gb_keyring_opts, NULL};
  char arg[64];
  char *argv[] = {"t", arg};
  snprintf(arg, sizeof(arg), "--index.key-id=%s", current ? current : "");
  gb_config_t *cfg = NULL;
  setenv("GB_INDEX_KEYS", env, 1);
  assert_int_equal(gb_config_parse(&cfg, "t", "t", tables, 2, argv, err, 256), 0);
  int rc = gb_keyring_load(kr, cfg, err, 256);
  gb_config_free(cfg);
  unsetenv("GB_INDEX_KEYS");
  return rc;
}

static void test_keyring__seal_open(void **state) {
  (void)state;
  gb_keyring_t kr;
  char err[256], sealed[512], out[128];
  size_t len;
  assert_int_equal(load(&kr, K1 "," K2, NULL, err), 0);
  assert_int_equal(gb_seal(&kr, "rg.phone", "+8613900139000", 14, sealed, sizeof(sealed)), 0);
  assert_int_equal(strncmp(sealed, "k2$", 3), 0); /* the last key seals */
  assert_null(strstr(sealed, "13900139000"));
  assert_int_equal(gb_open(&kr, "rg.phone", sealed, out, sizeof(out), &len), 0);
  assert_string_equal(out, "+8613900139000");
  assert_int_equal(len, 14);
  /* Two seals of one value differ (random nonce). */
  char again[512];
  gb_seal(&kr, "rg.phone", "+8613900139000", 14, again, sizeof(again));
  assert_string_not_equal(sealed, again);
}

static void test_keyring__wrong_context_or_tampered(void **state) {
  (void)state;
  gb_keyring_t kr;
  char err[256], sealed[512], out[128];
  assert_int_equal(load(&kr, K1, NULL, err), 0);
  gb_seal(&kr, "rg.phone", "secret", 6, sealed, sizeof(sealed));
  assert_int_equal(gb_open(&kr, "rg.profile", sealed, out, sizeof(out), NULL), GB_EINVAL);
  char bad[512];
  strcpy(bad, sealed);
  size_t n = strlen(bad);
  bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
  assert_int_equal(gb_open(&kr, "rg.phone", bad, out, sizeof(out), NULL), GB_EINVAL);
  assert_int_equal(gb_open(&kr, "rg.phone", "no-dollar", out, sizeof(out), NULL), GB_EINVAL);
  assert_int_equal(gb_open(&kr, "rg.phone", "k1$", out, sizeof(out), NULL), GB_EINVAL);
  /* Too small an output buffer is refused, not overrun. */
  assert_int_equal(gb_open(&kr, "rg.phone", sealed, out, 3, NULL), GB_EINVAL);
}

static void test_keyring__rotation(void **state) {
  (void)state;
  gb_keyring_t old, both, next;
  char err[256], sealed[512], out[128], id[GB_KEY_ID_MAX + 1];
  assert_int_equal(load(&old, K1, NULL, err), 0);
  gb_seal(&old, "pn.owner", "{\"relation\":\"母亲\"}", strlen("{\"relation\":\"母亲\"}"), sealed,
          sizeof(sealed));
  assert_int_equal(gb_sealed_key_id(sealed, id), 0);
  assert_string_equal(id, "k1");
  /* Step 1-2: both keys, k2 current: old values still open. */
  assert_int_equal(load(&both, K1 "," K2, "k2", err), 0);
  assert_int_equal(gb_open(&both, "pn.owner", sealed, out, sizeof(out), NULL), 0);
  assert_string_equal(out, "{\"relation\":\"母亲\"}");
  /* Step 4: k1 removed: a value it sealed is reported as a missing key. */
  assert_int_equal(load(&next, K2, NULL, err), 0);
  assert_int_equal(gb_open(&next, "pn.owner", sealed, out, sizeof(out), NULL), GB_ENOTFOUND);
  /* The current key can be chosen. */
  assert_int_equal(load(&both, K1 "," K2, "k1", err), 0);
  gb_seal(&both, "x", "y", 1, sealed, sizeof(sealed));
  assert_int_equal(strncmp(sealed, "k1$", 3), 0);
}

static void test_keyring__bad_keys(void **state) {
  (void)state;
  gb_keyring_t kr;
  char err[256];
  assert_int_equal(load(&kr, "", NULL, err), GB_EINVAL);
  assert_non_null(strstr(err, "no data-encryption key"));
  assert_int_equal(load(&kr, "k1=abcd", NULL, err), GB_EINVAL);
  assert_non_null(strstr(err, "not 64 hex digits"));
  assert_int_equal(load(&kr, K1 "," K1, NULL, err), GB_EINVAL);
  assert_non_null(strstr(err, "listed twice"));
  assert_int_equal(load(&kr, "k$1=" "1111111111111111111111111111111111111111111111111111111111111111",
                        NULL, err), GB_EINVAL);
  assert_int_equal(load(&kr, K1, "k9", err), GB_EINVAL);
  assert_non_null(strstr(err, "not in the keyring"));
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_keyring__seal_open),
      cmocka_unit_test(test_keyring__wrong_context_or_tampered),
      cmocka_unit_test(test_keyring__rotation),
      cmocka_unit_test(test_keyring__bad_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
