/* A partner's site-visit or app-install record, validated and normalised. */
#ifndef INGEST_VISIT_H
#define INGEST_VISIT_H

#include <stdint.h>

#include "flat.h"
#include "gb/jsonutil.h"
#include "gb/phone.h"
#include "gb/site.h"
#include "goldenbell/v1/input.pb-c.h"

#define INGEST_EVENT_ID_MAX 128
#define INGEST_PARTNER_MAX 64

typedef struct {
  char event_id[INGEST_EVENT_ID_MAX + 1];
  char phone[GB_PHONE_MAX];
  int app;                  /* 0 site, 1 app */
  char target[GB_APP_MAX];  /* normalised host, or the app id */
  char domain[GB_HOST_MAX]; /* registrable domain of a site; "" for apps */
  int64_t ts_ms;
  char partner[INGEST_PARTNER_MAX + 1];
} ingest_visit_t;

/* Reads a visit from JSON (docs/API.md, "gb.visits") or from protobuf.
 * Returns 0, or GB_EINVAL with r filled. */
int ingest_visit_from_json(ingest_visit_t *v, const flat_rec_t *obj, int64_t now_ms,
                           int64_t max_future_ms, gb_reject_t *r);
int ingest_visit_from_proto(ingest_visit_t *v, const Goldenbell__V1__VisitRecord *pb,
                            int64_t now_ms, int64_t max_future_ms, gb_reject_t *r);

#endif
