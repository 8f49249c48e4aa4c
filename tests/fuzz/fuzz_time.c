/* Time parsing (common/src/timeparse.c): RFC 3339 strings and epoch
 * numbers from records and indicators, the clock-skew check and the
 * formatter.
 *
 * Input: one selector byte, then either the text of a timestamp or raw
 * bytes read as numbers. Checks: a parsed RFC 3339 time formats back to a
 * string that parses to the same instant (when its year is 0000-9999) and
 * lies within a day of the 0000..9999 range; errstr is always
 * NUL-terminated and says why on failure, and *out is untouched then; an
 * epoch gives a value in 0..9999-12-31 or an error; the skew check agrees
 * with plain arithmetic; the formatter never writes past its buffer. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "gb/err.h"
#include "gb/timeparse.h"

#define MAX_EPOCH_MS INT64_C(253402300799999)
#define DAY_MS INT64_C(86400000)

static void rfc3339(const uint8_t *data, size_t size) {
  int64_t ms = 42;
  char err[200];
  int rc = gb_time_parse_rfc3339(&ms, (const char *)data, size, err, sizeof(err));
  FUZZ_CHECK(fuzz_terminated(err, sizeof(err)), "errstr not terminated");
  if (rc != 0) {
    FUZZ_CHECK(rc == GB_EINVAL && err[0] && ms == 42, "rc %d, '%s'", rc, err);
    return;
  }
  FUZZ_CHECK(err[0] == '\0', "errstr '%s' on success", err);
  /* Years 0000-9999, moved by an offset of less than a day. */
  FUZZ_CHECK(ms >= INT64_C(-62167219200000) - DAY_MS && ms <= MAX_EPOCH_MS + DAY_MS,
             "%lld ms out of range", (long long)ms);
  char text[64];
  gb_time_format(text, sizeof(text), ms);
  int64_t back = 0;
  if (ms >= INT64_C(-62167219200000) && ms <= MAX_EPOCH_MS) {
    FUZZ_CHECK(gb_time_parse_rfc3339(&back, text, strlen(text), err, sizeof(err)) == 0 &&
                   back == ms,
               "'%.*s' is %lld ms, formatted '%s', read back as %lld (%s)", (int)size,
               (const char *)data, (long long)ms, text, (long long)back, err);
  }
}

static void epoch(const uint8_t *data, size_t size) {
  double v = 0;
  memcpy(&v, data, size < sizeof(v) ? size : sizeof(v));
  int64_t ms = 42;
  char err[200];
  int rc = gb_time_from_epoch(&ms, v, err, sizeof(err));
  FUZZ_CHECK(fuzz_terminated(err, sizeof(err)), "errstr not terminated");
  if (rc == 0) {
    FUZZ_CHECK(isfinite(v) && v >= 0 && ms >= 0 && ms <= MAX_EPOCH_MS, "%.17g gave %lld", v,
               (long long)ms);
  } else {
    FUZZ_CHECK((rc == GB_EINVAL || rc == GB_ERANGE) && err[0] && ms == 42, "rc %d", rc);
  }
}

static void skew(const uint8_t *data, size_t size) {
  int64_t x[3] = {0, 0, 0};
  memcpy(x, data, size < sizeof(x) ? size : sizeof(x));
  char err[200];
  int rc = gb_time_check_skew(x[0], x[1], x[2], err, sizeof(err));
  /* ahead, in 128 bits, against the limit (negative counts as 0) */
  __int128 ahead = (__int128)x[0] - (__int128)x[1];
  __int128 limit = x[2] > 0 ? x[2] : 0;
  FUZZ_CHECK(fuzz_terminated(err, sizeof(err)), "errstr not terminated");
  FUZZ_CHECK((rc == 0) == (ahead <= limit), "skew %lld %lld %lld: rc %d", (long long)x[0],
             (long long)x[1], (long long)x[2], rc);
  FUZZ_CHECK(rc == 0 ? err[0] == '\0' : rc == GB_ERANGE && err[0] != '\0', "rc %d '%s'", rc, err);
}

static void format(const uint8_t *data, size_t size) {
  int64_t ms = 0;
  memcpy(&ms, data, size < sizeof(ms) ? size : sizeof(ms));
  size_t n = size > 8 ? data[8] % 40 : 32;
  char *out = malloc(n ? n : 1);
  if (!out) abort();
  gb_time_format(n ? out : NULL, n, ms);
  if (n) FUZZ_CHECK(fuzz_terminated(out, n), "not terminated");
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t sel = fuzz_take_byte(&data, &size);
  switch (sel & 3) {
  case 0: rfc3339(data, size); break;
  case 1: epoch(data, size); break;
  case 2: skew(data, size); break;
  default: format(data, size); break;
  }
  return 0;
}
