/*
 * gb-registry: the bureau's tool for the protected-person index
 * (gb/registry.h). It applies to Redis directly, with the engine matcher
 * applies gb.registry with, so an imported registrant is the same as one
 * who registered in the mini-program.
 *
 *   gb-registry [--option=value ...] import FILE.csv|- [--report FILE] [--strict] [--quiet]
 *   gb-registry [--option=value ...] reconcile [--fix]
 *   gb-registry [--option=value ...] stats STATION [--day YYYYMMDD] [--json]
 *
 * The options are the services' (gb/config.h: --redis.url, --redis.prefix,
 * --index.hash-key-file, --index.keys-file, ..., each also read from its
 * GB_* environment variable); an option with a '.' in its name may come
 * anywhere, everything else belongs to the command.
 *
 * Exit status: 0 done; 1 Redis failed (or the import was interrupted);
 * 2 bad usage or input (with import --strict, also a refused line);
 * 3 reconcile found drift and was not asked to --fix it.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "csvrows.h"
#include "gb/config.h"
#include "gb/err.h"
#include "gb/indexfeed.h"
#include "gb/kafka.h"
#include "gb/keyring.h"
#include "gb/log.h"
#include "gb/numkey.h"
#include "gb/phone.h"
#include "gb/redis.h"
#include "gb/registry.h"
#include "gb/service.h"
#include "gb/stations.h"
#include "gb/timeparse.h"

#define EXIT_REDIS 1
#define EXIT_USAGE 2
#define EXIT_DRIFT 3

#define ROW_MAX_BYTES 16384 /* a registrant's line is far shorter; more is an unclosed quote */
#define ROW_MAX_CELLS 32
#define FAMILY_ITEMS_MAX 32 /* numbers one cell may list; the engine refuses past 8 */
#define APPLY_ATTEMPTS 3    /* a change is retried after a dropped connection: it is idempotent */
#define FUTURE_SLACK_MS (5 * 60 * 1000)
#define DRAW_INTERVAL_US 100000

static const char description[] =
    "The bureau's tool for the protected-person index: bulk import of registrants,\n"
    "reconciliation of the live statistics, a station's figures. It writes to Redis\n"
    "with the engine matcher uses.\n"
    "\n"
    "Commands (after the options; options may also follow the command):\n"
    "  import FILE.csv|- [--report FILE] [--strict] [--quiet]\n"
    "      Registers the registrants of a CSV file and adds their family numbers.\n"
    "      Header (any order): registrant,station_id[,name,age,occupation,lat,lon,\n"
    "      following,family,ts]; family lists \"number:relation\" items separated\n"
    "      by ';' (\"13800138000:母亲;13700137000:儿子\"); following is 1/0 (default 1);\n"
    "      ts is when the citizen registered (RFC 3339 or epoch s/ms; default now).\n"
    "      Re-running a file changes nothing. Refused lines are listed in the report\n"
    "      (--report FILE, default stderr) as \"line N: reason\", without phone\n"
    "      numbers; the summary goes to stdout; a progress line to stderr when it is\n"
    "      a terminal (--quiet: none). --strict: exit 2 when a line was refused.\n"
    "  reconcile [--fix]\n"
    "      Recomputes every station's followers, registered and protected from the\n"
    "      index and prints each drift; --fix stores the recomputed figures. Exit 3\n"
    "      when drift was found and not fixed. Run it when the registry is quiet.\n"
    "  stats STATION [--day YYYYMMDD] [--json]\n"
    "      A station's figures and those of a day (default today in China) as\n"
    "      key=value lines, or one JSON object.\n"
    "  unseal CONTEXT\n"
    "      Opens sealed values read from stdin, one a line, and prints each in the\n"
    "      clear (plain values pass as they are): for an SRE reading Redis during an\n"
    "      incident, and for tests. CONTEXT names the field, e.g. notifier.feed (an\n"
    "      alert's JSON, feed entries), notifier.webhook, rg.profile, rg.family.\n"
    "      Exit 2 when a value does not open. Needs no Redis.\n"
    "\n"
    "Exit status: 0 done; 1 Redis failed or the import was interrupted (re-run it);\n"
    "2 bad usage or input (import --strict: also a refused line); 3 drift found.\n"
    "\n"
    "The number-hash key and the data-encryption keys are needed by import and\n"
    "unseal only.";

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list ap;
  fputs("gb-registry: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static int say_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int say_usage(const char *fmt, ...) {
  va_list ap;
  fputs("gb-registry: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(" (--help for usage)\n", stderr);
  return EXIT_USAGE;
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the command's own arguments ---- */

typedef struct {
  const char *name;
  int has_arg;
} flag_t;

typedef struct {
  const char *pos[4];
  int npos;
  const char *val[4]; /* by index in the command's flag table; NULL = not given */
} cmd_args_t;

/* Reads the command's arguments (after the command name) against its flag
 * table: "--flag", "--flag=value" or "--flag value"; the rest positional. */
static int cmd_args_parse(cmd_args_t *a, const char *cmd, const flag_t *flags, int nflags,
                          int argc, char **argv) {
  memset(a, 0, sizeof(*a));
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i];
    if (strncmp(s, "--", 2) != 0 || s[2] == '\0') {
      if (a->npos == (int)(sizeof(a->pos) / sizeof(a->pos[0])))
        return say_usage("%s: too many arguments", cmd);
      a->pos[a->npos++] = s;
      continue;
    }
    const char *name = s + 2, *eq = strchr(name, '=');
    size_t nl = eq ? (size_t)(eq - name) : strlen(name);
    int k = 0;
    while (k < nflags && !(strlen(flags[k].name) == nl && !strncmp(flags[k].name, name, nl))) k++;
    if (k == nflags) return say_usage("%s: unknown option %s", cmd, s);
    if (flags[k].has_arg) {
      if (eq) a->val[k] = eq + 1;
      else if (i + 1 < argc) a->val[k] = argv[++i];
      else return say_usage("%s: --%s wants a value", cmd, flags[k].name);
    } else {
      if (eq) return say_usage("%s: --%s takes no value", cmd, flags[k].name);
      a->val[k] = "1";
    }
  }
  return 0;
}

