/* gb.alerts on the loop thread: librdkafka writes a byte to a pipe when its
 * queue turns non-empty; the loop polls the pipe and drains the queue. A
 * timer polls too, so that an idle consumer still serves rebalances and
 * stays in its group (max.poll.interval.ms). */
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
#include "gb/log.h"
#include "gb/timeparse.h"
#include "gb/stations.h"
#include "notifier.h"
#include "relay.h"
#include "warning.h"

#define DRAIN_MAX 500
/* Handled alerts' offsets are committed at most this often (and when the
 * consumer idles or stops): a commit per drain was a broker request per
 * few alerts. A crash re-reads at most this much, which the idempotent
 * store turns into nothing. */
#define COMMIT_INTERVAL_MS 100

/* Commits the offsets handled so far (synchronously). */
static void commit(notifier_t *n) {
  if (!n->pending || n->pending->cnt == 0) return;
  rd_kafka_resp_err_t e = rd_kafka_commit(n->consumer, n->pending, 0);
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

/* Returns 0 when the message is done with (stored and pushed, or skipped as
 * unusable), GB_EIO when it must be read again. */
static int handle(notifier_t *n, const rd_kafka_message_t *m) {
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
  n->alerts_in++;
  if (stored == 0) {
    gb_debug("alert.duplicate", "alert=%s station=%s", a->alert_id, a->station_id);
    goto out;
  }
  /* The officers' first sight of it starts the clock of its escalation. */
  if (st.first_push && (err = escalation_schedule(n, a->station_id, a->alert_id, 1)) != 0)
    goto out;
  notifier_feed_changed(n, a->station_id, 0);
  if (!st.stream_id[0]) {
    gb_info("alert.registrant_only", "alert=%s station=%s risk=%s warnings=%d", a->alert_id,
            a->station_id, gb_risk_name(a->risk), st.warnings);
    goto out;
  }
  int devices = hub_broadcast(&n->hub, a->station_id, st.stream_id, st.event, json, strlen(json));
  n->alerts_pushed++;
  gb_info("alert.pushed", "alert=%s station=%s risk=%s event=%s feed_id=%s devices=%d warnings=%d",
          a->alert_id, a->station_id, gb_risk_name(a->risk), st.event, st.stream_id, devices,
          st.warnings);
out:
  free(json);
  goldenbell__v1__alert__free_unpacked(a, NULL);
  return err;
}

static void on_timer_cb(uv_timer_t *t);

/* Handles what is waiting, at most DRAIN_MAX messages; returns 1 when it
 * took that many (more may wait: the caller comes back at once). */
static int drain(notifier_t *n) {
  if (n->stopping) return 0;
  rd_kafka_topic_partition_list_t *offsets = n->pending;
  rd_kafka_message_t *m;
  int count = 0;
  while (count < DRAIN_MAX && (m = rd_kafka_consumer_poll(n->consumer, 0)) != NULL) {
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        gb_warn("kafka.consume_error", "err=%s", rd_kafka_err2name(m->err));
      rd_kafka_message_destroy(m);
      continue;
    }
    if (handle(n, m) != 0) {
      rd_kafka_message_destroy(m);
      /* Redis is down: stop without committing this message (what was
       * handled before it is committed); it is read again after the
       * restart. */
      commit(n);
      fatal(n, "redis unavailable while storing an alert");
      return 0;
    }
    const char *topic = rd_kafka_topic_name(m->rkt);
    rd_kafka_topic_partition_t *tp =
        rd_kafka_topic_partition_list_find(offsets, topic, m->partition);
    if (!tp) tp = rd_kafka_topic_partition_list_add(offsets, topic, m->partition);
    tp->offset = m->offset + 1;
    rd_kafka_message_destroy(m);
    count++;
  }
  if (gb_mono_ms() - n->last_commit_ms >= COMMIT_INTERVAL_MS) commit(n);
  /* More may be waiting: the pipe only signals an empty queue turning
   * non-empty, so the timer comes back at once. */
  if (count < DRAIN_MAX) return 0;
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
