#include "csvrows.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

struct csvrows {
  csvrows_conf_t conf;
  struct csv_parser parser;
  char **cells;
  int ncells;
  size_t row_bytes;
  int too_wide;
  unsigned long row_line;
  int row_open, row_ended;
  const char *error;
};

csvrows_t *csvrows_new(const csvrows_conf_t *conf) {
  csvrows_t *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->conf = *conf;
  c->cells = calloc((size_t)conf->max_cells, sizeof(*c->cells));
  if (!c->cells || csv_init(&c->parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
    free(c->cells);
    free(c);
    return NULL;
  }
  return c;
}

static void row_clear(csvrows_t *c) {
  for (int i = 0; i < c->ncells; i++) free(c->cells[i]);
  c->ncells = 0;
  c->row_bytes = 0;
  c->too_wide = 0;
}

void csvrows_free(csvrows_t *c) {
  if (!c) return;
  row_clear(c);
  csv_free(&c->parser);
  free(c->cells);
  free(c);
}

const char *csvrows_error(const csvrows_t *c) { return c->error ? c->error : ""; }

static void on_cell(void *s, size_t n, void *data) {
  csvrows_t *c = data;
  c->row_bytes += n + 1;
  if (c->ncells == c->conf.max_cells || c->row_bytes > c->conf.row_max_bytes) {
    c->too_wide = 1;
    return;
  }
  char *cell = malloc(n + 1);
  if (!cell) {
    c->error = "out of memory";
    return;
  }
  if (n) memcpy(cell, s, n);
  cell[n] = '\0';
  c->cells[c->ncells++] = cell;
}

static void on_row(int term, void *data) {
  csvrows_t *c = data;
  (void)term;
  c->row_ended = 1;
  if (!c->error) c->conf.row(c->conf.ud, c->row_line, c->cells, c->ncells, c->too_wide);
  row_clear(c);
}

static int is_blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
  return 1;
}

static void reset(csvrows_t *c) {
  csv_free(&c->parser);
  csv_init(&c->parser, CSV_STRICT | CSV_STRICT_FINI);
  row_clear(c);
  c->row_open = 0;
}

int csvrows_line(csvrows_t *c, unsigned long line, const char *s, size_t n) {
  /* Spreadsheets write UTF-8 with a byte order mark. */
  if (line == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) s += 3, n -= 3;
  if (!c->row_open) c->row_line = line;
  c->row_ended = 0;
  size_t used = csv_parse(&c->parser, s, n, on_cell, on_row, c);
  if (c->error) return -1;
  if (used < n || csv_error(&c->parser) != CSV_SUCCESS) {
    if (csv_error(&c->parser) != CSV_EPARSE) {
      c->error = csv_strerror(csv_error(&c->parser));
      return -1;
    }
    unsigned long start = c->row_line;
    reset(c);
    c->conf.bad(c->conf.ud, start, CSVROWS_SYNTAX, line);
    return 0;
  }
  if (c->row_ended) c->row_open = 0;
  else if (!is_blank(s, n)) c->row_open = 1;
  if (c->row_open && c->row_bytes + c->parser.entry_pos > c->conf.row_max_bytes) {
    unsigned long start = c->row_line;
    reset(c);
    c->conf.bad(c->conf.ud, start, CSVROWS_TOO_LARGE, line);
  }
  return 0;
}

int csvrows_finish(csvrows_t *c) {
  c->row_ended = 0;
  if (csv_fini(&c->parser, on_cell, on_row, c) != 0)
    c->conf.bad(c->conf.ud, c->row_line, CSVROWS_UNCLOSED, c->row_line);
  return c->error ? -1 : 0;
}
