#include "gb/kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/log.h"
#include "gb/timeparse.h"

struct gb_pipeline {
  rd_kafka_t *consumer;
  rd_kafka_t *producer;
  gb_pipeline_conf_t conf;
  int batch_max;
  int linger_ms;
  /* Next offset to commit for each partition read in the batch in hand. */
  rd_kafka_topic_partition_list_t *pending;
  uint64_t queued;    /* outputs queued in this batch */
  uint64_t delivered; /* delivery reports, success */
  uint64_t failed;    /* delivery reports, failure */
  char failure[256];
  gb_pipeline_stats_t stats;
  /* The batch in hand: every message taken from the consumer since the last
   * commit, in order, held[0..done) processed. Kept until committed, so that
   * a batch a dependency failed (GB_EAGAIN) is processed on from where it
   * stopped, neither lost nor committed. */
  rd_kafka_message_t **held;
  size_t nheld, held_cap, done;
  int retrying;       /* a dependency failed: the batch waits, then goes on */
  int backoff_ms;     /* the next wait */
  int64_t retry_since; /* monotonic ms */
  uint64_t retries;   /* of the batch in hand */
  int fatal;          /* a fatal error met in a rebalance callback */
};

/* Waits between tries of a batch a dependency failed: doubling from the
 * first to the last, so that an outage costs a few tries a second at first
 * and one every few seconds after, never a busy loop. */
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 2000

/* Counts partitions reset for an out-of-range offset. librdkafka tells of
 * this only in its log; see kafka_log_cb. Shared by every handle of the
 * process, read through gb_pipeline_stats. */
static volatile uint64_t offset_resets;

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  (void)rk;
  char q[1024];
  gb_log_quote(q, sizeof(q), buf);
  /* Data aged out before it was read is data lost: say so loudly. */
  if (strstr(buf, "out of range") || strstr(buf, "OUT_OF_RANGE")) {
    __atomic_add_fetch(&offset_resets, 1, __ATOMIC_RELAXED);
    gb_error("kafka.offset_out_of_range", "fac=%s msg=%s", fac, q);
    return;
  }
  gb_log_level_t l = level <= 3 ? GB_LOG_ERROR : level <= 4 ? GB_LOG_WARN
                   : level <= 6 ? GB_LOG_INFO : GB_LOG_DEBUG;
  /* kafka.* options go to both the producer and the consumer of a service;
   * each ignores the other's properties, which is expected, not a warning. */
  if (strstr(buf, "will be ignored by this")) l = GB_LOG_DEBUG;
  /* A broker connection that failed (refused, reset, timed out) is retried
   * by librdkafka, like the transport errors of kafka_error_cb: a broker
   * restarting must not page anyone (docs/OPERATIONS.md). */
  if (l == GB_LOG_ERROR && strcmp(fac, "FAIL") == 0) l = GB_LOG_WARN;
  gb_log(l, "kafka.log", "fac=%s msg=%s", fac, q);
}

static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  (void)opaque;
  char q[512];
  gb_log_quote(q, sizeof(q), reason);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    gb_error("kafka.fatal", "err=%s reason=%s", rd_kafka_err2name(ferr), gb_log_quote(q, sizeof(q), fatal));
    return;
  }
  /* Transport errors are retried by librdkafka; they are worth a warning,
   * not a page, unless they last (the health endpoint reports that). */
  gb_warn("kafka.error", "err=%s reason=%s", rd_kafka_err2name((rd_kafka_resp_err_t)err), q);
}

/* Failed deliveries of producers made with gb_kafka_producer_new. */
static volatile uint64_t plain_failures;

uint64_t gb_kafka_delivery_failures(void) {
  return __atomic_load_n(&plain_failures, __ATOMIC_RELAXED);
}