/* ---- import ---- */

enum {
  COL_REGISTRANT,
  COL_STATION,
  COL_NAME,
  COL_AGE,
  COL_OCCUPATION,
  COL_LAT,
  COL_LON,
  COL_FOLLOWING,
  COL_FAMILY,
  COL_TS,
  NCOLS
};
static const char *const col_names[NCOLS] = {"registrant", "station_id", "name",   "age",
                                             "occupation", "lat",        "lon",    "following",
                                             "family",     "ts"};

/* Why a line (or one of its family numbers) was refused; stable names for
 * the summary. */
typedef enum {
  REF_CSV_SYNTAX,
  REF_CELL_COUNT,
  REF_TOO_LARGE,
  REF_BAD_REGISTRANT,
  REF_DUPLICATE,
  REF_BAD_CELL,
  REF_BAD_FAMILY,
  REF_UNKNOWN_STATION,
  REF_FAMILY_LIMIT,
  REF_REFUSED,
  REF__CNT
} refusal_t;
static const char *const ref_names[REF__CNT] = {
    [REF_CSV_SYNTAX] = "csv_syntax",         [REF_CELL_COUNT] = "cell_count",
    [REF_TOO_LARGE] = "too_large",           [REF_BAD_REGISTRANT] = "bad_registrant",
    [REF_DUPLICATE] = "duplicate",           [REF_BAD_CELL] = "bad_cell",
    [REF_BAD_FAMILY] = "bad_family",         [REF_UNKNOWN_STATION] = "unknown_station",
    [REF_FAMILY_LIMIT] = "family_limit",     [REF_REFUSED] = "refused",
};

/* Registrants seen so far in the file (E.164 -> line), to refuse a repeat:
 * a second line would silently move the registrant. Open addressing. */
typedef struct {
  char e164[GB_PHONE_MAX];
  unsigned long line; /* 0 = empty slot */
} seen_slot_t;

typedef struct {
  seen_slot_t *slot;
  size_t cap, n;
} seen_t;

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* Returns the line e164 was first seen on, 0 once added, or -1 (memory). */
static long seen_add(seen_t *s, const char *e164, unsigned long line) {
  if ((s->n + 1) * 2 > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    seen_slot_t *slot = calloc(cap, sizeof(*slot));
    if (!slot) return -1;
    for (size_t i = 0; i < s->cap; i++) {
      if (!s->slot[i].line) continue;
      size_t j = fnv1a(s->slot[i].e164) & (cap - 1);
      while (slot[j].line) j = (j + 1) & (cap - 1);
      slot[j] = s->slot[i];
    }
    free(s->slot);
    s->slot = slot;
    s->cap = cap;
  }
  size_t j = fnv1a(e164) & (s->cap - 1);
  for (; s->slot[j].line; j = (j + 1) & (s->cap - 1))
    if (!strcmp(s->slot[j].e164, e164)) return (long)s->slot[j].line;
  snprintf(s->slot[j].e164, sizeof(s->slot[j].e164), "%s", e164);
  s->slot[j].line = line;
  s->n++;
  return 0;
}

typedef struct {
  char number[GB_PHONE_MAX];
  char relation[33];
} fam_item_t;

typedef struct {
  gb_registry_t *reg;
  const char *base; /* the file's name, for request ids */
  FILE *report;
  int report_is_stderr;
  int progress_on;
  csvrows_t *rows;
  /* the row being read (csvrows owns the cells) */
  char **cells;
  int ncells;
  int row_too_wide;
  unsigned long row_line;
  /* the header */
  int have_header;
  int col[NCOLS];
  int ncols;
  seen_t seen;
  /* counts */
  unsigned long lines, registrants, unprotected, family, refused;
  unsigned long refused_by[REF__CNT];
  long long bytes_done, file_size;
  int64_t start_us, next_draw_us, rate_t_us;
  unsigned long rate_n;
  double rate_shown;
  int progress_drawn;
  int fatal; /* EXIT_* that stops the import */
} imp_t;

static void progress_clear(imp_t *im) {
  if (!im->progress_drawn) return;
  fputs("\r\033[K", stderr);
  fflush(stderr);
  im->progress_drawn = 0;
}

/* "1.2M", "345k", "999": counts that fit the progress line. */
static const char *human(char *buf, size_t size, double v) {
  if (v >= 1e6) snprintf(buf, size, "%.2fM", v / 1e6);
  else if (v >= 1e4) snprintf(buf, size, "%.1fk", v / 1e3);
  else snprintf(buf, size, "%.0f", v);
  return buf;
}

