/*
 * gb-stations: the bureau administrator's tool for the police stations
 * (派出所) and publicity units citizens pick when they register
 * (gb/stations.h).
 *
 *   gb-stations [--redis URL] [--prefix P] [--json] COMMAND ...
 *     add --id ID --name NAME --bureau B --lat LAT --lon LON [--publicity]
 *     import FILE.csv|-      header: id,name,bureau,lat,lon,real[,active]
 *     deactivate ID | activate ID | get ID | list
 *     nearest LAT LON [N]  | search TEXT [N]
 *
 * Output is tab-separated lines, or one JSON document with --json.
 * Exit status: 0 done; 1 Redis failed; 2 bad usage or bad input (an
 * unknown station, a refused line in an import: the other lines are
 * imported all the same).
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gb/err.h"
#include "gb/log.h"
#include "gb/redis.h"
#include "csvrows.h"
#include "toolredis.h"
#include "gb/stations.h"

#define EXIT_REDIS 1
#define EXIT_USAGE 2
#define NEAREST_MAX 1000
#define SEARCH_MAX 1000
#define ROW_MAX_BYTES 4096 /* a station line is far shorter; more is an unclosed quote */
#define ROW_MAX_CELLS 16

static const char usage_text[] =
    "usage: gb-stations [options] COMMAND ...\n"
    "\n"
    "Manages the police stations and publicity units citizens pick when they register.\n"
    "\n"
    "commands:\n"
    "  add --id ID --name NAME --bureau B --lat LAT --lon LON [--publicity]\n"
    "                       create or replace a unit (active; --publicity: not a police\n"
    "                       station, its registrants are not protected)\n"
    "  import FILE.csv|-    create or replace the units of a CSV file with the header\n"
    "                       id,name,bureau,lat,lon,real[,active] (real, active: 1/0,\n"
    "                       true/false, yes/no); refused lines are listed, the rest imported\n"
    "  deactivate ID        stop offering a unit (its record stays)\n"
    "  activate ID          offer a deactivated unit again\n"
    "  get ID               one unit, active or not\n"
    "  list                 every unit, by id\n"
    "  nearest LAT LON [N]  the N (default 5, at most 1000) active units nearest to a point\n"
    "  search TEXT [N]      active units whose name contains TEXT (ASCII case-insensitive),\n"
    "                       by name, at most N (default 20, at most 1000)\n"
    "\n"
    "options:\n"
    "  --redis URL          redis://host:port[/db] (default $GB_REDIS_URL or\n"
    "                       redis://127.0.0.1:6379)\n"
    "  --prefix P           key prefix (default $GB_REDIS_PREFIX or gb:)\n"
    "  --timeout-ms MS      bound on connecting and on each command (default 2000)\n"
    "  --json               one JSON document instead of tab-separated lines\n"
    "  --help               this text\n"
    "\n"
    "Lines: id, name, bureau, lat, lon, real (1/0), active (1/0) and, for nearest,\n"
    "distance_m. import prints \"line<TAB>N<TAB>reason\" per refused line, then\n"
    "\"imported<TAB>N\" and \"refused<TAB>N\".\n"
    "\n"
    "exit status: 0 done; 1 Redis failed; 2 bad usage or input (unknown station,\n"
    "refused import lines).\n";

typedef struct {
  const char *redis_url;
  const char *prefix;
  long timeout_ms;
  int json;
  /* add */
  const char *id, *name, *bureau, *lat, *lon;
  int publicity;
  /* the command and its arguments */
  const char *pos[8];
  int npos;
} args_t;

