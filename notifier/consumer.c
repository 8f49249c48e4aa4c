/* gb.alerts on the loop thread: librdkafka writes a byte to a pipe when its
 * queue turns non-empty; the loop polls the pipe and drains the queue. A
 * timer polls too, so that an idle consumer still serves rebalances and
 * stays in its group (max.poll.interval.ms).
 *
 * Redis away: the alert that could not be stored is held, uncommitted,
 * with whatever arrives after it; the partitions are paused (the consumer
 * stays in its group, the timer keeps polling) and the held alerts are
 * tried again in order, 100 ms after, doubling to 2 s, until Redis is
 * back. Nothing of the loop waits for that: the streams and the HTTP API
 * go on (routes that need Redis answer 503). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_json.h"
#include "feed.h"
#include "gb/alertnames.h"
#include "gb/err.h"
#include "gb/kafka.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "gb/stations.h"
#include "notifier.h"
#include "relay.h"
#include "warning.h"

#define DRAIN_MAX 500
/* A drain gives the loop back after this long, even with messages left
 * (the timer comes back at once): the pushes the tail hands over (tail.h),
 * the API and the streams wait no longer than this for a busy consumer. */
#define DRAIN_BUDGET_MS 5
/* Handled alerts' offsets are committed at most this often (and when the
 * consumer idles or stops): a commit per drain was a broker request per
 * few alerts. A crash re-reads at most this much, which the idempotent
 * store turns into nothing. */
#define COMMIT_INTERVAL_MS 100
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 2000

struct consumer_hold {
  rd_kafka_message_t **v; /* taken from the consumer, not yet handled, in order */
  size_t n, cap;
  int in_doubt;     /* v[0] was tried and failed: its store may have happened */
  int64_t doubt_since; /* wall clock ms: when its first failed try began */
  int backoff_ms;   /* the next wait */
  int64_t since_ms; /* monotonic: when the alerts began to wait */
  int64_t retry_at; /* monotonic */
  uint64_t retries;
  size_t handled;   /* handled from the hold since it began */
};

/* An asynchronous commit's result, served by rd_kafka_consumer_poll on the
 * loop (and by the close). A failed commit only means the alerts are read
 * again, which the store turns into nothing. */
static void commit_done(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *offsets, void *opaque) {
  (void)rk, (void)offsets, (void)opaque;
  if (err) gb_warn("kafka.commit_failed", "err=%s", rd_kafka_err2name(err));
}

/* Commits the offsets handled so far: asynchronously while running, for a
 * commit waits for the group coordinator, and a stalled one (brokers
 * stopped) would stall the loop with it, the API and the push streams;
 * synchronously when stopping, before the consumer leaves its group. */
static void commit(notifier_t *n) {
  if (!n->pending || n->pending->cnt == 0) return;
  rd_kafka_resp_err_t e =
      n->stopping ? rd_kafka_commit(n->consumer, n->pending, 0)
                  : rd_kafka_commit_queue(n->consumer, n->pending, n->queue, commit_done, NULL);
  if (e) gb_warn("kafka.commit_failed", "err=%s", rd_kafka_err2name(e));
  rd_kafka_topic_partition_list_destroy(n->pending);
  n->pending = rd_kafka_topic_partition_list_new(4);
  n->last_commit_ms = gb_mono_ms();
}

static void fatal(notifier_t *n, const char *why) {
  gb_error("notifier.fatal", "reason=\"%s\" action=exit_without_commit", why);
  n->exit_code = 1;
  uv_stop(n->loop);
}

/* An alert already stored (this revision or a later one): a re-delivery
 * (a worker died before committing; matcher said it again after a crash),
 * or the retry of a try whose reply was lost (doubt_since: when that try
 * began; a stopped Redis runs what it got when it resumes). What the try
 * that stored it may have left undone is done now: the escalation
 * scheduled if the alert still waits for one (ZADD NX: never twice), the
 * feed entry noted for the tails (tail.h; a stream that had it skips it).
 * 0, or GB_EIO to try again. */
