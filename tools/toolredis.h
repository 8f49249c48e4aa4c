/* What the Redis tools (gb-stations, gb-accounts) share: where Redis is,
 * from the options or the environment, and connecting to it. */
#ifndef TOOLS_TOOLREDIS_H
#define TOOLS_TOOLREDIS_H

#include "gb/redis.h"

/* Fills an unset *url from $GB_REDIS_URL (default redis://127.0.0.1:6379)
 * and an unset *prefix from $GB_REDIS_PREFIX (default gb:), quiets the
 * library's own log lines below errors, and connects with timeout_ms.
 * Returns 0 and *r, or 1 (Redis unreachable) / 2 (a malformed URL) after
 * printing "<prog>: <reason>" to stderr: the tools' exit statuses. */
int tool_redis_open(const char *prog, const char **url, const char **prefix, int timeout_ms,
                    gb_redis_t **r);

#endif