static void progress_draw(imp_t *im, int force) {
  char a[16], b[16], c[16], r[16], pct[16] = "";
  if (!im->progress_on) return;
  int64_t t = now_us();
  if (!force && t < im->next_draw_us) return;
  im->next_draw_us = t + DRAW_INTERVAL_US;
  /* The rate of the last second or so, smoothed: "how fast is it going now". */
  int64_t dt = t - im->rate_t_us;
  if (dt >= 250000) {
    double inst = (double)(im->lines - im->rate_n) * 1e6 / (double)dt;
    im->rate_shown = im->rate_n == 0 ? inst : 0.5 * im->rate_shown + 0.5 * inst;
    im->rate_t_us = t;
    im->rate_n = im->lines;
  }
  if (im->file_size > 0)
    snprintf(pct, sizeof(pct), "  %3.0f%%", 100.0 * (double)im->bytes_done / (double)im->file_size);
  fprintf(stderr, "\r%s lines  %s registrants  %s family  %lu refused  %s lines/s%s\033[K",
          human(a, sizeof(a), (double)im->lines), human(b, sizeof(b), (double)im->registrants),
          human(c, sizeof(c), (double)im->family), im->refused, human(r, sizeof(r), im->rate_shown),
          pct);
  fflush(stderr);
  im->progress_drawn = 1;
}