static int recover(notifier_t *n, const Goldenbell__V1__Alert *a, int64_t doubt_since) {
  char ka[GB_KEY_MAX];
  redisReply *r = gb_redis_command(n->redis, "HMGET %s revision stream_id state escalated",
                                   gb_key_alert(ka, n->prefix, a->station_id, a->alert_id));
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
    if (r) freeReplyObject(r);
    return GB_EIO;
  }
  const redisReply *rev = r->element[0], *sid = r->element[1], *state = r->element[2];
  int err = 0;
  if (rev->type != REDIS_REPLY_STRING || strtoul(rev->str, NULL, 10) != a->revision ||
      sid->type != REDIS_REPLY_STRING || !feed_id_valid(sid->str)) {
    gb_debug("alert.duplicate", "alert=%s station=%s", a->alert_id, a->station_id);
    goto out; /* a later revision is stored, or a registrant-only one */
  }
  if (state->type == REDIS_REPLY_STRING && strcmp(state->str, "new") == 0 &&
      r->element[3]->type == REDIS_REPLY_NIL &&
      (err = escalation_schedule(n, a->station_id, a->alert_id, 1)) != 0)
    goto out;
  notifier_feed_changed(n, a->station_id, sid->str, 0);
  if (doubt_since && strtoll(sid->str, NULL, 10) + 1000 >= doubt_since) {
    /* Stored by the try whose reply was lost (by its entry's time, with a
     * second for clocks). */
    n->alerts_pushed++;
    gb_info("alert.pushed", "alert=%s station=%s risk=%s event=alert feed_id=%s warnings=0 "
            "recovered=yes", a->alert_id, a->station_id, gb_risk_name(a->risk), sid->str);
  } else {
    gb_debug("alert.duplicate", "alert=%s station=%s feed_id=%s", a->alert_id, a->station_id,
             sid->str);
  }
out:
  freeReplyObject(r);
  return err;
}

/* Returns 0 when the message is done with (stored and pushed, or skipped as
 * unusable), GB_EIO when it must be tried again. doubt_since: 0, or when
 * the first failed try of this message began (see recover). */
static int handle(notifier_t *n, const rd_kafka_message_t *m, int64_t doubt_since) {
  Goldenbell__V1__Alert *a = goldenbell__v1__alert__unpack(NULL, m->len, m->payload);
  const char *why = !a                          ? "not a goldenbell.v1.Alert"
                    : a->version != 1           ? "unknown version"
                    : !gb_station_id_valid(a->station_id) ? "station_id missing or malformed"
                    : !*a->alert_id || strlen(a->alert_id) > 64 ? "alert_id missing or too long"
                                                : NULL;
  if (why) {
    /* Nothing is lost: the message goes to the dead letters, unchanged,
     * with the reason; only then is its offset committed. */
    gb_reject_t rj;
    gb_reject(&rj, a ? "invalid_value" : "bad_protobuf", "", "%s", why);
    gb_error("alert.undecodable", "partition=%d offset=%lld reason=\"%s\" action=dead_letter",
             (int)m->partition, (long long)m->offset, why);
    if (a) goldenbell__v1__alert__free_unpacked(a, NULL);
    return relay_dead_letter(n, m, &rj);
  }
  int err = 0;
  char *json = alert_to_json(a);
  if (!json) {
    err = GB_ENOMEM;
    goto out;
  }
  /* Low risk is a warning to the registrant alone; medium and high are the
   * officers' tasks. Registrants of this station who follow are warned
   * either way (a registrant of another station gets that station's copy). */
  int push = a->risk != GOLDENBELL__V1__RISK__RISK_LOW;
  char *warnings[16];
  int nwarn = 0;
  for (size_t i = 0; i < a->n_protectors && nwarn < 16; i++) {
    const Goldenbell__V1__Protector *p = a->protectors[i];
    if (p->following && strcmp(p->station_id, a->station_id) == 0 &&
        (warnings[nwarn] = warning_json(a, p)) != NULL)
      nwarn++;
  }
  feed_stored_t st;
  int stored = feed_store(n->redis, &n->keys, n->prefix, a->station_id, a->alert_id,
                          a->revision, json, gb_risk_name(a->risk), push, warnings, nwarn, &st);
  for (int i = 0; i < nwarn; i++) free(warnings[i]);
  if (stored < 0) {
    err = stored;
    goto out;
  }
  if (stored == 0) {
    if ((err = recover(n, a, doubt_since)) != 0) goto out;
    n->alerts_in++;
    goto out;
  }
  n->alerts_in++;
  /* The officers' first sight of it starts the clock of its escalation. */
  if (st.first_push && (err = escalation_schedule(n, a->station_id, a->alert_id, 1)) != 0)
    goto out;
  notifier_feed_changed(n, a->station_id, st.stream_id, 0);
  if (!st.stream_id[0]) {
    gb_info("alert.registrant_only", "alert=%s station=%s risk=%s warnings=%d", a->alert_id,
            a->station_id, gb_risk_name(a->risk), st.warnings);
    goto out;
  }
  n->alerts_pushed++;
  gb_info("alert.pushed", "alert=%s station=%s risk=%s event=%s feed_id=%s warnings=%d",
          a->alert_id, a->station_id, gb_risk_name(a->risk), st.event, st.stream_id, st.warnings);
out:
  free(json);
  goldenbell__v1__alert__free_unpacked(a, NULL);
  return err;
}

