/* Event-time parsing and formatting on the proleptic Gregorian calendar,
 * computed directly (days-from-civil) so the result never depends on the
 * process's TZ, locale or libc's timegm. */
#define _POSIX_C_SOURCE 200809L

#include "gb/timeparse.h"

#include "gb/err.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#define MS_PER_DAY INT64_C(86400000)

/* Epoch numbers below this are seconds, at or above it milliseconds. */
#define EPOCH_MS_THRESHOLD 1e11

/* 9999-12-31T23:59:59.999Z, the last instant RFC 3339 can write. */
#define MAX_EPOCH_MS INT64_C(253402300799999)

#define set_err gb_errstr_set

static void clear_err(char *errstr, size_t errstr_size) {
  if (errstr && errstr_size) errstr[0] = '\0';
}

/* Howard Hinnant's days_from_civil: days since 1970-01-01 of y-m-d in the
 * proleptic Gregorian calendar, valid for any year an int64 can hold. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  int64_t era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  int64_t era;
  unsigned doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (unsigned)(z - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* ---- RFC 3339 ----------------------------------------------------------- */

typedef struct {
  const char *s;
  size_t len, pos;
  char *errstr;
  size_t errstr_size;
} cursor_t;

/* Reports what was expected at the cursor and what was found there. */
static int expected(cursor_t *c, const char *what) {
  if (c->pos >= c->len) {
    set_err(c->errstr, c->errstr_size, "time: expected %s at byte %zu, input ends",
            what, c->pos);
  } else {
    unsigned char ch = (unsigned char)c->s[c->pos];
    if (ch > 0x20 && ch < 0x7F)
      set_err(c->errstr, c->errstr_size, "time: expected %s at byte %zu, got '%c'",
              what, c->pos, ch);
    else
      set_err(c->errstr, c->errstr_size,
              "time: expected %s at byte %zu, got byte 0x%02X", what, c->pos, ch);
  }
  return GB_EINVAL;
}

/* Reads exactly `width` decimal digits. */
static int digits(cursor_t *c, unsigned width, const char *what, unsigned *out) {
  unsigned v = 0, i;
  for (i = 0; i < width; i++) {
    if (c->pos >= c->len || c->s[c->pos] < '0' || c->s[c->pos] > '9')
      return expected(c, what);
    v = v * 10 + (unsigned)(c->s[c->pos++] - '0');
  }
  *out = v;
  return 0;
}

static int literal(cursor_t *c, char ch, const char *what) {
  if (c->pos >= c->len || c->s[c->pos] != ch) return expected(c, what);
  c->pos++;
  return 0;
}

static int range(cursor_t *c, const char *name, unsigned v, unsigned lo, unsigned hi) {
  if (v >= lo && v <= hi) return 0;
  set_err(c->errstr, c->errstr_size, "time: %s %02u out of range %02u-%02u", name, v,
          lo, hi);
  return GB_EINVAL;
}

int gb_time_parse_rfc3339(int64_t *out_ms, const char *in, size_t len,
                          char *errstr, size_t errstr_size) {
  cursor_t c = {in, len, 0, errstr, errstr_size};
  unsigned year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0, oh = 0, om = 0;
  unsigned frac_ms = 0, scale = 100;
  int err, sign = 0;
  int64_t days, ms;
  char ch;

  if (!in || len == 0) {
    set_err(errstr, errstr_size, "time: empty");
    return GB_EINVAL;
  }
  if ((err = digits(&c, 4, "year YYYY", &year)) ||
      (err = literal(&c, '-', "'-' after year")) ||
      (err = digits(&c, 2, "month MM", &mon)) ||
      (err = literal(&c, '-', "'-' after month")) ||
      (err = digits(&c, 2, "day DD", &day)))
    return err;
  if (c.pos >= len || (in[c.pos] != 'T' && in[c.pos] != 't' && in[c.pos] != ' '))
    return expected(&c, c.pos >= len ? "time after the date" : "'T' or ' ' after date");
  c.pos++;
  if ((err = digits(&c, 2, "hour hh", &hour)) ||
      (err = literal(&c, ':', "':' after hour")) ||
      (err = digits(&c, 2, "minute mm", &min)) ||
      (err = literal(&c, ':', "':' after minute")) ||
      (err = digits(&c, 2, "second ss", &sec)))
    return err;

  /* Any number of fraction digits; beyond milliseconds they are checked and
   * dropped (truncation, so an instant never moves into the next ms). */
  if (c.pos < len && in[c.pos] == '.') {
    size_t start = ++c.pos;
    while (c.pos < len && in[c.pos] >= '0' && in[c.pos] <= '9') {
      frac_ms += (unsigned)(in[c.pos] - '0') * scale;
      scale /= 10;
      c.pos++;
    }
    if (c.pos == start) return expected(&c, "fraction digits after '.'");
  }

  if (c.pos >= len) {
    set_err(errstr, errstr_size,
            "time: no time zone at byte %zu, add 'Z' or an offset such as +08:00",
            c.pos);
    return GB_EINVAL;
  }
  ch = in[c.pos];
  if (ch == 'Z' || ch == 'z') {
    c.pos++;
  } else if (ch == '+' || ch == '-') {
    sign = ch == '-' ? -1 : 1;
    c.pos++;
    if ((err = digits(&c, 2, "offset hour hh", &oh)) ||
        (err = literal(&c, ':', "':' in offset (+hh:mm)")) ||
        (err = digits(&c, 2, "offset minute mm", &om)))
      return err;
  } else {
    return expected(&c, "time zone 'Z' or +hh:mm");
  }
  if (c.pos != len) {
    set_err(errstr, errstr_size, "time: trailing bytes after the time zone at byte %zu",
            c.pos);
    return GB_EINVAL;
  }

  if ((err = range(&c, "month", mon, 1, 12)) ||
      (err = range(&c, "hour", hour, 0, 23)) ||
      (err = range(&c, "minute", min, 0, 59)) ||
      (err = range(&c, "second", sec, 0, 60)) ||
      (err = range(&c, "offset hour", oh, 0, 23)) ||
      (err = range(&c, "offset minute", om, 0, 59)))
    return err;
  if (day < 1 || day > days_in_month(year, mon)) {
    set_err(errstr, errstr_size, "time: day %02u out of range for %04u-%02u (%u days)",
            day, year, mon, days_in_month(year, mon));
    return GB_EINVAL;
  }

  /* A leap second (23:59:60 UTC, or that instant in a local offset) is
   * accepted because NTP- and GPS-synchronised switches do emit it. Epoch
   * time has no such second, so it becomes the last millisecond of the
   * minute: it stays inside its minute and before whatever follows it. The
   * position of :60 within the day is not checked against the leap-second
   * table; a record is not worth dropping over it. */
  if (sec == 60) sec = 59, frac_ms = 999;

  days = days_from_civil(year, mon, day);
  ms = days * MS_PER_DAY +
       ((int64_t)hour * 3600 + (int64_t)min * 60 + sec) * 1000 + frac_ms -
       (int64_t)sign * ((int64_t)oh * 3600 + (int64_t)om * 60) * 1000;
  *out_ms = ms;
  clear_err(errstr, errstr_size);
  return 0;
}