/* Lists a refusal in the report: the line and the reason, never a number. */
static void refuse(imp_t *im, unsigned long line, refusal_t why, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void refuse(imp_t *im, unsigned long line, refusal_t why, const char *fmt, ...) {
  va_list ap;
  im->refused++;
  im->refused_by[why]++;
  if (im->report_is_stderr) progress_clear(im);
  fprintf(im->report, "line %lu: ", line);
  va_start(ap, fmt);
  vfprintf(im->report, fmt, ap);
  va_end(ap);
  fputc('\n', im->report);
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Trims ASCII white space (line ends too: a quoted cell may span lines) at
 * both ends, in place. */
static char *trim(char *s) {
  while (is_space(*s)) s++;
  size_t n = strlen(s);
  while (n && is_space(s[n - 1])) s[--n] = '\0';
  return s;
}

static void read_header(imp_t *im) {
  unsigned long line = im->row_line;
  for (int k = 0; k < NCOLS; k++) im->col[k] = -1;
  if (im->row_too_wide) {
    say("line %lu: the header is too wide (at most %d columns)", line, ROW_MAX_CELLS);
    im->fatal = EXIT_USAGE;
    return;
  }
  for (int i = 0; i < im->ncells; i++) {
    const char *h = trim(im->cells[i]);
    int k = 0;
    while (k < NCOLS && strcasecmp(h, col_names[k]) != 0) k++;
    if (k == NCOLS) {
      say("line %lu: header column %d \"%.64s\" is not one of registrant, station_id, name, "
          "age, occupation, lat, lon, following, family, ts",
          line, i + 1, h);
      im->fatal = EXIT_USAGE;
      return;
    }
    if (im->col[k] >= 0) {
      say("line %lu: header column \"%s\" appears twice", line, col_names[k]);
      im->fatal = EXIT_USAGE;
      return;
    }
    im->col[k] = i;
  }
  for (int k = COL_REGISTRANT; k <= COL_STATION; k++)
    if (im->col[k] < 0) {
      say("line %lu: the header lacks column \"%s\" (want at least registrant,station_id)", line,
          col_names[k]);
      im->fatal = EXIT_USAGE;
      return;
    }
  if ((im->col[COL_LAT] < 0) != (im->col[COL_LON] < 0)) {
    say("line %lu: the header has only one of lat and lon", line);
    im->fatal = EXIT_USAGE;
    return;
  }
  im->ncols = im->ncells;
  im->have_header = 1;
}

static int parse_flag(const char *s, bool *out) {
  static const char *const yes[] = {"1", "true", "yes", "y"}, *const no[] = {"0", "false", "no", "n"};
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    if (!strcasecmp(s, yes[i])) return *out = true, 0;
    if (!strcasecmp(s, no[i])) return *out = false, 0;
  }
  return -1;
}

/* Text that will be sealed as JSON must be UTF-8; jansson checks it. */
static int utf8_ok(const char *s) {
  json_t *j = json_string(s);
  if (!j) return 0;
  json_decref(j);
  return 1;
}

/* Copies a text cell into a field of `size` bytes. Returns 0, or -1 with
 * the line refused. */
static int text_cell(imp_t *im, char *out, size_t size, const char *v, const char *col) {
  if (strlen(v) >= size) {
    refuse(im, im->row_line, REF_BAD_CELL, "%s: %zu bytes, at most %zu", col, strlen(v), size - 1);
    return -1;
  }
  if (!utf8_ok(v)) {
    refuse(im, im->row_line, REF_BAD_CELL, "%s: not valid UTF-8", col);
    return -1;
  }
  snprintf(out, size, "%s", v);
  return 0;
}

/* A person's number; the reason never repeats it. Returns 0 or -1. */
static int person(char *out, const char *in, char *why, size_t why_size) {
  char e[160];
  gb_phone_class_t cls = gb_phone_normalize(out, GB_PHONE_MAX, in, strlen(in), e, sizeof(e));
  if (cls == GB_PHONE_INVALID) {
    snprintf(why, why_size, "%s", e);
    return -1;
  }
  if (cls == GB_PHONE_SERVICE) {
    snprintf(why, why_size, "a service number, not a person's");
    return -1;
  }
  return 0;
}

/* The next item of a family cell: up to ';' or the full-width '；'. */
static char *next_item(char **p) {
  char *s = *p, *e = s;
  if (!*s) return NULL;
  while (*e && *e != ';' && strncmp(e, "\xef\xbc\x9b", 3) != 0) e++;
  if (!*e) *p = e;
  else {
    *p = e + (*e == ';' ? 1 : 3);
    *e = '\0';
  }
  return s;
}

/* Reads a family cell into items. Returns the count, or -1 with the line
 * refused. */
static int read_family(imp_t *im, char *cell, const char *registrant, fam_item_t *items) {
  int n = 0, k = 0;
  char *p = cell, *item, why[200];
  while ((item = next_item(&p)) != NULL) {
    item = trim(item);
    if (!*item) continue; /* "a;;b", a trailing ';' */
    k++;
    if (n == FAMILY_ITEMS_MAX) {
      refuse(im, im->row_line, REF_BAD_FAMILY, "family: more than %d numbers", FAMILY_ITEMS_MAX);
      return -1;
    }
    /* number:relation, with ':' or the full-width '：'. */
    char *colon = strchr(item, ':'), *fw = strstr(item, "\xef\xbc\x9a"), *rel = NULL;
    if (fw && (!colon || fw < colon)) colon = fw;
    if (colon) {
      rel = colon + (*colon == ':' ? 1 : 3);
      *colon = '\0';
      rel = trim(rel);
    }
    fam_item_t *f = &items[n];
    if (person(f->number, trim(item), why, sizeof(why)) != 0) {
      refuse(im, im->row_line, REF_BAD_FAMILY, "family number %d: %s", k, why);
      return -1;
    }
    if (!strcmp(f->number, registrant)) {
      refuse(im, im->row_line, REF_BAD_FAMILY, "family number %d: the registrant's own number", k);
      return -1;
    }
    if (!rel) rel = "";
    if (strlen(rel) >= sizeof(f->relation) || !utf8_ok(rel)) {
      refuse(im, im->row_line, REF_BAD_FAMILY,
             "family number %d: relation: want at most %zu bytes of UTF-8", k,
             sizeof(f->relation) - 1);
      return -1;
    }
    snprintf(f->relation, sizeof(f->relation), "%s", rel);
    n++;
  }
  return n;
}

/* Applies one change, again after a dropped connection (the engine's steps
 * are idempotent). Returns 0 or the engine's error. */
static int apply(imp_t *im, const gb_reg_change_t *c, gb_reg_result_t *res) {
  int err = 0;
  for (int attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
    if ((err = gb_registry_apply(im->reg, c, res)) != GB_EIO) break;
  }
  return err;
}

static void apply_failed(imp_t *im, int err) {
  if (im->report_is_stderr) progress_clear(im);
  say("line %lu: %s: Redis failed; stopped. Re-run the import (it is idempotent), then "
      "reconcile --fix",
      im->row_line, gb_strerror(err));
  im->fatal = EXIT_REDIS;
}

static void read_row(imp_t *im) {
  unsigned long line = im->row_line;
  char why[200];
  im->lines++;
  if (im->row_too_wide) {
    refuse(im, line, REF_TOO_LARGE, "more than %d bytes or %d cells", ROW_MAX_BYTES, ROW_MAX_CELLS);
    return;
  }
  if (im->ncells != im->ncols) {
    refuse(im, line, REF_CELL_COUNT, "%d cells, the header has %d", im->ncells, im->ncols);
    return;
  }
  char *c[NCOLS];
  static char empty[] = "";
  for (int k = 0; k < NCOLS; k++) c[k] = im->col[k] >= 0 ? trim(im->cells[im->col[k]]) : empty;

  gb_reg_change_t reg;
  memset(&reg, 0, sizeof(reg));
  reg.op = GB_REG_REGISTER;
  snprintf(reg.request_id, sizeof(reg.request_id), "import:%.80s:%lu", im->base, line);
  if (person(reg.registrant, c[COL_REGISTRANT], why, sizeof(why)) != 0) {
    refuse(im, line, REF_BAD_REGISTRANT, "registrant: %s", why);
    return;
  }
  if (!c[COL_STATION][0]) {
    refuse(im, line, REF_BAD_CELL, "station_id: empty");
    return;
  }
  if (!gb_station_id_valid(c[COL_STATION])) {
    refuse(im, line, REF_BAD_CELL, "station_id: want 1-%d of letters, digits, '-', '_', '.'",
           GB_STATION_ID_MAX);
    return;
  }
  snprintf(reg.station_id, sizeof(reg.station_id), "%s", c[COL_STATION]);
  if (text_cell(im, reg.name, sizeof(reg.name), c[COL_NAME], "name") ||
      text_cell(im, reg.occupation, sizeof(reg.occupation), c[COL_OCCUPATION], "occupation"))
    return;
  if (c[COL_AGE][0]) {
    char *end;
    errno = 0;
    long age = strtol(c[COL_AGE], &end, 10);
    if (errno || end == c[COL_AGE] || *end || age < 0 || age > 150) {
      refuse(im, line, REF_BAD_CELL, "age: want a whole number 0-150");
      return;
    }
    reg.age = (int)age;
  }
  if (c[COL_LAT][0] || c[COL_LON][0]) {
    if (gb_parse_degrees(c[COL_LAT], &reg.lat) || gb_parse_degrees(c[COL_LON], &reg.lon) || reg.lat < -90 ||
        reg.lat > 90 || reg.lon < -180 || reg.lon > 180) {
      refuse(im, line, REF_BAD_CELL, "lat, lon: want decimal degrees within -90..90, -180..180");
      return;
    }
    reg.has_location = true;
  }
  reg.has_profile = c[COL_NAME][0] || c[COL_AGE][0] || c[COL_OCCUPATION][0] || reg.has_location;
  reg.following = true;
  if (c[COL_FOLLOWING][0] && parse_flag(c[COL_FOLLOWING], &reg.following) != 0) {
    refuse(im, line, REF_BAD_CELL, "following: want 1 or 0 (true/false, yes/no), or empty for 1");
    return;
  }
  if (c[COL_TS][0]) {
    const char *s = c[COL_TS];
    size_t len = strlen(s);
    int err = len <= 15 && strspn(s, "0123456789") == len
                  ? gb_time_from_epoch(&reg.ts_ms, strtod(s, NULL), why, sizeof(why))
                  : gb_time_parse_rfc3339(&reg.ts_ms, s, len, why, sizeof(why));
    if (!err) err = gb_time_check_skew(reg.ts_ms, gb_now_ms(), FUTURE_SLACK_MS, why, sizeof(why));
    if (err) {
      refuse(im, line, REF_BAD_CELL, "ts: %s", why);
      return;
    }
  }
  fam_item_t fam[FAMILY_ITEMS_MAX];
  int nfam = read_family(im, c[COL_FAMILY], reg.registrant, fam);
  if (nfam < 0) return;
  long first = seen_add(&im->seen, reg.registrant, line);
  if (first < 0) {
    say("out of memory");
    im->fatal = EXIT_REDIS;
    return;
  }
  if (first) {
    refuse(im, line, REF_DUPLICATE, "registrant: already on line %ld; this line is skipped", first);
    return;
  }

  gb_reg_result_t res;
  int err = apply(im, &reg, &res);
  if (err) {
    apply_failed(im, err);
    return;
  }
  if (!res.accepted) {
    if (!strncmp(res.reason, "unknown station", 15))
      refuse(im, line, REF_UNKNOWN_STATION, "station_id %s: no such unit, or deactivated",
             reg.station_id);
    else
      refuse(im, line, REF_REFUSED, "%s", res.reason);
    return;
  }
  im->registrants++;
  if (!res.protected_) im->unprotected++;
  for (int i = 0; i < nfam; i++) {
    gb_reg_change_t fc;
    memset(&fc, 0, sizeof(fc));
    fc.op = GB_REG_ADD_FAMILY;
    snprintf(fc.request_id, sizeof(fc.request_id), "import:%.80s:%lu:f%d", im->base, line, i + 1);
    memcpy(fc.registrant, reg.registrant, sizeof(fc.registrant));
    fc.ts_ms = reg.ts_ms;
    memcpy(fc.family, fam[i].number, sizeof(fc.family));
    memcpy(fc.relation, fam[i].relation, sizeof(fc.relation));
    if ((err = apply(im, &fc, &res)) != 0) {
      apply_failed(im, err);
      return;
    }
    if (res.accepted) im->family++;
    else if (!strncmp(res.reason, "at most", 7))
      refuse(im, line, REF_FAMILY_LIMIT, "family number %d: %s", i + 1, res.reason);
    else
      refuse(im, line, REF_REFUSED, "family number %d: %s", i + 1, res.reason);
  }
}

static void on_row(void *ud, unsigned long line, char **cells, int ncells, int too_wide) {
  imp_t *im = ud;
  if (im->fatal) return;
  im->cells = cells, im->ncells = ncells, im->row_too_wide = too_wide, im->row_line = line;
  if (!im->have_header) read_header(im);
  else read_row(im);
}

static void on_bad(void *ud, unsigned long line, csvrows_bad_t why, unsigned long at_line) {
  imp_t *im = ud;
  if (im->fatal) return;
  if (!im->have_header) {
    say(why == CSVROWS_UNCLOSED ? "line %lu: the header has a quoted cell not closed"
                                : "line %lu: CSV syntax error in the header",
        at_line);
    im->fatal = EXIT_USAGE;
    return;
  }
  im->lines++;
  if (why == CSVROWS_SYNTAX)
    refuse(im, line, REF_CSV_SYNTAX, "CSV syntax error (a stray quote) on line %lu", at_line);
  else if (why == CSVROWS_TOO_LARGE)
    refuse(im, line, REF_TOO_LARGE, "more than %d bytes: a quote not closed?", ROW_MAX_BYTES);
  else
    refuse(im, line, REF_CSV_SYNTAX, "CSV syntax error: a quoted cell not closed at the end");
}

static void summary(imp_t *im, int stopped) {
  double elapsed = (double)(now_us() - im->start_us) / 1e6;
  progress_clear(im);
  printf("gb-registry: import lines=%lu registrants=%lu unprotected=%lu family=%lu refused=%lu "
         "elapsed_s=%.3f lines_per_s=%.0f%s\n",
         im->lines, im->registrants, im->unprotected, im->family, im->refused, elapsed,
         elapsed > 0 ? (double)im->lines / elapsed : 0.0, stopped ? " stopped=yes" : "");
  if (im->refused) {
    printf("gb-registry: refused by reason:");
    for (int i = 0; i < REF__CNT; i++)
      if (im->refused_by[i]) printf(" %s=%lu", ref_names[i], im->refused_by[i]);
    putchar('\n');
  }
  fflush(stdout);
}

/* The index's change feed, when the import is told where Kafka is: every
 * protected-number entry it writes goes to topic.index, as matcher's do. */
typedef struct {
  rd_kafka_t *rk;
  const char *topic;
} feed_t;

static int import_feed(void *ud, const gb_pn_entry_t *pn) {
  feed_t *f = ud;
  char key[GB_INDEXFEED_KEY_MAX];
  size_t len = 0;
  uint8_t *buf = gb_indexfeed_protected(pn, gb_now_ms(), &len, key);
  if (!buf) return GB_ENOMEM;
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        f->rk, RD_KAFKA_V_TOPIC(f->topic), RD_KAFKA_V_KEY(key, strlen(key)),
        RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
        RD_KAFKA_V_HEADER("content-type", GB_INDEXFEED_CONTENT_TYPE, -1), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      free(buf);
      say("gb.index feed: %s", rd_kafka_err2str(e));
      return GB_EIO;
    }
    rd_kafka_poll(f->rk, 100);
  }
}