static void on_timer_cb(uv_timer_t *t);

static void mark(notifier_t *n, const rd_kafka_message_t *m) {
  const char *topic = rd_kafka_topic_name(m->rkt);
  rd_kafka_topic_partition_t *tp =
      rd_kafka_topic_partition_list_find(n->pending, topic, m->partition);
  if (!tp) tp = rd_kafka_topic_partition_list_add(n->pending, topic, m->partition);
  tp->offset = m->offset + 1;
}

/* Pauses (or resumes) every assigned partition, or only m's. Pausing drops
 * what the consumer fetched and did not hand over; on resume it fetches
 * again from after the last message handed over, which is held. */
static void pause_partitions(notifier_t *n, const rd_kafka_message_t *m, int pause) {
  rd_kafka_topic_partition_list_t *a = NULL;
  if (m) {
    a = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(a, rd_kafka_topic_name(m->rkt), m->partition);
  } else if (rd_kafka_assignment(n->consumer, &a) != RD_KAFKA_RESP_ERR_NO_ERROR || !a) {
    return;
  }
  if (a->cnt > 0) {
    if (pause) rd_kafka_pause_partitions(n->consumer, a);
    else rd_kafka_resume_partitions(n->consumer, a);
  }
  rd_kafka_topic_partition_list_destroy(a);
}

static int hold_push(struct consumer_hold *h, rd_kafka_message_t *m) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 64;
    rd_kafka_message_t **v = realloc(h->v, cap * sizeof(*v));
    if (!v) return GB_ENOMEM;
    h->v = v, h->cap = cap;
  }
  h->v[h->n++] = m;
  return 0;
}

static void hold_shift(struct consumer_hold *h) {
  rd_kafka_message_destroy(h->v[0]);
  memmove(h->v, h->v + 1, (h->n - 1) * sizeof(*h->v));
  h->n--;
}

/* Comes back when the next try is due (the timer; drain sees the hold). */
static void hold_schedule(notifier_t *n) {
  struct consumer_hold *h = n->hold;
  int64_t wait = h->retry_at - gb_mono_ms();
  uv_timer_start(&n->poll_timer, on_timer_cb, wait > 0 ? (uint64_t)wait : 0, 0);
}

static void hold_backoff(struct consumer_hold *h) {
  h->retry_at = gb_mono_ms() + h->backoff_ms;
  h->backoff_ms = h->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : h->backoff_ms * 2;
}

/* m could not be stored: it waits, with everything after it. */
static void hold_begin(notifier_t *n, rd_kafka_message_t *m, int64_t tried_at) {
  struct consumer_hold *h = n->hold;
  int partition = (int)m->partition;
  long long offset = (long long)m->offset;
  if (hold_push(h, m) != 0) {
    /* Dropping it would skip it (the consumer fetches on after it). */
    rd_kafka_message_destroy(m);
    fatal(n, "out of memory holding an alert");
    return;
  }
  h->in_doubt = 1;
  h->doubt_since = tried_at;
  h->backoff_ms = RETRY_FIRST_MS;
  h->since_ms = gb_mono_ms();
  h->retries = 0;
  h->handled = 0;
  hold_backoff(h);
  pause_partitions(n, NULL, 1);
  char q[600];
  gb_warn("alerts.held", "partition=%d offset=%lld reason=%s action=hold_uncommitted_and_retry",
          partition, offset, gb_log_quote(q, sizeof(q), gb_redis_errstr(n->redis)));
}

