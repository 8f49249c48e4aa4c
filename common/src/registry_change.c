/* Registry changes as the registration back end sends them (docs/API.md,
 * "gb.registry"): JSON with the change's fields at the top level, or a
 * protobuf goldenbell.v1.RegistryChange. */
#include <stdio.h>
#include <string.h>

#include "gb/err.h"
#include "gb/registry.h"
#include "goldenbell/v1/registry.pb-c.h"

static const char *const op_names[] = {
    [GB_REG_REGISTER] = "register",         [GB_REG_UPDATE_PROFILE] = "update_profile",
    [GB_REG_ADD_FAMILY] = "add_family",     [GB_REG_REMOVE_FAMILY] = "remove_family",
    [GB_REG_CHANGE_STATION] = "change_station", [GB_REG_FOLLOW] = "follow",
    [GB_REG_UNFOLLOW] = "unfollow",         [GB_REG_UNREGISTER] = "unregister",
};

const char *gb_reg_op_name(gb_reg_op_t op) {
  return op >= GB_REG_REGISTER && op <= GB_REG_UNREGISTER ? op_names[op] : "unknown";
}

static int copy(char *out, size_t size, const char *s, const char *field, gb_reject_t *r) {
  size_t len = s ? strlen(s) : 0;
  if (len >= size)
    return gb_reject(r, "invalid_value", field, "%s: %zu bytes, at most %zu", field, len, size - 1);
  memcpy(out, s ? s : "", len + 1);
  return 0;
}

/* A person's number: refused (answered) rather than dead-lettered. */
static void person(char *out, const char *in, size_t len, const char *what, char *refusal,
                   size_t refusal_size) {
  char e[160];
  gb_phone_class_t cls = gb_phone_normalize(out, GB_PHONE_MAX, in, len, e, sizeof(e));
  if (cls == GB_PHONE_INVALID)
    snprintf(refusal, refusal_size, "%s: %s", what, e);
  else if (cls == GB_PHONE_SERVICE)
    snprintf(refusal, refusal_size, "%s: %s is a service number, not a person's", what, out);
}

static int finish(gb_reg_change_t *c, char *refusal, size_t refusal_size, gb_reject_t *r) {
  if (!c->request_id[0]) return gb_reject(r, "missing_field", "request_id", "request_id: missing");
  if ((c->op == GB_REG_REGISTER || c->op == GB_REG_CHANGE_STATION) && !c->station_id[0] &&
      !refusal[0])
    snprintf(refusal, refusal_size, "station_id: missing; pick a police station");
  if ((c->op == GB_REG_ADD_FAMILY || c->op == GB_REG_REMOVE_FAMILY) && !refusal[0] &&
      strcmp(c->family, c->registrant) == 0)
    snprintf(refusal, refusal_size, "family number: it is the registrant's own number");
  /* Written so that NaN (a protobuf double may hold one) is outside too. */
  if (c->has_location && !(c->lat >= -90 && c->lat <= 90 && c->lon >= -180 && c->lon <= 180))
    return gb_reject(r, "invalid_value", "lat", "lat/lon: outside -90..90 / -180..180");
  return 0;
}

int gb_reg_change_from_json(gb_reg_change_t *c, const json_t *o, char *refusal,
                            size_t refusal_size, gb_reject_t *r) {
  memset(c, 0, sizeof(*c));
  refusal[0] = '\0';
  if (!json_is_object(o)) return gb_reject(r, "wrong_type", "", "a registry change is an object");
  const char *s, *op;
  size_t len;
  int64_t v;
  bool b;
  int err;
  if ((err = gb_json_str(o, "request_id", true, &s, NULL, r)) ||
      (err = copy(c->request_id, sizeof(c->request_id), s, "request_id", r)))
    return err;
  if ((err = gb_json_str(o, "op", true, &op, NULL, r))) return err;
  for (int i = GB_REG_REGISTER; i <= GB_REG_UNREGISTER; i++)
    if (strcmp(op, op_names[i]) == 0) c->op = (gb_reg_op_t)i;
  if (!c->op) return gb_reject(r, "unknown_enum", "op", "op: '%.40s' is not a registry change", op);
  if ((err = gb_json_time(o, "ts", false, &c->ts_ms, r))) return err;
  if ((err = gb_json_str(o, "registrant", true, &s, &len, r))) return err;
  person(c->registrant, s, len, "registrant", refusal, refusal_size);
  if ((err = gb_json_str(o, "station_id", false, &s, NULL, r)) ||
      (err = copy(c->station_id, sizeof(c->station_id), s, "station_id", r)))
    return err;
  c->following = true;
  if ((err = gb_json_bool(o, "following", false, &c->following, r))) return err;
  if ((err = gb_json_str(o, "name", false, &s, NULL, r))) return err;
  if (s) c->has_profile = true;
  if ((err = copy(c->name, sizeof(c->name), s, "name", r))) return err;
  if ((err = gb_json_str(o, "occupation", false, &s, NULL, r))) return err;
  if (s) c->has_profile = true;
  if ((err = copy(c->occupation, sizeof(c->occupation), s, "occupation", r))) return err;
  v = -1;
  if ((err = gb_json_int(o, "age", false, 0, 150, &v, r))) return err;
  if (v >= 0) c->age = (int)v, c->has_profile = true;
  const json_t *lat = json_object_get(o, "lat"), *lon = json_object_get(o, "lon");
  if (lat || lon) {
    if (!json_is_number(lat) || !json_is_number(lon))
      return gb_reject(r, "wrong_type", "lat", "lat, lon: want two numbers (degrees)");
    c->has_location = true;
    c->lat = json_number_value(lat);
    c->lon = json_number_value(lon);
  }
  if (c->op == GB_REG_ADD_FAMILY || c->op == GB_REG_REMOVE_FAMILY) {
    if ((err = gb_json_str(o, "family", true, &s, &len, r))) return err;
    if (!refusal[0]) person(c->family, s, len, "family number", refusal, refusal_size);
    if ((err = gb_json_str(o, "relation", false, &s, NULL, r)) ||
        (err = copy(c->relation, sizeof(c->relation), s, "relation", r)))
      return err;
  }
  (void)b;
  return finish(c, refusal, refusal_size, r);
}