int gb_kafka_flush_acked(rd_kafka_t *producer, uint64_t failures_before, int timeout_ms) {
  if (rd_kafka_flush(producer, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) return GB_EIO;
  return gb_kafka_delivery_failures() == failures_before ? 0 : GB_EIO;
}

static void pipeline_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  gb_pipeline_t *p = opaque;
  if (!p) {
    if (m->err) {
      __atomic_add_fetch(&plain_failures, 1, __ATOMIC_RELAXED);
      gb_error("kafka.delivery_failed", "topic=%s err=%s", rd_kafka_topic_name(m->rkt),
               rd_kafka_err2name(m->err));
    }
    return;
  }
  if (m->err) {
    p->failed++;
    snprintf(p->failure, sizeof(p->failure), "%s: %s", rd_kafka_topic_name(m->rkt),
             rd_kafka_err2str(m->err));
  } else {
    p->delivered++;
  }
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *errstr,
                    size_t errstr_size) {
  char e[256];
  if (rd_kafka_conf_set(conf, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
    snprintf(errstr, errstr_size, "kafka.%s=%s: %s", k, v, e);
    return GB_EINVAL;
  }
  return 0;
}

/* Our defaults first, then the user's kafka.* pairs, which win. */
static int conf_build(rd_kafka_conf_t **out, const gb_config_t *cfg, const char *const *defaults,
                      char *errstr, size_t errstr_size) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  int err = 0;
  *out = NULL;
  rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
  rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
  for (const char *const *d = defaults; d && *d; d += 2)
    if ((err = conf_set(conf, d[0], d[1], errstr, errstr_size)) != 0) goto cleanup;
  for (int i = 0; i < gb_config_kafka_count(cfg); i++) {
    const char *k, *v;
    gb_config_kafka_get(cfg, i, &k, &v);
    if ((err = conf_set(conf, k, v, errstr, errstr_size)) != 0) goto cleanup;
  }
  *out = conf, conf = NULL;
cleanup:
  if (conf) rd_kafka_conf_destroy(conf);
  return err;
}

/* Waits until the cluster answers a metadata request, bounded. */
static int wait_cluster(rd_kafka_t *rk, int timeout_ms, char *errstr, size_t errstr_size) {
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    snprintf(errstr, errstr_size,
             "kafka: no answer from the cluster within %d ms (%s); check "
             "kafka.bootstrap.servers",
             timeout_ms, rd_kafka_err2str(e));
    return GB_EIO;
  }
  rd_kafka_metadata_destroy(md);
  return 0;
}

static int new_handle(rd_kafka_t **out, rd_kafka_type_t type, rd_kafka_conf_t *conf,
                      char *errstr, size_t errstr_size) {
  char e[512];
  rd_kafka_t *rk = rd_kafka_new(type, conf, e, sizeof(e));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    snprintf(errstr, errstr_size, "kafka: %s", e);
    return GB_EINVAL;
  }
  *out = rk; /* conf is now owned by rk */
  return 0;
}

static const char *const producer_defaults[] = {
    "acks", "all",
    "enable.idempotence", "true",
    "linger.ms", "5",
    "compression.type", "lz4",
    "message.max.bytes", "16000000",
    NULL};

/* A pipeline's producer never gives a message up for time
 * (message.timeout.ms 0: librdkafka retries until the brokers take it), so
 * that brokers away for longer than the default 5 min stall the pipeline
 * (uncommitted) instead of failing the batch: a worker that exits on a
 * failed delivery leaves alerts that matcher's incident script has already
 * recorded to a re-read that emits nothing (docs/OPERATIONS.md). Only
 * permanent errors still fail a delivery. */
static const char *const pipeline_producer_defaults[] = {
    "acks", "all",
    "enable.idempotence", "true",
    "linger.ms", "5",
    "compression.type", "lz4",
    "message.max.bytes", "16000000",
    "message.timeout.ms", "0",
    NULL};

