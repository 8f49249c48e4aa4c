/* The index's change feed (gb.index): every protected-number entry and
 * fraud indicator matcher writes, keyed by entry, so that every worker's
 * matching path can follow the index without asking Redis for each event.
 * Produced through the pipeline: the input is committed only once its feed
 * messages are acknowledged. The change also goes straight into this
 * worker's own view, so that it matches under it at once. */
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

int matcher_feed_protected(void *ud, const gb_pn_entry_t *e) {
  matcher_t *mt = ud;
  char key[GB_INDEXFEED_KEY_MAX];
  size_t len = 0;
  uint8_t *buf = gb_indexfeed_protected(e, gb_now_ms(), &len, key);
  int err = feed_send(mt, key, buf, len);
  return err ? err : follow_protected(&mt->follow, e->number_hash, e->number_tag, e->removed);
}

int matcher_feed_indicator(matcher_t *mt, const gb_indicator_t *ind, bool removed) {
  char key[GB_INDEXFEED_KEY_MAX];
  size_t len = 0;
  uint8_t *buf = gb_indexfeed_indicator(ind, removed, gb_now_ms(), &len, key);
  int err = feed_send(mt, key, buf, len);
  return err ? err : follow_indicator(&mt->follow, ind->kind, ind->value, removed);
}