static int say_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int say_usage(const char *fmt, ...) {
  va_list ap;
  fputs("gb-stations: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(" (--help for usage)\n", stderr);
  return EXIT_USAGE;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list ap;
  fputs("gb-stations: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* Options may come anywhere ("--name=X" or "--name X"); everything else is
 * positional, so that negative coordinates ("-33.9") need no "--". */
static int parse_args(args_t *a, int argc, char **argv) {
  static const struct {
    const char *name;
    int has_arg;
    int add_only;
  } opts[] = {
      {"redis", 1, 0}, {"prefix", 1, 0}, {"timeout-ms", 1, 0}, {"json", 0, 0},
      {"help", 0, 0},  {"id", 1, 1},     {"name", 1, 1},       {"bureau", 1, 1},
      {"lat", 1, 1},   {"lon", 1, 1},    {"publicity", 0, 1},
  };
  int only_pos = 0, add_only_seen = 0;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (only_pos || strncmp(s, "--", 2) != 0 || s[2] == '\0') {
      if (!only_pos && !strcmp(s, "--")) {
        only_pos = 1;
        continue;
      }
      if (!strcmp(s, "-h")) s = "--help";
      else {
        if (a->npos == (int)(sizeof(a->pos) / sizeof(a->pos[0])))
          return say_usage("too many arguments");
        a->pos[a->npos++] = s;
        continue;
      }
    }
    const char *name = s + 2, *eq = strchr(name, '=');
    size_t nl = eq ? (size_t)(eq - name) : strlen(name);
    size_t k = 0, nopts = sizeof(opts) / sizeof(opts[0]);
    while (k < nopts && !(strlen(opts[k].name) == nl && !strncmp(opts[k].name, name, nl))) k++;
    if (k == nopts) return say_usage("unknown option %s", s);
    const char *val = NULL;
    if (opts[k].has_arg) {
      if (eq) val = eq + 1;
      else if (i + 1 < argc) val = argv[++i];
      else return say_usage("--%s wants a value", opts[k].name);
    } else if (eq) {
      return say_usage("--%s takes no value", opts[k].name);
    }
    add_only_seen |= opts[k].add_only;
    switch (k) {
    case 0: a->redis_url = val; break;
    case 1: a->prefix = val; break;
    case 2: {
      char *end;
      errno = 0;
      a->timeout_ms = strtol(val, &end, 10);
      if (errno || end == val || *end || a->timeout_ms < 10 || a->timeout_ms > 600000)
        return say_usage("--timeout-ms %s: want 10-600000", val);
      break;
    }
    case 3: a->json = 1; break;
    case 4: fputs(usage_text, stdout); exit(0);
    case 5: a->id = val; break;
    case 6: a->name = val; break;
    case 7: a->bureau = val; break;
    case 8: a->lat = val; break;
    case 9: a->lon = val; break;
    default: a->publicity = 1; break;
    }
  }
  if (a->npos == 0) return say_usage("no command");
  if (add_only_seen && strcmp(a->pos[0], "add") != 0)
    return say_usage("--id, --name, --bureau, --lat, --lon and --publicity go with add only");
  return 0;
}

static int parse_count(const char *s, int max, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 1 || v > max) return -1;
  *out = (int)v;
  return 0;
}

static int parse_flag(const char *s, bool *out) {
  static const char *const yes[] = {"1", "true", "yes", "y"}, *const no[] = {"0", "false", "no", "n"};
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    if (!strcasecmp(s, yes[i])) return *out = true, 0;
    if (!strcasecmp(s, no[i])) return *out = false, 0;
  }
  return -1;
}

/* Fills st from text fields, checking sizes before copying, then as
 * gb_station_put would. Returns 0 or GB_EINVAL with the reason. */
static int fill_station(gb_station_t *st, const char *id, const char *name, const char *bureau,
                        const char *lat, const char *lon, char *errstr, size_t errstr_size) {
  memset(st, 0, sizeof(*st));
  if (strlen(id) >= sizeof(st->id)) id = ""; /* refused below, with the rule */
  if (strlen(bureau) >= sizeof(st->bureau)) bureau = "";
  if (strlen(name) >= sizeof(st->name)) {
    gb_errstr_set(errstr, errstr_size, "name: want 1-%d bytes of UTF-8, got %zu bytes",
                  GB_STATION_NAME_MAX, strlen(name));
    return GB_EINVAL;
  }
  snprintf(st->id, sizeof(st->id), "%s", id);
  snprintf(st->name, sizeof(st->name), "%s", name);
  snprintf(st->bureau, sizeof(st->bureau), "%s", bureau);
  if (gb_parse_degrees(lat, &st->lat) != 0) {
    gb_errstr_set(errstr, errstr_size, "lat: want decimal degrees, got \"%.32s\"", lat);
    return GB_EINVAL;
  }
  if (gb_parse_degrees(lon, &st->lon) != 0) {
    gb_errstr_set(errstr, errstr_size, "lon: want decimal degrees, got \"%.32s\"", lon);
    return GB_EINVAL;
  }
  st->active = true;
  st->real = true;
  return gb_station_validate(st, errstr, errstr_size);
}

