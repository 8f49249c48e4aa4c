#include "pack.h"

#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "goldenbell/v1/event.pb-c.h"

typedef struct {
  uint8_t *buf;
  size_t len, cap;
} pack_buf_t;

struct ingest_packer {
  gb_pipeline_t *p;
  rd_kafka_topic_t *rkt; /* only for the partitioner's signature */
  char *topic;
  pack_buf_t *parts;
  int nparts;
  size_t max_bytes;
  uint64_t events;
};

int ingest_packer_new(ingest_packer_t **out, gb_pipeline_t *p, const char *topic, int nparts,
                      size_t max_bytes) {
  ingest_packer_t *pk = calloc(1, sizeof(*pk));
  *out = NULL;
  if (!pk) return GB_ENOMEM;
  pk->p = p;
  pk->nparts = nparts;
  pk->max_bytes = max_bytes;
  pk->topic = strdup(topic);
  pk->parts = calloc((size_t)nparts, sizeof(*pk->parts));
  pk->rkt = rd_kafka_topic_new(gb_pipeline_producer(p), topic, NULL);
  if (!pk->topic || !pk->parts || !pk->rkt) {
    ingest_packer_free(pk);
    return GB_ENOMEM;
  }
  *out = pk;
  return 0;
}

void ingest_packer_free(ingest_packer_t *pk) {
  if (!pk) return;
  for (int i = 0; pk->parts && i < pk->nparts; i++) free(pk->parts[i].buf);
  free(pk->parts);
  if (pk->rkt) rd_kafka_topic_destroy(pk->rkt);
  free(pk->topic);
  free(pk);
}

static const char content_type[] = "application/x-protobuf; proto=goldenbell.v1.EventBatch";

static int send_part(ingest_packer_t *pk, int part) {
  pack_buf_t *b = &pk->parts[part];
  if (b->len == 0) return 0;
  rd_kafka_headers_t *h = rd_kafka_headers_new(1);
  rd_kafka_header_add(h, "content-type", -1, content_type, sizeof(content_type) - 1);
  /* librdkafka takes the buffer (and frees it once delivered): no copy of a
   * quarter megabyte per message. The next one starts at the same size. */
  uint8_t *full = b->buf;
  size_t len = b->len, cap = b->cap;
  b->buf = malloc(cap);
  b->cap = b->buf ? cap : 0;
  b->len = 0;
  return gb_pipeline_produce_owned(pk->p, pk->topic, part, NULL, 0, full, len, h);
}

static int reserve(pack_buf_t *b, size_t more) {
  if (b->len + more <= b->cap) return 0;
  size_t cap = b->cap ? b->cap * 2 : 4096;
  while (cap < b->len + more) cap *= 2;
  uint8_t *nb = realloc(b->buf, cap);
  if (!nb) return GB_ENOMEM;
  b->buf = nb;
  b->cap = cap;
  return 0;
}

static size_t put_varint(uint8_t *out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  out[n++] = (uint8_t)v;
  return n;
}

int ingest_packer_add(ingest_packer_t *pk, const Goldenbell__V1__Event *ev) {
  size_t sz = goldenbell__v1__event__get_packed_size(ev);
  int32_t part = rd_kafka_msg_partitioner_murmur2(pk->rkt, ev->subject, strlen(ev->subject),
                                                  pk->nparts, NULL, NULL);
  pack_buf_t *b = &pk->parts[part];
  /* An EventBatch is its events, each as field 1 (length-delimited):
   * packing each event straight into its partition's buffer builds the
   * batch without a second copy. */
  size_t need = 1 + 10 + sz;
  int err;
  if (b->len > 0 && b->len + need > pk->max_bytes && (err = send_part(pk, part)) != 0) return err;
  if ((err = reserve(b, need)) != 0) return err;
  b->buf[b->len++] = 0x0a; /* field 1, wire type 2 */
  b->len += put_varint(b->buf + b->len, sz);
  b->len += goldenbell__v1__event__pack(ev, b->buf + b->len);
  pk->events++;
  return 0;
}

int ingest_packer_flush(ingest_packer_t *pk) {
  for (int i = 0; i < pk->nparts; i++) {
    int err = send_part(pk, i);
    if (err) return err;
  }
  return 0;
}

uint64_t ingest_packer_events(const ingest_packer_t *pk) { return pk->events; }
