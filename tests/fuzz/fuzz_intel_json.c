/* Fraud indicators as JSON (gb.intel; common/src/intel.c,
 * gb_indicator_from_json), read as matcher reads them (matcher/intel.c):
 * jansson with duplicate members refused.
 *
 * Input: the message value. Checks: intel_check.h. */
#include <jansson.h>

#include "intel_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t je;
  json_t *o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
  if (!o) return 0;
  gb_indicator_t ind;
  gb_reject_t r;
  memset(&r, 0, sizeof(r));
  int rc = gb_indicator_from_json(&ind, o, &r);
  json_t *v = json_object_get(o, "value");
  fuzz_check_indicator(rc, &ind, &r, json_string_value(v), json_string_length(v));
  json_decref(o);
  return 0;
}
