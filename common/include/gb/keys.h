/* The Redis key layout, in one place. Every key starts with redis.prefix.
 * Keys that must change together share a hash tag ({...}), so that the
 * layout works unchanged on Redis Cluster:
 *
 *   <p>pn:{<h>}                 HASH  protected number h: owner registrant hash ->
 *                                     "<station>\t<relation>\t<following 0|1>"
 *   <p>rg:{<h>}                 HASH  registrant h: station, following, registered_ms
 *   <p>fi:phone:<e164>          HASH  fraud indicator: source, confidence, first_seen_ms,
 *                                     expires_ms (EXPIREAT set when it expires)
 *   <p>inc:{<h>} evi:{<h>} itm:{<h>} sig:{<h>} itl:{<h>}
 *                               the person's incident and rule windows (matcher/incident.h)
 *   <p>al:{st:<station>}:<id>   HASH  alert id as delivered to station: json, revision,
 *                                     stream_id, and its workflow (notifier/workflow.c):
 *                                     state, claimed_by, record, dispute, escalated, ...
 *   <p>audit:{st:<station>}     STREAM the station's workflow audit trail
 *   <p>ali:{st:<station>}       ZSET  alert id -> arrived_ms of every alert shown to the
 *                                     station's officers (the listing; newest 100,000)
 *   <p>unc:{st:<station>}       ZSET  alert id -> arrived_ms of its alerts in state new
 *   <p>access:{st:<station>}    STREAM who read which alert's people (GET /v1/alerts/<id>)
 *   <p>due                      ZSET  escalations due (notifier/escalation.c)
 *   accounts, devices, tokens   see gb/accounts.h
 *   <p>feed:{st:<station>}      STREAM the station's push feed: one entry per alert
 *                                     delivery; the entry id is the SSE event id
 *   <p>pushlog                  STREAM station and feed id of each entry, for every
 *                                     worker's tail (notifier/tail.h)
 *
 * h is the keyed hash of the E.164 number (gb/numkey.h): numbers are never
 * key material in the clear. Fraud numbers are not citizens' data and are
 * stored as they are. */
#ifndef GB_KEYS_H
#define GB_KEYS_H

#include <stddef.h>

#define GB_KEY_MAX 256

/* Each writes the key into out (GB_KEY_MAX bytes) and returns out. */
const char *gb_key_protected(char *out, const char *prefix, const char *numhash);
const char *gb_key_registrant(char *out, const char *prefix, const char *numhash);
const char *gb_key_fraud_phone(char *out, const char *prefix, const char *e164);
const char *gb_key_alert(char *out, const char *prefix, const char *station, const char *alert_id);
const char *gb_key_feed(char *out, const char *prefix, const char *station);
/* A station's own structure "<p><what>:{st:<station>}": what is "ali",
 * "unc", "access", "audit", ... (the list above). */
const char *gb_key_station(char *out, const char *prefix, const char *what, const char *station);

#endif
