/* The relay: the outbox (outbox.h) of every station's audit trail. Each
 * change becomes a goldenbell.v1.WorkflowEvent on gb.workflow, and a
 * resolved alert has its effects:
 *   - an outcome that confirms fraud (dissuaded, money transferred) sends
 *     each fraud number, site and app of the alert's evidence to gb.intel as
 *     a confirmation (source "goldenbell:<station>"): one person targeted,
 *     the whole country warned;
 *   - "not fraud" (a record or an upheld dispute) counts against each of
 *     them, once per alert: <p>{nf}:<kind>:<value> SET of "<station>/<alert>",
 *     <p>{nf}:rank ZSET indicator -> count (GET /v1/intel/not-fraud);
 *   - matcher's incident for the person is closed (inc:{h} closed_ms), so
 *     that new evidence after the suppression window opens a new alert.
 * All of it is at least once: a repeat is the same event id, the same
 * confirmation, the same set member, the same close. */
#ifndef NOTIFIER_RELAY_H
#define NOTIFIER_RELAY_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "gb/jsonutil.h"

struct notifier;

int relay_start(struct notifier *n, char *errstr, size_t errstr_size);
void relay_stop(struct notifier *n);
/* The station's audit trail has new entries (loop thread, after a change). */
void relay_kick(struct notifier *n, const char *station);

/* Sends an unusable input message to gb.dlq with the reason and waits for
 * the brokers (the relay's producer, from the loop thread). 0 or GB_EIO. */
int relay_dead_letter(struct notifier *n, const rd_kafka_message_t *m, const gb_reject_t *r);

/* Not-fraud keys (api_intel.c reads them). */
#define NF_RANK "{nf}:rank"

#endif
