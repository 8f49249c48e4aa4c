/* matcher's state, shared by its parts: the registry and intel appliers
 * (which own the Redis index), the local view and its feed, and the event
 * matcher. Everything runs on the pipeline thread. */
#ifndef MATCHER_MATCHER_H
#define MATCHER_MATCHER_H

#include <stdint.h>

#include "contacts.h"
#include "follow.h"
#include "gb/admin.h"
#include "gb/config.h"
#include "gb/intel.h"
#include "gb/kafka.h"
#include "gb/keyring.h"
#include "gb/log.h"
#include "gb/metrics.h"
#include "gb/numkey.h"
#include "gb/redis.h"
#include "gb/registry.h"
#include "goldenbell/v1/event.pb-c.h"
#include "rules.h"
#include "view.h"
#include "wire.h"

typedef struct matcher {
  const gb_config_t *cfg;
  gb_pipeline_t *p;
  gb_redis_t *redis;
  gb_numkey_t numkey;
  gb_keyring_t keys;
  gb_registry_t *registry;
  view_t view;       /* who is protected, what is listed: the hot path's filter */
  follow_t follow;   /* keeps the view up to date from gb.index */
  contacts_t *contacts; /* recent calls of protected people, for retro-hunting */
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
  struct cand_list {
    struct cand *v;
    size_t n, cap;
  } cands; /* the batch's candidates, confirmed at its end */
  /* A Redis failure may have lost the replies of incident scripts that
   * ran: the retro-hunt's next try (between batches, with backoff) asks
   * the script to answer an exact repeat with the incident as it stands,
   * so that its alert is emitted after all (incident.h). The batch's
   * candidates always ask that (match.c). */
  bool retro_resend;
  int64_t retro_next_ms;
  int retro_backoff_ms;
  uint64_t alerts;
  uint64_t dead;
  gb_metrics_t *metrics;
  gb_admin_t *admin;
  struct {
    gb_metric_t *changes_accepted, *changes_refused, *indicators, *events, *protected_events,
        *candidates, *alerts_new, *alerts_updated, *retro_hits, *dead, *view_protected,
        *view_indicators, *view_bytes, *contacts, *contacts_bytes, *contacts_dropped,
        *contacts_evicted;
  } m;
} matcher_t;

/* A candidate: an event that may alert, decoded in full (owned). */
typedef struct cand {
  Goldenbell__V1__Event *ev;
  bool retro; /* built from the contact log by a retro-hunt */
} cand_t;

typedef struct cand_list cand_list_t;

int cand_push(cand_list_t *cl, Goldenbell__V1__Event *ev, bool retro); /* takes ev */
/* Frees the candidates from index n on (keeps the array). */
void cand_list_truncate(cand_list_t *cl, size_t n);
void cand_list_free(cand_list_t *cl);
/* Confirms candidates in Redis and alerts what they show (resend: repeats
 * answered with the incident; see retro_resend). Returns 0, GB_EAGAIN (Redis
 * away: try the same candidates again later) or another negative code
 * (fatal). */
int matcher_candidates(matcher_t *mt, cand_list_t *cl, bool resend);

/* Each handles one message of its topic; returns 0, GB_EAGAIN when Redis is
 * away (the pipeline keeps the batch uncommitted and calls again after a
 * wait: gb/kafka.h), or another negative code for a fatal error. */
int matcher_registry_apply(matcher_t *mt, const rd_kafka_message_t *m);
int matcher_intel_apply(matcher_t *mt, const rd_kafka_message_t *m);
int matcher_events_match(matcher_t *mt, const rd_kafka_message_t *m);
int matcher_batch_end(gb_pipeline_t *p, void *ud);

/* retro.c */
void matcher_contact_record(matcher_t *mt, const ev_scan_t *e);
int matcher_retro_hunt(matcher_t *mt);

/* The level of a log line about a failed call on r: warn when Redis
 * answered with an error; debug when the connection is in an outage or the
 * watch knows Redis is away, for those are logged once per outage
 * (redis.disconnected, redis.down), not once per try. */
gb_log_level_t matcher_redis_fail_level(const gb_redis_t *r);

/* feed.c: the index's change feed (gb.index). */
int matcher_feed_protected(void *ud, const gb_pn_entry_t *e);
int matcher_feed_indicator(matcher_t *mt, const gb_indicator_t *ind, bool removed);

#endif
