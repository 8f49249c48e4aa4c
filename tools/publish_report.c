/*
 * gb-publish: the report of rejected lines and failed deliveries, the
 * progress line on a terminal, and the summary at the end.
 *
 * The report names lines and reasons, never the content of a line: call
 * records carry people's phone numbers, and reports get pasted into tickets.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "publish.h"

#define PUB_DRAW_INTERVAL_US 100000 /* at most ~10 redraws per second */
#define PUB_FAILURES_LISTED 100     /* failed deliveries named one by one */

static const char *const reject_names[PUB_REJ__CNT] = {
    [PUB_REJ_CELL_COUNT] = "cell_count",     [PUB_REJ_BAD_INTEGER] = "bad_integer",
    [PUB_REJ_BAD_BOOLEAN] = "bad_boolean",   [PUB_REJ_CSV_SYNTAX] = "csv_syntax",
    [PUB_REJ_INVALID_UTF8] = "invalid_utf8", [PUB_REJ_INVALID_JSON] = "invalid_json",
    [PUB_REJ_NOT_OBJECT] = "not_object",     [PUB_REJ_MISSING_KEY] = "missing_key",
    [PUB_REJ_BAD_KEY] = "bad_key",           [PUB_REJ_TOO_LARGE] = "too_large",
    [PUB_REJ_NOT_ENCODABLE] = "not_encodable",
};

int64_t pub_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *pub_reject_name(pub_reject_t why) {
  return (unsigned)why < PUB_REJ__CNT ? reject_names[why] : "unknown";
}

void pub_progress_clear(pub_t *p) {
  if (!p->progress_drawn) return;
  fputs("\r\033[K", stderr);
  fflush(stderr);
  p->progress_drawn = 0;
}

void pub_reject(pub_t *p, uint64_t line, pub_reject_t why, const char *fmt, ...) {
  va_list ap;
  p->st.rejected++;
  p->st.rejected_by[why]++;
  if (p->report_is_stderr) pub_progress_clear(p);
  fprintf(p->report, "line %llu: ", (unsigned long long)line);
  va_start(ap, fmt);
  vfprintf(p->report, fmt, ap);
  va_end(ap);
  fputc('\n', p->report);
}

void pub_delivery_failed(pub_t *p, uint64_t line, uint32_t cnt, const char *reason) {
  if (++p->failures_listed > PUB_FAILURES_LISTED) return;
  if (p->report_is_stderr) pub_progress_clear(p);
  if (cnt == 1)
    fprintf(p->report, "line %llu: delivery failed: %s\n", (unsigned long long)line, reason);
  else
    fprintf(p->report, "line %llu: delivery failed for a message of %u records starting here: %s\n",
            (unsigned long long)line, cnt, reason);
  if (p->failures_listed == PUB_FAILURES_LISTED)
    fprintf(p->report, "(further delivery failures are counted in the summary, not listed)\n");
}

void pub_say(pub_t *p, const char *fmt, ...) {
  va_list ap;
  pub_progress_clear(p);
  fputs("gb-publish: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* "1.2M", "345k", "999": counts that fit the progress line. */
static const char *human(char *buf, size_t size, double v) {
  if (v >= 1e9)
    snprintf(buf, size, "%.2fG", v / 1e9);
  else if (v >= 1e6)
    snprintf(buf, size, "%.2fM", v / 1e6);
  else if (v >= 1e4)
    snprintf(buf, size, "%.1fk", v / 1e3);
  else
    snprintf(buf, size, "%.0f", v);
  return buf;
}

void pub_progress_draw(pub_t *p, int force) {
  char a[16], b[16], r[16], pct[16] = "";
  if (!p->progress_on) return;
  if (!force && p->now_us < p->next_draw_us) return;
  p->next_draw_us = p->now_us + PUB_DRAW_INTERVAL_US;
  /* The rate shown is that of acknowledgements over the last second or so,
   * smoothed, so it answers "how fast is it going now". */
  int64_t dt = p->now_us - p->rate_t_us;
  if (dt >= 250000) {
    double inst = (double)(p->st.published - p->rate_n) * 1e6 / (double)dt;
    p->rate_shown = p->rate_t_us == p->start_us ? inst : 0.5 * p->rate_shown + 0.5 * inst;
    p->rate_t_us = p->now_us;
    p->rate_n = p->st.published;
  }
  if (p->st.file_size > 0)
    snprintf(pct, sizeof(pct), " %3.0f%%",
             100.0 * (double)p->st.bytes_done / (double)p->st.file_size);
  fprintf(stderr, "\r%s read  %s published  %llu failed  %llu rejected  %s rec/s%s\033[K",
          human(a, sizeof(a), (double)p->st.records), human(b, sizeof(b), (double)p->st.published),
          (unsigned long long)p->st.failed, (unsigned long long)p->st.rejected,
          human(r, sizeof(r), p->rate_shown), pct);
  fflush(stderr);
  p->progress_drawn = 1;
}

void pub_tick(pub_t *p) {
  p->now_us = pub_now_us();
  pub_producer_poll(p, 0);
  pub_producer_send_stale(p);
  pub_progress_draw(p, 0);
}

void pub_summary(pub_t *p, int interrupted) {
  const pub_stats_t *s = &p->st;
  double elapsed = (double)(pub_now_us() - p->start_us) / 1e6;
  pub_progress_clear(p);
  if (p->report != stderr) fflush(p->report);
  if (p->o->quiet) return;
  fprintf(stderr,
          "gb-publish: summary lines=%llu records=%llu published=%llu rejected=%llu failed=%llu "
          "messages=%llu elapsed_s=%.3f records_per_s=%.0f%s\n",
          (unsigned long long)s->lines, (unsigned long long)s->records,
          (unsigned long long)s->published, (unsigned long long)s->rejected,
          (unsigned long long)s->failed, (unsigned long long)s->messages, elapsed,
          elapsed > 0 ? (double)s->published / elapsed : 0.0,
          interrupted ? " interrupted=yes" : "");
  if (s->rejected) {
    fputs("gb-publish: rejected by reason:", stderr);
    for (int i = 0; i < PUB_REJ__CNT; i++)
      if (s->rejected_by[i])
        fprintf(stderr, " %s=%llu", reject_names[i], (unsigned long long)s->rejected_by[i]);
    fputc('\n', stderr);
  }
}