static int producer_new(rd_kafka_t **out, const gb_config_t *cfg, void *opaque, char *errstr,
                        size_t errstr_size) {
  rd_kafka_conf_t *conf;
  int err = conf_build(&conf, cfg, opaque ? pipeline_producer_defaults : producer_defaults,
                       errstr, errstr_size);
  if (err) return err;
  rd_kafka_conf_set_dr_msg_cb(conf, pipeline_dr_cb);
  rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_t *rk;
  if ((err = new_handle(&rk, RD_KAFKA_PRODUCER, conf, errstr, errstr_size)) != 0) return err;
  if ((err = wait_cluster(rk, (int)gb_config_int(cfg, "startup.timeout-ms"), errstr,
                          errstr_size)) != 0) {
    rd_kafka_destroy(rk);
    return err;
  }
  *out = rk;
  return 0;
}

int gb_kafka_producer_new(rd_kafka_t **out, const gb_config_t *cfg, char *errstr,
                          size_t errstr_size) {
  return producer_new(out, cfg, NULL, errstr, errstr_size);
}

int gb_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  if (!rkt) return GB_ENOMEM;
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
  int n = GB_EIO;
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
    n = GB_ENOTFOUND;
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topics[0].partition_cnt > 0)
      n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  return n;
}

const char *gb_kafka_header(const rd_kafka_message_t *m, const char *name, char *buf,
                            size_t buf_size) {
  rd_kafka_headers_t *hdrs = NULL;
  const void *v;
  size_t len;
  if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return NULL;
  if (rd_kafka_header_get_last(hdrs, name, &v, &len) != RD_KAFKA_RESP_ERR_NO_ERROR) return NULL;
  if (!v || buf_size == 0) return NULL;
  if (len >= buf_size) len = buf_size - 1;
  memcpy(buf, v, len);
  buf[len] = '\0';
  return buf;
}

/* ---- consumer and pipeline ---- */

static void pipeline_commit(gb_pipeline_t *p);
static void held_release(gb_pipeline_t *p);
static void partitions_pause(gb_pipeline_t *p, int pause);

/* The end of a batch: on_batch_end, every output acknowledged, the offsets
 * committed. GB_EAGAIN from on_batch_end leaves the batch in hand (nothing
 * committed) for a retry; any other failure is fatal. */
static int pipeline_finish_batch(gb_pipeline_t *p) {
  if (p->conf.on_batch_end) {
    int err = p->conf.on_batch_end(p, p->conf.ud);
    if (err) return err;
  }
  /* Every output must be acknowledged before its input is committed. The
   * wait is bounded by the producer's message.timeout.ms, after which a
   * message fails instead of staying queued. */
  while (rd_kafka_outq_len(p->producer) > 0) rd_kafka_flush(p->producer, 1000);
  if (p->failed) {
    gb_error("pipeline.delivery_failed", "failed=%llu last=\"%s\" action=exit_without_commit",
             (unsigned long long)p->failed, p->failure);
    return GB_EIO;
  }
  p->stats.out += p->delivered;
  p->delivered = 0;
  p->queued = 0;
  pipeline_commit(p);
  size_t n = p->nheld;
  held_release(p);
  if (p->retrying) {
    p->retrying = 0;
    partitions_pause(p, 0);
    gb_warn("pipeline.resumed", "held_ms=%lld retries=%llu messages=%zu action=committed",
            (long long)(gb_mono_ms() - p->retry_since), (unsigned long long)p->retries, n);
  }
  return 0;
}

static void held_release(gb_pipeline_t *p) {
  for (size_t i = 0; i < p->nheld; i++) rd_kafka_message_destroy(p->held[i]);
  p->nheld = p->done = 0;
}

static int held_push(gb_pipeline_t *p, rd_kafka_message_t *m) {
  if (p->nheld == p->held_cap) {
    size_t cap = p->held_cap ? p->held_cap * 2 : 256;
    rd_kafka_message_t **v = realloc(p->held, cap * sizeof(*v));
    if (!v) return GB_ENOMEM;
    p->held = v, p->held_cap = cap;
  }
  p->held[p->nheld++] = m;
  return 0;
}

/* Pauses (or resumes) every assigned partition. Pausing drops what the
 * consumer had fetched but not handed over; on resume it fetches again
 * from the message after the last one handed over, which is held. */
