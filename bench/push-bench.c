/* push-bench: notifier's push latency, from an alert produced to gb.alerts
 * to its arrival on every connected device of its station.
 *
 *   push-bench -b BOOTSTRAP -t TOPIC --port HTTP_PORT --tokens FILE
 *              [--host 127.0.0.1] [--rate 1000] [--duration 30]
 *              [--linger-ms 5] [--drain-s 30] [--connect-s 60] [--timeline 0|1]
 *
 * FILE holds one device a line, "<station> <token>" (the harness,
 * bench/notifier_bench.sh, binds them). Every line becomes one device: a
 * connection to GET /v1/stream?station=<station> with the token, read as
 * Server-Sent Events on one libuv loop (this thread). Once every device has
 * its 200, a producer thread writes rate*duration goldenbell.v1.Alert
 * messages to TOPIC at a steady rate, keyed by station id, round robin over
 * the stations of FILE (alert i goes to station i mod S). Each alert is
 * as matcher makes it: version 1, revision 1, risk MEDIUM or HIGH, a
 * subject, one protector, one call event, a short evidence string; its id
 * is lowercase hex: 8 digits of a run nonce, then the alert's sequence
 * number (8 digits). The time of each produce call is kept in a table by
 * sequence number (CLOCK_MONOTONIC, this process reads both ends).
 *
 * For every "event: alert" a device receives, it takes the alert id from
 * the data line and records arrival minus produce time. At the end (every
 * expected delivery in, or drain-s after the last alert was acknowledged)
 * it prints:
 *   - latency per delivery (device, alert): p50, p90, p99, max in ms;
 *   - latency to every device of the station (per alert, its last
 *     device's arrival): p50, p90, p99, max;
 *   - deliveries expected (each device of a station gets each alert of its
 *     station once), received, missing, duplicates, foreign (another
 *     station's alert), other events, devices disconnected;
 *   - the producer: alerts produced, how far behind schedule it fell at
 *     most, produce-to-acknowledgement p50/p99 (the broker's share);
 *   - with --timeline 1, per second of sending: alerts, latency to every
 *     device p50/p99/max and produce-to-acknowledgement p50.
 *
 * The producer uses matcher's producer settings (acks=all, idempotence,
 * lz4, linger.ms 5), so the figures include what a real alert spends in
 * the producer before it is on the topic.
 *
 * Exit status: 0 every delivery exactly once; 1 some missing, duplicated
 * or foreign; 2 usage or set-up failure (a device not connected, Kafka). */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "goldenbell/v1/alert.pb-c.h"

#define MAX_CONNECTING 64

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("push-bench: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) die("out of memory");
  return p;
}

/* ---- the run ---- */

typedef struct {
  char *name;
  int ndevices;
} station_t;

typedef enum { DEV_IDLE, DEV_CONNECTING, DEV_HEADERS, DEV_STREAMING, DEV_CLOSED } dev_state_t;

typedef struct device {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  char *request;
  int station;
  dev_state_t state;
  char *buf;
  size_t len, cap;
  char event[32];
  int64_t seq; /* alert of the current event's data line, -1 none, -2 not ours */
  uint8_t *got; /* per alert of the station (index seq / nstations): times received */
} device_t;

static struct {
  /* options */
  const char *bootstrap, *topic, *host, *tokens;
  int port, rate, duration, linger_ms, drain_s, connect_s, timeline;
  /* stations and devices */
  station_t *st;
  int nst;
  device_t *dev;
  int ndev;
  /* alerts: produce and acknowledgement times (producer thread writes,
   * loop thread reads after the alert has come back through the broker) */
  int64_t nalerts, per_station;
  int64_t *t_send, *t_ack;
  int64_t *t_last; /* loop thread: latest arrival of the alert */
  int32_t *arrivals;
  uint32_t nonce;
  char nonce_hex[9];
  /* loop state */
  uv_loop_t *loop;
  uv_async_t produced;
  uv_timer_t deadline;
  int next_connect, connecting, connected;
  bool producing, producer_done;
  int64_t t_start_ns, t_produced_ns;
  /* results */
  int64_t expected, received, dups, foreign, other_events, unknown_ids, disconnects;
  int32_t *lat_us;      /* per delivery */
  int64_t nlat;
  int32_t *alert_lat_us; /* per alert, to its station's last device */
  int64_t nalert_lat;
  /* producer thread results */
  int64_t produced_n, delivery_failures, max_behind_ns;
  uv_thread_t producer;
  int exit_code;
} B;

