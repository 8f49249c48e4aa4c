/* Fraud indicators as protobuf (goldenbell.v1.FraudIndicator;
 * common/src/intel.c, gb_indicator_from_proto).
 *
 * Input: the message value. Checks: intel_check.h, and that protobuf-c's
 * own unpack agrees on whether the bytes are a FraudIndicator at all. */
#include "goldenbell/v1/intel.pb-c.h"
#include "intel_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gb_indicator_t ind;
  gb_reject_t r;
  memset(&r, 0, sizeof(r));
  int rc = gb_indicator_from_proto(&ind, data, size, &r);
  Goldenbell__V1__FraudIndicator *pb = goldenbell__v1__fraud_indicator__unpack(NULL, size, data);
  FUZZ_CHECK((pb == NULL) == (rc != 0 && strcmp(r.reason, "bad_protobuf") == 0),
             "protobuf-c %s, reader said %s", pb ? "took it" : "refused it",
             rc ? r.reason : "ok");
  const char *raw = pb && pb->value ? pb->value : "";
  fuzz_check_indicator(rc, &ind, &r, raw, strlen(raw));
  goldenbell__v1__fraud_indicator__free_unpacked(pb, NULL);
  return 0;
}