/* ---- Epoch numbers ------------------------------------------------------ */

int gb_time_from_epoch(int64_t *out_ms, double epoch, char *errstr,
                       size_t errstr_size) {
  double v;
  int64_t down, near;
  if (!isfinite(epoch)) {
    set_err(errstr, errstr_size, "time: epoch is not a finite number");
    return GB_EINVAL;
  }
  if (epoch < 0) {
    set_err(errstr, errstr_size, "time: negative epoch %.17g", epoch);
    return GB_EINVAL;
  }
  v = epoch < EPOCH_MS_THRESHOLD ? epoch * 1000.0 : epoch;
  if (v > (double)MAX_EPOCH_MS) {
    set_err(errstr, errstr_size,
            "time: epoch %.17g is after year 9999 even as milliseconds "
            "(microseconds or nanoseconds?)", epoch);
    return GB_ERANGE;
  }
  /* Milliseconds are truncated as in the RFC 3339 parser, except that a
   * value within 1 us below a whole millisecond is that millisecond: a
   * double cannot hold 1732356000.123 exactly, and what it holds is a
   * fraction of a microsecond short of .123. */
  down = (int64_t)v;
  near = (int64_t)(v + 0.5);
  *out_ms = near > down && (double)near - v <= 1e-3 ? near : down;
  clear_err(errstr, errstr_size);
  return 0;
}

/* Writes ms as seconds, with only the decimals it needs: 3600, 0.5, 1.25. */
static void fmt_seconds(char *buf, size_t size, uint64_t ms) {
  uint64_t s = ms / 1000, f = ms % 1000;
  if (f == 0)
    snprintf(buf, size, "%" PRIu64, s);
  else if (f % 100 == 0)
    snprintf(buf, size, "%" PRIu64 ".%" PRIu64, s, f / 100);
  else if (f % 10 == 0)
    snprintf(buf, size, "%" PRIu64 ".%02" PRIu64, s, f / 10);
  else
    snprintf(buf, size, "%" PRIu64 ".%03" PRIu64, s, f);
}

int gb_time_check_skew(int64_t event_ms, int64_t now_ms, int64_t max_future_ms,
                       char *errstr, size_t errstr_size) {
  uint64_t ahead, limit = max_future_ms > 0 ? (uint64_t)max_future_ms : 0;
  char a[32], l[32];
  if (event_ms <= now_ms) {
    clear_err(errstr, errstr_size);
    return 0;
  }
  /* Unsigned difference: exact for any two int64 values with event > now. */
  ahead = (uint64_t)event_ms - (uint64_t)now_ms;
  if (ahead <= limit) {
    clear_err(errstr, errstr_size);
    return 0;
  }
  fmt_seconds(a, sizeof(a), ahead);
  fmt_seconds(l, sizeof(l), limit);
  set_err(errstr, errstr_size, "time: %s s in the future, limit %s s", a, l);
  return GB_ERANGE;
}

void gb_time_format(char *out, size_t out_size, int64_t ms) {
  int64_t days, rem, y;
  unsigned mon, day, sod;
  if (!out || out_size == 0) return;
  days = ms / MS_PER_DAY;
  rem = ms % MS_PER_DAY;
  if (rem < 0) rem += MS_PER_DAY, days--;
  civil_from_days(days, &y, &mon, &day);
  sod = (unsigned)(rem / 1000);
  snprintf(out, out_size, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%03uZ", y, mon, day,
           sod / 3600, sod / 60 % 60, sod % 60, (unsigned)(rem % 1000));
}

int64_t gb_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gb_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
