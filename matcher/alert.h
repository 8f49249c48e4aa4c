/* Alerts out (gb.alerts): who protects the subject (from Redis), and the
 * alert message built from the person's incident, one copy per station. */
#ifndef MATCHER_ALERT_H
#define MATCHER_ALERT_H

#include "gb/phone.h"
#include "incident.h"

typedef struct matcher matcher_t;

#define MAX_PROTECTORS 64

typedef struct {
  char station[65];
  char relation[33];
  char registrant[GB_PHONE_MAX];
  int following;
} owner_t;

/* Reads an HVALS reply of pn:{h} (gb/registry.h) into owners. Returns how
 * many (0: nobody protects the number), or GB_EIO for a bad reply. */
int alert_owners_parse(matcher_t *mt, const redisReply *r, owner_t *owners, int max);

/* Builds the alert of an incident that changed and queues one copy per
 * distinct station of the owners. Returns 0 or a negative code. */
int alert_emit(matcher_t *mt, const char *subject, const owner_t *owners, int n,
               const incident_out_t *inc);

/* Deterministic alert id: the same evidence about the same person always
 * names the same alert, whichever record revealed it, and however often. */
void alert_id(char out[33], const char *subject, const char *evkey);

#endif
