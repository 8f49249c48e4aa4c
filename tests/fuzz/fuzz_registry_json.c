/* Registry changes as JSON (gb.registry; common/src/registry_change.c),
 * read as matcher reads them (matcher/registry.c): jansson with duplicate
 * members refused, then gb_reg_change_from_json.
 *
 * Input: the message value. Checks: registry_check.h (a change is either a
 * dead letter with a documented reason, or read with valid numbers, a
 * station where one is needed and a location on Earth, or refused with a
 * reason to answer). */
#include <jansson.h>

#include "registry_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t je;
  json_t *o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
  if (!o) return 0;
  gb_reg_change_t c;
  gb_reject_t r;
  char refusal[256];
  memset(&r, 0, sizeof(r));
  int rc = gb_reg_change_from_json(&c, o, refusal, sizeof(refusal), &r);
  fuzz_check_change(rc, &c, refusal, sizeof(refusal), &r);
  json_decref(o);
  return 0;
}