static void partitions_pause(gb_pipeline_t *p, int pause) {
  rd_kafka_topic_partition_list_t *a = NULL;
  if (rd_kafka_assignment(p->consumer, &a) != RD_KAFKA_RESP_ERR_NO_ERROR || !a) return;
  if (a->cnt > 0) {
    if (pause) rd_kafka_pause_partitions(p->consumer, a);
    else rd_kafka_resume_partitions(p->consumer, a);
  }
  rd_kafka_topic_partition_list_destroy(a);
}

static void partition_pause(gb_pipeline_t *p, const rd_kafka_message_t *m) {
  rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(one, rd_kafka_topic_name(m->rkt), m->partition);
  rd_kafka_pause_partitions(p->consumer, one);
  rd_kafka_topic_partition_list_destroy(one);
}

/* A dependency failed: keep the batch, stop fetching, and try again after
 * a wait (gb_pipeline_run). */
static void retry_begin(gb_pipeline_t *p) {
  if (p->retrying) return;
  p->retrying = 1;
  p->retries = 0;
  p->backoff_ms = RETRY_FIRST_MS;
  p->retry_since = gb_mono_ms();
  partitions_pause(p, 1);
  gb_warn("pipeline.retrying", "messages=%zu processed=%zu action=hold_uncommitted_and_retry",
          p->nheld, p->done);
}

/* Partitions taken away while their batch waits: the next owner reads
 * them again from the last commit, so this worker forgets them (what was
 * processed of them may be done twice, which the outputs allow). */
static void held_forget(gb_pipeline_t *p, const rd_kafka_topic_partition_list_t *parts) {
  size_t keep = 0, done = 0;
  for (size_t i = 0; i < p->nheld; i++) {
    rd_kafka_message_t *m = p->held[i];
    if (rd_kafka_topic_partition_list_find(parts, rd_kafka_topic_name(m->rkt), m->partition)) {
      rd_kafka_message_destroy(m);
      continue;
    }
    if (i < p->done) done++;
    p->held[keep++] = m;
  }
  p->nheld = keep, p->done = done;
  for (int i = 0; i < parts->cnt; i++)
    rd_kafka_topic_partition_list_del(p->pending, parts->elems[i].topic,
                                      parts->elems[i].partition);
}

static void pipeline_commit(gb_pipeline_t *p) {
  if (p->pending->cnt == 0) return;
  rd_kafka_resp_err_t e = rd_kafka_commit(p->consumer, p->pending, 0 /* sync */);
  if (e) {
    /* The input will be read again by whoever owns the partition next:
     * a duplicate downstream, never a loss. */
    p->stats.commit_errors++;
    gb_warn("pipeline.commit_failed", "err=%s partitions=%d", rd_kafka_err2name(e),
            p->pending->cnt);
  } else {
    p->stats.batches++;
  }
  rd_kafka_topic_partition_list_destroy(p->pending);
  p->pending = rd_kafka_topic_partition_list_new(8);
}

static void pipeline_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t *parts, void *opaque) {
  gb_pipeline_t *p = opaque;
  int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  for (int i = 0; i < parts->cnt; i++)
    gb_info(err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "kafka.assigned" : "kafka.revoked",
            "topic=%s partition=%d", parts->elems[i].topic, (int)parts->elems[i].partition);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (p)
      __atomic_store_n(&p->stats.assigned, cooperative ? p->stats.assigned + parts->cnt : parts->cnt,
                       __ATOMIC_RELAXED);
    if (cooperative)
      rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
    else
      rd_kafka_assign(rk, parts);
    return;
  }
  /* Revoked: finish and commit what we hold, so the next owner starts where
   * we stopped instead of repeating the batch. A batch that cannot finish
   * for now gives up the revoked partitions, uncommitted. */
  if (p && !p->retrying && p->nheld > 0) {
    int e = pipeline_finish_batch(p);
    if (e == GB_EAGAIN) {
      retry_begin(p);
    } else if (e) {
      gb_error("pipeline.revoke_flush_failed", "partitions=%d", parts->cnt);
      p->fatal = e;
    }
  }
  if (p && p->retrying) held_forget(p, parts);
  if (p)
    __atomic_store_n(&p->stats.assigned, cooperative ? p->stats.assigned - parts->cnt : 0,
                     __ATOMIC_RELAXED);
  if (cooperative)
    rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
  else
    rd_kafka_assign(rk, NULL);
}

