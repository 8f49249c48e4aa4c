/* Registry changes as protobuf (goldenbell.v1.RegistryChange;
 * common/src/registry_change.c, gb_reg_change_from_proto), which matcher
 * reads when the content-type says so.
 *
 * Input: the message value. Checks: registry_check.h, as for JSON; also
 * that protobuf-c's own unpack agrees on whether the bytes are a
 * RegistryChange at all. */
#include "goldenbell/v1/registry.pb-c.h"
#include "registry_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gb_reg_change_t c;
  gb_reject_t r;
  char refusal[256];
  memset(&r, 0, sizeof(r));
  int rc = gb_reg_change_from_proto(&c, data, size, refusal, sizeof(refusal), &r);
  fuzz_check_change(rc, &c, refusal, sizeof(refusal), &r);
  Goldenbell__V1__RegistryChange *pb = goldenbell__v1__registry_change__unpack(NULL, size, data);
  FUZZ_CHECK((pb == NULL) == (rc != 0 && strcmp(r.reason, "bad_protobuf") == 0),
             "protobuf-c %s, reader said %s", pb ? "took it" : "refused it",
             rc ? r.reason : "ok");
  goldenbell__v1__registry_change__free_unpacked(pb, NULL);
  return 0;
}
