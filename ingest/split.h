/* Splits one Kafka message into the records it carries, so that a batch
 * with one bad record keeps its good ones and each bad record can be
 * dead-lettered as its own bytes:
 *   JSON:     one object; an array of objects; or objects one after another
 *             (newline-delimited JSON; an object may span lines)
 *   protobuf: a *Batch message (field 1 repeated, length-delimited), each
 *             record's bytes handed on without being copied
 * The callback gets each record's bytes (a slice of the message) and its
 * 0-based index; for JSON also the parsed record (NULL with r filled when
 * the record is not valid JSON; otherwise any JSON type: see top_type). */
#ifndef INGEST_SPLIT_H
#define INGEST_SPLIT_H

#include <stddef.h>

#include "flat.h"
#include "gb/jsonutil.h"

/* Returns 0 to go on, or a negative code to stop (returned by the splitter). */
typedef int (*split_json_fn)(void *ud, const char *rec, size_t len, int index,
                             const flat_rec_t *value, const gb_reject_t *r);
typedef int (*split_proto_fn)(void *ud, const char *rec, size_t len, int index,
                              const gb_reject_t *r);

/* Sets *nrecords to the number of records handed to fn. scratch holds each
 * JSON record while fn runs. */
int split_json(const char *buf, size_t len, flat_rec_t *scratch, split_json_fn fn, void *ud,
               int *nrecords);
int split_proto_batch(const char *buf, size_t len, split_proto_fn fn, void *ud, int *nrecords);

#endif