/* ---- tokens file ---- */

static int station_index(const char *name) {
  for (int i = 0; i < B.nst; i++)
    if (!strcmp(B.st[i].name, name)) return i;
  return -1;
}

static void read_tokens(void) {
  FILE *f = fopen(B.tokens, "r");
  if (!f) die("--tokens %s: %s", B.tokens, strerror(errno));
  char line[1024];
  int cap = 0;
  int stcap = 0;
  while (fgets(line, sizeof(line), f)) {
    char station[128], token[512];
    if (line[0] == '#' || line[0] == '\n') continue;
    if (sscanf(line, "%127s %511s", station, token) != 2) die("--tokens: bad line: %s", line);
    int s = station_index(station);
    if (s < 0) {
      if (B.nst == stcap) {
        stcap = stcap ? stcap * 2 : 64;
        B.st = realloc(B.st, (size_t)stcap * sizeof(*B.st));
        if (!B.st) die("out of memory");
      }
      s = B.nst++;
      B.st[s].name = strdup(station);
      B.st[s].ndevices = 0;
    }
    if (B.ndev == cap) {
      cap = cap ? cap * 2 : 1024;
      B.dev = realloc(B.dev, (size_t)cap * sizeof(*B.dev));
      if (!B.dev) die("out of memory");
    }
    device_t *d = &B.dev[B.ndev++];
    memset(d, 0, sizeof(*d));
    d->station = s;
    B.st[s].ndevices++;
    size_t rlen = strlen(station) + strlen(token) + strlen(B.host) + 256;
    d->request = xcalloc(1, rlen);
    snprintf(d->request, rlen,
             "GET /v1/stream?station=%s HTTP/1.1\r\nHost: %s:%d\r\n"
             "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
             station, B.host, B.port, token);
  }
  fclose(f);
  if (B.ndev == 0) die("--tokens %s: no devices", B.tokens);
}

/* ---- results ---- */

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* Nearest rank of a sorted array, in ms. */
static double pct(const int32_t *v, int64_t n, double p) {
  if (n == 0) return 0;
  int64_t k = (int64_t)(p / 100.0 * (double)n + 0.999999999);
  if (k < 1) k = 1;
  if (k > n) k = n;
  return v[k - 1] / 1000.0;
}

static void print_dist(const char *what, int32_t *v, int64_t n) {
  qsort(v, (size_t)n, sizeof(*v), cmp_i32);
  printf("  %s (ms, %" PRId64 " samples): p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", what, n,
         pct(v, n, 50), pct(v, n, 90), pct(v, n, 99), n ? v[n - 1] / 1000.0 : 0.0);
}

/* Per second of sending: alerts, latency to every device of the station
 * (p50, p99, max) and produce -> ack p50, to show where in the run the
 * time went. */
static void print_timeline(void) {
  int32_t *all = xcalloc((size_t)B.rate, sizeof(*all)), *ack = xcalloc((size_t)B.rate, sizeof(*ack));
  printf("  timeline (second of sending: alerts, to every device p50/p99/max ms, ack p50 ms):\n");
  for (int64_t b = 0; b * B.rate < B.nalerts; b++) {
    int64_t na = 0, nk = 0;
    for (int64_t i = b * B.rate; i < (b + 1) * B.rate && i < B.nalerts; i++) {
      int64_t s = __atomic_load_n(&B.t_send[i], __ATOMIC_ACQUIRE);
      int64_t a = __atomic_load_n(&B.t_ack[i], __ATOMIC_ACQUIRE);
      if (s && B.arrivals[i] == B.st[i % B.nst].ndevices) all[na++] = (int32_t)((B.t_last[i] - s) / 1000);
      if (s && a) ack[nk++] = (int32_t)((a - s) / 1000);
    }
    qsort(all, (size_t)na, sizeof(*all), cmp_i32);
    qsort(ack, (size_t)nk, sizeof(*ack), cmp_i32);
    printf("    %3" PRId64 " s: %5" PRId64 "  %7.1f %7.1f %7.1f  %7.1f\n", b, na, pct(all, na, 50),
           pct(all, na, 99), na ? all[na - 1] / 1000.0 : 0.0, pct(ack, nk, 50));
  }
  free(all);
  free(ack);
}

