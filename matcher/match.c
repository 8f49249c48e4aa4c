/* Canonical events (gb.events) against the local view, then, for the few
 * that may alert, against Redis and the person's incident.
 *
 * The hot path (docs/ARCHITECTURE.md, "matcher"): each EventBatch is walked
 * in place (wire.h) and every event is checked against the view (view.h)
 * without a copy or a Redis round trip; most are dropped there. Calls of
 * protected people go to the recent-contact log (retro-hunting). What may
 * alert becomes a candidate: decoded in full and confirmed in Redis, all
 * the candidates of one Kafka message in two pipelined round trips (the
 * indicators and owners; then the incident scripts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/dlq.h"
#include "gb/err.h"
#include "gb/intel.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "matcher.h"
#include "wire.h"

/* Scanned events wait this many places before their lookup, while the
 * lookups' table slots are fetched from memory (tagset_prefetch). */
#define LOOKAHEAD 16

/* One scanned event against the view; a candidate is queued on mt->cands.
 * Returns 0, or GB_EINVAL (with *why) / GB_ENOMEM. */
static int check(matcher_t *mt, const ev_scan_t *e, uint64_t tag, const char **why) {
  if (!tagset_has(&mt->view.protected_, tag)) {
    gb_debug("event.dropped", "event_id=%.*s reason=not_protected", (int)e->event_id_len,
             e->event_id);
    return 0;
  }
  gb_metric_inc(mt->m.protected_events, 1);
  bool may = false;
  if (e->body == EV_BODY_CALL) {
    matcher_contact_record(mt, e);
    may = view_indicator(&mt->view, GB_IND_PHONE, e->counterpart, e->counterpart_len) ||
          (e->international && !e->outgoing && mt->rules.intl_min_calls > 0);
  } else if (e->body == EV_BODY_VISIT) {
    may = e->visit_kind == GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP
              ? view_indicator(&mt->view, GB_IND_APP, e->target, e->target_len)
              : view_site_listed(&mt->view, e->target, e->target_len, e->domain, e->domain_len);
  }
  if (!may) {
    gb_debug("event.dropped", "event_id=%.*s reason=no_indicator", (int)e->event_id_len,
             e->event_id);
    return 0;
  }
  Goldenbell__V1__Event *ev = goldenbell__v1__event__unpack(NULL, e->len, e->ptr);
  if (!ev) {
    *why = "an event does not decode";
    return GB_EINVAL;
  }
  return cand_push(&mt->cands, ev, false);
}

int matcher_events_match(matcher_t *mt, const rd_kafka_message_t *m) {
  ev_iter_t it;
  ev_scan_t ring[LOOKAHEAD];
  uint64_t tags[LOOKAHEAD];
  size_t head = 0, queued = 0, cands0 = mt->cands.n;
  const char *why = "";
  int r, err = 0;
  uint64_t events = 0;
  ev_iter_init(&it, m->payload, m->len);
  for (;;) {
    ev_scan_t e;
    r = ev_iter_next(&it, &e, &why);
    /* The oldest scanned event is looked up once the ring is full, or
     * when the scan has ended. */
    if ((r != 1 || queued == LOOKAHEAD) && queued > 0 && r >= 0) {
      err = check(mt, &ring[head], tags[head], &why);
      head = (head + 1) % LOOKAHEAD, queued--;
      if (err) break;
    }
    if (r != 1) {
      if (r == 0 && queued > 0) continue; /* drain */
      break;
    }
    events++;
    if (e.version != 1 || !e.subject_len) {
      gb_warn("event.skipped", "event_id=%.*s reason=unsupported_version version=%u",
              (int)e.event_id_len, e.event_id, e.version);
      continue;
    }
    size_t slot = (head + queued) % LOOKAHEAD;
    ring[slot] = e;
    tags[slot] = view_tag(&mt->view, e.subject, e.subject_len);
    tagset_prefetch(&mt->view.protected_, tags[slot]);
    queued++;
  }
  gb_metric_inc(mt->m.events, events);
  if (err == GB_EINVAL || (!err && r < 0)) {
    /* The batch is refused whole, as protobuf-c would: nothing of it is
     * matched twice when it is replayed from the dead-letter topic. */
    cand_list_truncate(&mt->cands, cands0);
    gb_reject_t rj;
    gb_reject(&rj, "bad_protobuf", "", "not a goldenbell.v1.EventBatch: %s", why);
    mt->dead++;
    gb_metric_inc(mt->m.dead, 1);
    return gb_dlq_send(mt->p, mt->topic_dlq, "matcher", m, NULL, 0, -1, &rj);
  }
  return err;
}

/* The candidates of the whole batch, at its end: two Redis round trips per
 * batch, not per message. Always with resend: evidence the incident has
 * seen is answered with the incident as it stands, not with nothing, so
 * that an event read again after a worker died between the incident
 * script and the alert's acknowledgement (or an event ingest published
 * twice for the same reason) still emits its alert. notifier stores and
 * pushes a revision once; a repeat costs one message on gb.alerts. */
int matcher_batch_end(gb_pipeline_t *p, void *ud) {
  matcher_t *mt = ud;
  (void)p;
  if (mt->cands.n == 0) return 0;
  /* On GB_EAGAIN the candidates are kept for the retry: the pipeline calls
   * again without re-reading the batch's messages. */
  int err = matcher_candidates(mt, &mt->cands, true);
  if (err == GB_EAGAIN) return err;
  cand_list_truncate(&mt->cands, 0);
  return err;
}
