/* Kafka helpers: librdkafka handles configured from a gb_config_t, and the
 * consume-process-produce pipeline that ingest and matcher run.
 *
 * Delivery guarantee of a pipeline: at least once. Input offsets are
 * committed (synchronously) only after every output produced for them has
 * been acknowledged by the brokers (acks=all, idempotent producer). A crash
 * re-delivers the uncommitted input; outputs are therefore keyed and built
 * so that a repeat is harmless downstream.
 *
 * A dependency that is away for a while (Redis) is not a crash: a callback
 * returns GB_EAGAIN, and the pipeline keeps the batch in hand uncommitted,
 * pauses its partitions (the consumer stays in its group), waits (100 ms
 * doubling to 2 s) and calls on from the message that failed, or the
 * batch's end, until it goes through; then it commits and resumes
 * (event=pipeline.retrying once when the wait begins, pipeline.resumed with
 * how long and how many tries when it ends).
 *
 * A pipeline is used from one thread. */
#ifndef GB_KAFKA_H
#define GB_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdint.h>

#include "gb/config.h"

/**
 * Creates a producer: acks=all, enable.idempotence=true, linger.ms=5, then
 * the config's kafka.* pairs on top. Waits up to startup.timeout-ms for the
 * cluster to answer a metadata request.
 * @returns 0 and *out, or GB_EINVAL (bad property) / GB_EIO (unreachable)
 *          with the reason in errstr.
 */
int gb_kafka_producer_new(rd_kafka_t **out, const gb_config_t *cfg, char *errstr,
                          size_t errstr_size);

/**
 * Creates a consumer in `group`, subscribed to topics (ntopics of them):
 * enable.auto.commit=false, auto.offset.reset=earliest, then the kafka.*
 * pairs. Waits for the cluster like gb_kafka_producer_new, and checks that
 * every topic exists (a missing topic is a configuration error).
 */
int gb_kafka_consumer_new(rd_kafka_t **out, const gb_config_t *cfg, const char *group,
                          const char *const *topics, int ntopics, char *errstr,
                          size_t errstr_size);

/* Messages of producers made with gb_kafka_producer_new whose delivery
 * failed (each is also logged), for the process. Thread-safe. */
uint64_t gb_kafka_delivery_failures(void);

/* Waits up to timeout_ms until the brokers have acknowledged everything
 * produced so far. Returns 0 when they have and no delivery failed since
 * failures_before (gb_kafka_delivery_failures(), read before producing),
 * else GB_EIO: the caller must not count its messages as sent. */
int gb_kafka_flush_acked(rd_kafka_t *producer, uint64_t failures_before, int timeout_ms);

/**
 * Creates a reader of a whole topic: a consumer outside any group, assigned
 * every partition from the beginning, for state each worker needs in full
 * (the index feed). Offsets are never committed. *high gets a malloc'ed
 * array of each partition's high watermark at the start (free it), *npart
 * their count, so that the caller knows when it has caught up.
 * @returns 0, GB_EINVAL (a missing topic, a bad property) or GB_EIO.
 */
int gb_kafka_reader_new(rd_kafka_t **out, const gb_config_t *cfg, const char *topic,
                        int64_t **high, int *npart, char *errstr, size_t errstr_size);

/* Number of partitions of topic, or a negative GB_E* code. */
int gb_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms);

/* Value of the last header named `name` as a NUL-terminated copy in buf, or
 * NULL when absent. */
const char *gb_kafka_header(const rd_kafka_message_t *m, const char *name, char *buf,
                            size_t buf_size);

/* ---- pipeline ---- */
typedef struct gb_pipeline gb_pipeline_t;

/* Processes one input message; produce outputs with gb_pipeline_produce.
 * Return 0; GB_EAGAIN when a dependency is away: the same message comes
 * again after a wait (what it did before failing must be safe to do
 * again); or another negative code to stop the pipeline (a fatal error:
 * the batch is not committed and the service exits non-zero). */
typedef int (*gb_pipeline_msg_fn)(gb_pipeline_t *p, const rd_kafka_message_t *m, void *ud);
/* Called at the end of each batch, before the producer is flushed: a place
 * to produce what was packed across messages. GB_EAGAIN: called again
 * after a wait (the batch's messages are not processed again, so keep what
 * they gathered). May be NULL. */
typedef int (*gb_pipeline_batch_fn)(gb_pipeline_t *p, void *ud);

typedef struct {
  const char *group;
  const char *const *topics;
  int ntopics;
  gb_pipeline_msg_fn on_message;
  gb_pipeline_batch_fn on_batch_end;
  /* Called once per turn of the loop (at least every 100 ms), between
   * batches, also when no input came (not while a batch waits for a
   * retry): a place for housekeeping such as reloading configuration. May
   * be NULL. */
  void (*on_tick)(gb_pipeline_t *p, void *ud);
  void *ud;
} gb_pipeline_conf_t;

typedef struct {
  uint64_t in;            /* input messages processed */
  uint64_t out;           /* output messages acknowledged */
  uint64_t batches;       /* batches committed */
  uint64_t offset_resets; /* partitions reset because the offset was out of range */
  uint64_t commit_errors; /* failed offset commits (the input will be re-delivered) */
  int assigned;           /* partitions currently assigned */
} gb_pipeline_stats_t;

int gb_pipeline_new(gb_pipeline_t **out, const gb_config_t *cfg, const gb_pipeline_conf_t *conf,
                    char *errstr, size_t errstr_size);

/**
 * Queues an output message (value and key are copied). headers may be NULL;
 * ownership of headers passes to the pipeline in every case. partition may
 * be RD_KAFKA_PARTITION_UA to let the key decide.
 */
int gb_pipeline_produce(gb_pipeline_t *p, const char *topic, int32_t partition, const void *key,
                        size_t keylen, const void *value, size_t len, rd_kafka_headers_t *headers);

/* Like gb_pipeline_produce, but value is a malloc'ed buffer that the
 * pipeline takes over (freed once delivered, or at once on failure). */
int gb_pipeline_produce_owned(gb_pipeline_t *p, const char *topic, int32_t partition,
                              const void *key, size_t keylen, void *value, size_t len,
                              rd_kafka_headers_t *headers);

/**
 * Runs until *stop becomes non-zero (a signal handler sets it), then finishes
 * the batch in hand, commits and closes the consumer.
 * @returns 0 on a clean stop, or a negative code on a fatal error.
 */
int gb_pipeline_run(gb_pipeline_t *p, volatile sig_atomic_t *stop);

const gb_pipeline_stats_t *gb_pipeline_stats(const gb_pipeline_t *p);
/* Whether the batch in hand is being retried (a callback failed with
 * GB_EAGAIN before): callbacks log their failure once, not every try. */
int gb_pipeline_retrying(const gb_pipeline_t *p);
/* Partitions assigned now; safe to call from any thread. */
int gb_pipeline_assigned(const gb_pipeline_t *p);
rd_kafka_t *gb_pipeline_producer(gb_pipeline_t *p);
rd_kafka_t *gb_pipeline_consumer(gb_pipeline_t *p);

void gb_pipeline_free(gb_pipeline_t *p); /* NULL-safe; closes both handles */

#endif
