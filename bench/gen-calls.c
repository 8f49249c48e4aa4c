/* gen-calls: writes realistic synthetic carrier call records as JSON lines,
 * for the benchmarks and load tests.
 *
 *   gen-calls -n COUNT [-s SEED] [--invalid FRACTION] [--touch FRACTION]
 *             [--start-ms MS] [--visits] [--rate R] [--pack N]  > calls.jsonl
 *
 * --invalid  share of records with a defect (bad number, missing field,
 *            wrong type, bad JSON), default 0.01
 * --touch    share of records that involve the protected pool
 *            (+86 139 0000 xxxx) and the fraud pool (+86 170 xxxx xxxx),
 *            default 0.001
 * --visits   write site-visit records instead of calls
 * --rate     at most R records a second, paced in 10 ms steps on an absolute
 *            schedule (a writer that fell behind, e.g. a full pipe, catches up
 *            as fast as it can); the achieved rate goes to stderr at the end.
 *            Default: as fast as possible
 * --pack     after every N records (and after the last), the byte 0x1e, so that
 *            `kcat -P -D '\x1e'` publishes N newline-delimited records per
 *            Kafka message, as carriers batch them (ingest splits them)
 * --rate-file  (with --rate) a file holding a rate, read every 100 ms: the
 *            rate follows it as it changes (a flood that keeps ahead of what
 *            the pipeline reads)
 * --seconds  (with --rate) stop after S seconds instead of COUNT records
 * --repeat   make the first K records once and write them again and again
 *            (call ids too) until COUNT: a publisher that costs almost no CPU,
 *            for floods at rates the generator itself could not make
 * Numbers come in the notations carriers really use (+86, 0086, spaces,
 * dashes, landlines with area codes), so normalisation costs what it costs
 * in production. Deterministic for a given seed. */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void) { /* xorshift64 */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static double rnd01(void) { return (double)(rnd() >> 11) / (double)(1ULL << 53); }

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The pace of --rate: record i is due at t_base + (i - i_base) / rate.
 * With --rate-file the rate may change as it runs; each change starts the
 * schedule anew from the record in hand. */
typedef struct {
  double rate;
  int64_t t_base, checked;
  long long i_base;
  const char *file;
} pace_t;

/* Under --rate: waits until record i is due, flushing what is written first
 * so that each step's records leave at their time. */
static void pace(pace_t *p, long long i) {
  int64_t now = mono_us();
  if (p->file && now - p->checked >= 100000) { /* --rate-file: looked at every 100 ms */
    p->checked = now;
    FILE *f = fopen(p->file, "r");
    double r = 0;
    if (f) {
      if (fscanf(f, "%lf", &r) != 1) r = 0;
      fclose(f);
    }
    if (r > 0 && r != p->rate) {
      p->rate = r;
      p->t_base = now;
      p->i_base = i;
    }
  }
  int64_t due = p->t_base + (int64_t)((double)(i - p->i_base) * 1e6 / p->rate);
  if (due - now < 10000) return; /* less than a step ahead: write on */
  fflush(stdout);
  now = mono_us();
  if (due > now) usleep((useconds_t)(due - now));
}

static void number(char *out, size_t size, int pool) {
  uint64_t x = rnd();
  unsigned n8 = (unsigned)(x % 100000000ULL);
  if (pool == 1) { /* protected */
    snprintf(out, size, "+86139%04u%04u", 0, n8 % 10000);
    return;
  }
  if (pool == 2) { /* fraud */
    snprintf(out, size, "170%08u", n8);
    return;
  }
  unsigned prefix = 130 + (unsigned)((x >> 32) % 70);
  switch ((x >> 40) % 8) {
  case 0: snprintf(out, size, "+86%u%08u", prefix, n8); break;
  case 1: snprintf(out, size, "0086 %u %04u %04u", prefix, n8 / 10000, n8 % 10000); break;
  case 2: snprintf(out, size, "%u-%04u-%04u", prefix, n8 / 10000, n8 % 10000); break;
  case 3: snprintf(out, size, "(0755) %04u %04u", n8 / 10000, n8 % 10000); break;
  case 4: snprintf(out, size, "+852 %04u %04u", 5000 + n8 % 4000, n8 / 10000 % 10000); break;
  default: snprintf(out, size, "%u%08u", prefix, n8); break;
  }
}

typedef struct {
  double invalid, touch;
  int64_t start_ms;
  int visits;
} gen_conf_t;

/* Writes record i (one line). */
static void record(FILE *out, const gen_conf_t *g, long long i) {
  static const char *const carriers[] = {"CMCC", "CUCC", "CTCC"};
  static const char *const sites[] = {"https://www.example.com/news", "m.shop.example.cn/item?id=7",
                                      "https://pay.example-fraud.com:8443/x?y", "app.bank.example.com.cn"};
  char a[40], b[40];
  int t = rnd01() < g->touch;
  number(a, sizeof(a), t ? 2 : 0);
  number(b, sizeof(b), t ? 1 : 0);
  int64_t ts = g->start_ms + i % 3600000;
  double d = rnd01();
  if (d < g->invalid) {
    switch (rnd() % 4) {
    case 0: fprintf(out, "{\"call_id\":\"b%lld\",\"caller\":\"12\",\"callee\":\"%s\",\"start\":%" PRId64 ",\"duration_s\":5}\n", i, b, ts); break;
    case 1: fprintf(out, "{\"call_id\":\"b%lld\",\"caller\":\"%s\",\"start\":%" PRId64 ",\"duration_s\":5}\n", i, a, ts); break;
    case 2: fprintf(out, "{\"call_id\":\"b%lld\",\"caller\":\"%s\",\"callee\":\"%s\",\"start\":%" PRId64 ",\"duration_s\":\"5\"}\n", i, a, b, ts); break;
    default: fprintf(out, "{\"call_id\":\"b%lld\",\"caller\":\"%s\",\n", i, a); break;
    }
    return;
  }
  if (g->visits)
    fprintf(out, "{\"event_id\":\"v%lld\",\"phone\":\"%s\",\"kind\":\"site\",\"target\":\"%s\",\"ts\":%" PRId64 ",\"partner\":\"bench\"}\n",
            i, b, sites[rnd() % 4], ts);
  else
    fprintf(out, "{\"call_id\":\"b%lld\",\"caller\":\"%s\",\"callee\":\"%s\",\"start\":%" PRId64 ",\"duration_s\":%u,\"carrier\":\"%s\"}\n",
            i, a, b, ts, (unsigned)(rnd() % 900), carriers[rnd() % 3]);
}

int main(int argc, char **argv) {
  long long n = -1, pack = 0, repeat = 0;
  gen_conf_t g = {.invalid = 0.01, .touch = 0.001,
                  .start_ms = (int64_t)time(NULL) * 1000 - 3600 * 1000};
  double rate = 0, seconds = 0;
  const char *rate_file = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc) n = atoll(argv[++i]);
    else if (!strcmp(argv[i], "-s") && i + 1 < argc) rng_state ^= strtoull(argv[++i], NULL, 10) * 2654435761ULL + 1;
    else if (!strcmp(argv[i], "--invalid") && i + 1 < argc) g.invalid = atof(argv[++i]);
    else if (!strcmp(argv[i], "--touch") && i + 1 < argc) g.touch = atof(argv[++i]);
    else if (!strcmp(argv[i], "--start-ms") && i + 1 < argc) g.start_ms = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--visits")) g.visits = 1;
    else if (!strcmp(argv[i], "--rate") && i + 1 < argc) rate = atof(argv[++i]);
    else if (!strcmp(argv[i], "--pack") && i + 1 < argc) pack = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--rate-file") && i + 1 < argc) rate_file = argv[++i];
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: gen-calls -n COUNT [-s SEED] [--invalid F] [--touch F] "
                      "[--start-ms MS] [--visits] [--rate R [--rate-file F] [--seconds S]] [--pack N] "
                      "[--repeat K]\n");
      return 2;
    }
  }
  if (seconds > 0 && rate > 0 && n < 0) n = LLONG_MAX;
  if (n < 0) {
    fprintf(stderr, "gen-calls: -n COUNT is required (or --rate with --seconds)\n");
    return 2;
  }
  static char buf[1 << 20];
  setvbuf(stdout, buf, _IOFBF, sizeof(buf));
  /* --repeat: the first K records, made once, then written again and again. */
  char *mem = NULL;
  size_t memlen = 0, *line = NULL;
  if (repeat > 0) {
    if (repeat > n) repeat = n > 0 ? n : 1;
    if (n == LLONG_MAX) n = LLONG_MAX - 1; /* line[] below has repeat + 1 slots */
    FILE *m = open_memstream(&mem, &memlen);
    line = malloc(((size_t)repeat + 1) * sizeof(*line));
    if (!m || !line) {
      fprintf(stderr, "gen-calls: out of memory\n");
      return 1;
    }
    for (long long i = 0; i < repeat; i++) {
      line[i] = (size_t)ftell(m);
      record(m, &g, i);
    }
    if (fclose(m) != 0) return 1;
    line[repeat] = memlen;
  }
  int64_t t0 = mono_us();
  pace_t pc = {.rate = rate, .t_base = t0, .checked = t0, .file = rate_file};
  for (long long i = 0; i < n; i++) {
    if (seconds > 0 && rate > 0 && mono_us() - t0 >= (int64_t)(seconds * 1e6)) {
      n = i; /* --seconds: the time is up */
      break;
    }
    if (pack > 0 && i > 0 && i % pack == 0) putchar(0x1e);
    if (rate > 0) pace(&pc, i);
    if (repeat > 0) {
      long long k = i % repeat;
      fwrite(mem + line[k], 1, line[k + 1] - line[k], stdout);
    } else {
      record(stdout, &g, i);
    }
  }
  if (pack > 0 && n > 0) putchar(0x1e);
  int ok = fflush(stdout) == 0;
  if (rate > 0) {
    double sec = (double)(mono_us() - t0) / 1e6;
    fprintf(stderr, "gen-calls: %lld records in %.2f s: %.0f records/s (asked %.0f, lately %.0f)\n",
            n, sec, sec > 0 ? (double)n / sec : 0.0, rate, pc.rate);
  }
  free(mem);
  free(line);
  return ok ? 0 : 1;
}
