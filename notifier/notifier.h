/* notifier's state. Everything runs on one libuv loop thread: the HTTP
 * server, the push streams and the Kafka consumer (woken through an fd that
 * librdkafka signals when messages arrive). */
#ifndef NOTIFIER_NOTIFIER_H
#define NOTIFIER_NOTIFIER_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <uv.h>

#include "gb/config.h"
#include "gb/http.h"
#include "gb/keyring.h"
#include "gb/numkey.h"
#include "gb/redis.h"
#include "hub.h"

typedef struct notifier {
  const gb_config_t *cfg;
  uv_loop_t *loop;
  gb_http_server_t *http;
  gb_redis_t *redis;
  const char *prefix;
  hub_t hub;
  /* Kafka */
  rd_kafka_t *consumer;
  rd_kafka_queue_t *queue;
  rd_kafka_topic_partition_list_t *pending; /* handled, not yet committed offsets */
  int64_t last_commit_ms;                   /* monotonic */
  int wake_fds[2];
  struct consumer_hold *hold; /* consumer.c: alerts waiting for Redis, in order */
  uv_poll_t wake;
  uv_timer_t poll_timer;
  uv_timer_t escalate_timer;
  int64_t escalate_ms; /* notifier.escalate-after-s */
  int64_t remind_ms;   /* notifier.remind-after-s */
  uv_signal_t sigterm, sigint;
  int stopping;
  int exit_code;
  struct relay *relay;     /* relay.c: audit trails to gb.workflow and gb.intel */
  struct webhook *webhook; /* webhook.c: feeds to the push gateways; NULL: none */
  struct web *web;         /* web.c: the console's and dashboard's files */
  struct tail *tail;       /* tail.c: the station feeds, to this worker's devices */
  /* The index's secrets (loaded at start, read-only after): the number-hash
   * key names a person's record, the keyring opens their profile
   * (api_alerts.c: who an alert is about). */
  gb_numkey_t numkey;
  gb_keyring_t keys;
  uint64_t alerts_in;
  uint64_t alerts_pushed;
} notifier_t;

/* A station's feed (and maybe its audit trail) has new entries, the
 * newest feed_id ("" or NULL: none for the devices): notes it for every
 * worker's tail (tail.h), which pushes it to the devices, and wakes the
 * outboxes that carry the streams (webhook.c, relay.c). */
void notifier_feed_changed(notifier_t *n, const char *station, const char *feed_id,
                           int audited);

/* consumer.c: reads gb.alerts on the loop; returns 0 or a GB_E* code. */
int notifier_consumer_start(notifier_t *n, char *errstr, size_t errstr_size);
void notifier_consumer_stop(notifier_t *n);
/* Alerts taken from gb.alerts and not yet stored (Redis away): they wait,
 * uncommitted, and are stored and pushed in order once it is back. */
size_t notifier_consumer_held(const notifier_t *n);

/* stream.c: GET /v1/stream, the officers' devices' push stream. */
void notifier_stream_handler(gb_http_req_t *req, void *ud);
void notifier_api_risk_register(notifier_t *n); /* api_risk.c: GET /v1/risk */
void notifier_api_stations_register(notifier_t *n); /* api_stations.c: GET /v1/stations... */
void notifier_api_stats_register(notifier_t *n);    /* api_stats.c: GET /v1/stats... */
void notifier_workflow_register(notifier_t *n);     /* workflow.c: claim, release */
void notifier_api_intel_register(notifier_t *n);    /* api_intel.c: GET /v1/intel/not-fraud */
void notifier_api_webhooks_register(notifier_t *n); /* api_webhooks.c: GET /v1/webhooks/dead */
void notifier_api_alerts_register(notifier_t *n);   /* api_alerts.c: GET /v1/alerts... */
void notifier_api_series_register(notifier_t *n);   /* api_series.c: GET /v1/stats/series */
/* escalation.c: unclaimed alerts raised to the station admin, then the bureau. */
int notifier_escalation_start(notifier_t *n);
void notifier_escalation_stop(notifier_t *n);
/* Schedules the level's escalation of a station's new alert. 0 or GB_EIO. */
int escalation_schedule(notifier_t *n, const char *station, const char *id, int level);
/* Schedules the reminder of a claim (claimed_ms as the alert records it). */
int reminder_schedule(notifier_t *n, const char *station, const char *id, const char *claimed_ms);

#endif
