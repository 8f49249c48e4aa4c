/* The option parser (common/src/config.c): every service's command line,
 * against the common table and a service-like one with each type of
 * option. It reads no file; the command line comes from whoever starts the
 * service, so this is the cheapest of the targets, kept because the parser
 * copies names into fixed buffers.
 *
 * Input: the arguments, separated by NUL bytes. Checks: --help is left out
 * (it prints); a parse either fails with a reason or gives every option a
 * value of its type and range, and every kafka.* pair a non-empty
 * property name. */
#include <string.h>

#include "fuzz.h"
#include "gb/config.h"
#include "gb/err.h"

static const gb_opt_t service_opts[] = {
    {"svc.count", GB_OPT_INT, "5", -3, 1000000, "A count."},
    {"svc.flag", GB_OPT_BOOL, "false", 0, 0, "A flag."},
    {"svc.name", GB_OPT_STRING, "", 0, 0, "A name."},
    {"svc.big", GB_OPT_INT, "0", -9223372036854775807LL - 1, 9223372036854775807LL, "Any."},
    GB_OPT_END,
};
static const gb_opt_t *const tables[] = {gb_common_opts, service_opts, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *buf = fuzz_strndup(data, size);
  char *argv[130];
  int argc = 0;
  argv[argc++] = "fuzz";
  for (size_t i = 0; i <= size && argc < 129;) {
    argv[argc++] = buf + i;
    i += strlen(buf + i) + 1;
  }
  argv[argc] = NULL;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--help", 6) == 0 || strcmp(argv[i], "-h") == 0) {
      free(buf);
      return 0;
    }
  }
  gb_config_t *cfg = NULL;
  char err[256];
  err[0] = '\0';
  int rc = gb_config_parse(&cfg, "fuzz", "Fuzzing.", tables, argc, argv, err, sizeof(err));
  FUZZ_CHECK(fuzz_terminated(err, sizeof(err)), "errstr not terminated");
  if (rc != 0) {
    FUZZ_CHECK(rc < 0 && !cfg && err[0], "rc %d '%s'", rc, err);
  } else {
    FUZZ_CHECK(cfg != NULL, "no config");
    long long c = gb_config_int(cfg, "svc.count");
    FUZZ_CHECK(c >= -3 && c <= 1000000, "svc.count %lld", c);
    c = gb_config_int(cfg, "redis.timeout-ms");
    FUZZ_CHECK(c >= 10 && c <= 600000, "redis.timeout-ms %lld", c);
    (void)gb_config_int(cfg, "svc.big");
    (void)gb_config_bool(cfg, "svc.flag");
    FUZZ_CHECK(gb_config_str(cfg, "svc.name") != NULL, "svc.name");
    for (int i = 0; i < gb_config_kafka_count(cfg); i++) {
      const char *k, *v;
      gb_config_kafka_get(cfg, i, &k, &v);
      FUZZ_CHECK(k && *k && v, "kafka pair %d", i);
    }
  }
  gb_config_free(cfg);
  free(buf);
  return 0;
}
