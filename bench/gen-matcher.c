/* gen-matcher: the data of the matcher benchmark, produced straight to Kafka.
 *
 *   gen-matcher index  -b BOOTSTRAP -t TOPIC --hash-key-file F
 *                      [--protected N] [--indicators M]
 *   gen-matcher events -b BOOTSTRAP -t TOPIC --hash-key-file F -n N
 *                      [--batch B] [--protected N] [--real K] [--fraud F]
 *                      [--share S] [--intl I] [--fraud-pool R]
 *   gen-matcher one    -b BOOTSTRAP -t TOPIC --value E164
 *
 * index: N protected-number entries (+8613 and 9 digits) and M phone
 *   indicators (+86170 and 8 digits) as gb.index messages, as matcher's
 *   own feed writes them (keyed hashes and tags under the key in F).
 * events: N canonical call events in goldenbell.v1.EventBatch messages of B
 *   events, one partition's events per message. A share F (default 0.001)
 *   touch a fraud number (one of the first R indicators, default 1000) and
 *   concern one of K really registered people (+86150 and 8 digits, default
 *   10000), so each is a candidate all the way to Redis; a share S (default
 *   0.01) of the rest concern a protected number, I (0.01) of all are
 *   incoming international calls; the rest concern nobody.
 * one: one indicator entry, printed with the time it was acknowledged (ms),
 *   to time how soon matchers see a change. */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gb/indexfeed.h"
#include "gb/numkey.h"
#include "goldenbell/v1/event.pb-c.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}
static double rnd01(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what) {
  fprintf(stderr, "gen-matcher: %s\n", what);
  exit(1);
}

static rd_kafka_t *producer(const char *bootstrap) {
  char err[512];
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  const char *kv[] = {"bootstrap.servers", bootstrap, "linger.ms", "50", "batch.size", "1000000",
                      "compression.type", "lz4", "queue.buffering.max.kbytes", "1048576",
                      "message.max.bytes", "16000000", NULL};
  for (int i = 0; kv[i]; i += 2)
    if (rd_kafka_conf_set(c, kv[i], kv[i + 1], err, sizeof(err)) != RD_KAFKA_CONF_OK) die(err);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
  if (!rk) die(err);
  return rk;
}

static void produce(rd_kafka_t *rk, const char *topic, int32_t part, const char *key, void *buf,
                    size_t len, const char *ctype) {
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
        RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(buf, len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_HEADER("content-type", ctype, -1),
        RD_KAFKA_V_END);
    if (!e) return;
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die(rd_kafka_err2str(e));
    rd_kafka_poll(rk, 50);
  }
}

static void finish(rd_kafka_t *rk) {
  if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) die("flush timed out");
  rd_kafka_destroy(rk);
}

static int partitions(rd_kafka_t *rk, const char *topic) {
  rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
  const struct rd_kafka_metadata *md;
  if (rd_kafka_metadata(rk, 0, t, &md, 10000) != 0 || md->topic_cnt != 1 ||
      md->topics[0].partition_cnt <= 0)
    die("no such topic");
  int n = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  return n;
}

static void indicator(rd_kafka_t *rk, const char *topic, const char *value) {
  gb_indicator_t ind;
  memset(&ind, 0, sizeof(ind));
  ind.kind = GB_IND_PHONE;
  ind.action = GB_IND_ADD;
  snprintf(ind.value, sizeof(ind.value), "%s", value);
  char key[GB_INDEXFEED_KEY_MAX];
  size_t len;
  uint8_t *buf = gb_indexfeed_indicator(&ind, false, now_ms(), &len, key);
  produce(rk, topic, RD_KAFKA_PARTITION_UA, key, buf, len, GB_INDEXFEED_CONTENT_TYPE);
}