static void report(void) {
  int64_t acked = 0;
  int32_t *ack_us = xcalloc((size_t)B.nalerts, sizeof(*ack_us));
  for (int64_t i = 0; i < B.nalerts; i++) {
    int64_t s = __atomic_load_n(&B.t_send[i], __ATOMIC_ACQUIRE);
    int64_t a = __atomic_load_n(&B.t_ack[i], __ATOMIC_ACQUIRE);
    if (s && a) ack_us[acked++] = (int32_t)((a - s) / 1000);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
               ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
  double secs = (double)(B.t_produced_ns - B.t_start_ns) / 1e9;
  printf("push-bench devices=%d stations=%d rate=%d/s duration=%d s alerts=%" PRId64 "\n", B.ndev,
         B.nst, B.rate, B.duration, B.nalerts);
  printf("  producer: %" PRId64 " alerts in %.2f s (%.1f/s), at most %.1f ms behind schedule, "
         "%" PRId64 " delivery failures\n",
         B.produced_n, secs, secs > 0 ? (double)B.produced_n / secs : 0.0,
         (double)B.max_behind_ns / 1e6, B.delivery_failures);
  print_dist("produce -> broker ack", ack_us, acked);
  int64_t missing = B.expected - (B.received - B.dups);
  printf("  deliveries: expected %" PRId64 " received %" PRId64 " missing %" PRId64
         " duplicates %" PRId64 " foreign %" PRId64 " unknown_ids %" PRId64
         " other_events %" PRId64 " disconnects %" PRId64 "\n",
         B.expected, B.received - B.dups, missing, B.dups, B.foreign, B.unknown_ids,
         B.other_events, B.disconnects);
  print_dist("latency per delivery, produce -> device", B.lat_us, B.nlat);
  print_dist("latency to every device of the station", B.alert_lat_us, B.nalert_lat);
  printf("  push-bench CPU: %.2f s (user %.2f, sys %.2f)\n", cpu,
         (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
  free(ack_us);
  if (B.timeline) print_timeline();
  B.exit_code = (missing || B.dups || B.foreign) ? 1 : 0;
  if (B.exit_code) printf("  FAILED: not every delivery arrived exactly once\n");
}

static void finish(void) {
  uv_stop(B.loop);
}

static void check_done(void) {
  if (B.producer_done && B.received - B.dups >= B.expected) finish();
}

/* ---- SSE parsing ---- */

/* Parses "<nonce 8 hex><seq 8 hex>" after "alert_id":" in a data line. */
static int64_t alert_seq(const char *line, size_t len) {
  static const char key[] = "\"alert_id\":\"";
  const char *p = memmem(line, len, key, sizeof(key) - 1);
  if (!p) return -1;
  p += sizeof(key) - 1;
  const char *end = line + len;
  if (end - p < 17 || p[16] != '"' || memcmp(p, B.nonce_hex, 8) != 0) return -2;
  int64_t seq = 0;
  for (int i = 8; i < 16; i++) {
    char c = p[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return -2;
    seq = seq * 16 + v;
  }
  return seq < B.nalerts ? seq : -2;
}

static void dispatch(device_t *d, int64_t now) {
  if (!d->event[0]) return; /* a comment or keepalive block */
  if (strcmp(d->event, "alert") != 0) {
    B.other_events++;
  } else if (d->seq == -2 || d->seq == -1) {
    B.unknown_ids++;
  } else {
    int64_t seq = d->seq;
    if (seq % B.nst != d->station) {
      B.foreign++;
    } else {
      B.received++;
      int64_t k = seq / B.nst;
      if (d->got[k]++ > 0) {
        B.dups++;
      } else {
        int64_t sent = __atomic_load_n(&B.t_send[seq], __ATOMIC_ACQUIRE);
        int64_t us = (now - sent) / 1000;
        B.lat_us[B.nlat++] = (int32_t)(us > INT32_MAX ? INT32_MAX : us);
        if (now > B.t_last[seq]) B.t_last[seq] = now;
        if (++B.arrivals[seq] == B.st[d->station].ndevices) {
          int64_t all = (B.t_last[seq] - sent) / 1000;
          B.alert_lat_us[B.nalert_lat++] = (int32_t)(all > INT32_MAX ? INT32_MAX : all);
        }
      }
    }
  }
  d->event[0] = '\0';
  d->seq = -1;
}

static void on_line(device_t *d, const char *line, size_t len, int64_t now) {
  if (len && line[len - 1] == '\r') len--;
  if (len == 0) {
    dispatch(d, now);
  } else if (line[0] == ':') {
    /* comment (keepalive) */
  } else if (len > 7 && !memcmp(line, "event: ", 7)) {
    size_t n = len - 7 < sizeof(d->event) - 1 ? len - 7 : sizeof(d->event) - 1;
    memcpy(d->event, line + 7, n);
    d->event[n] = '\0';
  } else if (len > 6 && !memcmp(line, "data: ", 6)) {
    if (d->seq == -1) d->seq = alert_seq(line, len);
  }
}

static void on_close_dev(uv_handle_t *h) { (void)h; }

static void connect_more(void);

static void dev_fail(device_t *d, const char *why) {
  if (d->state == DEV_CLOSED) return;
  bool was_streaming = d->state == DEV_STREAMING;
  d->state = DEV_CLOSED;
  uv_close((uv_handle_t *)&d->tcp, on_close_dev);
  if (!B.producing) {
    fprintf(stderr, "push-bench: device %d (station %s): %s\n", (int)(d - B.dev),
            B.st[d->station].name, why);
    B.exit_code = 2;
    finish();
    return;
  }
  if (was_streaming) B.disconnects++;
  fprintf(stderr, "push-bench: device %d (station %s) lost: %s\n", (int)(d - B.dev),
          B.st[d->station].name, why);
}

static void start_producer(void);

static void on_headers(device_t *d) {
  char *end = memmem(d->buf, d->len, "\r\n\r\n", 4);
  if (!end) return;
  if (d->len < 12 || memcmp(d->buf, "HTTP/1.1 200", 12) != 0) {
    char status[64];
    size_t n = strcspn(d->buf, "\r\n");
    snprintf(status, sizeof(status), "%.*s", (int)(n < 63 ? n : 63), d->buf);
    dev_fail(d, status);
    return;
  }
  size_t hlen = (size_t)(end - d->buf) + 4;
  memmove(d->buf, d->buf + hlen, d->len - hlen);
  d->len -= hlen;
  d->state = DEV_STREAMING;
  B.connecting--;
  B.connected++;
  if (B.connected == B.ndev) start_producer();
  else connect_more();
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out) {
  device_t *d = h->data;
  (void)suggested;
  if (d->cap - d->len < 16384) {
    d->cap = d->cap ? d->cap * 2 : 32768;
    d->buf = realloc(d->buf, d->cap);
    if (!d->buf) die("out of memory");
  }
  out->base = d->buf + d->len;
  out->len = d->cap - d->len - 1;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  device_t *d = s->data;
  (void)buf;
  if (nread < 0) {
    dev_fail(d, nread == UV_EOF ? "the server closed the stream" : uv_strerror((int)nread));
    return;
  }
  if (nread == 0) return;
  int64_t now = mono_ns();
  d->len += (size_t)nread;
  d->buf[d->len] = '\0';
  if (d->state == DEV_HEADERS) {
    on_headers(d);
    if (d->state != DEV_STREAMING) return;
  }
  size_t start = 0;
  for (;;) {
    char *nl = memchr(d->buf + start, '\n', d->len - start);
    if (!nl) break;
    size_t end = (size_t)(nl - d->buf);
    on_line(d, d->buf + start, end - start, now);
    start = end + 1;
  }
  if (start) {
    memmove(d->buf, d->buf + start, d->len - start);
    d->len -= start;
  }
  check_done();
}

static void on_written(uv_write_t *w, int status) {
  device_t *d = w->data;
  if (status) dev_fail(d, uv_strerror(status));
}

static void on_connected(uv_connect_t *c, int status) {
  device_t *d = c->data;
  if (status) {
    dev_fail(d, uv_strerror(status));
    return;
  }
  d->state = DEV_HEADERS;
  uv_buf_t b = uv_buf_init(d->request, (unsigned)strlen(d->request));
  d->write.data = d;
  int e = uv_write(&d->write, (uv_stream_t *)&d->tcp, &b, 1, on_written);
  if (e == 0) e = uv_read_start((uv_stream_t *)&d->tcp, on_alloc, on_read);
  if (e) dev_fail(d, uv_strerror(e));
}

static void connect_more(void) {
  struct sockaddr_in addr;
  if (uv_ip4_addr(B.host, B.port, &addr) != 0) die("--host %s: not an IPv4 address", B.host);
  while (B.connecting < MAX_CONNECTING && B.next_connect < B.ndev) {
    device_t *d = &B.dev[B.next_connect++];
    uv_tcp_init(B.loop, &d->tcp);
    d->tcp.data = d;
    d->connect.data = d;
    d->seq = -1;
    d->state = DEV_CONNECTING;
    d->got = xcalloc((size_t)B.per_station, 1);
    B.connecting++;
    int e = uv_tcp_connect(&d->connect, &d->tcp, (const struct sockaddr *)&addr, on_connected);
    if (e) {
      B.connecting--;
      dev_fail(d, uv_strerror(e));
      return;
    }
  }
}

/* ---- the producer thread ---- */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk, (void)opaque;
  int64_t seq = (int64_t)(intptr_t)m->_private;
  if (m->err) {
    B.delivery_failures++;
    return;
  }
  __atomic_store_n(&B.t_ack[seq], mono_ns(), __ATOMIC_RELEASE);
}

static rd_kafka_t *make_producer(void) {
  char err[512], linger[16];
  snprintf(linger, sizeof(linger), "%d", B.linger_ms);
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  const char *kv[] = {"bootstrap.servers", B.bootstrap, "acks", "all", "enable.idempotence",
                      "true", "linger.ms", linger, "compression.type", "lz4", NULL};
  for (int i = 0; kv[i]; i += 2)
    if (rd_kafka_conf_set(c, kv[i], kv[i + 1], err, sizeof(err)) != RD_KAFKA_CONF_OK)
      die("kafka: %s", err);
  rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
  if (!rk) die("kafka: %s", err);
  /* A long-running producer (matcher) knows the topic's leaders already:
   * learn them now, not on the first alert. */
  rd_kafka_topic_t *t = rd_kafka_topic_new(rk, B.topic, NULL);
  const struct rd_kafka_metadata *md;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 10000);
  if (e) die("kafka: metadata of %s: %s", B.topic, rd_kafka_err2str(e));
  if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt <= 0)
    die("kafka: no topic %s", B.topic);
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  return rk;
}

static void produce_one(rd_kafka_t *rk, int64_t seq) {
  const char *station = B.st[seq % B.nst].name;
  char id[32], subject[24], eid[96], call_id[24], evidence[128];
  snprintf(id, sizeof(id), "%s%08x", B.nonce_hex, (unsigned)seq);
  snprintf(subject, sizeof(subject), "+%lld", 8613800000000LL + (long long)seq);
  snprintf(call_id, sizeof(call_id), "pb-%" PRId64, seq);
  snprintf(eid, sizeof(eid), "call:CMCC:%s:%s:312", call_id, subject);
  snprintf(evidence, sizeof(evidence),
           "on a call with fraud number +8617000000001 for 5 min 12 s, ongoing, carrier CMCC");
  int64_t now = wall_ms();

  Goldenbell__V1__CallView call = GOLDENBELL__V1__CALL_VIEW__INIT;
  call.call_id = call_id;
  call.counterpart = "+8617000000001";
  call.counterpart_class = GOLDENBELL__V1__NUMBER_CLASS__NUMBER_CLASS_MOBILE;
  call.start_ms = now - 312000;
  call.duration_s = 312;
  call.status = GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_ONGOING;
  call.carrier = "CMCC";
  Goldenbell__V1__Event ev = GOLDENBELL__V1__EVENT__INIT;
  ev.version = 1;
  ev.event_id = eid;
  ev.subject = subject;
  ev.ts_ms = now;
  ev.body_case = GOLDENBELL__V1__EVENT__BODY_CALL;
  ev.call = &call;
  Goldenbell__V1__Event *evs[] = {&ev};
  Goldenbell__V1__Protector prot = GOLDENBELL__V1__PROTECTOR__INIT;
  prot.registrant = subject;
  prot.station_id = (char *)station;
  prot.relation = "self";
  prot.following = true;
  Goldenbell__V1__Protector *prots[] = {&prot};

  Goldenbell__V1__Alert a = GOLDENBELL__V1__ALERT__INIT;
  a.version = 1;
  a.alert_id = id;
  a.station_id = (char *)station;
  a.subject = subject;
  a.risk = seq % 2 ? GOLDENBELL__V1__RISK__RISK_HIGH : GOLDENBELL__V1__RISK__RISK_MEDIUM;
  a.rule = GOLDENBELL__V1__RULE__RULE_LONG_FRAUD_CALL;
  a.evidence = evidence;
  a.n_events = 1;
  a.events = evs;
  a.n_protectors = 1;
  a.protectors = prots;
  a.created_ms = now;
  a.updated_ms = now;
  a.count = 1;
  a.revision = 1;
  size_t len = goldenbell__v1__alert__get_packed_size(&a);
  uint8_t *buf = malloc(len);
  if (!buf) die("out of memory");
  goldenbell__v1__alert__pack(&a, buf);

  __atomic_store_n(&B.t_send[seq], mono_ns(), __ATOMIC_RELEASE);
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(B.topic), RD_KAFKA_V_KEY(station, strlen(station)),
        RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
        RD_KAFKA_V_OPAQUE((void *)(intptr_t)seq),
        RD_KAFKA_V_HEADER("content-type", "application/x-protobuf; proto=goldenbell.v1.Alert",
                          -1),
        RD_KAFKA_V_END);
    if (!e) return;
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce: %s", rd_kafka_err2str(e));
    rd_kafka_poll(rk, 10);
  }
}

