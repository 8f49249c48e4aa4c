#include "toolredis.h"

#include <stdio.h>
#include <stdlib.h>

#include "gb/err.h"
#include "gb/log.h"

int tool_redis_open(const char *prog, const char **url, const char **prefix, int timeout_ms,
                    gb_redis_t **r) {
  if (!*url) *url = getenv("GB_REDIS_URL");
  if (!*url || !**url) *url = "redis://127.0.0.1:6379";
  if (!*prefix) *prefix = getenv("GB_REDIS_PREFIX");
  if (!*prefix) *prefix = "gb:";
  /* The wrapper's own warnings (a dropped connection) would only repeat
   * what the command reports. */
  gb_log_init(prog, GB_LOG_ERROR);
  char errstr[512];
  int err = gb_redis_connect(r, *url, timeout_ms, timeout_ms, errstr, sizeof(errstr));
  if (err) {
    fprintf(stderr, "%s: %s\n", prog, errstr);
    return err == GB_EINVAL ? 2 : 1;
  }
  return 0;
}
