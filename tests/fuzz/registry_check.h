/* The checks fuzz_registry_json and fuzz_registry_proto share: what a read
 * gb_reg_change_t, or a refusal of one, promises (gb/registry.h). */
#ifndef FUZZ_REGISTRY_CHECK_H
#define FUZZ_REGISTRY_CHECK_H

#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "gb/err.h"
#include "gb/phone.h"
#include "gb/registry.h"

/* The reason codes of docs/API.md. */
static inline int fuzz_known_reason(const char *reason) {
  static const char *const known[] = {"bad_json",      "missing_field", "wrong_type",
                                      "invalid_value", "unknown_enum",  "future_time",
                                      "too_large",     "bad_protobuf",  "unsupported_version",
                                      "bad_content_type", "invalid_utf8"};
  for (size_t i = 0; reason && i < sizeof(known) / sizeof(known[0]); i++)
    if (strcmp(reason, known[i]) == 0) return 1;
  return 0;
}

static inline void fuzz_check_reject(const gb_reject_t *r) {
  FUZZ_CHECK(fuzz_known_reason(r->reason), "reason '%s'", r->reason ? r->reason : "(null)");
  FUZZ_CHECK(fuzz_terminated(r->field, sizeof(r->field)) &&
                 fuzz_terminated(r->detail, sizeof(r->detail)) && r->detail[0],
             "reject without a detail");
}

/* A person's number as read: E.164 that normalises to itself, not a
 * service number. */
static inline void fuzz_check_person(const char *phone, const char *what) {
  char again[GB_PHONE_MAX], e[160];
  FUZZ_CHECK(fuzz_terminated(phone, GB_PHONE_MAX), "%s not terminated", what);
  gb_phone_class_t c = gb_phone_normalize(again, sizeof(again), phone, strlen(phone), e, sizeof(e));
  FUZZ_CHECK(c != GB_PHONE_INVALID && c != GB_PHONE_SERVICE && strcmp(again, phone) == 0,
             "%s '%s' accepted without a refusal: %s", what, phone, e);
}

static inline void fuzz_check_change(int rc, const gb_reg_change_t *c, const char *refusal,
                                     size_t refusal_size, const gb_reject_t *r) {
  FUZZ_CHECK(rc == 0 || rc == GB_EINVAL, "rc %d", rc);
  FUZZ_CHECK(fuzz_terminated(refusal, refusal_size), "refusal not terminated");
  if (rc != 0) {
    fuzz_check_reject(r);
    return;
  }
  FUZZ_CHECK(c->op >= GB_REG_REGISTER && c->op <= GB_REG_UNREGISTER, "op %d", (int)c->op);
  FUZZ_CHECK(strcmp(gb_reg_op_name(c->op), "unknown") != 0, "op without a name");
  FUZZ_CHECK(fuzz_terminated(c->request_id, sizeof(c->request_id)) && c->request_id[0],
             "request_id");
  FUZZ_CHECK(fuzz_terminated(c->station_id, sizeof(c->station_id)) &&
                 fuzz_terminated(c->name, sizeof(c->name)) &&
                 fuzz_terminated(c->occupation, sizeof(c->occupation)) &&
                 fuzz_terminated(c->relation, sizeof(c->relation)),
             "a text field is not terminated");
  FUZZ_CHECK(c->age >= 0 && c->age <= 150, "age %d", c->age);
  /* What gb_registry_apply stores must be a place on Earth (and JSON can
   * hold no NaN). */
  if (c->has_location)
    FUZZ_CHECK(c->lat >= -90 && c->lat <= 90 && c->lon >= -180 && c->lon <= 180,
               "location %g, %g accepted", c->lat, c->lon);
  if (refusal[0]) return; /* answered with the reason, never applied */
  fuzz_check_person(c->registrant, "registrant");
  if (c->op == GB_REG_REGISTER || c->op == GB_REG_CHANGE_STATION)
    FUZZ_CHECK(c->station_id[0], "%s without a station", gb_reg_op_name(c->op));
  if (c->op == GB_REG_ADD_FAMILY || c->op == GB_REG_REMOVE_FAMILY) {
    fuzz_check_person(c->family, "family number");
    FUZZ_CHECK(strcmp(c->family, c->registrant) != 0, "family number is the registrant's");
  }
}

#endif