/* While alerts wait: the consumer is polled all the same (rebalances, group
 * membership); a message that still comes (a partition assigned meanwhile)
 * joins the hold and its partition is paused. Held messages of partitions
 * taken away are dropped: uncommitted, their next owner reads them. */
static void hold_serve(notifier_t *n) {
  struct consumer_hold *h = n->hold;
  rd_kafka_message_t *m;
  while ((m = rd_kafka_consumer_poll(n->consumer, 0)) != NULL) {
    if (m->err) {
      rd_kafka_message_destroy(m);
      continue;
    }
    if (hold_push(h, m) != 0) {
      rd_kafka_message_destroy(m);
      fatal(n, "out of memory holding an alert");
      return;
    }
    pause_partitions(n, m, 1);
  }
  rd_kafka_topic_partition_list_t *a = NULL;
  if (rd_kafka_assignment(n->consumer, &a) != RD_KAFKA_RESP_ERR_NO_ERROR || !a) return;
  size_t keep = 0;
  for (size_t i = 0; i < h->n; i++) {
    rd_kafka_message_t *x = h->v[i];
    if (rd_kafka_topic_partition_list_find(a, rd_kafka_topic_name(x->rkt), x->partition)) {
      h->v[keep++] = x;
    } else {
      if (i == 0) h->in_doubt = 0;
      rd_kafka_message_destroy(x);
    }
  }
  h->n = keep;
  rd_kafka_topic_partition_list_destroy(a);
}

/* The held alerts, in order, when their try is due. Returns 1 while some
 * still wait (the timer comes back), 0 once none does. */
static int hold_retry(notifier_t *n) {
  struct consumer_hold *h = n->hold;
  hold_serve(n);
  if (h->n > 0 && gb_mono_ms() < h->retry_at) {
    hold_schedule(n);
    return 1;
  }
  if (h->n > 0) h->retries++;
  while (h->n > 0) {
    int64_t t = gb_now_ms();
    if (handle(n, h->v[0], h->in_doubt ? h->doubt_since : 0) != 0) {
      if (!h->in_doubt) h->doubt_since = t;
      h->in_doubt = 1;
      commit(n);
      hold_backoff(h);
      hold_schedule(n);
      return 1;
    }
    mark(n, h->v[0]);
    hold_shift(h);
    h->in_doubt = 0;
    h->handled++;
  }
  commit(n);
  pause_partitions(n, NULL, 0);
  gb_warn("alerts.resumed", "held_ms=%lld retries=%llu alerts=%zu action=stored_and_pushed",
          (long long)(gb_mono_ms() - h->since_ms), (unsigned long long)h->retries, h->handled);
  h->since_ms = 0;
  return 0;
}

/* Handles what is waiting, at most DRAIN_MAX messages or DRAIN_BUDGET_MS;
 * returns 1 when it stopped at either (more may wait: the caller comes back
 * at once), or when alerts wait for Redis (the timer comes back when their
 * try is due). */
static int drain(notifier_t *n) {
  if (n->stopping || n->exit_code) return 0;
  if (n->hold->n > 0 && hold_retry(n)) return 1;
  rd_kafka_message_t *m;
  int count = 0, spent = 0;
  int64_t t0 = gb_mono_ms();
  while (count < DRAIN_MAX && !(spent = gb_mono_ms() - t0 >= DRAIN_BUDGET_MS) &&
         (m = rd_kafka_consumer_poll(n->consumer, 0)) != NULL) {
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        gb_warn("kafka.consume_error", "err=%s", rd_kafka_err2name(m->err));
      rd_kafka_message_destroy(m);
      continue;
    }
    int64_t t = gb_now_ms();
    if (handle(n, m, 0) != 0) {
      /* Redis is away: this message waits (uncommitted) and is tried
       * again; what was handled before it is committed. */
      commit(n);
      hold_begin(n, m, t);
      hold_schedule(n);
      return 1;
    }
    mark(n, m);
    rd_kafka_message_destroy(m);
    count++;
  }
  if (gb_mono_ms() - n->last_commit_ms >= COMMIT_INTERVAL_MS) commit(n);
  /* More may be waiting: the pipe only signals an empty queue turning
   * non-empty, so the timer comes back at once. */
  if (count < DRAIN_MAX && !spent) return 0;
  uv_timer_start(&n->poll_timer, on_timer_cb, 0, 0);
  return 1;
}