/* The fetch settings: librdkafka's default local queue (64 MB) is about one
 * 50 MB fetch response, so a consumer alternately drains and waits for the
 * next fetch. A 256 MB queue filled by 16 MB fetches keeps batches coming
 * while the thread works (matcher: 1.3 -> 3.2 million events/s here,
 * docs/BENCHMARKS.md), at up to 256 MB of memory per worker. */
static const char *const consumer_defaults[] = {
    "enable.auto.commit", "false",
    "auto.offset.reset", "earliest",
    "enable.partition.eof", "false",
    "session.timeout.ms", "10000",
    "fetch.max.bytes", "16777216",
    "queued.max.messages.kbytes", "262144",
    NULL};

/* A group.id is required by the consumer API even for assign(); the reader
 * never joins it (no subscribe) and never commits to it. */
static const char *const reader_defaults[] = {
    "group.id", "gb-reader-unjoined",
    "enable.auto.commit", "false",
    "enable.auto.offset.store", "false",
    "enable.partition.eof", "false",
    "fetch.max.bytes", "16777216",
    "queued.max.messages.kbytes", "262144",
    NULL};

int gb_kafka_reader_new(rd_kafka_t **out, const gb_config_t *cfg, const char *topic,
                        int64_t **high, int *npart, char *errstr, size_t errstr_size) {
  rd_kafka_conf_t *conf;
  rd_kafka_t *rk = NULL;
  rd_kafka_topic_partition_list_t *parts = NULL;
  int64_t *hw = NULL;
  int err = conf_build(&conf, cfg, reader_defaults, errstr, errstr_size);
  if (err) return err;
  if ((err = new_handle(&rk, RD_KAFKA_CONSUMER, conf, errstr, errstr_size)) != 0) return err;
  int startup_ms = (int)gb_config_int(cfg, "startup.timeout-ms");
  if ((err = wait_cluster(rk, startup_ms, errstr, errstr_size)) != 0) goto cleanup;
  int n = gb_kafka_partition_count(rk, topic, 5000);
  if (n <= 0) {
    snprintf(errstr, errstr_size, "kafka: topic '%s' does not exist (create it, or fix the "
             "topic.* option)", topic);
    err = GB_EINVAL;
    goto cleanup;
  }
  hw = calloc((size_t)n, sizeof(*hw));
  parts = rd_kafka_topic_partition_list_new(n);
  if (!hw || !parts) {
    err = GB_ENOMEM;
    goto cleanup;
  }
  for (int i = 0; i < n; i++) {
    int64_t lo = 0, deadline = gb_mono_ms() + startup_ms;
    rd_kafka_resp_err_t e;
    /* A topic just created may have no leader yet: ask again, bounded. */
    while ((e = rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hw[i], startup_ms)) != 0 &&
           gb_mono_ms() < deadline)
      rd_kafka_poll(rk, 200);
    if (e) {
      snprintf(errstr, errstr_size, "kafka: watermarks of %s[%d]: %s", topic, i,
               rd_kafka_err2str(e));
      err = GB_EIO;
      goto cleanup;
    }
    rd_kafka_topic_partition_list_add(parts, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
  if (e) {
    snprintf(errstr, errstr_size, "kafka: assign %s: %s", topic, rd_kafka_err2str(e));
    err = GB_EIO;
    goto cleanup;
  }
  *out = rk, rk = NULL;
  *high = hw, hw = NULL;
  *npart = n;
cleanup:
  if (parts) rd_kafka_topic_partition_list_destroy(parts);
  free(hw);
  if (rk) rd_kafka_destroy(rk);
  return err;
}

static int consumer_new(rd_kafka_t **out, const gb_config_t *cfg, const char *group,
                        const char *const *topics, int ntopics, void *opaque, char *errstr,
                        size_t errstr_size) {
  rd_kafka_conf_t *conf;
  rd_kafka_t *rk = NULL;
  rd_kafka_topic_partition_list_t *sub = NULL;
  int err = conf_build(&conf, cfg, consumer_defaults, errstr, errstr_size);
  if (err) return err;
  if ((err = conf_set(conf, "group.id", group, errstr, errstr_size)) != 0) {
    rd_kafka_conf_destroy(conf);
    return err;
  }
  rd_kafka_conf_set_rebalance_cb(conf, pipeline_rebalance_cb);
  rd_kafka_conf_set_opaque(conf, opaque);
  if ((err = new_handle(&rk, RD_KAFKA_CONSUMER, conf, errstr, errstr_size)) != 0) return err;
  if ((err = wait_cluster(rk, (int)gb_config_int(cfg, "startup.timeout-ms"), errstr,
                          errstr_size)) != 0)
    goto cleanup;
  for (int i = 0; i < ntopics; i++) {
    if (gb_kafka_partition_count(rk, topics[i], 5000) <= 0) {
      snprintf(errstr, errstr_size, "kafka: topic '%s' does not exist (create it, or fix the "
               "topic.* option)", topics[i]);
      err = GB_EINVAL;
      goto cleanup;
    }
  }
  rd_kafka_poll_set_consumer(rk);
  sub = rd_kafka_topic_partition_list_new(ntopics);
  for (int i = 0; i < ntopics; i++)
    rd_kafka_topic_partition_list_add(sub, topics[i], RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, sub);
  if (e) {
    snprintf(errstr, errstr_size, "kafka: subscribe: %s", rd_kafka_err2str(e));
    err = GB_EIO;
    goto cleanup;
  }
  *out = rk, rk = NULL;
cleanup:
  if (sub) rd_kafka_topic_partition_list_destroy(sub);
  if (rk) rd_kafka_destroy(rk);
  return err;
}

int gb_kafka_consumer_new(rd_kafka_t **out, const gb_config_t *cfg, const char *group,
                          const char *const *topics, int ntopics, char *errstr,
                          size_t errstr_size) {
  return consumer_new(out, cfg, group, topics, ntopics, NULL, errstr, errstr_size);
}

int gb_pipeline_new(gb_pipeline_t **out, const gb_config_t *cfg, const gb_pipeline_conf_t *conf,
                    char *errstr, size_t errstr_size) {
  int err = GB_ENOMEM;
  gb_pipeline_t *p = calloc(1, sizeof(*p));
  *out = NULL;
  if (!p) goto cleanup;
  p->conf = *conf;
  p->batch_max = (int)gb_config_int(cfg, "batch.max");
  p->linger_ms = (int)gb_config_int(cfg, "batch.linger-ms");
  p->pending = rd_kafka_topic_partition_list_new(8);
  if ((err = producer_new(&p->producer, cfg, p, errstr, errstr_size)) != 0) goto cleanup;
  if ((err = consumer_new(&p->consumer, cfg, conf->group, conf->topics, conf->ntopics, p,
                          errstr, errstr_size)) != 0)
    goto cleanup;
  *out = p, p = NULL;
cleanup:
  gb_pipeline_free(p);
  return err;
}

static int produce(gb_pipeline_t *p, const char *topic, int32_t partition, const void *key,
                   size_t keylen, void *value, size_t len, rd_kafka_headers_t *headers,
                   int msgflags) {
  for (;;) {
    rd_kafka_resp_err_t e;
    if (headers)
      e = rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE(value, len),
                            RD_KAFKA_V_MSGFLAGS(msgflags), RD_KAFKA_V_HEADERS(headers),
                            RD_KAFKA_V_END);
    else
      e = rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE(value, len),
                            RD_KAFKA_V_MSGFLAGS(msgflags), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
      p->queued++;
      return 0; /* headers (and an owned value) now belong to the message */
    }
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      /* Back-pressure: serve delivery reports until there is room. */
      rd_kafka_poll(p->producer, 100);
      continue;
    }
    if (headers) rd_kafka_headers_destroy(headers);
    if (msgflags & RD_KAFKA_MSG_F_FREE) free(value);
    gb_error("pipeline.produce_failed", "topic=%s err=%s", topic, rd_kafka_err2name(e));
    return e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? GB_ETOOBIG : GB_EIO;
  }
}

