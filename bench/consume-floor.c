/* consume-floor: reads a topic from the beginning to its end with plain
 * librdkafka (no group, no processing) and reports how fast: the floor any
 * consuming service is measured against, on the same data in the same run.
 *
 *   consume-floor -b BOOTSTRAP -t TOPIC [-X key=value]...
 *
 * Records are counted as ingest counts them: the elements of a JSON array
 * or the lines of newline-delimited JSON, or the field-1 entries of a
 * protobuf *Batch message (content-type header decides). Prints one line:
 *   messages=N records=N bytes=N seconds=S records_per_s=R cpu_s=C */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t count_proto(const uint8_t *p, size_t len) {
  uint64_t n = 0;
  size_t off = 0;
  while (off < len) {
    uint64_t tag = 0, v = 0;
    int shift = 0;
    while (off < len) {
      tag |= (uint64_t)(p[off] & 0x7f) << shift;
      shift += 7;
      if (!(p[off++] & 0x80)) break;
    }
    if ((tag & 7) != 2) return n; /* the batches carry only field 1 */
    shift = 0;
    while (off < len) {
      v |= (uint64_t)(p[off] & 0x7f) << shift;
      shift += 7;
      if (!(p[off++] & 0x80)) break;
    }
    off += v;
    n++;
  }
  return n;
}

static uint64_t count_json(const char *p, size_t len) {
  uint64_t n = 0;
  int line_has = 0;
  for (size_t i = 0; i < len; i++) {
    if (p[i] == '\n') {
      n += line_has;
      line_has = 0;
    } else if (p[i] != ' ' && p[i] != '\r' && p[i] != '\t') {
      line_has = 1;
    }
  }
  return n + line_has;
}

int main(int argc, char **argv) {
  const char *bootstrap = NULL, *topic = NULL;
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "fetch.max.bytes", "52428800", NULL, 0);
  rd_kafka_conf_set(conf, "queued.max.messages.kbytes", "1048576", NULL, 0);
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-b")) bootstrap = argv[i + 1];
    else if (!strcmp(argv[i], "-t")) topic = argv[i + 1];
    else if (!strcmp(argv[i], "-X")) {
      char *kv = strdup(argv[i + 1]), *eq = strchr(kv, '=');
      if (!eq || rd_kafka_conf_set(conf, kv, (*eq = 0, eq + 1), errstr, sizeof(errstr))) {
        fprintf(stderr, "consume-floor: -X %s: %s\n", argv[i + 1], eq ? errstr : "want key=value");
        return 2;
      }
      free(kv);
    }
  }
  if (!bootstrap || !topic) {
    fprintf(stderr, "usage: consume-floor -b BOOTSTRAP -t TOPIC [-X key=value]...\n");
    return 2;
  }
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
  rd_kafka_conf_set(conf, "group.id", "consume-floor", NULL, 0); /* required; no commits */
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (!rk) {
    fprintf(stderr, "consume-floor: %s\n", errstr);
    return 1;
  }
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  const struct rd_kafka_metadata *md;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1 || md->topics[0].err) {
    fprintf(stderr, "consume-floor: no metadata for %s\n", topic);
    return 1;
  }
  int np = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(np);
  int64_t *end = calloc((size_t)np, sizeof(*end));
  int remaining = 0;
  for (int p = 0; p < np; p++) {
    int64_t lo, hi;
    if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000)) return 1;
    end[p] = hi;
    if (hi > lo) {
      rd_kafka_topic_partition_list_add(parts, topic, p)->offset = lo;
      remaining++;
    }
  }
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  uint64_t msgs = 0, recs = 0, bytes = 0;
  double t0 = 0, c0 = 0;
  while (remaining > 0) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
    if (!m) continue;
    if (m->err) {
      rd_kafka_message_destroy(m);
      continue;
    }
    if (msgs == 0) t0 = now_s(), c0 = cpu_s();
    msgs++;
    bytes += m->len;
    rd_kafka_headers_t *h;
    const void *ct = NULL;
    size_t ctl = 0;
    int proto = rd_kafka_message_headers(m, &h) == 0 &&
                rd_kafka_header_get_last(h, "content-type", &ct, &ctl) == 0 && ctl >= 22 &&
                memcmp(ct, "application/x-protobuf", 22) == 0;
    recs += proto ? count_proto(m->payload, m->len) : count_json(m->payload, m->len);
    if (m->offset + 1 >= end[m->partition]) remaining--;
    rd_kafka_message_destroy(m);
  }
  double secs = now_s() - t0, cpu = cpu_s() - c0;
  printf("messages=%llu records=%llu bytes=%llu seconds=%.3f records_per_s=%.0f cpu_s=%.3f\n",
         (unsigned long long)msgs, (unsigned long long)recs, (unsigned long long)bytes, secs,
         secs > 0 ? (double)recs / secs : 0.0, cpu);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  free(end);
  return 0;
}