static void producer_main(void *arg) {
  rd_kafka_t *rk = arg;
  int64_t period = 1000000000 / B.rate;
  int64_t t0 = mono_ns();
  B.t_start_ns = t0;
  for (int64_t i = 0; i < B.nalerts; i++) {
    int64_t target = t0 + i * period + (i * (1000000000 % B.rate)) / B.rate;
    int64_t now = mono_ns();
    /* Pacing, not synchronisation: wait for this alert's slot. */
    if (now < target) {
      struct timespec ts = {(time_t)(target / 1000000000), (long)(target % 1000000000)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
      }
    } else if (now - target > B.max_behind_ns) {
      B.max_behind_ns = now - target;
    }
    produce_one(rk, i);
    B.produced_n++;
    rd_kafka_poll(rk, 0);
  }
  B.t_produced_ns = mono_ns();
  if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    fprintf(stderr, "push-bench: the producer could not flush in 60 s\n");
  rd_kafka_destroy(rk);
  uv_async_send(&B.produced);
}

static void on_deadline(uv_timer_t *t) {
  (void)t;
  fprintf(stderr, "push-bench: drain time (%d s) over; %" PRId64 " of %" PRId64
                  " deliveries in\n",
          B.drain_s, B.received - B.dups, B.expected);
  finish();
}