int gb_pipeline_produce(gb_pipeline_t *p, const char *topic, int32_t partition, const void *key,
                        size_t keylen, const void *value, size_t len,
                        rd_kafka_headers_t *headers) {
  return produce(p, topic, partition, key, keylen, (void *)value, len, headers,
                 RD_KAFKA_MSG_F_COPY);
}

int gb_pipeline_produce_owned(gb_pipeline_t *p, const char *topic, int32_t partition,
                              const void *key, size_t keylen, void *value, size_t len,
                              rd_kafka_headers_t *headers) {
  return produce(p, topic, partition, key, keylen, value, len, headers, RD_KAFKA_MSG_F_FREE);
}

static void pending_mark(gb_pipeline_t *p, const rd_kafka_message_t *m) {
  const char *topic = rd_kafka_topic_name(m->rkt);
  rd_kafka_topic_partition_t *tp =
      rd_kafka_topic_partition_list_find(p->pending, topic, m->partition);
  if (!tp) tp = rd_kafka_topic_partition_list_add(p->pending, topic, m->partition);
  tp->offset = m->offset + 1;
}

/* The wait before the next try of a held batch: the consumer is polled (its
 * partitions paused) so that it keeps its group membership and serves
 * rebalances; a message that still arrives (a partition assigned meanwhile)
 * joins the batch and its partition is paused too. */
