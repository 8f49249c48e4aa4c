/* The index's change feed (gb.index): every protected-number entry and
 * fraud indicator matcher writes, keyed by entry, so that the matching path
 * can follow the index without asking Redis for each event. Produced
 * through the pipeline: the input is committed only once its feed messages
 * are acknowledged. */
#include <string.h>

#include "gb/err.h"
#include "gb/indexfeed.h"
#include "gb/timeparse.h"
#include "matcher.h"

static int feed_send(matcher_t *mt, const char *key, uint8_t *buf, size_t len) {
  if (!buf) return GB_ENOMEM;
  rd_kafka_headers_t *h = rd_kafka_headers_new(1);
  rd_kafka_header_add(h, "content-type", -1, GB_INDEXFEED_CONTENT_TYPE, -1);
  return gb_pipeline_produce_owned(mt->p, mt->topic_index, RD_KAFKA_PARTITION_UA, key,
                                   strlen(key), buf, len, h);
}

int matcher_feed_protected(void *ud, const char *number_hash, const char *owner_hash,
                           const char *station, bool following, bool removed) {
  char key[GB_INDEXFEED_KEY_MAX];
  size_t len = 0;
  uint8_t *buf = gb_indexfeed_protected(number_hash, owner_hash, station, following, removed,
                                        gb_now_ms(), &len, key);
  return feed_send(ud, key, buf, len);
}

int matcher_feed_indicator(matcher_t *mt, const gb_indicator_t *ind, bool removed) {
  char key[GB_INDEXFEED_KEY_MAX];
  size_t len = 0;
  uint8_t *buf = gb_indexfeed_indicator(ind, removed, gb_now_ms(), &len, key);
  return feed_send(mt, key, buf, len);
}