/* Opens the feed when kafka.bootstrap.servers is set. Returns 0 (f->rk may
 * stay NULL: no feed), or an exit status. */
static int feed_open(feed_t *f, const gb_config_t *cfg) {
  memset(f, 0, sizeof(*f));
  bool have_kafka = false;
  for (int i = 0; i < gb_config_kafka_count(cfg); i++) {
    const char *k, *v;
    gb_config_kafka_get(cfg, i, &k, &v);
    if (!strcmp(k, "bootstrap.servers") && *v) have_kafka = true;
  }
  if (!have_kafka) {
    say("note: no --kafka.bootstrap.servers: the %s feed is not published; the matching path "
        "must reload the index from Redis after this import", gb_config_str(cfg, "topic.index"));
    return 0;
  }
  char errstr[512];
  if (gb_kafka_producer_new(&f->rk, cfg, errstr, sizeof(errstr)) != 0) {
    say("%s", errstr);
    return EXIT_REDIS;
  }
  f->topic = gb_config_str(cfg, "topic.index");
  if (gb_kafka_partition_count(f->rk, f->topic, 10000) <= 0) {
    say("kafka: topic '%s' does not exist", f->topic);
    rd_kafka_destroy(f->rk);
    f->rk = NULL;
    return EXIT_USAGE;
  }
  return 0;
}

