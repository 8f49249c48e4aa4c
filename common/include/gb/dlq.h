/* Dead letters: an input record that cannot be used goes to the dead-letter
 * topic unchanged (same key, same value, its original headers), with headers
 * that say why and where it came from:
 *   gb-reason     stable reason code (see gb_reject_t)
 *   gb-field      the offending field, when there is one
 *   gb-detail     the reason in words
 *   gb-topic, gb-partition, gb-offset   where the record was read
 *   gb-service    which service rejected it
 *   gb-index      the record's position in a batch message (0-based), when
 *                 the message held several records and only this one failed
 * A dead letter is produced through the pipeline, so its input is committed
 * only after the dead letter is acknowledged: nothing is lost. */
#ifndef GB_DLQ_H
#define GB_DLQ_H

#include "gb/jsonutil.h"
#include "gb/kafka.h"

/* Sends value (len bytes; the whole message when value is NULL) of message
 * m to topic with the reason r. index is the record's position in a batch,
 * or -1. Returns 0 or a negative code. */
int gb_dlq_send(gb_pipeline_t *p, const char *topic, const char *service,
                const rd_kafka_message_t *m, const void *value, size_t len, int index,
                const gb_reject_t *r);

/* The same, outside a pipeline (notifier's consumer): produces the whole
 * message to topic and waits up to timeout_ms for the brokers to have it,
 * so that the caller may then commit its offset. 0 or GB_EIO. */
int gb_dlq_send_sync(rd_kafka_t *producer, const char *topic, const char *service,
                     const rd_kafka_message_t *m, const gb_reject_t *r, int timeout_ms);

#endif
