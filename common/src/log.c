#include "gb/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gb/timeparse.h"

gb_log_level_t gb_log_min_level = GB_LOG_INFO;
static char log_service[32] = "goldenbell";

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void gb_log_init(const char *service, gb_log_level_t level) {
  snprintf(log_service, sizeof(log_service), "%s", service);
  gb_log_min_level = level;
}

int gb_log_level_parse(const char *s) {
  for (int i = 0; i < 4; i++)
    if (strcmp(s, level_names[i]) == 0) return i;
  return -1;
}

void gb_log_write(gb_log_level_t level, const char *event, const char *fmt, ...) {
  char line[4096];
  char ts[32];
  gb_time_format(ts, sizeof(ts), gb_now_ms());
  int n = snprintf(line, sizeof(line), "ts=%s level=%s service=%s event=%s", ts,
                   level_names[level], log_service, event);
  if (n < 0) return;
  size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
  if (fmt && *fmt && len < sizeof(line) - 2) {
    line[len++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    va_end(ap);
    if (m > 0) len += (size_t)m < sizeof(line) - len ? (size_t)m : sizeof(line) - len - 1;
  }
  if (len > sizeof(line) - 2) len = sizeof(line) - 2;
  line[len++] = '\n';
  /* One write per line so that lines of concurrent threads never interleave. */
  ssize_t w = write(STDERR_FILENO, line, len);
  (void)w;
}

const char *gb_log_quote(char *buf, size_t size, const char *s) {
  if (size == 0) return buf;
  if (!s) s = "";
  int bare = *s != '\0';
  for (const char *p = s; *p && bare; p++)
    if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\') bare = 0;
  if (bare) {
    snprintf(buf, size, "%s", s);
    return buf;
  }
  size_t o = 0;
  buf[o++] = '"';
  for (const char *p = s; *p && o + 5 < size; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c < 0x20) {
      o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
    } else {
      buf[o++] = (char)c;
    }
  }
  if (o + 1 < size) buf[o++] = '"';
  buf[o < size ? o : size - 1] = '\0';
  return buf;
}