static void retry_wait(gb_pipeline_t *p, volatile sig_atomic_t *stop) {
  int64_t until = gb_mono_ms() + p->backoff_ms;
  p->backoff_ms = p->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : p->backoff_ms * 2;
  for (int64_t left; !*stop && p->retrying && !p->fatal && (left = until - gb_mono_ms()) > 0;) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, left < 100 ? (int)left : 100);
    rd_kafka_poll(p->producer, 0);
    if (!m) continue;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        gb_warn("kafka.consume_error", "err=%s msg=\"%s\"", rd_kafka_err2name(m->err),
                rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
      continue;
    }
    if (held_push(p, m) != 0) {
      /* Dropping it would skip it (the consumer fetches on after it). */
      rd_kafka_message_destroy(m);
      p->fatal = GB_ENOMEM;
      return;
    }
    partition_pause(p, m);
  }
}

/* Processes the held messages not processed yet, in order. 0, GB_EAGAIN
 * (the rest stays held) or a fatal code. */
static int held_process(gb_pipeline_t *p) {
  while (p->done < p->nheld) {
    const rd_kafka_message_t *m = p->held[p->done];
    int err = p->conf.on_message(p, m, p->conf.ud);
    if (err) return err;
    p->stats.in++;
    pending_mark(p, m);
    p->done++;
  }
  return 0;
}

/* A held batch's next try: on from where it stopped, then its end. */
static int batch_go_on(gb_pipeline_t *p) {
  int err = held_process(p);
  return err ? err : pipeline_finish_batch(p);
}

