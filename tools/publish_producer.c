/*
 * gb-publish: the librdkafka producer, batching of records into messages,
 * and delivery reports.
 *
 * --batch 1 gives each record its own message, keyed by its --key value;
 * librdkafka partitions it. With --batch N > 1 a message holds up to N
 * records separated by '\n'. Without --key they go into one batch in file
 * order. With --key, records are batched per partition: each record's
 * partition is computed with the partitioner librdkafka itself would use
 * for its key (-X partitioner, default consistent_random), so every record
 * still lands where its key sends it, in file order per key; a batched
 * message then carries no Kafka key, since its records have several.
 *
 * A message's opaque holds the line of its first record and its record
 * count, so a delivery report can name the line without an allocation per
 * message.
 */
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "publish.h"

#define PUB_OPAQUE_CNT_BITS 24 /* --batch is at most 2^24 - 1 */

_Static_assert(sizeof(void *) >= 8, "message opaque packs line and count in 64 bits");

typedef int32_t (*pub_partitioner_t)(const rd_kafka_topic_t *rkt, const void *key, size_t keylen,
                                     int32_t partition_cnt, void *rkt_opaque, void *msg_opaque);

typedef struct pub_slot_s {
  pub_buf_t buf;
  uint32_t nrec;
  uint64_t first_line;
  int64_t first_us;
} pub_slot_t;

struct pub_producer_s {
  rd_kafka_t *rk;
  rd_kafka_topic_t *rkt;
  int32_t partitions;
  pub_partitioner_t partition_of; /* keyed batches only */
  pub_slot_t *slots;              /* batches in the making: one, or one per partition */
  int nslots;
  uint64_t dr_failed; /* records failed in delivery reports */
  uint64_t paced;     /* records let through by --rate */
  pub_buf_t encoded;  /* --encode protobuf: the record being added, framed */
};

static void *msg_opaque(uint64_t line, uint32_t cnt) {
  return (void *)(uintptr_t)((line << PUB_OPAQUE_CNT_BITS) | cnt);
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  pub_t *p = opaque;
  uint64_t v = (uint64_t)(uintptr_t)m->_private;
  uint32_t cnt = (uint32_t)(v & ((1u << PUB_OPAQUE_CNT_BITS) - 1));
  (void)rk;
  if (m->err) {
    p->st.failed += cnt;
    p->prod->dr_failed += cnt;
    pub_delivery_failed(p, v >> PUB_OPAQUE_CNT_BITS, cnt, rd_kafka_err2str(m->err));
    return;
  }
  p->st.published += cnt;
  p->st.messages++;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  pub_t *p = opaque;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    pub_say(p, "kafka: fatal error, stopping: %s", fatal);
    p->fatal = 1;
    return;
  }
  pub_say(p, "kafka: %s", reason);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  /* Connection failures are logged (facility FAIL) and also reported to
   * error_cb; say them once. -X debug=... output is shown in full. */
  if (level <= 6 && !strcmp(fac, "FAIL")) return;
  pub_say(rd_kafka_opaque(rk), "kafka: %s: %s", fac, buf);
}

static pub_partitioner_t partitioner_named(const char *name) {
  /* Keys are never empty here (an empty key is rejected), so each
   * "_random" partitioner behaves as its consistent one. */
  if (!strcmp(name, "murmur2") || !strcmp(name, "murmur2_random"))
    return rd_kafka_msg_partitioner_murmur2;
  if (!strcmp(name, "fnv1a") || !strcmp(name, "fnv1a_random"))
    return rd_kafka_msg_partitioner_fnv1a;
  if (!strcmp(name, "random")) return NULL; /* keys do not matter */
  return rd_kafka_msg_partitioner_consistent;
}

