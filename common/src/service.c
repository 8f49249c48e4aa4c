#include "gb/service.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "gb/log.h"

volatile sig_atomic_t gb_service_stop = 0;
volatile sig_atomic_t gb_service_reload = 0;

static void on_stop(int sig) {
  (void)sig;
  gb_service_stop = 1;
}

static void on_reload(int sig) {
  (void)sig;
  gb_service_reload = 1;
}

gb_config_t *gb_service_init(const char *service, const char *description,
                             const gb_opt_t *const *tables, int argc, char **argv) {
  char errstr[512] = "";
  gb_config_t *cfg = NULL;
  int rc = gb_config_parse(&cfg, service, description, tables, argc, argv, errstr,
                           sizeof(errstr));
  if (rc == 1) exit(0);
  if (rc != 0) {
    fprintf(stderr, "%s: %s\n", service, errstr);
    exit(2);
  }
  int level = gb_log_level_parse(gb_config_str(cfg, "log.level"));
  if (level < 0) {
    fprintf(stderr, "%s: --log.level: '%s' is not debug, info, warn or error\n", service,
            gb_config_str(cfg, "log.level"));
    exit(2);
  }
  gb_log_init(service, (gb_log_level_t)level);
  /* Large blocks (librdkafka's fetched and decompressed message sets,
   * ingest's packed batches) are mapped and unmapped on their own, from
   * glibc's default threshold of 128 KB. Unless the threshold is set, glibc
   * raises it to the size of the largest such block freed (up to 32 MB) and
   * from then on serves those blocks from its heaps, where the holes they
   * leave stay resident: flooded, ingest grew past its consumer queue's bound
   * (425 MB against 344), growing while its backlog drained, and kept it
   * once the backlog was gone (tests/integration/flood.sh). Setting it fixes
   * the threshold; a mapping per block of at least 128 KB costs little. */
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  if (sodium_init() < 0) gb_service_die("libsodium", "sodium_init failed");
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_reload;
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  return cfg;
}

void gb_service_die(const char *what, const char *errstr) {
  char q[600];
  gb_error("startup.failed", "what=%s reason=%s", what, gb_log_quote(q, sizeof(q), errstr));
  exit(1);
}