/* Waits (bounded) for every feed message; returns 0 or EXIT_REDIS. */
static int feed_close(feed_t *f) {
  if (!f->rk) return 0;
  rd_kafka_flush(f->rk, 60000);
  int left = rd_kafka_outq_len(f->rk);
  uint64_t failed = gb_kafka_delivery_failures();
  rd_kafka_destroy(f->rk);
  f->rk = NULL;
  if (left || failed) {
    say("gb.index feed: %d messages unacknowledged, %llu failed; re-run the import", left,
        (unsigned long long)failed);
    return EXIT_REDIS;
  }
  return 0;
}

static int cmd_import(const gb_config_t *cfg, gb_redis_t *r, int argc, char **argv) {
  static const flag_t flags[] = {{"report", 1}, {"strict", 0}, {"quiet", 0}};
  cmd_args_t a;
  char errstr[512];
  int rc = cmd_args_parse(&a, "import", flags, 3, argc, argv);
  if (rc) return rc;
  if (a.npos != 1) return say_usage("import takes one FILE.csv (or - for stdin)");
  const char *path = a.pos[0];

  gb_numkey_t numkey;
  gb_keyring_t keys;
  if (gb_numkey_load(&numkey, cfg, errstr, sizeof(errstr)) != 0 ||
      gb_keyring_load(&keys, cfg, errstr, sizeof(errstr)) != 0) {
    say("%s", errstr);
    sodium_memzero(&keys, sizeof(keys));
    sodium_memzero(&numkey, sizeof(numkey));
    return EXIT_USAGE;
  }
  imp_t im;
  memset(&im, 0, sizeof(im));
  feed_t feed = {0};
  im.file_size = -1;
  FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
  if (!f) {
    say("%s: %s", path, strerror(errno));
    rc = EXIT_USAGE;
    goto cleanup;
  }
  struct stat sb;
  if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)) im.file_size = (long long)sb.st_size;
  if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
    say("%s: is a directory", path);
    rc = EXIT_USAGE;
    goto cleanup;
  }
  if (a.val[0] && !(im.report = fopen(a.val[0], "w"))) {
    say("cannot write the report %s: %s", a.val[0], strerror(errno));
    rc = EXIT_USAGE;
    goto cleanup;
  }
  if (!im.report) im.report = stderr, im.report_is_stderr = 1;
  const char *slash = strrchr(path, '/');
  im.base = strcmp(path, "-") ? (slash ? slash + 1 : path) : "stdin";
  im.progress_on = !a.val[2] && isatty(STDERR_FILENO);
  if (gb_registry_new(&im.reg, r, gb_config_str(cfg, "redis.prefix"), &numkey, &keys) != 0) {
    say("out of memory");
    rc = EXIT_REDIS;
    goto cleanup;
  }
  if ((rc = feed_open(&feed, cfg)) != 0) goto cleanup;
  if (feed.rk) gb_registry_set_feed(im.reg, import_feed, &feed);
  csvrows_conf_t rows_conf = {ROW_MAX_BYTES, ROW_MAX_CELLS, on_row, on_bad, &im};
  if (!(im.rows = csvrows_new(&rows_conf))) {
    say("out of memory");
    rc = EXIT_REDIS;
    goto cleanup;
  }
  im.start_us = im.rate_t_us = now_us();

  char *buf = NULL;
  size_t cap = 0;
  ssize_t len;
  unsigned long line = 0;
  while (!im.fatal && !gb_service_stop && (len = getline(&buf, &cap, f)) >= 0) {
    line++;
    im.bytes_done += len;
    if (csvrows_line(im.rows, line, buf, (size_t)len) != 0) {
      say("line %lu: %s", line, csvrows_error(im.rows));
      im.fatal = EXIT_REDIS;
    }
    progress_draw(&im, 0);
  }
  free(buf);
  if (!im.fatal && !gb_service_stop && ferror(f)) {
    say("%s: %s", path, strerror(errno));
    im.fatal = EXIT_USAGE;
  }
  if (!im.fatal && !gb_service_stop && csvrows_finish(im.rows) != 0) {
    say("%s: %s", path, csvrows_error(im.rows));
    im.fatal = EXIT_REDIS;
  }
  if (!im.fatal && !gb_service_stop && !im.have_header) {
    say("%s: empty, no header row", path);
    im.fatal = EXIT_USAGE;
  }
  if (im.have_header) {
    if (gb_service_stop) {
      progress_clear(&im);
      say("interrupted after line %lu; re-run the import (it is idempotent)", line);
    }
    summary(&im, im.fatal || gb_service_stop);
  }
  rc = im.fatal ? im.fatal : gb_service_stop ? EXIT_REDIS : 0;
  if (!rc && a.val[1] && im.refused) rc = EXIT_USAGE;

