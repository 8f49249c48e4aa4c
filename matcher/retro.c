/* Retro-hunting (docs/RULES.md): calls of protected people go into the
 * recent-contact log (contacts.h); when a number becomes a fraud indicator,
 * the log is searched for everyone of this worker's who was in contact with
 * it during the look-back, and each becomes a candidate at once.
 *
 * Each worker logs the people of its own partitions, and every worker
 * learns each new indicator through the index feed, so between them they
 * search everyone. The log lives in memory: a restarted worker, or one
 * handed new partitions, hunts only from what it has seen since (see
 * docs/RULES.md, "Limits"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "matcher.h"

void matcher_contact_record(matcher_t *mt, const ev_scan_t *e) {
  contact_t c;
  c.subject = contacts_num_encode(e->subject, e->subject_len);
  c.counterpart = contacts_num_encode(e->counterpart, e->counterpart_len);
  if (!c.subject || !c.counterpart || e->ts_ms <= 0) return;
  int64_t start = e->start_ms > 0 ? e->start_ms : e->ts_ms;
  c.ts_s = (uint32_t)(start / 1000);
  c.info = (e->duration_s > 0xFFFFFF ? 0xFFFFFF : e->duration_s) |
           (e->outgoing ? CONTACT_OUTGOING : 0) | (e->international ? CONTACT_INTERNATIONAL : 0);
  if (contacts_add(mt->contacts, &c) != 0)
    gb_metric_inc(mt->m.contacts_dropped, 1);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* A contact found: a synthetic call event about the protected party, as
 * the log remembers it. The same call may be logged several times (interim
 * records): the candidate keeps one per call start, and the incident
 * script keeps the alert single. */
static int on_hit(const contact_t *e, void *ud) {
  cand_list_t *cl = ud;
  char subject[GB_PHONE_MAX], cp[GB_PHONE_MAX], id[96];
  if (contacts_num_decode(e->subject, subject, sizeof(subject)) != 0 ||
      contacts_num_decode(e->counterpart, cp, sizeof(cp)) != 0)
    return 0;
  for (size_t i = 0; i < cl->n; i++) {
    const Goldenbell__V1__Event *x = cl->v[i].ev;
    if (x->call->start_ms == (int64_t)e->ts_s * 1000 && strcmp(x->subject, subject) == 0 &&
        strcmp(x->call->counterpart, cp) == 0) {
      /* Keep the longest record of the call. */
      if ((e->info & 0xFFFFFF) > x->call->duration_s) x->call->duration_s = e->info & 0xFFFFFF;
      return 0;
    }
  }
  snprintf(id, sizeof(id), "retro:%s:%u:%s", cp, e->ts_s, subject);
  Goldenbell__V1__CallView call = GOLDENBELL__V1__CALL_VIEW__INIT;
  call.counterpart = cp;
  call.outgoing = (e->info & CONTACT_OUTGOING) != 0;
  call.international = (e->info & CONTACT_INTERNATIONAL) != 0;
  call.start_ms = (int64_t)e->ts_s * 1000;
  call.duration_s = e->info & 0xFFFFFF;
  call.status = GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_FINAL;
  Goldenbell__V1__Event ev = GOLDENBELL__V1__EVENT__INIT;
  ev.version = 1;
  ev.event_id = id;
  ev.subject = subject;
  ev.ts_ms = call.start_ms;
  ev.body_case = GOLDENBELL__V1__EVENT__BODY_CALL;
  ev.call = &call;
  /* Packed and decoded again, so the candidate owns it like any other. */
  uint8_t buf[1024];
  size_t len = goldenbell__v1__event__get_packed_size(&ev);
  if (len > sizeof(buf)) return 0;
  goldenbell__v1__event__pack(&ev, buf);
  Goldenbell__V1__Event *owned = goldenbell__v1__event__unpack(NULL, len, buf);
  if (!owned) return GB_ENOMEM;
  return cand_push(cl, owned, true);
}

int matcher_retro_hunt(matcher_t *mt) {
  size_t n = 0;
  const char(*phones)[GB_PHONE_MAX] = follow_new_phones(&mt->follow, &n);
  if (n == 0) return 0;
  if (mt->rules.retro_lookback_s == 0) {
    follow_clear_new_phones(&mt->follow);
    return 0;
  }
  uint64_t *sorted = malloc(n * sizeof(*sorted));
  if (!sorted) return GB_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t v = contacts_num_encode(phones[i], strlen(phones[i]));
    if (v) sorted[k++] = v;
  }
  qsort(sorted, k, sizeof(*sorted), cmp_u64);
  int64_t now_s = gb_now_ms() / 1000;
  uint32_t since = now_s > mt->rules.retro_lookback_s ? (uint32_t)(now_s - mt->rules.retro_lookback_s) : 0;
  cand_list_t cl = {0};
  int64_t t0 = gb_mono_ms();
  long hits = contacts_hunt(mt->contacts, sorted, k, since, on_hit, &cl);
  free(sorted);
  int err = hits < 0 ? (int)hits : 0;
  gb_info("retro.hunted", "indicators=%zu contacts_found=%ld people=%zu ms=%lld", k,
          hits < 0 ? 0 : hits, cl.n, (long long)(gb_mono_ms() - t0));
  if (!err && cl.n > 0) {
    gb_metric_inc(mt->m.retro_hits, cl.n);
    err = matcher_candidates(mt, &cl, mt->retro_resend);
  }
  cand_list_free(&cl);
  /* Redis away: the hunt runs again later (the new numbers stay new), and
   * that run asks the incidents to repeat what a lost reply said. */
  mt->retro_resend = err == GB_EAGAIN;
  if (!err) follow_clear_new_phones(&mt->follow);
  return err;
}