/* Asks the broker for the topic's partitions, within o->timeout_ms. */
static int check_topic(pub_t *p) {
  pub_producer_t *pp = p->prod;
  int64_t deadline = pub_now_us() + (int64_t)p->o->timeout_ms * 1000;
  const char *why = "no answer";
  for (;;) {
    const struct rd_kafka_metadata *md = NULL;
    int64_t left_ms = (deadline - pub_now_us()) / 1000;
    if (left_ms <= 0) break;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(pp->rk, 0, pp->rkt, &md, (int)(left_ms < 5000 ? left_ms : 5000));
    if (err) {
      why = rd_kafka_err2str(err);
      rd_kafka_poll(pp->rk, 200);
      continue;
    }
    for (int i = 0; i < md->topic_cnt; i++) {
      const struct rd_kafka_metadata_topic *t = &md->topics[i];
      if (strcmp(t->topic, p->o->topic) != 0) continue;
      if (t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        rd_kafka_metadata_destroy(md);
        pub_say(p, "topic %s does not exist (create it first, e.g. with gb-topics)", p->o->topic);
        return PUB_ERR_USAGE;
      }
      if (t->err == RD_KAFKA_RESP_ERR_NO_ERROR && t->partition_cnt > 0) {
        pp->partitions = t->partition_cnt;
        rd_kafka_metadata_destroy(md);
        return 0;
      }
      why = rd_kafka_err2str(t->err);
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_poll(pp->rk, 200); /* e.g. no leader yet: ask again shortly */
  }
  pub_say(p, "cannot get metadata for topic %s from %s within %d ms: %s", p->o->topic,
          p->o->bootstrap, p->o->timeout_ms, why);
  return PUB_ERR_FATAL;
}

static int conf_set(pub_t *p, rd_kafka_conf_t *conf, const char *k, const char *v) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK) return 0;
  pub_say(p, "-X %s=%s: %s", k, v, errstr);
  return PUB_ERR_USAGE;
}

int pub_producer_new(pub_t *p) {
  static const char *const defaults[][2] = {
      {"acks", "all"},
      {"enable.idempotence", "true"},
      {"linger.ms", "20"},
      /* As large as a broker accepts by default (message.max.bytes). */
      {"batch.size", "1000000"},
      {"batch.num.messages", "100000"},
      {"compression.type", "lz4"},
      {"queue.buffering.max.messages", "1000000"},
      {"client.id", "gb-publish"},
      /* Logs are served by rd_kafka_poll on the main thread, so they
       * never interleave with the progress line. */
      {"log.queue", "true"},
  };
  const pub_opts_t *o = p->o;
  char errstr[512];
  const char *partitioner = "consistent_random";
  int err;
  pub_producer_t *pp = calloc(1, sizeof(*pp));
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (!pp || !conf) {
    pub_say(p, "out of memory");
    err = PUB_ERR_FATAL;
    goto cleanup;
  }
  p->prod = pp;
  if ((err = conf_set(p, conf, "bootstrap.servers", o->bootstrap)) != 0) goto cleanup;
  for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
    if ((err = conf_set(p, conf, defaults[i][0], defaults[i][1])) != 0) goto cleanup;
  for (int i = 0; i < o->kconf_cnt; i++) {
    if ((err = conf_set(p, conf, o->kconf[i].key, o->kconf[i].value)) != 0) goto cleanup;
    if (!strcmp(o->kconf[i].key, "partitioner")) partitioner = o->kconf[i].value;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
  rd_kafka_conf_set_error_cb(conf, error_cb);
  rd_kafka_conf_set_log_cb(conf, log_cb);
  rd_kafka_conf_set_opaque(conf, p);
  pp->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!pp->rk) {
    pub_say(p, "kafka: %s", errstr);
    err = PUB_ERR_USAGE;
    goto cleanup;
  }
  conf = NULL; /* now owned by pp->rk */
  rd_kafka_set_log_queue(pp->rk, NULL);
  pp->rkt = rd_kafka_topic_new(pp->rk, o->topic, NULL);
  if (!pp->rkt) {
    pub_say(p, "topic %s: %s", o->topic, rd_kafka_err2str(rd_kafka_last_error()));
    err = PUB_ERR_USAGE;
    goto cleanup;
  }
  if ((err = check_topic(p)) != 0) goto cleanup;

  pp->nslots = 0;
  if (o->batch > 1) {
    pp->partition_of = o->key ? partitioner_named(partitioner) : NULL;
    pp->nslots = pp->partition_of ? pp->partitions : 1;
    pp->slots = calloc((size_t)pp->nslots, sizeof(*pp->slots));
    if (!pp->slots) {
      pub_say(p, "out of memory");
      err = PUB_ERR_FATAL;
      goto cleanup;
    }
  }
  err = 0;
cleanup:
  if (conf) rd_kafka_conf_destroy(conf); /* NULL once rd_kafka_new took it; not NULL-safe */
  return err;
}

/* Hands one message to librdkafka; payload is freed by it (owned) or
 * copied. Waits while the queue is full. A record that cannot be queued is
 * counted as failed and reported. */
