/* One alert per person and incident (docs/RULES.md, "Alerts"): every
 * finding about a protected person goes through one Lua script, atomic per
 * person, that decides whether it opens a new incident, updates the open
 * one, or is nothing new (a re-sent call, a re-delivered event). The same
 * script keeps the event-time windows of rule 4 (international calls) and
 * rule 5 (two different medium signals).
 *
 * Redis layout (prefix omitted; h is the subject's keyed hash, so all of a
 * person's keys share one hash tag and one Cluster slot):
 *   inc:{h}  HASH  the current incident: id, first, last (event time, ms),
 *                  risk, rule, count (distinct events), rev (revision),
 *                  closed_ms (written by notifier when the alert is resolved)
 *   evi:{h}  HASH  evidence key (e.g. "call:<call id>") -> the alert it went to
 *   itm:{h}  HASH  the current incident's evidence items, by item key:
 *                  "<rule>|<risk>|<ts>|<n>|<digest>|<sealed Event>"
 *   sig:{h}  ZSET  medium signals by event time (rule 5)
 *   itl:{h}  ZSET  incoming international call ids by event time (rule 4)
 * All expire INCIDENT_TTL_MS after the person's last evidence. Events are
 * sealed (gb/keyring.h): no phone number of a citizen is stored in clear. */
#ifndef MATCHER_INCIDENT_H
#define MATCHER_INCIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "gb/redis.h"
#include "rules.h"

/* How long a person's incident state outlives their last evidence: the
 * longest window in use, at least 8 days. */
#define INCIDENT_TTL_MS (8LL * 24 * 3600 * 1000)
#define INCIDENT_ITEMS_MAX 64

typedef struct {
  int64_t ts_ms;          /* event time of the evidence */
  int rule, risk;         /* goldenbell.v1.Rule and Risk */
  const char *evkey;      /* identity of the evidence: re-sent, it is the same */
  const char *itemkey;    /* the slot in the alert it fills ("call:<id>", "site:<listing>") */
  const char *digest;     /* what makes an item news (duration and status); no '|' */
  const char *signal;     /* a medium signal's identity for rule 5, or "" */
  const char *intl_call;  /* rule 4: a call id to count first, or "" */
  const char *new_id;     /* the alert id if this opens an incident (deterministic) */
  const char *blob;       /* the sealed event */
} incident_in_t;

typedef struct {
  int rule, risk;
  int64_t ts_ms;
  uint32_t n;         /* rule 4: calls in the window */
  char digest[256];   /* as given: a call's duration and status, a listing */
  const char *blob;   /* sealed event, points into the reply */
} incident_item_t;

typedef struct {
  int action; /* 0 nothing new, 1 a new incident, 2 an update */
  char id[65];
  int risk, rule;
  uint32_t count, rev;
  int64_t first_ms, last_ms;
  incident_item_t items[INCIDENT_ITEMS_MAX];
  int nitems;
  bool resent; /* nothing new, said again (resend) */
  void *reply; /* owns the strings above; incident_out_free */
} incident_out_t;

/* Queues the script for the subject with keyed hash h. Returns 0 or GB_EIO
 * (one reply is owed all the same). With resend (the event may have been
 * handled before and the reply lost: a Redis failure, or a worker that
 * died before the alert was acknowledged), evidence
 * that changes nothing is answered with the incident as it stands (action
 * 1 when at revision 1, else 2) instead of nothing new, so that the alert
 * the lost reply would have made is emitted; a copy emitted twice has the
 * same revision, which notifier stores and pushes once. */
int incident_append(gb_redis_t *r, const char *prefix, const char *h,
                    const matcher_rules_t *rules, const incident_in_t *in, bool resend);
/* Reads one reply. Returns 0 and *out, or GB_EIO. */
int incident_read(gb_redis_t *r, incident_out_t *out);
void incident_out_free(incident_out_t *out);

#endif
