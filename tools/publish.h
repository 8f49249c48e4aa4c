/*
 * gb-publish internals: what the files of the tool share.
 *
 *   gb-publish.c          options, --help, the run and its exit status
 *   publish_input.c       streaming line reader; JSON-lines records
 *   publish_csv.c         CSV rows (libcsv) to JSON objects
 *   publish_json.c        growable buffers, JSON string output, the fast
 *                         JSON object check
 *   publish_producer.c    librdkafka producer, batching, delivery reports
 *   publish_report.c      rejected-line report, progress bar, summary
 *
 * Everything runs on the main thread: librdkafka's delivery reports, errors
 * and logs are served from rd_kafka_poll() there, so the counters in
 * pub_stats_t need no locking.
 */
#ifndef GB_TOOLS_PUBLISH_H
#define GB_TOOLS_PUBLISH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PUB_EXIT_OK 0
#define PUB_EXIT_FAILED 1 /* a delivery failed, or --strict and a line was rejected */
#define PUB_EXIT_USAGE 2  /* bad flags, unreadable file, unusable header, no such topic */

/* Fatal errors from the modules below (0 is success). */
#define PUB_ERR_FATAL (-1) /* stop now; the message has been printed */
#define PUB_ERR_USAGE (-2) /* the input cannot be used at all (exit 2) */

typedef enum { PUB_FMT_NONE = 0, PUB_FMT_CSV, PUB_FMT_JSONL } pub_format_t;

/* Why a line was not published; each has a stable name for the summary. */
typedef enum {
  PUB_REJ_CELL_COUNT,
  PUB_REJ_BAD_INTEGER,
  PUB_REJ_BAD_BOOLEAN,
  PUB_REJ_CSV_SYNTAX,
  PUB_REJ_INVALID_UTF8,
  PUB_REJ_INVALID_JSON,
  PUB_REJ_NOT_OBJECT,
  PUB_REJ_MISSING_KEY,
  PUB_REJ_BAD_KEY,
  PUB_REJ_TOO_LARGE,
  PUB_REJ_NOT_ENCODABLE, /* --encode protobuf: the record lacks what the schema needs */
  PUB_REJ__CNT
} pub_reject_t;

typedef struct pub_kv_s {
  char *key; /* owned; value points into the same allocation */
  const char *value;
} pub_kv_t;

typedef struct pub_list_s {
  char **items; /* owned, each owned */
  int cnt;
  int explicit_; /* given on the command line (not the default) */
} pub_list_t;

typedef struct pub_opts_s {
  const char *bootstrap;
  const char *topic;
  const char *path; /* "-" for stdin */
  pub_format_t format;
  const char *key; /* field whose value becomes the Kafka key, or NULL */
  int batch;       /* records per message */
  size_t batch_bytes;
  size_t max_record_bytes;
  int linger_ms; /* a partial batch older than this is sent */
  const char *content_type; /* "" sends no header */
  pub_kv_t *kconf;          /* -X, in order */
  int kconf_cnt;
  double rate; /* records/s, 0 = unlimited */
  const char *report_path;
  int quiet;
  int strict;
  int timeout_ms; /* bound on startup metadata and on the final flush */
  char delimiter;
  pub_list_t int_fields;
  pub_list_t bool_fields;
  int encode_proto; /* --encode protobuf */
  int record_visit; /* --record visit (else call) */
} pub_opts_t;

typedef struct pub_stats_s {
  uint64_t lines;    /* physical lines read */
  uint64_t records;  /* records read (rows after the header, non-blank JSON lines) */
  uint64_t rejected; /* records not published because of their content */
  uint64_t rejected_by[PUB_REJ__CNT];
  uint64_t queued;    /* records handed to librdkafka */
  uint64_t published; /* records acknowledged by the broker */
  uint64_t failed;    /* records whose delivery failed (or was never attempted) */
  uint64_t messages;  /* Kafka messages acknowledged */
  uint64_t bytes_read;
  uint64_t bytes_done; /* of those, the bytes of lines handled */
  int64_t file_size; /* -1 when unknown (a pipe) */
} pub_stats_t;

typedef struct pub_producer_s pub_producer_t;

/* Dynamic byte buffer. */
typedef struct pub_buf_s {
  char *data;
  size_t len;
  size_t cap;
} pub_buf_t;

/* One run of the tool. */
typedef struct pub_s {
  const pub_opts_t *o;
  pub_stats_t st;
  pub_producer_t *prod;
  FILE *report;
  int report_is_stderr;
  int progress_on;      /* stderr is a TTY and not --quiet */
  int progress_drawn;   /* a progress line is on the screen */
  int64_t start_us;
  int64_t now_us;       /* refreshed by pub_tick() */
  int64_t next_draw_us;
  int64_t rate_t_us;    /* rate shown: sample time and count */
  uint64_t rate_n;
  double rate_shown;
  uint64_t failures_listed;
  const volatile sig_atomic_t *stop; /* SIGINT/SIGTERM seen */
  int fatal;            /* the producer cannot go on */
} pub_t;