static int produce(pub_t *p, int32_t part, char *payload, size_t len, int owned, const char *key,
                   size_t keylen, uint64_t line, uint32_t cnt) {
  pub_producer_t *pp = p->prod;
  const char *ct = p->o->content_type;
  int flags = owned ? RD_KAFKA_MSG_F_FREE : RD_KAFKA_MSG_F_COPY;
  void *opq = msg_opaque(line, cnt);
  rd_kafka_resp_err_t err;
  for (;;) {
    if (ct[0])
      err = rd_kafka_producev(pp->rk, RD_KAFKA_V_RKT(pp->rkt), RD_KAFKA_V_PARTITION(part),
                              RD_KAFKA_V_MSGFLAGS(flags), RD_KAFKA_V_VALUE(payload, len),
                              RD_KAFKA_V_KEY(key, keylen),
                              RD_KAFKA_V_HEADER("content-type", ct, -1),
                              RD_KAFKA_V_OPAQUE(opq), RD_KAFKA_V_END);
    else
      err = rd_kafka_producev(pp->rk, RD_KAFKA_V_RKT(pp->rkt), RD_KAFKA_V_PARTITION(part),
                              RD_KAFKA_V_MSGFLAGS(flags), RD_KAFKA_V_VALUE(payload, len),
                              RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_OPAQUE(opq),
                              RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      p->st.queued += cnt;
      return 0;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || *p->stop || p->fatal) break;
    /* Backpressure: serve delivery reports until there is room. */
    rd_kafka_poll(pp->rk, 10);
    p->now_us = pub_now_us();
    pub_progress_draw(p, 0);
  }
  if (owned) free(payload); /* a failed producev leaves it to us */
  p->st.failed += cnt;
  pub_delivery_failed(p, line, cnt,
                      err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? "not sent: stopped while the queue was full"
                                                           : rd_kafka_err2str(err));
  if (err == RD_KAFKA_RESP_ERR__FATAL) p->fatal = 1;
  return p->fatal ? PUB_ERR_FATAL : 0;
}

static int send_slot(pub_t *p, int idx) {
  pub_producer_t *pp = p->prod;
  pub_slot_t *s = &pp->slots[idx];
  if (s->nrec == 0) return 0;
  char *payload = s->buf.data;
  size_t len = s->buf.len, cap = s->buf.cap;
  uint32_t nrec = s->nrec;
  /* The next batch will be about as large: allocate it whole now rather
   * than growing it record by record. */
  s->buf.data = malloc(cap);
  s->buf.cap = s->buf.data ? cap : 0;
  s->buf.len = 0;
  s->nrec = 0;
  return produce(p, pp->partition_of ? idx : RD_KAFKA_PARTITION_UA, payload, len, 1, NULL, 0,
                 s->first_line, nrec);
}

/* --rate: record i is due at start + i / rate. Waiting serves delivery
 * reports, stale batches and the progress line. */
static void pace(pub_t *p) {
  pub_producer_t *pp = p->prod;
  int64_t due = p->start_us + (int64_t)((double)pp->paced++ * 1e6 / p->o->rate);
  for (;;) {
    p->now_us = pub_now_us();
    int64_t wait_us = due - p->now_us;
    if (wait_us < 1000 || *p->stop || p->fatal) return;
    rd_kafka_poll(pp->rk, wait_us > 100000 ? 100 : (int)(wait_us / 1000));
    p->now_us = pub_now_us();
    pub_producer_send_stale(p);
    pub_progress_draw(p, 0);
  }
}

/* --encode protobuf: replaces rec with the record as a batch's field 1
 * (tag, length, CallRecord/VisitRecord bytes). A batch is these framed
 * records one after another, so they are appended without separators.
 * Returns 1 when the record was rejected, 0, or PUB_ERR_FATAL. */