cleanup:;
  int frc = feed_close(&feed);
  if (!rc) rc = frc;
  progress_clear(&im);
  if (f && f != stdin) fclose(f);
  if (im.report && !im.report_is_stderr && fclose(im.report) != 0 && !rc) {
    say("writing the report %s: %s", a.val[0], strerror(errno));
    rc = EXIT_USAGE;
  }
  csvrows_free(im.rows);
  free(im.seen.slot);
  gb_registry_free(im.reg);
  sodium_memzero(&keys, sizeof(keys));
  sodium_memzero(&numkey, sizeof(numkey));
  return rc;
}

/* ---- reconcile ---- */

static void on_drift(const char *station, const gb_station_stats_t *stored,
                     const gb_station_stats_t *actual, void *ud) {
  (void)ud;
  printf("station %s: followers stored %lld actual %lld, registered stored %lld actual %lld, "
         "protected stored %lld actual %lld\n",
         station, stored->followers, actual->followers, stored->registered, actual->registered,
         stored->protected_, actual->protected_);
}

static int cmd_reconcile(const gb_config_t *cfg, gb_redis_t *r, int argc, char **argv) {
  static const flag_t flags[] = {{"fix", 0}};
  cmd_args_t a;
  int rc = cmd_args_parse(&a, "reconcile", flags, 1, argc, argv);
  if (rc) return rc;
  if (a.npos) return say_usage("reconcile takes no arguments");
  bool fix = a.val[0] != NULL;
  int stations = 0, drifted = 0;
  int err = gb_registry_reconcile(r, gb_config_str(cfg, "redis.prefix"), fix, on_drift, NULL,
                                  &stations, &drifted);
  fflush(stdout);
  if (err) {
    say("reconcile: redis %s: %s (%s); nothing was concluded%s", gb_redis_url(r),
        gb_redis_errstr(r)[0] ? gb_redis_errstr(r) : "command failed", gb_strerror(err),
        fix ? ", some figures may be fixed already: run it again" : "");
    return EXIT_REDIS;
  }
  printf("stations %d drifted %d%s\n", stations, drifted, fix && drifted ? " fixed" : "");
  return drifted && !fix ? EXIT_DRIFT : 0;
}

/* ---- stats ---- */

/* YYYYMMDD of a real calendar day (1900-9999). */
static int parse_day(const char *s, int *out) {
  if (strlen(s) != 8 || strspn(s, "0123456789") != 8) return -1;
  int v = atoi(s), y = v / 10000, m = v / 100 % 100, d = v % 100;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return -1;
  if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return -1;
  *out = v;
  return 0;
}

static int cmd_stats(const gb_config_t *cfg, gb_redis_t *r, int argc, char **argv) {
  static const flag_t flags[] = {{"day", 1}, {"json", 0}};
  cmd_args_t a;
  int rc = cmd_args_parse(&a, "stats", flags, 2, argc, argv);
  if (rc) return rc;
  if (a.npos != 1) return say_usage("stats takes one STATION");
  const char *id = a.pos[0], *prefix = gb_config_str(cfg, "redis.prefix");
  int day = gb_china_day(gb_now_ms());
  if (a.val[0] && parse_day(a.val[0], &day) != 0)
    return say_usage("stats: --day %s: want YYYYMMDD", a.val[0]);
  gb_station_t st;
  int err = gb_station_get(r, prefix, id, &st);
  if (err == GB_ENOTFOUND) {
    say("stats %s: no such station", id);
    return EXIT_USAGE;
  }
  gb_station_stats_t s;
  if (err || gb_stats_get(r, prefix, id, day, &s) != 0) {
    say("stats: redis %s: %s", gb_redis_url(r),
        gb_redis_errstr(r)[0] ? gb_redis_errstr(r) : "command failed");
    return EXIT_REDIS;
  }
  long long net = s.follows_today - s.unfollows_today;
  if (a.val[1]) {
    json_t *o = json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "station", id, "day",
                          day, "followers", (json_int_t)s.followers, "registered",
                          (json_int_t)s.registered, "protected", (json_int_t)s.protected_,
                          "registrations", (json_int_t)s.registrations_today, "follows",
                          (json_int_t)s.follows_today, "unfollows", (json_int_t)s.unfollows_today,
                          "net_follows", (json_int_t)net);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) {
      say("out of memory");
      return EXIT_REDIS;
    }
    puts(text);
    free(text);
  } else {
    printf("station=%s\nday=%d\nfollowers=%lld\nregistered=%lld\nprotected=%lld\n"
           "registrations=%lld\nfollows=%lld\nunfollows=%lld\nnet_follows=%lld\n",
           id, day, s.followers, s.registered, s.protected_, s.registrations_today,
           s.follows_today, s.unfollows_today, net);
  }
  return 0;
}