static int gen_index(rd_kafka_t *rk, const char *topic, const gb_numkey_t *k, long n, long m) {
  char num[32], h[GB_NUMKEY_HEX_LEN + 1], key[GB_INDEXFEED_KEY_MAX];
  for (long i = 0; i < n; i++) {
    snprintf(num, sizeof(num), "+8613%09ld", i);
    gb_numkey_hash(k, num, h);
    gb_pn_entry_t e = {h, gb_numkey_tag(k, num, strlen(num)), "bench-owner", "st-bench", true,
                       false};
    size_t len;
    uint8_t *buf = gb_indexfeed_protected(&e, now_ms(), &len, key);
    produce(rk, topic, RD_KAFKA_PARTITION_UA, key, buf, len, GB_INDEXFEED_CONTENT_TYPE);
    if (i % 100000 == 0) rd_kafka_poll(rk, 0);
  }
  for (long i = 0; i < m; i++) {
    snprintf(num, sizeof(num), "+86170%08ld", i);
    indicator(rk, topic, num);
    if (i % 100000 == 0) rd_kafka_poll(rk, 0);
  }
  return 0;
}

typedef struct {
  Goldenbell__V1__Event ev;
  Goldenbell__V1__CallView call;
  char id[96], subject[32], call_id[32], cp[32];
} slot_t;

static void flush_part(rd_kafka_t *rk, const char *topic, int32_t part, slot_t *s, int n) {
  Goldenbell__V1__Event **evs = malloc((size_t)n * sizeof(*evs));
  if (!evs) die("out of memory");
  for (int i = 0; i < n; i++) evs[i] = &s[i].ev;
  Goldenbell__V1__EventBatch b = GOLDENBELL__V1__EVENT_BATCH__INIT;
  b.n_events = (size_t)n;
  b.events = evs;
  size_t sz = goldenbell__v1__event_batch__get_packed_size(&b);
  uint8_t *buf = malloc(sz);
  if (!buf) die("out of memory");
  goldenbell__v1__event_batch__pack(&b, buf);
  free(evs);
  produce(rk, topic, part, "batch", buf, sz,
          "application/x-protobuf; proto=goldenbell.v1.EventBatch");
}

