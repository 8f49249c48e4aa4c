/*
 * gb-publish: publishes a CSV or JSON-lines file (a carrier's or partner's
 * batch export) to a goldenbell input topic.
 *
 *   gb-publish -b BOOTSTRAP -t TOPIC [options] FILE|-
 *
 * Every record that can be read is published with acks=all by an
 * idempotent producer; a line that cannot be is listed in the report
 * ("line 17: 7 cells, header has 8") and counted, never published. See
 * --help for the options and publish.h for how the files fit together.
 *
 * Exit status: 0 every readable record was acknowledged by the broker;
 * 1 a delivery failed, the run was interrupted, or (--strict) a line was
 * rejected; 2 bad usage: flags, an unreadable file, an unusable CSV
 * header, a topic that does not exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "publish.h"

enum {
  OPT_BATCH = 256,
  OPT_BATCH_BYTES,
  OPT_LINGER,
  OPT_CONTENT_TYPE,
  OPT_ENCODE,
  OPT_RECORD,
  OPT_INT,
  OPT_BOOL,
  OPT_MAX_RECORD,
  OPT_REPORT,
  OPT_STRICT,
  OPT_TIMEOUT,
};

/* One table drives getopt_long and --help. */
static const struct {
  const char *name; /* long name, or NULL for a short-only option */
  int val;
  const char *arg; /* NULL: takes no argument */
  const char *help;
} optdefs[] = {
    {"bootstrap", 'b', "HOST:PORT", "Kafka bootstrap servers, comma-separated (required)."},
    {"topic", 't', "TOPIC", "Topic to publish to; it must exist (required)."},
    {"format", 'f', "csv|jsonl",
     "Input format. Default from the file name: .csv is CSV; .jsonl, .ndjson and .json are JSON "
     "lines. Required when reading stdin."},
    {"key", 'k', "FIELD",
     "Field whose value (a string or integer) becomes the Kafka key; a record without it is "
     "rejected. Default: no key."},
    {"batch", OPT_BATCH, "N",
     "Records per Kafka message, 1-1000000 (default 1). N>1 puts up to N records, separated by "
     "'\\n', in one message; with --key, records are grouped by the partition their key maps to "
     "and the message has no key."},
    {"batch-bytes", OPT_BATCH_BYTES, "BYTES",
     "A batched message is closed before it would exceed BYTES (default 1000000)."},
    {"linger", OPT_LINGER, "MS",
     "A partial batch is sent once its first record is MS old (default 100); matters for slow "
     "pipes and --rate."},
    {"content-type", OPT_CONTENT_TYPE, "TYPE",
     "content-type header of every message (default application/json, or for --encode "
     "protobuf application/x-protobuf; proto=goldenbell.v1.CallRecordBatch or "
     "VisitRecordBatch; \"\" sends none)."},
    {"encode", OPT_ENCODE, "json|protobuf",
     "What is sent (default json: the records as read). protobuf converts each record to a "
     "goldenbell.v1.CallRecord (or VisitRecord, see --record) and sends a batch of them per "
     "message: several times cheaper for both sides than JSON."},
    {"record", OPT_RECORD, "call|visit",
     "With --encode protobuf: the records are calls (default) or visits."},
    {"int", OPT_INT, "FIELD,...",
     "CSV: columns published as JSON integers (default duration_s,ts; \"\" for none)."},
    {"bool", OPT_BOOL, "FIELD,...",
     "CSV: columns published as JSON booleans; true/false, 1/0, yes/no, t/f, y/n in any case "
     "(default international; \"\" for none)."},
    {"delimiter", 'd', "CHAR", "CSV: cell delimiter (default ','; \"tab\" for a tab)."},
    {"max-record-bytes", OPT_MAX_RECORD, "BYTES",
     "Largest record accepted (default 1000000); a larger one is rejected."},
    {"rate", 'r', "N", "Publish at most N records/s (default 0: as fast as possible)."},
    {"report", OPT_REPORT, "FILE",
     "Where rejected lines and failed deliveries are listed, one \"line N: reason\" a line "
     "(default stderr). Cell contents are not copied into it."},
    {"strict", OPT_STRICT, NULL, "Exit 1 if any line was rejected."},
    {"timeout", OPT_TIMEOUT, "SECONDS",
     "Bound on waiting for the broker: for the topic's metadata at start, for the last "
     "acknowledgements at the end (default 30). What is unacknowledged then counts as failed."},
    {"quiet", 'q', NULL, "No progress line and no summary (the report is still written)."},
    {NULL, 'X', "PROP=VALUE",
     "librdkafka property, repeatable, applied after gb-publish's defaults (acks=all, "
     "enable.idempotence=true, linger.ms=20, batch.size=1000000, compression.type=lz4)."},
    {"help", 'h', NULL, "Show this help."},
};
#define NOPTS ((int)(sizeof(optdefs) / sizeof(optdefs[0])))

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  if (g_stop < 2) g_stop++;
}

