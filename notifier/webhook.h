/* The webhook channel: every notification in a station's feed (what its
 * officers' devices get, and the registrants' warnings) is POSTed to each
 * configured push gateway, the bridge to the messaging platform officers
 * and citizens use (docs/API.md, "Webhooks").
 *
 * A request carries
 *   Content-Type: application/json
 *   X-Goldenbell-Event: alert | alert.updated | alert.workflow | ... | registrant.warning
 *   X-Goldenbell-Delivery: <station>/<feed entry id>  (the same on every retry: dedupe by it)
 *   X-Goldenbell-Timestamp: <unix seconds>
 *   X-Goldenbell-Signature: sha256=<hex HMAC-SHA256(secret, timestamp "." body)>
 * and the body {"delivery_id", "event", "station_id", "audience": "station"|"registrant",
 * "data": <the notification>}. A 2xx answer is delivered; anything else
 * (or no answer within notifier.webhook-timeout-ms) is tried again after
 * notifier.webhook-backoff-ms, doubling, up to notifier.webhook-attempts
 * tries; then it is dead-lettered with the reason: on gb.dlq (gb-reason
 * webhook_failed) and in GET /v1/webhooks/dead.
 *
 * It runs on its own thread (an outbox of the feed, outbox.h), so a slow or
 * dead gateway never slows alert intake or the live stream. Redis:
 *   <p>{wh}:retry         ZSET "<gateway>|<delivery id>" by next try (ms)
 *   <p>{wh}:job:<member>  HASH body, event, attempts, error
 *   <p>{wh}:dead          LIST the latest 10,000 dead letters (JSON) */
#ifndef NOTIFIER_WEBHOOK_H
#define NOTIFIER_WEBHOOK_H

#include <stddef.h>

struct notifier;

/* Starts the channel when notifier.webhook-urls names gateways; 0 or a
 * GB_E* code with the reason in errstr. */
int webhook_start(struct notifier *n, char *errstr, size_t errstr_size);
void webhook_stop(struct notifier *n);
/* The station's feed has new entries (loop thread). */
void webhook_kick(struct notifier *n, const char *station);

#define WH_DEAD "{wh}:dead"
#define WH_DEAD_MAX 10000

#endif