static void on_wake(uv_poll_t *h, int status, int events) {
  notifier_t *n = h->data;
  (void)status, (void)events;
  char buf[64];
  while (read(n->wake_fds[0], buf, sizeof(buf)) > 0) {
  }
  drain(n);
}

static void on_timer_cb(uv_timer_t *t) {
  notifier_t *n = t->data;
  /* A full drain has restarted the timer at 0 ms; only an idle turn waits
   * the 200 ms that keep the consumer in its group. */
  if (drain(n) || n->stopping) return;
  commit(n); /* idle: what is handled need not wait for the interval */
  uv_timer_start(&n->poll_timer, on_timer_cb, 200, 0);
}

int notifier_consumer_start(notifier_t *n, char *errstr, size_t errstr_size) {
  const char *topics[] = {gb_config_str(n->cfg, "topic.alerts")};
  int err = gb_kafka_consumer_new(&n->consumer, n->cfg, gb_config_str(n->cfg, "notifier.group"),
                                  topics, 1, errstr, errstr_size);
  if (err) return err;
  n->pending = rd_kafka_topic_partition_list_new(4);
  if (!(n->hold = calloc(1, sizeof(*n->hold)))) {
    snprintf(errstr, errstr_size, "out of memory");
    return GB_ENOMEM;
  }
  if (pipe(n->wake_fds) != 0) {
    snprintf(errstr, errstr_size, "pipe failed");
    return GB_EIO;
  }
  for (int i = 0; i < 2; i++) fcntl(n->wake_fds[i], F_SETFL, O_NONBLOCK);
  n->queue = rd_kafka_queue_get_consumer(n->consumer);
  rd_kafka_queue_io_event_enable(n->queue, n->wake_fds[1], "1", 1);
  uv_poll_init(n->loop, &n->wake, n->wake_fds[0]);
  n->wake.data = n;
  uv_poll_start(&n->wake, UV_READABLE, on_wake);
  uv_timer_init(n->loop, &n->poll_timer);
  n->poll_timer.data = n;
  uv_timer_start(&n->poll_timer, on_timer_cb, 0, 0);
  return 0;
}

void notifier_consumer_stop(notifier_t *n) {
  n->stopping = 1;
  if (!n->consumer) return;
  uv_poll_stop(&n->wake);
  uv_close((uv_handle_t *)&n->wake, NULL);
  uv_timer_stop(&n->poll_timer);
  uv_close((uv_handle_t *)&n->poll_timer, NULL);
  rd_kafka_queue_io_event_enable(n->queue, -1, NULL, 0);
  rd_kafka_queue_destroy(n->queue);
  commit(n);
  if (n->hold->n > 0)
    gb_warn("alerts.stopped_holding", "alerts=%zu action=not_committed", n->hold->n);
  while (n->hold->n > 0) hold_shift(n->hold); /* their next owner reads them */
  free(n->hold->v);
  free(n->hold);
  n->hold = NULL;
  rd_kafka_topic_partition_list_destroy(n->pending);
  n->pending = NULL;
  /* Every handled message is committed now; leave the group so that a
   * replacement takes our partitions at once. */
  rd_kafka_consumer_close(n->consumer);
  rd_kafka_destroy(n->consumer);
  n->consumer = NULL;
  close(n->wake_fds[0]);
  close(n->wake_fds[1]);
}

size_t notifier_consumer_held(const notifier_t *n) { return n->hold ? n->hold->n : 0; }