/* ---- unseal ---- */

static int cmd_unseal(const gb_config_t *cfg, int argc, char **argv) {
  if (argc != 1) return say_usage("unseal takes one CONTEXT (e.g. notifier.feed)");
  char errstr[512];
  gb_keyring_t keys;
  if (gb_keyring_load(&keys, cfg, errstr, sizeof(errstr)) != 0) {
    say("%s", errstr);
    return EXIT_USAGE;
  }
  char *line = NULL, *plain = NULL;
  size_t cap = 0, plain_cap = 0;
  ssize_t len;
  int rc = 0;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!*line) continue;
    if (line[0] == '{' || line[0] == '[') {
      puts(line);
      continue;
    }
    if (plain_cap < (size_t)len + 1) {
      char *p = realloc(plain, (size_t)len + 1);
      if (!p) break;
      plain = p, plain_cap = (size_t)len + 1;
    }
    size_t n;
    if (gb_open(&keys, argv[0], line, plain, plain_cap, &n) != 0) {
      say("a value does not open with context %s and the keyring", argv[0]);
      rc = EXIT_USAGE;
      continue;
    }
    puts(plain);
  }
  sodium_memzero(&keys, sizeof(keys));
  free(line);
  free(plain);
  return rc;
}

/* ---- main ---- */

/* An option of the configuration tables: "--name.x[=value]". */
static int is_config_opt(const char *s) {
  if (strncmp(s, "--", 2) != 0) return 0;
  const char *eq = strchr(s, '=');
  size_t nl = eq ? (size_t)(eq - s) : strlen(s);
  return memchr(s + 2, '.', nl - 2) != NULL || !strcmp(s, "--help-markdown");
}

int main(int argc, char **argv) {
  const gb_opt_t *const tables[] = {gb_common_opts, gb_numkey_opts, gb_keyring_opts, NULL};
  static const struct {
    const char *name;
    int (*fn)(const gb_config_t *, gb_redis_t *, int, char **);
  } cmds[] = {{"import", cmd_import}, {"reconcile", cmd_reconcile}, {"stats", cmd_stats}};

  /* Config options go to gb_config_parse; the first other word is the
   * command, and the remaining words are its own. */
  char **cfg_argv = calloc((size_t)argc + 1, sizeof(char *));
  char **cmd_argv = calloc((size_t)argc + 1, sizeof(char *));
  int cfg_argc = 1, cmd_argc = 0, rc = 0;
  if (!cfg_argv || !cmd_argv) {
    say("out of memory");
    return EXIT_REDIS;
  }
  cfg_argv[0] = argv[0];
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      gb_config_usage(stdout, "gb-registry", description, tables);
      goto done;
    }
    if (is_config_opt(argv[i])) {
      cfg_argv[cfg_argc++] = argv[i];
      /* Every option in the tables takes a value ("--redis.url URL"). */
      if (!strchr(argv[i], '=') && strcmp(argv[i], "--help-markdown") != 0 && i + 1 < argc)
        cfg_argv[cfg_argc++] = argv[++i];
    } else {
      cmd_argv[cmd_argc++] = argv[i];
    }
  }
  /* gb_service_init exits 0 after --help-markdown and 2 for a bad option;
   * it sets the log level, initialises libsodium and routes SIGINT and
   * SIGTERM to gb_service_stop. */
  gb_config_t *cfg = gb_service_init("gb-registry", description, tables, cfg_argc, cfg_argv);
  if (cmd_argc == 0) {
    rc = say_usage("no command (import, reconcile, stats or unseal)");
    gb_config_free(cfg);
    goto done;
  }
  if (!strcmp(cmd_argv[0], "unseal")) { /* no Redis */
    rc = cmd_unseal(cfg, cmd_argc - 1, cmd_argv + 1);
    gb_config_free(cfg);
    goto done;
  }
  size_t k = 0, ncmds = sizeof(cmds) / sizeof(cmds[0]);
  while (k < ncmds && strcmp(cmds[k].name, cmd_argv[0]) != 0) k++;
  if (k == ncmds) {
    rc = say_usage("unknown command \"%s\" (import, reconcile, stats or unseal)", cmd_argv[0]);
    gb_config_free(cfg);
    goto done;
  }
  char errstr[512];
  gb_redis_t *r = NULL;
  int err = gb_redis_connect(&r, gb_config_str(cfg, "redis.url"),
                             (int)gb_config_int(cfg, "redis.timeout-ms"),
                             (int)gb_config_int(cfg, "startup.timeout-ms"), errstr, sizeof(errstr));
  if (err) {
    say("%s", errstr);
    rc = err == GB_EINVAL ? EXIT_USAGE : EXIT_REDIS;
  } else {
    rc = cmds[k].fn(cfg, r, cmd_argc - 1, cmd_argv + 1);
  }
  gb_redis_free(r);
  gb_config_free(cfg);
  if (fflush(stdout) != 0 && !rc) {
    say("stdout: %s", strerror(errno));
    rc = EXIT_REDIS;
  }
done:
  free(cfg_argv);
  free(cmd_argv);
  return rc;
}
