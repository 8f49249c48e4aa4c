/* matcher's rules file (matcher/rules.c, docs/RULES.md), read at start and
 * on every SIGHUP: a bad file must be refused with a reason and leave the
 * rules in force alone.
 *
 * Input: the file's bytes. Checks: on success every setting is within its
 * documented range; on failure the rules passed in are unchanged and errstr
 * says why; errstr is always NUL-terminated. */
#include <string.h>

#include "fuzz.h"
#include "gb/err.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  matcher_rules_t r, before;
  memset(&r, 0x5A, sizeof(r));
  r.fraud_contact = false; /* a bool holds 0 or 1 */
  before = r;
  char err[256];
  err[0] = '\0';
  int rc = matcher_rules_parse(&r, (const char *)data, size, err, sizeof(err));
  FUZZ_CHECK(fuzz_terminated(err, sizeof(err)), "errstr not terminated");
  if (rc != 0) {
    FUZZ_CHECK(rc == GB_EINVAL && err[0], "rc %d without a reason", rc);
    FUZZ_CHECK(memcmp(&r, &before, sizeof(r)) == 0, "rules changed by a refused file");
    return 0;
  }
  FUZZ_CHECK(r.long_call_s >= 1 && r.long_call_s <= 86400, "long_call %u", r.long_call_s);
  FUZZ_CHECK(r.intl_min_calls >= 1 && r.intl_min_calls <= 10000, "min_calls %u", r.intl_min_calls);
  FUZZ_CHECK(r.intl_window_s >= 60 && r.intl_window_s <= 30 * 86400, "intl window %u",
             r.intl_window_s);
  FUZZ_CHECK(r.combo_window_s >= 60 && r.combo_window_s <= 30 * 86400, "combo window %u",
             r.combo_window_s);
  FUZZ_CHECK(r.suppression_s <= 30 * 86400, "suppression %u", r.suppression_s);
  FUZZ_CHECK(r.retro_lookback_s <= 30 * 86400, "lookback %u", r.retro_lookback_s);
  FUZZ_CHECK(r.fraud_contact == true || r.fraud_contact == false, "fraud_contact");
  return 0;
}
