/* gen-calls: writes realistic synthetic carrier call records as JSON lines,
 * for the benchmarks and load tests.
 *
 *   gen-calls -n COUNT [-s SEED] [--invalid FRACTION] [--touch FRACTION]
 *             [--start-ms MS] [--visits]  > calls.jsonl
 *
 * --invalid  share of records with a defect (bad number, missing field,
 *            wrong type, bad JSON), default 0.01
 * --touch    share of records that involve the protected pool
 *            (+86 139 0000 xxxx) and the fraud pool (+86 170 xxxx xxxx),
 *            default 0.001
 * --visits   write site-visit records instead of calls
 * Numbers come in the notations carriers really use (+86, 0086, spaces,
 * dashes, landlines with area codes), so normalisation costs what it costs
 * in production. Deterministic for a given seed. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void) { /* xorshift64 */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static double rnd01(void) { return (double)(rnd() >> 11) / (double)(1ULL << 53); }

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

int main(int argc, char **argv) {
  long long n = -1;
  double invalid = 0.01, touch = 0.001;
  int64_t start_ms = (int64_t)time(NULL) * 1000 - 3600 * 1000;
  int visits = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc) n = atoll(argv[++i]);
    else if (!strcmp(argv[i], "-s") && i + 1 < argc) rng_state ^= strtoull(argv[++i], NULL, 10) * 2654435761ULL + 1;
    else if (!strcmp(argv[i], "--invalid") && i + 1 < argc) invalid = atof(argv[++i]);
    else if (!strcmp(argv[i], "--touch") && i + 1 < argc) touch = atof(argv[++i]);
    else if (!strcmp(argv[i], "--start-ms") && i + 1 < argc) start_ms = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--visits")) visits = 1;
    else {
      fprintf(stderr, "usage: gen-calls -n COUNT [-s SEED] [--invalid F] [--touch F] "
                      "[--start-ms MS] [--visits]\n");
      return 2;
    }
  }
  if (n < 0) {
    fprintf(stderr, "gen-calls: -n COUNT is required\n");
    return 2;
  }
  static char buf[1 << 20];
  setvbuf(stdout, buf, _IOFBF, sizeof(buf));
  static const char *const carriers[] = {"CMCC", "CUCC", "CTCC"};
  static const char *const sites[] = {"https://www.example.com/news", "m.shop.example.cn/item?id=7",
                                      "https://pay.example-fraud.com:8443/x?y", "app.bank.example.com.cn"};
  for (long long i = 0; i < n; i++) {
    char a[40], b[40];
    int t = rnd01() < touch;
    number(a, sizeof(a), t ? 2 : 0);
    number(b, sizeof(b), t ? 1 : 0);
    int64_t ts = start_ms + i % 3600000;
    double d = rnd01();
    if (d < invalid) {
      switch (rnd() % 4) {
      case 0: printf("{\"call_id\":\"b%lld\",\"caller\":\"12\",\"callee\":\"%s\",\"start\":%" PRId64 ",\"duration_s\":5}\n", i, b, ts); break;
      case 1: printf("{\"call_id\":\"b%lld\",\"caller\":\"%s\",\"start\":%" PRId64 ",\"duration_s\":5}\n", i, a, ts); break;
      case 2: printf("{\"call_id\":\"b%lld\",\"caller\":\"%s\",\"callee\":\"%s\",\"start\":%" PRId64 ",\"duration_s\":\"5\"}\n", i, a, b, ts); break;
      default: printf("{\"call_id\":\"b%lld\",\"caller\":\"%s\",\n", i, a); break;
      }
      continue;
    }
    if (visits)
      printf("{\"event_id\":\"v%lld\",\"phone\":\"%s\",\"kind\":\"site\",\"target\":\"%s\",\"ts\":%" PRId64 ",\"partner\":\"bench\"}\n",
             i, b, sites[rnd() % 4], ts);
    else
      printf("{\"call_id\":\"b%lld\",\"caller\":\"%s\",\"callee\":\"%s\",\"start\":%" PRId64 ",\"duration_s\":%u,\"carrier\":\"%s\"}\n",
             i, a, b, ts, (unsigned)(rnd() % 900), carriers[rnd() % 3]);
  }
  return fflush(stdout) == 0 ? 0 : 1;
}