static void on_connect_deadline(uv_timer_t *t) {
  (void)t;
  if (B.producing) return;
  fprintf(stderr, "push-bench: only %d of %d devices connected in %d s\n", B.connected, B.ndev,
          B.connect_s);
  B.exit_code = 2;
  finish();
}

static void on_produced(uv_async_t *a) {
  (void)a;
  B.producer_done = true;
  uv_timer_stop(&B.deadline);
  uv_timer_start(&B.deadline, on_deadline, (uint64_t)B.drain_s * 1000, 0);
  check_done();
}

static rd_kafka_t *B_rk;

static void start_producer(void) {
  B.producing = true;
  uv_timer_stop(&B.deadline);
  fprintf(stderr, "push-bench: %d devices connected; producing %" PRId64 " alerts at %d/s\n",
          B.ndev, B.nalerts, B.rate);
  if (uv_thread_create(&B.producer, producer_main, B_rk) != 0) die("cannot start the producer");
}

int main(int argc, char **argv) {
  B.host = "127.0.0.1";
  B.rate = 1000;
  B.duration = 30;
  B.linger_ms = 5;
  B.drain_s = 30;
  B.connect_s = 60;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      puts("usage: push-bench -b BOOTSTRAP -t TOPIC --port HTTP_PORT --tokens FILE\n"
           "                  [--host 127.0.0.1] [--rate 1000] [--duration 30] [--linger-ms 5]\n"
           "                  [--drain-s 30] [--connect-s 60] [--timeline 0|1]\n"
           "(the header of bench/push-bench.c says more)");
      return 0;
    }
    if (i + 1 >= argc) die("%s needs a value", a);
    const char *v = argv[++i];
    if (!strcmp(a, "-b")) B.bootstrap = v;
    else if (!strcmp(a, "-t")) B.topic = v;
    else if (!strcmp(a, "--host")) B.host = v;
    else if (!strcmp(a, "--port")) B.port = atoi(v);
    else if (!strcmp(a, "--tokens")) B.tokens = v;
    else if (!strcmp(a, "--rate")) B.rate = atoi(v);
    else if (!strcmp(a, "--duration")) B.duration = atoi(v);
    else if (!strcmp(a, "--linger-ms")) B.linger_ms = atoi(v);
    else if (!strcmp(a, "--drain-s")) B.drain_s = atoi(v);
    else if (!strcmp(a, "--connect-s")) B.connect_s = atoi(v);
    else if (!strcmp(a, "--timeline")) B.timeline = atoi(v);
    else die("unknown option %s (--help)", a);
  }
  if (!B.bootstrap || !B.topic || !B.tokens || B.port <= 0 || B.port > 65535)
    die("-b, -t, --port and --tokens are required (--help)");
  if (B.rate <= 0 || B.duration <= 0 || B.linger_ms < 0 || B.drain_s <= 0 || B.connect_s <= 0)
    die("--rate, --duration, --drain-s and --connect-s must be positive");
  read_tokens();

  B.nalerts = (int64_t)B.rate * B.duration;
  if (B.nalerts > 0xffffffffLL) die("too many alerts");
  B.per_station = (B.nalerts + B.nst - 1) / B.nst;
  B.t_send = xcalloc((size_t)B.nalerts, sizeof(int64_t));
  B.t_ack = xcalloc((size_t)B.nalerts, sizeof(int64_t));
  B.t_last = xcalloc((size_t)B.nalerts, sizeof(int64_t));
  B.arrivals = xcalloc((size_t)B.nalerts, sizeof(int32_t));
  B.alert_lat_us = xcalloc((size_t)B.nalerts, sizeof(int32_t));
  for (int64_t i = 0; i < B.nalerts; i++) B.expected += B.st[i % B.nst].ndevices;
  B.lat_us = xcalloc((size_t)B.expected, sizeof(int32_t));
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  B.nonce = (uint32_t)(ts.tv_nsec ^ (ts.tv_sec << 12) ^ ((uint32_t)getpid() << 20));
  snprintf(B.nonce_hex, sizeof(B.nonce_hex), "%08x", B.nonce);

  /* The producer connects while the devices do. */
  B_rk = make_producer();
  B.loop = uv_default_loop();
  uv_async_init(B.loop, &B.produced, on_produced);
  uv_timer_init(B.loop, &B.deadline);
  uv_timer_start(&B.deadline, on_connect_deadline, (uint64_t)B.connect_s * 1000, 0);
  connect_more();
  uv_run(B.loop, UV_RUN_DEFAULT);
  if (B.exit_code == 2) return 2;
  if (B.producing && !B.producer_done) die("stopped before the producer finished");
  uv_thread_join(&B.producer);
  report();
  fflush(stdout);
  return B.exit_code;
}