static int gen_events(rd_kafka_t *rk, const char *topic, long n, int batch, long protected_n,
                      long real, double fraud, double share, double intl, long pool) {
  int np = partitions(rk, topic);
  slot_t *slots = calloc((size_t)np * (size_t)batch, sizeof(*slots));
  int *fill = calloc((size_t)np, sizeof(*fill));
  if (!slots || !fill) die("out of memory");
  int64_t t0 = now_ms() - 3600 * 1000;
  long touched = 0;
  for (long i = 0; i < n; i++) {
    char subject[32], cp[32];
    double r = rnd01();
    if (r < fraud) {
      snprintf(subject, sizeof(subject), "+86150%08ld", (long)(rnd() % (uint64_t)real));
      snprintf(cp, sizeof(cp), "+86170%08ld", (long)(rnd() % (uint64_t)pool));
      touched++;
    } else {
      if (rnd01() < share)
        snprintf(subject, sizeof(subject), "+8613%09ld", (long)(rnd() % (uint64_t)protected_n));
      else
        snprintf(subject, sizeof(subject), "+86186%08ld", (long)(rnd() % 100000000));
      snprintf(cp, sizeof(cp), "+86189%08ld", (long)(rnd() % 100000000));
    }
    uint32_t h = 2166136261u;
    for (const char *p = subject; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    int32_t part = (int32_t)(h % (uint32_t)np);
    slot_t *s = &slots[(size_t)part * (size_t)batch + (size_t)fill[part]];
    goldenbell__v1__event__init(&s->ev);
    goldenbell__v1__call_view__init(&s->call);
    snprintf(s->subject, sizeof(s->subject), "%s", subject);
    snprintf(s->cp, sizeof(s->cp), "%s", cp);
    snprintf(s->call_id, sizeof(s->call_id), "c%ld", i);
    snprintf(s->id, sizeof(s->id), "call:CMCC:c%ld:%s", i, subject);
    s->call.call_id = s->call_id;
    s->call.counterpart = s->cp;
    s->call.counterpart_class = GOLDENBELL__V1__NUMBER_CLASS__NUMBER_CLASS_MOBILE;
    s->call.outgoing = rnd() & 1;
    s->call.start_ms = t0 + i % 3600000;
    s->call.duration_s = (uint32_t)(rnd() % 600);
    s->call.status = GOLDENBELL__V1__CALL_STATUS__CALL_STATUS_FINAL;
    s->call.international = rnd01() < intl;
    s->call.carrier = "CMCC";
    s->ev.version = 1;
    s->ev.event_id = s->id;
    s->ev.subject = s->subject;
    s->ev.ts_ms = s->call.start_ms + s->call.duration_s * 1000;
    s->ev.body_case = GOLDENBELL__V1__EVENT__BODY_CALL;
    s->ev.call = &s->call;
    if (++fill[part] == batch) {
      flush_part(rk, topic, part, &slots[(size_t)part * (size_t)batch], batch);
      fill[part] = 0;
    }
  }
  for (int p = 0; p < np; p++)
    if (fill[p]) flush_part(rk, topic, p, &slots[(size_t)p * (size_t)batch], fill[p]);
  fprintf(stderr, "gen-matcher: %ld events, %ld touch a fraud number\n", n, touched);
  free(slots);
  free(fill);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) die("usage: see the header of bench/gen-matcher.c");
  const char *cmd = argv[1], *bootstrap = NULL, *topic = NULL, *keyfile = NULL, *value = NULL;
  long n = 0, protected_n = 10000000, indicators = 1000000, real = 10000, pool = 1000;
  int batch = 500;
  double fraud = 0.001, share = 0.01, intl = 0.01;
  for (int i = 2; i + 1 < argc; i += 2) {
    const char *a = argv[i], *v = argv[i + 1];
    if (!strcmp(a, "-b")) bootstrap = v;
    else if (!strcmp(a, "-t")) topic = v;
    else if (!strcmp(a, "--hash-key-file")) keyfile = v;
    else if (!strcmp(a, "--value")) value = v;
    else if (!strcmp(a, "-n")) n = atol(v);
    else if (!strcmp(a, "--protected")) protected_n = atol(v);
    else if (!strcmp(a, "--indicators")) indicators = atol(v);
    else if (!strcmp(a, "--real")) real = atol(v);
    else if (!strcmp(a, "--fraud-pool")) pool = atol(v);
    else if (!strcmp(a, "--batch")) batch = atoi(v);
    else if (!strcmp(a, "--fraud")) fraud = atof(v);
    else if (!strcmp(a, "--share")) share = atof(v);
    else if (!strcmp(a, "--intl")) intl = atof(v);
    else die("unknown option (see the header of bench/gen-matcher.c)");
  }
  if (!bootstrap || !topic) die("-b and -t are required");
  rd_kafka_t *rk = producer(bootstrap);
  if (!strcmp(cmd, "one")) {
    if (!value) die("--value is required");
    indicator(rk, topic, value);
    finish(rk);
    printf("%lld\n", (long long)now_ms());
    return 0;
  }
  gb_numkey_t k;
  memset(&k, 0, sizeof(k));
  FILE *f = keyfile ? fopen(keyfile, "r") : NULL;
  char hex[128] = "";
  if (!f || !fgets(hex, sizeof(hex), f)) die("--hash-key-file: cannot read it");
  fclose(f);
  for (int i = 0; i < 32; i++) {
    unsigned b;
    if (sscanf(hex + 2 * i, "%2x", &b) != 1) die("--hash-key-file: want 64 hex digits");
    k.key[i] = (unsigned char)b;
  }
  gb_numkey_derive(&k);
  if (!strcmp(cmd, "index")) gen_index(rk, topic, &k, protected_n, indicators);
  else if (!strcmp(cmd, "events")) {
    if (n <= 0 || batch <= 0 || real <= 0 || pool <= 0 || protected_n <= 0)
      die("-n, --batch, --real, --fraud-pool and --protected must be positive");
    gen_events(rk, topic, n, batch, protected_n, real, fraud, share, intl, pool);
  } else die("unknown command: index, events or one");
  finish(rk);
  return 0;
}