static int encode(pub_t *p, const char **rec, size_t *len, uint64_t line) {
  pub_producer_t *pp = p->prod;
  pub_buf_t body = {0};
  char why[200];
  int rc = pub_proto_encode(p, *rec, *len, &body, why, sizeof(why));
  if (rc == -1) {
    pub_buf_free(&body);
    pub_reject(p, line, PUB_REJ_NOT_ENCODABLE, "%s", why);
    return 1;
  }
  pp->encoded.len = 0;
  if (rc != 0 || pub_buf_reserve(&pp->encoded, body.len + 11) != 0) {
    pub_buf_free(&body);
    pub_say(p, "out of memory");
    return PUB_ERR_FATAL;
  }
  uint8_t *o = (uint8_t *)pp->encoded.data;
  size_t n = 0;
  o[n++] = 0x0a; /* field 1, length-delimited */
  for (uint64_t v = body.len; ; v >>= 7) {
    o[n++] = (uint8_t)(v < 0x80 ? v : (v & 0x7f) | 0x80);
    if (v < 0x80) break;
  }
  memcpy(o + n, body.data, body.len);
  pp->encoded.len = n + body.len;
  pub_buf_free(&body);
  *rec = pp->encoded.data;
  *len = pp->encoded.len;
  return 0;
}

int pub_producer_add(pub_t *p, const char *rec, size_t len, const char *key, size_t keylen,
                     uint64_t line) {
  pub_producer_t *pp = p->prod;
  int err;
  if (p->o->encode_proto && (err = encode(p, &rec, &len, line)) != 0)
    return err == 1 ? 0 : err;
  if (p->o->rate > 0) pace(p);
  if (!pp->slots) return produce(p, RD_KAFKA_PARTITION_UA, (char *)rec, len, 0, key, keylen, line, 1);
  int idx = pp->partition_of ? pp->partition_of(pp->rkt, key, keylen, pp->partitions, NULL, NULL) : 0;
  pub_slot_t *s = &pp->slots[idx];
  if (s->nrec > 0 && s->buf.len + 1 + len > p->o->batch_bytes && (err = send_slot(p, idx)) != 0)
    return err;
  if (pub_buf_reserve(&s->buf, len + 1) != 0) {
    pub_say(p, "out of memory");
    return PUB_ERR_FATAL;
  }
  if (s->nrec == 0) {
    s->first_line = line;
    s->first_us = p->now_us;
  } else if (!p->o->encode_proto) {
    s->buf.data[s->buf.len++] = '\n';
  }
  memcpy(s->buf.data + s->buf.len, rec, len);
  s->buf.len += len;
  if (++s->nrec >= (uint32_t)p->o->batch) return send_slot(p, idx);
  return 0;
}

void pub_producer_send_stale(pub_t *p) {
  pub_producer_t *pp = p->prod;
  int64_t limit = p->now_us - (int64_t)p->o->linger_ms * 1000;
  for (int i = 0; i < pp->nslots; i++)
    if (pp->slots[i].nrec > 0 && pp->slots[i].first_us <= limit) send_slot(p, i);
}

void pub_producer_poll(pub_t *p, int timeout_ms) { rd_kafka_poll(p->prod->rk, timeout_ms); }

void pub_producer_finish(pub_t *p) {
  pub_producer_t *pp = p->prod;
  for (int i = 0; i < pp->nslots; i++) send_slot(p, i);
  int64_t deadline = pub_now_us() + (int64_t)p->o->timeout_ms * 1000;
  while (rd_kafka_outq_len(pp->rk) > 0 && *p->stop < 2) {
    p->now_us = pub_now_us();
    if (p->now_us >= deadline) break;
    rd_kafka_flush(pp->rk, 100);
    pub_progress_draw(p, 0);
  }
  int left = rd_kafka_outq_len(pp->rk);
  if (left > 0) {
    pub_say(p, "%d messages not acknowledged %s; giving up on them", left,
            *p->stop >= 2 ? "at the second interrupt" : "within the --timeout");
    rd_kafka_purge(pp->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(pp->rk, 2000); /* serves the purged messages' reports */
  }
  rd_kafka_poll(pp->rk, 0);
  /* A record queued but never reported on was not acknowledged. */
  uint64_t reported = p->st.published + pp->dr_failed;
  if (p->st.queued > reported) p->st.failed += p->st.queued - reported;
}

void pub_producer_free(pub_t *p) {
  pub_producer_t *pp = p->prod;
  if (!pp) return;
  for (int i = 0; i < pp->nslots; i++) pub_buf_free(&pp->slots[i].buf);
  pub_buf_free(&pp->encoded);
  free(pp->slots);
  if (pp->rkt) rd_kafka_topic_destroy(pp->rkt);
  if (pp->rk) rd_kafka_destroy(pp->rk);
  free(pp);
  p->prod = NULL;
}