/* ---- output ---- */

static void print_tsv(const gb_station_t *st, const double *dist) {
  printf("%s\t%s\t%s\t%.15g\t%.15g\t%d\t%d", st->id, st->name, st->bureau, st->lat, st->lon,
         st->real ? 1 : 0, st->active ? 1 : 0);
  if (dist) printf("\t%lld", (long long)(*dist + 0.5));
  putchar('\n');
}

static int print_json(json_t *doc) {
  char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
  json_decref(doc);
  if (!s) {
    say("out of memory");
    return EXIT_REDIS;
  }
  puts(s);
  free(s);
  return 0;
}

/* Prints n units (with distances, if given) as lines or {"stations":[...]}. */
static int print_units(const args_t *a, const gb_station_t *st, const double *dist, int n) {
  if (!a->json) {
    for (int i = 0; i < n; i++) print_tsv(&st[i], dist ? &dist[i] : NULL);
    return 0;
  }
  json_t *arr = json_array();
  for (int i = 0; arr && i < n; i++) {
    json_t *o = gb_station_json(&st[i]);
    if (o && dist) json_object_set_new(o, "distance_m", json_integer((json_int_t)(dist[i] + 0.5)));
    if (!o || json_array_append_new(arr, o) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  return print_json(arr ? json_pack("{s:o}", "stations", arr) : NULL);
}

static int redis_failed(gb_redis_t *r, const char *what) {
  say("%s: redis %s: %s", what, gb_redis_url(r),
      gb_redis_errstr(r)[0] ? gb_redis_errstr(r) : "command failed");
  return EXIT_REDIS;
}

/* ---- commands ---- */

static int cmd_add(const args_t *a, gb_redis_t *r) {
  char errstr[256];
  gb_station_t st;
  if (a->npos != 1) return say_usage("add takes options only");
  if (!a->id || !a->name || !a->bureau || !a->lat || !a->lon)
    return say_usage("add needs --id, --name, --bureau, --lat and --lon");
  if (fill_station(&st, a->id, a->name, a->bureau, a->lat, a->lon, errstr, sizeof(errstr)) != 0) {
    say("%s", errstr);
    return EXIT_USAGE;
  }
  st.real = !a->publicity;
  int err = gb_station_put(r, a->prefix, &st, errstr, sizeof(errstr));
  if (err == GB_EINVAL) {
    say("%s", errstr);
    return EXIT_USAGE;
  }
  if (err) {
    say("add %s: %s", st.id, errstr);
    return EXIT_REDIS;
  }
  return a->json ? print_json(gb_station_json(&st)) : (print_tsv(&st, NULL), 0);
}

static int get_one(const args_t *a, gb_redis_t *r, const char *cmd, gb_station_t *st) {
  if (a->npos != 2) return say_usage("%s takes one ID", cmd);
  int err = gb_station_get(r, a->prefix, a->pos[1], st);
  if (err == GB_ENOTFOUND) {
    say("%s %s: no such station", cmd, a->pos[1]);
    return EXIT_USAGE;
  }
  return err ? redis_failed(r, cmd) : 0;
}

static int cmd_get(const args_t *a, gb_redis_t *r) {
  gb_station_t st;
  int rc = get_one(a, r, "get", &st);
  if (rc) return rc;
  return a->json ? print_json(gb_station_json(&st)) : (print_tsv(&st, NULL), 0);
}

static int cmd_deactivate(const args_t *a, gb_redis_t *r) {
  gb_station_t st;
  int rc = get_one(a, r, "deactivate", &st);
  if (rc) return rc;
  if (gb_station_deactivate(r, a->prefix, st.id) != 0) return redis_failed(r, "deactivate");
  st.active = false;
  return a->json ? print_json(gb_station_json(&st)) : (print_tsv(&st, NULL), 0);
}

static int cmd_activate(const args_t *a, gb_redis_t *r) {
  char errstr[256];
  gb_station_t st;
  int rc = get_one(a, r, "activate", &st);
  if (rc) return rc;
  st.active = true;
  int err = gb_station_put(r, a->prefix, &st, errstr, sizeof(errstr));
  if (err) {
    say("activate %s: %s", st.id, errstr);
    return err == GB_EINVAL ? EXIT_USAGE : EXIT_REDIS;
  }
  return a->json ? print_json(gb_station_json(&st)) : (print_tsv(&st, NULL), 0);
}

static int cmd_list(const args_t *a, gb_redis_t *r) {
  gb_station_t *all = NULL;
  if (a->npos != 1) return say_usage("list takes no arguments");
  int n = gb_stations_list(r, a->prefix, &all);
  if (n < 0) return redis_failed(r, "list");
  int rc = print_units(a, all, NULL, n);
  free(all);
  return rc;
}

static int cmd_nearest(const args_t *a, gb_redis_t *r) {
  double lat, lon;
  int max = 5;
  if (a->npos < 3 || a->npos > 4) return say_usage("nearest takes LAT LON [N]");
  if (gb_parse_degrees(a->pos[1], &lat) != 0 || lat < -85.05 || lat > 85.05)
    return say_usage("nearest: LAT %s: want -85.05..85.05 degrees", a->pos[1]);
  if (gb_parse_degrees(a->pos[2], &lon) != 0 || lon < -180 || lon > 180)
    return say_usage("nearest: LON %s: want -180..180 degrees", a->pos[2]);
  if (a->npos == 4 && parse_count(a->pos[3], NEAREST_MAX, &max) != 0)
    return say_usage("nearest: N %s: want 1-%d", a->pos[3], NEAREST_MAX);
  gb_station_t *st = calloc((size_t)max, sizeof(*st));
  double *dist = calloc((size_t)max, sizeof(*dist));
  int rc;
  if (!st || !dist) {
    say("out of memory");
    rc = EXIT_REDIS;
  } else {
    int n = gb_stations_nearest(r, a->prefix, lat, lon, max, st, dist);
    rc = n < 0 ? redis_failed(r, "nearest") : print_units(a, st, dist, n);
  }
  free(st);
  free(dist);
  return rc;
}

static int cmd_search(const args_t *a, gb_redis_t *r) {
  int max = 20;
  if (a->npos < 2 || a->npos > 3) return say_usage("search takes TEXT [N]");
  if (a->npos == 3 && parse_count(a->pos[2], SEARCH_MAX, &max) != 0)
    return say_usage("search: N %s: want 1-%d", a->pos[2], SEARCH_MAX);
  gb_station_t *st = calloc((size_t)max, sizeof(*st));
  if (!st) {
    say("out of memory");
    return EXIT_REDIS;
  }
  int n = gb_stations_search(r, a->prefix, a->pos[1], max, st);
  int rc = n < 0 ? redis_failed(r, "search") : print_units(a, st, NULL, n);
  free(st);
  return rc;
}

/* ---- import ---- */

enum { COL_ID, COL_NAME, COL_BUREAU, COL_LAT, COL_LON, COL_REAL, COL_ACTIVE, NCOLS };
static const char *const col_names[NCOLS] = {"id", "name", "bureau", "lat", "lon", "real",
                                             "active"};

/* Ids seen so far in the file: open addressing, for refusing a repeat. */
typedef struct {
  char **slot;
  size_t cap, n;
} idset_t;

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* Returns 1 if id was there already, 0 once added, -1 out of memory. */
static int idset_add(idset_t *s, const char *id) {
  if (s->n * 2 >= s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    char **slot = calloc(cap, sizeof(*slot));
    if (!slot) return -1;
    for (size_t i = 0; i < s->cap; i++) {
      if (!s->slot[i]) continue;
      size_t j = fnv1a(s->slot[i]) & (cap - 1);
      while (slot[j]) j = (j + 1) & (cap - 1);
      slot[j] = s->slot[i];
    }
    free(s->slot);
    s->slot = slot;
    s->cap = cap;
  }
  size_t j = fnv1a(id) & (s->cap - 1);
  for (; s->slot[j]; j = (j + 1) & (s->cap - 1))
    if (!strcmp(s->slot[j], id)) return 1;
  if (!(s->slot[j] = strdup(id))) return -1;
  s->n++;
  return 0;
}

static void idset_free(idset_t *s) {
  for (size_t i = 0; i < s->cap; i++) free(s->slot[i]);
  free(s->slot);
}

typedef struct {
  const args_t *a;
  gb_redis_t *r;
  csvrows_t *rows;
  /* the row being read (csvrows owns the cells) */
  char **cells;
  int ncells;
  int row_too_wide;
  unsigned long row_line;
  /* the header: the cell index of each column, -1 if absent */
  int have_header;
  int col[NCOLS];
  int ncols;
  /* results */
  idset_t seen;
  unsigned long imported, refused;
  json_t *refused_json;
  int fatal; /* EXIT_* that stops the import */
} imp_t;

static void refuse(imp_t *im, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(imp_t *im, unsigned long line, const char *fmt, ...) {
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof(why), fmt, ap);
  va_end(ap);
  im->refused++;
  if (im->a->json) {
    if (im->refused_json)
      json_array_append_new(im->refused_json, json_pack("{s:I, s:s}", "line", (json_int_t)line,
                                                        "reason", why));
  } else {
    printf("line\t%lu\t%s\n", line, why);
  }
}

static void read_header(imp_t *im) {
  unsigned long line = im->row_line;
  for (int k = 0; k < NCOLS; k++) im->col[k] = -1;
  if (im->row_too_wide) {
    say("line %lu: the header has more than %zu columns", line,
        (size_t)ROW_MAX_CELLS);
    im->fatal = EXIT_USAGE;
    return;
  }
  for (int i = 0; i < im->ncells; i++) {
    int k = 0;
    while (k < NCOLS && strcasecmp(im->cells[i], col_names[k]) != 0) k++;
    if (k == NCOLS) {
      say("line %lu: header column %d \"%.64s\" is not one of id, name, bureau, lat, lon, real, "
          "active",
          line, i + 1, im->cells[i]);
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
  for (int k = 0; k < COL_ACTIVE; k++)
    if (im->col[k] < 0) {
      say("line %lu: the header lacks column \"%s\" (want id,name,bureau,lat,lon,real)", line,
          col_names[k]);
      im->fatal = EXIT_USAGE;
      return;
    }
  im->ncols = im->ncells;
  im->have_header = 1;
}

static void read_row(imp_t *im) {
  unsigned long line = im->row_line;
  char errstr[256];
  gb_station_t st;
  if (im->row_too_wide) {
    refuse(im, line, "more than %zu bytes or %zu cells", (size_t)ROW_MAX_BYTES,
           (size_t)ROW_MAX_CELLS);
    return;
  }
  if (im->ncells != im->ncols) {
    refuse(im, line, "%d cells, the header has %d", im->ncells, im->ncols);
    return;
  }
  const char *c[NCOLS];
  for (int k = 0; k < NCOLS; k++) c[k] = im->col[k] >= 0 ? im->cells[im->col[k]] : "";
  if (fill_station(&st, c[COL_ID], c[COL_NAME], c[COL_BUREAU], c[COL_LAT], c[COL_LON], errstr,
                   sizeof(errstr)) != 0) {
    refuse(im, line, "%s", errstr);
    return;
  }
  if (parse_flag(c[COL_REAL], &st.real) != 0) {
    refuse(im, line, "real: want 1 or 0 (true/false, yes/no)");
    return;
  }
  if (c[COL_ACTIVE][0] && parse_flag(c[COL_ACTIVE], &st.active) != 0) {
    refuse(im, line, "active: want 1 or 0 (true/false, yes/no), or empty for 1");
    return;
  }
  int dup = idset_add(&im->seen, st.id);
  if (dup < 0) {
    say("out of memory");
    im->fatal = EXIT_REDIS;
    return;
  }
  if (dup) {
    refuse(im, line, "id %s: already given on an earlier line", st.id);
    return;
  }
  int err = gb_station_put(im->r, im->a->prefix, &st, errstr, sizeof(errstr));
  if (err == GB_EINVAL) {
    refuse(im, line, "%s", errstr);
  } else if (err) {
    say("line %lu: %s; stopped after %lu imported", line, errstr, im->imported);
    im->fatal = EXIT_REDIS;
  } else {
    im->imported++;
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
  if (why == CSVROWS_SYNTAX)
    refuse(im, line, "CSV syntax error (a stray quote) on line %lu", at_line);
  else if (why == CSVROWS_TOO_LARGE)
    refuse(im, line, "more than %d bytes: a quote not closed?", ROW_MAX_BYTES);
  else
    refuse(im, line, "CSV syntax error: a quoted cell not closed at the end");
}

static int cmd_import(const args_t *a, gb_redis_t *r) {
  if (a->npos != 2) return say_usage("import takes one FILE (or - for stdin)");
  const char *path = a->pos[1];
  FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
  if (!f) {
    say("%s: %s", path, strerror(errno));
    return EXIT_USAGE;
  }
  imp_t im;
  memset(&im, 0, sizeof(im));
  im.a = a;
  im.r = r;
  if (a->json) im.refused_json = json_array();
  csvrows_conf_t rows_conf = {ROW_MAX_BYTES, ROW_MAX_CELLS, on_row, on_bad, &im};
  if (!(im.rows = csvrows_new(&rows_conf))) {
    say("out of memory");
    if (f != stdin) fclose(f);
    json_decref(im.refused_json);
    return EXIT_REDIS;
  }
  char *buf = NULL;
  size_t cap = 0;
  ssize_t len;
  unsigned long line = 0;
  while (!im.fatal && (len = getline(&buf, &cap, f)) >= 0) {
    line++;
    if (csvrows_line(im.rows, line, buf, (size_t)len) != 0) {
      say("line %lu: %s", line, csvrows_error(im.rows));
      im.fatal = EXIT_REDIS;
    }
  }
  if (!im.fatal && ferror(f)) {
    say("%s: %s", path, strerror(errno));
    im.fatal = EXIT_USAGE;
  }
  if (!im.fatal && csvrows_finish(im.rows) != 0) {
    say("%s: %s", path, csvrows_error(im.rows));
    im.fatal = EXIT_REDIS;
  }
  if (!im.fatal && !im.have_header) {
    say("%s: empty, no header row", path);
    im.fatal = EXIT_USAGE;
  }
  free(buf);
  if (f != stdin) fclose(f);
  csvrows_free(im.rows);
  idset_free(&im.seen);
  int rc = im.fatal;
  if (!im.have_header) {
    /* Nothing was read: the message above says why. */
    json_decref(im.refused_json);
  } else if (a->json) {
    int prc = print_json(json_pack("{s:I, s:I, s:o}", "imported", (json_int_t)im.imported,
                                   "refused", (json_int_t)im.refused, "refused_lines",
                                   im.refused_json ? im.refused_json : json_array()));
    if (!rc) rc = prc;
  } else {
    printf("imported\t%lu\nrefused\t%lu\n", im.imported, im.refused);
  }
  if (!rc && im.refused) rc = EXIT_USAGE;
  return rc;
}

int main(int argc, char **argv) {
  args_t a;
  memset(&a, 0, sizeof(a));
  a.timeout_ms = 2000;
  int rc = parse_args(&a, argc, argv);
  if (rc) return rc;
  static const struct {
    const char *name;
    int (*fn)(const args_t *, gb_redis_t *);
  } cmds[] = {
      {"add", cmd_add},   {"import", cmd_import}, {"deactivate", cmd_deactivate},
      {"activate", cmd_activate}, {"get", cmd_get}, {"list", cmd_list},
      {"nearest", cmd_nearest},   {"search", cmd_search},
  };
  size_t k = 0, ncmds = sizeof(cmds) / sizeof(cmds[0]);
  while (k < ncmds && strcmp(cmds[k].name, a.pos[0]) != 0) k++;
  if (k == ncmds) return say_usage("unknown command \"%s\"", a.pos[0]);

  gb_redis_t *r = NULL;
  if ((rc = tool_redis_open("gb-stations", &a.redis_url, &a.prefix, (int)a.timeout_ms, &r)) != 0)
    return rc;
  rc = cmds[k].fn(&a, r);
  gb_redis_free(r);
  if (fflush(stdout) != 0 && !rc) {
    say("stdout: %s", strerror(errno));
    rc = EXIT_REDIS;
  }
  return rc;
}
