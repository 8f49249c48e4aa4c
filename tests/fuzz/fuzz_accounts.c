/* The parsing in common/src/accounts.c that takes what a device sends:
 * binding codes (POST /v1/devices/bind; case, spaces, dashes and
 * look-alikes folded as Crockford's base32 reads), device tokens
 * (Authorization: Bearer gbt_<account>~<random>, whose account is read out
 * of the token before Redis is asked), account ids and role names. Those
 * readers are static, so the file is included here; the Redis calls around
 * them are not run.
 *
 * Input: one selector byte, then the text (up to its first NUL, as a
 * header or JSON string reaches them). Checks: a code that reads is 10
 * characters of the alphabet and reads again as itself; a token names
 * either no account or a valid id that is exactly what stands between
 * "gbt_" and the last '~'; an account id is valid exactly when it matches
 * [a-z0-9][a-z0-9._-]{0,63}; a role parses only from its own name. */
#include "../../common/src/accounts.c"

#include "fuzz.h"

static int id_reference(const char *s) {
  size_t n = strlen(s);
  if (n < 1 || n > 64) return 0;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
          s[i] == '_' || s[i] == '-'))
      return 0;
  return 1;
}

static void code(const char *s) {
  char out[GB_BIND_CODE_LEN + 1], again[GB_BIND_CODE_LEN + 1];
  memset(out, 'Z', sizeof(out));
  if (normalize_code(s, out) != 0) return;
  FUZZ_CHECK(strlen(out) == GB_BIND_CODE_LEN && strspn(out, CROCKFORD) == GB_BIND_CODE_LEN,
             "code '%s' read as '%s'", s, out);
  FUZZ_CHECK(normalize_code(out, again) == 0 && strcmp(again, out) == 0, "'%s' reads as '%s'",
             out, again);
}

static void token(const char *s) {
  /* gb_token_check's own precondition, as it calls token_account. */
  if (strncmp(s, "gbt_", 4) != 0 || strlen(s) >= GB_TOKEN_MAX) return;
  char out[GB_ACCOUNT_ID_MAX];
  memset(out, 'Z', sizeof(out));
  token_account(s, out);
  FUZZ_CHECK(fuzz_terminated(out, sizeof(out)), "account not terminated");
  if (!out[0]) return;
  const char *tilde = strrchr(s, '~');
  FUZZ_CHECK(gb_account_id_valid(out) && tilde && (size_t)(tilde - s - 4) == strlen(out) &&
                 memcmp(s + 4, out, strlen(out)) == 0,
             "token '%s' names account '%s'", s, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t sel = fuzz_take_byte(&data, &size);
  char *s = fuzz_strndup(data, size);
  gb_role_t role = 0;
  switch (sel % 4) {
  case 0: code(s); break;
  case 1: token(s); break;
  case 2:
    FUZZ_CHECK(gb_account_id_valid(s) == (bool)id_reference(s), "account id '%s'", s);
    break;
  default:
    if (gb_role_parse(s, &role) == 0)
      FUZZ_CHECK(strcmp(gb_role_name(role), s) == 0, "role '%s' read as %d", s, (int)role);
    break;
  }
  free(s);
  return 0;
}
