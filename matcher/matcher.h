/* matcher's state, shared by its parts: the registry and intel appliers
 * (which own the Redis index) and the event matcher. Everything runs on the
 * pipeline thread. */
#ifndef MATCHER_MATCHER_H
#define MATCHER_MATCHER_H

#include <stdint.h>

#include "gb/config.h"
#include "gb/admin.h"
#include "gb/kafka.h"
#include "gb/metrics.h"
#include "gb/numkey.h"
#include "gb/redis.h"
#include "gb/registry.h"
#include "rules.h"
#include "gb/intel.h"
#include "gb/keyring.h"

typedef struct {
  const gb_config_t *cfg;
  gb_pipeline_t *p;
  gb_redis_t *redis;
  gb_numkey_t numkey;
  gb_keyring_t keys;
  gb_registry_t *registry;
  const char *prefix;
  const char *topic_registry;
  const char *topic_results;
  const char *topic_intel;
  const char *topic_events;
  const char *topic_alerts;
  const char *topic_dlq;
  const char *topic_index;
  const char *rules_file;
  matcher_rules_t rules; /* replaced whole on SIGHUP, between batches */
  uint64_t alerts;
  uint64_t dead;
  gb_metrics_t *metrics;
  gb_admin_t *admin;
  struct {
    gb_metric_t *changes_accepted, *changes_refused, *indicators, *events, *alerts, *dead;
  } m;
} matcher_t;

/* Each handles one message of its topic; returns 0, or a negative code for a
 * fatal error (Redis down: the batch is not committed and is read again). */
int matcher_registry_apply(matcher_t *mt, const rd_kafka_message_t *m);
int matcher_intel_apply(matcher_t *mt, const rd_kafka_message_t *m);
int matcher_events_match(matcher_t *mt, const rd_kafka_message_t *m);

/* feed.c: the index's change feed (gb.index). */
int matcher_feed_protected(void *ud, const char *number_hash, const char *owner_hash,
                           const char *station, bool following, bool removed);
int matcher_feed_indicator(matcher_t *mt, const gb_indicator_t *ind, bool removed);

#endif
