#include "gb/keys.h"

#include <stdio.h>

const char *gb_key_protected(char *out, const char *prefix, const char *numhash) {
  snprintf(out, GB_KEY_MAX, "%spn:{%s}", prefix, numhash);
  return out;
}

const char *gb_key_registrant(char *out, const char *prefix, const char *numhash) {
  snprintf(out, GB_KEY_MAX, "%srg:{%s}", prefix, numhash);
  return out;
}

const char *gb_key_fraud_phone(char *out, const char *prefix, const char *e164) {
  snprintf(out, GB_KEY_MAX, "%sfi:phone:%s", prefix, e164);
  return out;
}

const char *gb_key_alert(char *out, const char *prefix, const char *station, const char *alert_id) {
  snprintf(out, GB_KEY_MAX, "%sal:{st:%s}:%s", prefix, station, alert_id);
  return out;
}

const char *gb_key_feed(char *out, const char *prefix, const char *station) {
  snprintf(out, GB_KEY_MAX, "%sfeed:{st:%s}", prefix, station);
  return out;
}

const char *gb_key_station(char *out, const char *prefix, const char *what, const char *station) {
  snprintf(out, GB_KEY_MAX, "%s%s:{st:%s}", prefix, what, station);
  return out;
}