int gb_pipeline_run(gb_pipeline_t *p, volatile sig_atomic_t *stop) {
  int err = 0;
  while (!*stop) {
    if (p->fatal) {
      err = p->fatal;
      goto done;
    }
    if (p->retrying) {
      retry_wait(p, stop);
      if (*stop || p->fatal || !p->retrying) continue;
      p->retries++;
      err = batch_go_on(p);
      if (err == GB_EAGAIN) err = 0;
      else if (err) goto done;
      continue;
    }
    rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, 100);
    /* A batch gathers input for up to batch.linger-ms: flushing and
     * committing after every short gap in the input would stall the
     * thread on broker round trips instead of working. */
    int64_t deadline = gb_mono_ms() + p->linger_ms;
    while (m) {
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
          gb_warn("kafka.consume_error", "err=%s msg=\"%s\"", rd_kafka_err2name(m->err),
                  rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
      } else if (held_push(p, m) != 0) {
        rd_kafka_message_destroy(m);
        err = GB_ENOMEM;
        goto done;
      } else if (p->retrying || p->fatal) {
        /* A rebalance callback inside the poll found the batch cannot
         * finish for now: this one waits with it. */
        partition_pause(p, m);
        break;
      } else {
        err = held_process(p);
        if (err == GB_EAGAIN) {
          err = 0;
          retry_begin(p);
          break;
        }
        if (err) goto done;
      }
      if (p->nheld >= (size_t)p->batch_max) break;
      /* The batch also ends at the deadline when input keeps coming: a
       * batch must stay short, for it is what the commit, the batch-end
       * work (matcher's Redis confirmations) and on_tick wait for. */
      int64_t left = deadline - gb_mono_ms();
      if (left <= 0) break;
      m = rd_kafka_consumer_poll(p->consumer, left > 0 ? (int)left : 0);
    }
    if (p->retrying || p->fatal) continue;
    if (p->nheld > 0) {
      err = pipeline_finish_batch(p);
      if (err == GB_EAGAIN) {
        err = 0;
        retry_begin(p);
        continue;
      }
      if (err) goto done;
    }
    rd_kafka_poll(p->producer, 0);
    if (p->conf.on_tick) p->conf.on_tick(p, p->conf.ud);
  }
  if (p->retrying) {
    /* Stopped while a dependency is away: nothing of the batch is
     * committed; whoever owns the partitions next reads it again. */
    gb_warn("pipeline.stopped_holding", "messages=%zu retries=%llu action=not_committed",
            p->nheld, (unsigned long long)p->retries);
  } else if (!p->fatal) {
    err = pipeline_finish_batch(p);
    if (err == GB_EAGAIN) {
      gb_warn("pipeline.stopped_holding", "messages=%zu retries=0 action=not_committed", p->nheld);
      err = 0;
    }
  } else {
    err = p->fatal;
  }
done:
  held_release(p);
  p->stats.offset_resets = __atomic_load_n(&offset_resets, __ATOMIC_RELAXED);
  gb_info("pipeline.stopped", "in=%llu out=%llu batches=%llu commit_errors=%llu clean=%s",
          (unsigned long long)p->stats.in, (unsigned long long)p->stats.out,
          (unsigned long long)p->stats.batches, (unsigned long long)p->stats.commit_errors,
          err ? "no" : "yes");
  /* Leaves the group at once, so a replacement gets our partitions without
   * waiting for the session to time out. */
  rd_kafka_consumer_close(p->consumer);
  return err;
}

int gb_pipeline_retrying(const gb_pipeline_t *p) { return p->retrying; }

const gb_pipeline_stats_t *gb_pipeline_stats(const gb_pipeline_t *p) {
  ((gb_pipeline_t *)p)->stats.offset_resets = __atomic_load_n(&offset_resets, __ATOMIC_RELAXED);
  return &p->stats;
}

int gb_pipeline_assigned(const gb_pipeline_t *p) {
  return __atomic_load_n(&p->stats.assigned, __ATOMIC_RELAXED);
}

rd_kafka_t *gb_pipeline_producer(gb_pipeline_t *p) { return p->producer; }
rd_kafka_t *gb_pipeline_consumer(gb_pipeline_t *p) { return p->consumer; }

void gb_pipeline_free(gb_pipeline_t *p) {
  if (!p) return;
  if (p->consumer) rd_kafka_destroy(p->consumer);
  if (p->producer) {
    rd_kafka_flush(p->producer, 5000);
    rd_kafka_destroy(p->producer);
  }
  if (p->pending) rd_kafka_topic_partition_list_destroy(p->pending);
  free(p->held);
  free(p);
}
