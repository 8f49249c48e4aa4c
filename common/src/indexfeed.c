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

uint8_t *gb_indexfeed_protected(const gb_pn_entry_t *pn, int64_t at_ms, size_t *len, char *key) {
  Goldenbell__V1__ProtectedEntry e = GOLDENBELL__V1__PROTECTED_ENTRY__INIT;
  e.number_hash = (char *)pn->number_hash;
  e.number_tag = pn->number_tag;
  e.owner_hash = (char *)pn->owner_hash;
  e.station_id = (char *)pn->station;
  e.following = pn->following;
  e.removed = pn->removed;
  Goldenbell__V1__IndexChange c = GOLDENBELL__V1__INDEX_CHANGE__INIT;
  c.version = 1;
  c.at_ms = at_ms;
  c.change_case = GOLDENBELL__V1__INDEX_CHANGE__CHANGE_PROTECTED;
  c.protected_ = &e;
  snprintf(key, GB_INDEXFEED_KEY_MAX, "pn:%s:%s", pn->number_hash, pn->owner_hash);
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
