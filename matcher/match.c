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

int matcher_events_match(matcher_t *mt, const rd_kafka_message_t *m) {
  ev_iter_t it;
  ev_scan_t e;
  const char *why = "";
  cand_list_t cl = {0};
  int r, err = 0;
  uint64_t events = 0;
  ev_iter_init(&it, m->payload, m->len);
  while ((r = ev_iter_next(&it, &e, &why)) == 1) {
    events++;
    if (e.version != 1 || !e.subject_len) {
      gb_warn("event.skipped", "event_id=%.*s reason=unsupported_version version=%u",
              (int)e.event_id_len, e.event_id, e.version);
      continue;
    }
    if (!view_protected(&mt->view, e.subject, e.subject_len)) {
      gb_debug("event.dropped", "event_id=%.*s reason=not_protected", (int)e.event_id_len,
               e.event_id);
      continue;
    }
    gb_metric_inc(mt->m.protected_events, 1);
    bool may = false;
    if (e.body == EV_BODY_CALL) {
      matcher_contact_record(mt, &e);
      may = view_indicator(&mt->view, GB_IND_PHONE, e.counterpart, e.counterpart_len) ||
            (e.international && !e.outgoing && mt->rules.intl_min_calls > 0);
    } else if (e.body == EV_BODY_VISIT) {
      may = e.visit_kind == GOLDENBELL__V1__VISIT_KIND__VISIT_KIND_APP
                ? view_indicator(&mt->view, GB_IND_APP, e.target, e.target_len)
                : view_site_listed(&mt->view, e.target, e.target_len, e.domain, e.domain_len);
    }
    if (!may) {
      gb_debug("event.dropped", "event_id=%.*s reason=no_indicator", (int)e.event_id_len,
               e.event_id);
      continue;
    }
    Goldenbell__V1__Event *ev = goldenbell__v1__event__unpack(NULL, e.len, e.ptr);
    if (!ev) {
      r = GB_EINVAL, why = "an event does not decode";
      break;
    }
    if ((err = cand_push(&cl, ev, false)) != 0) break;
  }
  gb_metric_inc(mt->m.events, events);
  if (!err && r < 0) {
    /* The batch is refused whole, as protobuf-c would: nothing of it is
     * matched twice when it is replayed from the dead-letter topic. */
    cand_list_free(&cl);
    gb_reject_t rj;
    gb_reject(&rj, "bad_protobuf", "", "not a goldenbell.v1.EventBatch: %s", why);
    mt->dead++;
    gb_metric_inc(mt->m.dead, 1);
    return gb_dlq_send(mt->p, mt->topic_dlq, "matcher", m, NULL, 0, -1, &rj);
  }
  if (!err && cl.n > 0) err = matcher_candidates(mt, &cl);
  cand_list_free(&cl);
  return err;
}