int gb_reg_change_from_proto(gb_reg_change_t *c, const void *buf, size_t len, char *refusal,
                             size_t refusal_size, gb_reject_t *r) {
  memset(c, 0, sizeof(*c));
  refusal[0] = '\0';
  Goldenbell__V1__RegistryChange *pb =
      goldenbell__v1__registry_change__unpack(NULL, len, (const uint8_t *)buf);
  if (!pb) return gb_reject(r, "bad_protobuf", "", "not a goldenbell.v1.RegistryChange");
  int err = 0;
  if (pb->version > 1) {
    err = gb_reject(r, "unsupported_version", "version", "version: %u, this build reads 1",
                    pb->version);
    goto done;
  }
  if ((err = copy(c->request_id, sizeof(c->request_id), pb->request_id, "request_id", r))) goto done;
  c->ts_ms = pb->ts_ms;
  person(c->registrant, pb->registrant, strlen(pb->registrant), "registrant", refusal,
         refusal_size);
  const Goldenbell__V1__Profile *prof = NULL;
  switch (pb->op_case) {
  case GOLDENBELL__V1__REGISTRY_CHANGE__OP_REGISTER:
    c->op = GB_REG_REGISTER;
    if ((err = copy(c->station_id, sizeof(c->station_id), pb->register_->station_id,
                    "station_id", r)))
      goto done;
    c->following = pb->register_->following;
    prof = pb->register_->profile;
    if (pb->register_->lat != 0 || pb->register_->lon != 0) {
      c->has_location = true;
      c->lat = pb->register_->lat;
      c->lon = pb->register_->lon;
    }
    break;
  case GOLDENBELL__V1__REGISTRY_CHANGE__OP_UPDATE_PROFILE:
    c->op = GB_REG_UPDATE_PROFILE;
    prof = pb->update_profile;
    break;
  case GOLDENBELL__V1__REGISTRY_CHANGE__OP_ADD_FAMILY:
  case GOLDENBELL__V1__REGISTRY_CHANGE__OP_REMOVE_FAMILY: {
    const Goldenbell__V1__FamilyNumber *f =
        pb->op_case == GOLDENBELL__V1__REGISTRY_CHANGE__OP_ADD_FAMILY ? pb->add_family
                                                                       : pb->remove_family;
    c->op = pb->op_case == GOLDENBELL__V1__REGISTRY_CHANGE__OP_ADD_FAMILY ? GB_REG_ADD_FAMILY
                                                                           : GB_REG_REMOVE_FAMILY;
    if (!refusal[0]) person(c->family, f->phone, strlen(f->phone), "family number", refusal, refusal_size);
    if ((err = copy(c->relation, sizeof(c->relation), f->relation, "relation", r))) goto done;
    break;
  }
  case GOLDENBELL__V1__REGISTRY_CHANGE__OP_CHANGE_STATION:
    c->op = GB_REG_CHANGE_STATION;
    if ((err = copy(c->station_id, sizeof(c->station_id), pb->change_station, "station_id", r)))
      goto done;
    break;
  case GOLDENBELL__V1__REGISTRY_CHANGE__OP_FOLLOW: c->op = GB_REG_FOLLOW; break;
  case GOLDENBELL__V1__REGISTRY_CHANGE__OP_UNFOLLOW: c->op = GB_REG_UNFOLLOW; break;
  case GOLDENBELL__V1__REGISTRY_CHANGE__OP_UNREGISTER: c->op = GB_REG_UNREGISTER; break;
  default:
    err = gb_reject(r, "missing_field", "op", "op: no change given");
    goto done;
  }
  if (prof) {
    c->has_profile = true;
    if ((err = copy(c->name, sizeof(c->name), prof->name, "name", r)) ||
        (err = copy(c->occupation, sizeof(c->occupation), prof->occupation, "occupation", r)))
      goto done;
    c->age = prof->age > 150 ? 0 : (int)prof->age;
  }
  err = finish(c, refusal, refusal_size, r);
done:
  goldenbell__v1__registry_change__free_unpacked(pb, NULL);
  return err;
}