/* ---- publish_report.c ---- */

int64_t pub_now_us(void);
const char *pub_reject_name(pub_reject_t why);
/* Writes "line N: <reason>" to the report and counts the rejection. */
void pub_reject(pub_t *p, uint64_t line, pub_reject_t why, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reports a failed delivery of `cnt` records starting at `line`. */
void pub_delivery_failed(pub_t *p, uint64_t line, uint32_t cnt, const char *reason);
/* A message for the person at the terminal (not the report): clears the
 * progress line first. */
void pub_say(pub_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Refreshes p->now_us, serves librdkafka events without waiting, sends
 * stale partial batches and redraws the progress line if it is due. Cheap
 * enough to call every few thousand records. */
void pub_tick(pub_t *p);
void pub_progress_draw(pub_t *p, int force);
void pub_progress_clear(pub_t *p);
void pub_summary(pub_t *p, int interrupted);

/* ---- publish_json.c ---- */

int pub_buf_reserve(pub_buf_t *b, size_t more);
int pub_buf_append(pub_buf_t *b, const void *s, size_t n);
void pub_buf_free(pub_buf_t *b);
/* 1 if s[0..n) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int pub_utf8_valid(const char *s, size_t n);
/* Appends s[0..n) as a JSON string with quotes; returns 0, or -1 when s is
 * not valid UTF-8 (the buffer is then left as it was) or out of memory (-2). */
int pub_json_append_string(pub_buf_t *b, const char *s, size_t n);

typedef enum {
  PUB_KEY_ABSENT = 0,
  PUB_KEY_STRING, /* ptr/len: the string's bytes (it has no escapes) */
  PUB_KEY_INTEGER, /* ptr/len: its decimal text */
  PUB_KEY_OTHER,   /* null, bool, real, array or object */
} pub_key_kind_t;

typedef struct pub_json_key_s {
  pub_key_kind_t kind;
  const char *ptr;
  size_t len;
} pub_json_key_t;

/* The fast path for JSON lines. Returns 1 when s[0..n) is certainly one
 * JSON object that jansson accepts with JSON_REJECT_DUPLICATES, and then
 * fills *key for top-level member `key` (if key is not NULL). Returns 0
 * when it cannot tell quickly (invalid input, or valid but unusual: deep
 * nesting, big numbers, \u0000, surrogates, escaped keys or key value):
 * the caller then asks jansson, which decides and explains. */
int pub_json_object_check(const char *s, size_t n, const char *key, size_t keylen,
                          pub_json_key_t *kout);

/* ---- publish_proto.c ---- */

/* Encodes one JSON record as a CallRecord or VisitRecord into out (reset
 * first). Returns 0; -1 with the reason in why; -2 when out of memory. */
int pub_proto_encode(pub_t *p, const char *rec, size_t len, pub_buf_t *out, char *why,
                     size_t why_size);

/* ---- publish_producer.c ---- */

/* Creates the producer and checks that the topic exists (bounded by
 * o->timeout_ms). Returns 0, PUB_ERR_USAGE (no such topic, bad -X) or
 * PUB_ERR_FATAL (broker unreachable); the message has been printed. */
int pub_producer_new(pub_t *p);
/* Publishes one record (JSON text, copied) whose key is key[0..keylen)
 * (key may be NULL). `line` is where the record starts, for reports.
 * Blocks while librdkafka's queue is full, serving delivery reports.
 * Returns 0 or PUB_ERR_FATAL. */
int pub_producer_add(pub_t *p, const char *rec, size_t len, const char *key, size_t keylen,
                     uint64_t line);
/* Sends partial batches whose first record is older than --linger. */
void pub_producer_send_stale(pub_t *p);
/* Serves delivery reports, waiting up to timeout_ms for one. */
void pub_producer_poll(pub_t *p, int timeout_ms);
/* Sends partial batches, waits (bounded by o->timeout_ms, or less after a
 * second signal) for every acknowledgement, and counts what is left
 * unacknowledged as failed. */
void pub_producer_finish(pub_t *p);
void pub_producer_free(pub_t *p);

/* ---- publish_input.c ---- */

typedef struct pub_csv_s pub_csv_t;

/* Reads fd to the end (or until stopped), giving each record to the
 * producer. Returns 0, PUB_ERR_FATAL or PUB_ERR_USAGE. */
int pub_input_run(pub_t *p, int fd);

/* ---- publish_csv.c ---- */

int pub_csv_new(pub_csv_t **out, pub_t *p);
/* Feeds one physical line (with its terminator, if any). */
int pub_csv_line(pub_csv_t *c, uint64_t line, const char *s, size_t n);
/* The line was too long to hold; drops the record in progress. */
void pub_csv_skip_line(pub_csv_t *c, uint64_t line);
/* End of input: the last row, or an unterminated quoted field. */
int pub_csv_finish(pub_csv_t *c);
void pub_csv_free(pub_csv_t *c);

#endif /* GB_TOOLS_PUBLISH_H */
