/* Packs canonical events bound for the same gb.events partition into one
 * EventBatch message. The partition of an event is chosen from its subject
 * with Kafka's murmur2 partitioner (the Java client's default), so every
 * event about one person lands in the same partition whichever client wrote
 * it. Used from the pipeline thread only. */
#ifndef INGEST_PACK_H
#define INGEST_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "gb/kafka.h"

struct Goldenbell__V1__Event;
typedef struct ingest_packer ingest_packer_t;

/* max_bytes: a packed message is sent once it would exceed this. */
int ingest_packer_new(ingest_packer_t **out, gb_pipeline_t *p, const char *topic, int nparts,
                      size_t max_bytes);
void ingest_packer_free(ingest_packer_t *pk); /* NULL-safe */

/* Adds one event; may produce a full packed message. */
int ingest_packer_add(ingest_packer_t *pk, const struct Goldenbell__V1__Event *ev);

/* Produces every partially filled message. */
int ingest_packer_flush(ingest_packer_t *pk);

/* Events added since start. */
uint64_t ingest_packer_events(const ingest_packer_t *pk);

#endif
