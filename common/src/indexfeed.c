#include "gb/indexfeed.h"

#include <stdio.h>
#include <stdlib.h>

#include "goldenbell/v1/index.pb-c.h"

static uint8_t *pack(const Goldenbell__V1__IndexChange *c, size_t *len) {
  size_t sz = goldenbell__v1__index_change__get_packed_size(c);
  uint8_t *buf = malloc(sz ? sz : 1);
  if (!buf) return NULL;
  *len = goldenbell__v1__index_change__pack(c, buf);
  return buf;
}

uint8_t *gb_indexfeed_protected(const char *number_hash, const char *owner_hash,
                                const char *station, bool following, bool removed, int64_t at_ms,
                                size_t *len, char *key) {
  Goldenbell__V1__ProtectedEntry e = GOLDENBELL__V1__PROTECTED_ENTRY__INIT;
  e.number_hash = (char *)number_hash;
  e.owner_hash = (char *)owner_hash;
  e.station_id = (char *)station;
  e.following = following;
  e.removed = removed;
  Goldenbell__V1__IndexChange c = GOLDENBELL__V1__INDEX_CHANGE__INIT;
  c.version = 1;
  c.at_ms = at_ms;
  c.change_case = GOLDENBELL__V1__INDEX_CHANGE__CHANGE_PROTECTED;
  c.protected_ = &e;
  snprintf(key, GB_INDEXFEED_KEY_MAX, "pn:%s:%s", number_hash, owner_hash);
  return pack(&c, len);
}

uint8_t *gb_indexfeed_indicator(const gb_indicator_t *ind, bool removed, int64_t at_ms,
                                size_t *len, char *key) {
  Goldenbell__V1__IndicatorEntry e = GOLDENBELL__V1__INDICATOR_ENTRY__INIT;
  e.kind = (Goldenbell__V1__IndicatorKind)ind->kind;
  e.value = (char *)ind->value;
  e.expires_ms = ind->expires_ms;
  e.removed = removed;
  Goldenbell__V1__IndexChange c = GOLDENBELL__V1__INDEX_CHANGE__INIT;
  c.version = 1;
  c.at_ms = at_ms;
  c.change_case = GOLDENBELL__V1__INDEX_CHANGE__CHANGE_INDICATOR;
  c.indicator = &e;
  snprintf(key, GB_INDEXFEED_KEY_MAX, "fi:%s:%s", gb_indicator_kind_name(ind->kind), ind->value);
  return pack(&c, len);
}