static void usage(FILE *fp) {
  fprintf(fp,
          "usage: gb-publish -b BOOTSTRAP -t TOPIC [options] FILE|-\n"
          "\n"
          "Publishes a CSV or JSON-lines file to a Kafka topic, one record per line\n"
          "(CSV: per row after the header row), acknowledged by all in-sync replicas.\n"
          "CSV rows become JSON objects with the header's field names; empty cells are\n"
          "left out. JSON lines must each be one JSON object and are sent byte for byte.\n"
          "Lines that cannot be published are listed in the report and counted.\n"
          "\n");
  for (int i = 0; i < NOPTS; i++) {
    char head[64];
    if (optdefs[i].name && optdefs[i].val < 256)
      snprintf(head, sizeof(head), "-%c, --%s%s%s", optdefs[i].val, optdefs[i].name,
               optdefs[i].arg ? " " : "", optdefs[i].arg ? optdefs[i].arg : "");
    else if (optdefs[i].name)
      snprintf(head, sizeof(head), "    --%s%s%s", optdefs[i].name, optdefs[i].arg ? " " : "",
               optdefs[i].arg ? optdefs[i].arg : "");
    else
      snprintf(head, sizeof(head), "-%c %s", optdefs[i].val, optdefs[i].arg);
    fprintf(fp, "  %s\n", head);
    /* Wrap the help text at ~76 columns, indented. */
    const char *h = optdefs[i].help;
    while (*h) {
      size_t n = strlen(h);
      if (n > 68) {
        n = 68;
        while (n > 0 && h[n] != ' ') n--;
        if (n == 0) n = 68;
      }
      fprintf(fp, "        %.*s\n", (int)n, h);
      h += n;
      while (*h == ' ') h++;
    }
  }
  fprintf(fp,
          "\n"
          "Reasons a line is rejected: cell_count, bad_integer, bad_boolean, csv_syntax,\n"
          "invalid_utf8, invalid_json, not_object, missing_key, bad_key, too_large.\n"
          "Blank lines are skipped, not rejected. A UTF-8 byte order mark is ignored.\n"
          "\n"
          "A progress line is drawn on stderr when it is a terminal; a one-line summary\n"
          "(key=value) follows at the end. SIGINT/SIGTERM stop reading, wait (within\n"
          "--timeout) for what is in flight and exit 1; a second one gives up at once.\n"
          "\n"
          "Exit status: 0 every readable record acknowledged; 1 a delivery failed, the\n"
          "run was interrupted, or --strict and a line was rejected; 2 bad usage (flags,\n"
          "unreadable file, unusable CSV header, topic that does not exist).\n");
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_usage(const char *fmt, ...) {
  va_list ap;
  fputs("gb-publish: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(" (see --help)\n", stderr);
  return PUB_EXIT_USAGE;
}

static int parse_long(long *out, const char *s, long lo, long hi) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

static int parse_kv(pub_opts_t *o, const char *arg) {
  const char *eq = strchr(arg, '=');
  if (!eq || eq == arg) return -1;
  pub_kv_t *kv = realloc(o->kconf, (size_t)(o->kconf_cnt + 1) * sizeof(*kv));
  if (!kv) return -1;
  o->kconf = kv;
  char *copy = strdup(arg);
  if (!copy) return -1;
  copy[eq - arg] = '\0';
  kv[o->kconf_cnt].key = copy;
  kv[o->kconf_cnt].value = copy + (eq - arg) + 1;
  o->kconf_cnt++;
  return 0;
}

static void list_free(pub_list_t *l) {
  for (int i = 0; i < l->cnt; i++) free(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->cnt = 0;
}

/* "a, b,,c" -> {a, b, c}; replaces what l held. */
static int list_parse(pub_list_t *l, const char *s, int explicit_) {
  list_free(l);
  l->explicit_ = explicit_;
  while (*s) {
    while (*s == ' ' || *s == ',') s++;
    size_t n = strcspn(s, ",");
    while (n > 0 && s[n - 1] == ' ') n--;
    if (n > 0) {
      char **items = realloc(l->items, (size_t)(l->cnt + 1) * sizeof(*items));
      if (!items) return -1;
      l->items = items;
      if (!(l->items[l->cnt] = strndup(s, n))) return -1;
      l->cnt++;
    }
    s += n;
    while (*s == ' ') s++;
  }
  return 0;
}

static pub_format_t format_of_path(const char *path) {
  const char *dot = strrchr(path, '.');
  if (!dot || strchr(dot, '/')) return PUB_FMT_NONE;
  if (!strcasecmp(dot, ".csv")) return PUB_FMT_CSV;
  if (!strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".ndjson") || !strcasecmp(dot, ".json"))
    return PUB_FMT_JSONL;
  return PUB_FMT_NONE;
}

/* Returns -1 to go on, or an exit status (0 after --help). */
static int parse_args(pub_opts_t *o, int argc, char **argv) {
  struct option longopts[NOPTS + 1];
  char shortopts[2 * NOPTS + 2];
  int nl = 0, ns = 0;
  long v;
  shortopts[ns++] = ':';
  for (int i = 0; i < NOPTS; i++) {
    if (optdefs[i].name)
      longopts[nl++] = (struct option){optdefs[i].name, optdefs[i].arg ? required_argument : no_argument,
                                       NULL, optdefs[i].val};
    if (optdefs[i].val < 256) {
      shortopts[ns++] = (char)optdefs[i].val;
      if (optdefs[i].arg) shortopts[ns++] = ':';
    }
  }
  longopts[nl] = (struct option){0};
  shortopts[ns] = '\0';

  int c;
  int int_given = 0, bool_given = 0, ct_given = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
    switch (c) {
    case 'b': o->bootstrap = optarg; break;
    case 't': o->topic = optarg; break;
    case 'f':
      if (!strcmp(optarg, "csv"))
        o->format = PUB_FMT_CSV;
      else if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "ndjson") || !strcmp(optarg, "json"))
        o->format = PUB_FMT_JSONL;
      else
        return bad_usage("--format %s: want csv or jsonl", optarg);
      break;
    case 'k':
      if (!*optarg) return bad_usage("--key wants a field name");
      o->key = optarg;
      break;
    case OPT_BATCH:
      if (parse_long(&v, optarg, 1, 1000000))
        return bad_usage("--batch %s: want 1-1000000", optarg);
      o->batch = (int)v;
      break;
    case OPT_BATCH_BYTES:
      if (parse_long(&v, optarg, 1, 1L << 30))
        return bad_usage("--batch-bytes %s: want 1-1073741824", optarg);
      o->batch_bytes = (size_t)v;
      break;
    case OPT_LINGER:
      if (parse_long(&v, optarg, 0, 3600000)) return bad_usage("--linger %s: want 0-3600000 ms", optarg);
      o->linger_ms = (int)v;
      break;
    case OPT_CONTENT_TYPE:
      o->content_type = optarg;
      ct_given = 1;
      break;
    case OPT_ENCODE:
      if (!strcmp(optarg, "protobuf")) o->encode_proto = 1;
      else if (strcmp(optarg, "json") != 0) return bad_usage("--encode %s: want json or protobuf", optarg);
      break;
    case OPT_RECORD:
      if (!strcmp(optarg, "visit")) o->record_visit = 1;
      else if (strcmp(optarg, "call") != 0) return bad_usage("--record %s: want call or visit", optarg);
      break;
    case OPT_INT:
      if (list_parse(&o->int_fields, optarg, 1)) return bad_usage("out of memory");
      int_given = 1;
      break;
    case OPT_BOOL:
      if (list_parse(&o->bool_fields, optarg, 1)) return bad_usage("out of memory");
      bool_given = 1;
      break;
    case 'd':
      if (!strcmp(optarg, "tab") || !strcmp(optarg, "\\t"))
        o->delimiter = '\t';
      else if (strlen(optarg) == 1 && optarg[0] != '"' && optarg[0] != '\n' && optarg[0] != '\r')
        o->delimiter = optarg[0];
      else
        return bad_usage("--delimiter %s: want one character other than a quote or line end", optarg);
      break;
    case OPT_MAX_RECORD:
      if (parse_long(&v, optarg, 2, 1L << 30))
        return bad_usage("--max-record-bytes %s: want 2-1073741824", optarg);
      o->max_record_bytes = (size_t)v;
      break;
    case 'r': {
      char *end = NULL;
      errno = 0;
      o->rate = strtod(optarg, &end);
      if (errno || end == optarg || *end || !(o->rate >= 0) || o->rate > 1e9)
        return bad_usage("--rate %s: want a number of records/s, 0 for no limit", optarg);
      break;
    }
    case OPT_REPORT: o->report_path = optarg; break;
    case OPT_STRICT: o->strict = 1; break;
    case OPT_TIMEOUT:
      if (parse_long(&v, optarg, 1, 86400)) return bad_usage("--timeout %s: want 1-86400 s", optarg);
      o->timeout_ms = (int)v * 1000;
      break;
    case 'q': o->quiet = 1; break;
    case 'X':
      if (parse_kv(o, optarg)) return bad_usage("-X wants PROP=VALUE, got \"%s\"", optarg);
      break;
    case 'h': usage(stdout); return PUB_EXIT_OK;
    case ':': return bad_usage("%s needs a value", argv[optind - 1]);
    default: return bad_usage("unknown option %s", argv[optind - 1]);
    }
  }
  if (!o->bootstrap) return bad_usage("-b BOOTSTRAP is required");
  if (!o->topic || !*o->topic) return bad_usage("-t TOPIC is required");
  if (optind != argc - 1)
    return optind >= argc ? bad_usage("a FILE (or - for stdin) is required")
                          : bad_usage("one FILE only; unexpected \"%s\"", argv[optind + 1]);
  o->path = argv[optind];
  if (o->format == PUB_FMT_NONE) {
    if (!strcmp(o->path, "-")) return bad_usage("stdin needs --format csv|jsonl");
    o->format = format_of_path(o->path);
    if (o->format == PUB_FMT_NONE)
      return bad_usage("cannot tell the format of %s from its name; use --format csv|jsonl",
                       o->path);
  }
  if (o->encode_proto && !ct_given)
    o->content_type = o->record_visit
                          ? "application/x-protobuf; proto=goldenbell.v1.VisitRecordBatch"
                          : "application/x-protobuf; proto=goldenbell.v1.CallRecordBatch";
  if (o->format != PUB_FMT_CSV) {
    if (int_given || bool_given) return bad_usage("--int and --bool apply to CSV input only");
    list_free(&o->int_fields);
    list_free(&o->bool_fields);
  }
  return -1;
}

