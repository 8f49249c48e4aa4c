/* The index's change feed (gb.index, proto/goldenbell/v1/index.proto):
 * every protected-number entry and fraud indicator matcher writes, keyed
 * by entry, so that the matching path can follow the index without asking
 * Redis for each event. Produced through the pipeline: a registry change is
 * committed only once its feed messages are acknowledged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/timeparse.h"
#include "goldenbell/v1/index.pb-c.h"
#include "matcher.h"

static int feed_send(matcher_t *mt, const char *key, const Goldenbell__V1__IndexChange *c) {
  size_t sz = goldenbell__v1__index_change__get_packed_size(c);
  uint8_t *buf = malloc(sz ? sz : 1);
  if (!buf) return GB_ENOMEM;
  goldenbell__v1__index_change__pack(c, buf);
  rd_kafka_headers_t *h = rd_kafka_headers_new(1);
  rd_kafka_header_add(h, "content-type", -1,
                      "application/x-protobuf; proto=goldenbell.v1.IndexChange", -1);
  return gb_pipeline_produce_owned(mt->p, mt->topic_index, RD_KAFKA_PARTITION_UA, key,
                                   strlen(key), buf, sz, h);
}

int matcher_feed_protected(void *ud, const char *number_hash, const char *owner_hash,
                           const char *station, bool following, bool removed) {
  matcher_t *mt = ud;
  Goldenbell__V1__ProtectedEntry e = GOLDENBELL__V1__PROTECTED_ENTRY__INIT;
  e.number_hash = (char *)number_hash;
  e.owner_hash = (char *)owner_hash;
  e.station_id = (char *)station;
  e.following = following;
  e.removed = removed;
  Goldenbell__V1__IndexChange c = GOLDENBELL__V1__INDEX_CHANGE__INIT;
  c.version = 1;
  c.at_ms = gb_now_ms();
  c.change_case = GOLDENBELL__V1__INDEX_CHANGE__CHANGE_PROTECTED;
  c.protected_ = &e;
  char key[128];
  snprintf(key, sizeof(key), "pn:%s:%s", number_hash, owner_hash);
  return feed_send(mt, key, &c);
}

int matcher_feed_indicator(matcher_t *mt, const gb_indicator_t *ind, bool removed) {
  Goldenbell__V1__IndicatorEntry e = GOLDENBELL__V1__INDICATOR_ENTRY__INIT;
  e.kind = (Goldenbell__V1__IndicatorKind)ind->kind;
  e.value = (char *)ind->value;
  e.expires_ms = ind->expires_ms;
  e.removed = removed;
  Goldenbell__V1__IndexChange c = GOLDENBELL__V1__INDEX_CHANGE__INIT;
  c.version = 1;
  c.at_ms = gb_now_ms();
  c.change_case = GOLDENBELL__V1__INDEX_CHANGE__CHANGE_INDICATOR;
  c.indicator = &e;
  char key[GB_HOST_MAX + 32];
  snprintf(key, sizeof(key), "fi:%s:%s", gb_indicator_kind_name(ind->kind), ind->value);
  return feed_send(mt, key, &c);
}
