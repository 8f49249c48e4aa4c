/* GET /v1/stream?station=<id>: an officer's device's push stream
 * (Server-Sent Events). Each alert for the station arrives as an event whose
 * id is its feed entry id; a device that reconnects with Last-Event-ID (or
 * ?last_event_id=) first receives everything it missed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "feed.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "notifier.h"
#include "tail.h"

#define REPLAY_MAX 1000

typedef struct {
  notifier_t *n;
  hub_sub_t *sub;
} stream_ctx_t;

static void on_close(gb_sse_t *s, void *ud) {
  stream_ctx_t *c = ud;
  (void)s;
  if (c->sub) {
    gb_info("stream.closed", "station=%s devices=%d", c->sub->station, c->n->hub.count - 1);
    tail_unwatch(c->n->tail, c->sub->station);
    hub_remove(&c->n->hub, c->sub);
  }
  free(c);
}

static void replay_one(const char *id, const char *event, const char *json, void *ud) {
  gb_sse_send(ud, id, event, json, strlen(json));
}

/* The id of the feed's newest entry ("0-0" for an empty feed): a stream
 * that resumes nothing starts after it. With Redis away, the time now
 * stands in for it (Redis stamps entries with its clock). */
static void feed_newest(notifier_t *n, const char *station, char *out, size_t size) {
  char kf[GB_KEY_MAX];
  redisReply *r = gb_redis_command(n->redis, "XREVRANGE %s + - COUNT 1",
                                   gb_key_feed(kf, n->prefix, station));
  if (r && r->type == REDIS_REPLY_ARRAY)
    snprintf(out, size, "%s",
             r->elements == 1 && r->element[0]->elements == 2 ? r->element[0]->element[0]->str
                                                             : "0-0");
  else
    snprintf(out, size, "%lld-0", (long long)gb_now_ms());
  if (r) freeReplyObject(r);
}

static int valid_station(const char *s) {
  size_t len = strlen(s);
  return len > 0 && len <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-_.") == len;
}

void notifier_stream_handler(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  char station[128], last[64];
  const char *st = gb_http_req_query_param(req, "station", station, sizeof(station));
  bool all = st && strcmp(st, HUB_ALL) == 0;
  if (!st || (!all && !valid_station(st))) {
    static const char body[] =
        "{\"error\":\"station: give ?station=<id> (letters, digits, - _ .; at most 64), or "
        "?station=* for every station (bureau administrators)\"}";
    gb_http_respond(req, 400, "application/json", NULL, body, sizeof(body) - 1);
    return;
  }
  gb_auth_t auth;
  if (!auth_require_station(n, req, st, &auth)) return;
  const char *resume = gb_http_req_header(req, "last-event-id");
  if (!resume) resume = gb_http_req_query_param(req, "last_event_id", last, sizeof(last));
  stream_ctx_t *c = calloc(1, sizeof(*c));
  if (!c) {
    gb_http_respond(req, 503, "text/plain", NULL, "out of memory\n", 14);
    return;
  }
  char resume_copy[48] = ""; /* a feed id: at most 41 bytes */
  /* Anything but a feed id resumes nothing (the device gets what comes). */
  if (resume && feed_id_valid(resume)) snprintf(resume_copy, sizeof(resume_copy), "%s", resume);
  c->n = n;
  gb_sse_t *s = gb_http_sse_start(req, on_close, c);
  if (!s) {
    free(c);
    return;
  }
  c->sub = hub_add(&n->hub, s, st);
  if (!c->sub) {
    gb_sse_close(s);
    return;
  }
  /* What the stream has had: the entries replayed after the id it resumes
   * from, or, resuming nothing, everything in the feed now. The tail
   * (tail.h) sends it what comes after; hub_deliver skips what it has. */
  int replayed = 0;
  char *had = c->sub->last;
  if (all) {
    /* every station's next events, without ids */
  } else if (resume_copy[0]) {
    feed_read_t got;
    replayed = feed_replay(n->redis, &n->keys, n->prefix, st, resume_copy, REPLAY_MAX,
                           replay_one, s, &got);
    if (replayed < 0) gb_warn("stream.replay_failed", "station=%s action=tail_replays", st);
    snprintf(had, sizeof(c->sub->last), "%s", replayed >= 0 && got.read ? got.last : resume_copy);
  } else {
    feed_newest(n, st, had, sizeof(c->sub->last));
  }
  tail_watch(n->tail, st, had);
  gb_info("stream.opened", "station=%s account=%s resume=%s replayed=%d devices=%d", st,
          auth.account.id, resume_copy[0] ? resume_copy : "-", replayed, n->hub.count);
}