int main(int argc, char **argv) {
  pub_opts_t o = {
      .batch = 1,
      .batch_bytes = 1000000,
      .max_record_bytes = 1000000,
      .linger_ms = 100,
      .content_type = "application/json",
      .timeout_ms = 30000,
      .delimiter = ',',
  };
  pub_t p = {0};
  int fd = -1, rc, err;
  FILE *report = NULL;

  if (list_parse(&o.int_fields, "duration_s,ts", 0) || list_parse(&o.bool_fields, "international", 0)) {
    fprintf(stderr, "gb-publish: out of memory\n");
    return PUB_EXIT_FAILED;
  }
  if ((rc = parse_args(&o, argc, argv)) >= 0) goto cleanup;

  if (!strcmp(o.path, "-")) {
    fd = STDIN_FILENO;
  } else {
    struct stat sb;
    fd = open(o.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
      fprintf(stderr, "gb-publish: cannot read %s: %s\n", o.path,
              fd < 0 ? strerror(errno) : "is a directory");
      rc = PUB_EXIT_USAGE;
      goto cleanup;
    }
  }
  if (o.report_path && !(report = fopen(o.report_path, "w"))) {
    fprintf(stderr, "gb-publish: cannot write the report %s: %s\n", o.report_path, strerror(errno));
    rc = PUB_EXIT_USAGE;
    goto cleanup;
  }

  p.o = &o;
  p.report = report ? report : stderr;
  p.report_is_stderr = !report;
  p.progress_on = !o.quiet && isatty(STDERR_FILENO);
  p.stop = &g_stop;
  p.st.file_size = -1;
  struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: a read() returns */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  if ((err = pub_producer_new(&p)) != 0) {
    rc = err == PUB_ERR_USAGE ? PUB_EXIT_USAGE : PUB_EXIT_FAILED;
    goto cleanup;
  }
  p.start_us = p.now_us = p.rate_t_us = pub_now_us();
  err = pub_input_run(&p, fd);
  pub_producer_finish(&p);
  if (err == PUB_ERR_USAGE) {
    pub_progress_clear(&p);
    rc = PUB_EXIT_USAGE;
    goto cleanup;
  }
  pub_summary(&p, g_stop > 0);
  if (err || p.fatal || g_stop || p.st.failed > 0)
    rc = PUB_EXIT_FAILED;
  else if (o.strict && p.st.rejected > 0)
    rc = PUB_EXIT_FAILED;
  else
    rc = PUB_EXIT_OK;

cleanup:
  pub_producer_free(&p);
  if (report && fclose(report) != 0 && rc == PUB_EXIT_OK) {
    fprintf(stderr, "gb-publish: writing the report %s: %s\n", o.report_path, strerror(errno));
    rc = PUB_EXIT_FAILED;
  }
  if (fd > STDIN_FILENO) close(fd);
  for (int i = 0; i < o.kconf_cnt; i++) free(o.kconf[i].key);
  free(o.kconf);
  list_free(&o.int_fields);
  list_free(&o.bool_fields);
  return rc;
}
