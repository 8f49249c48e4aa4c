/* Messages of the index's change feed (gb.index, proto/goldenbell/v1/
 * index.proto), built the same way by every writer of the index (matcher,
 * gb-registry import). Pure functions. */
#ifndef GB_INDEXFEED_H
#define GB_INDEXFEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gb/intel.h"

#define GB_INDEXFEED_CONTENT_TYPE "application/x-protobuf; proto=goldenbell.v1.IndexChange"
#define GB_INDEXFEED_KEY_MAX (GB_HOST_MAX + 32)

/* One owner's protection of one number, as written to the index. */
typedef struct {
  const char *number_hash; /* keyed hash (gb_numkey_hash), names the Redis key */
  uint64_t number_tag;     /* keyed tag (gb_numkey_tag), for the local view */
  const char *owner_hash;
  const char *station;
  bool following;
  bool removed;
} gb_pn_entry_t;

/* Each returns a malloc'ed packed IndexChange (free it) and its length in
 * *len, and writes the message key into key (GB_INDEXFEED_KEY_MAX bytes);
 * NULL when out of memory. */
uint8_t *gb_indexfeed_protected(const gb_pn_entry_t *e, int64_t at_ms, size_t *len, char *key);
uint8_t *gb_indexfeed_indicator(const gb_indicator_t *ind, bool removed, int64_t at_ms,
                                size_t *len, char *key);

#endif
