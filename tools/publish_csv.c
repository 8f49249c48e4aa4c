/*
 * gb-publish: CSV rows to JSON objects, with libcsv.
 *
 * The first row is the header: its cells name the fields. Each later row
 * becomes one object with the fields in header order; values are strings,
 * except --int columns (JSON integers) and --bool columns (JSON booleans);
 * empty cells are left out. libcsv runs in strict mode, handles quoted
 * cells with delimiters, quotes and line breaks, and trims blanks around
 * unquoted cells. It is fed one physical line at a time so that every row
 * is reported by the line it starts on.
 *
 * Reports name the column; they quote a cell only for --int and --bool
 * columns (a bad "12s" is worth seeing), never a free-text cell.
 */
#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "publish.h"

#define PUB_CSV_OPTIONS (CSV_STRICT | CSV_STRICT_FINI)

typedef enum { COL_STRING, COL_INTEGER, COL_BOOLEAN } col_kind_t;

typedef struct col_s {
  char *name;    /* owned */
  size_t pfx;    /* `"name":` in c->prefixes at [pfx, pfx + pfx_len) */
  size_t pfx_len;
  col_kind_t kind;
} col_t;

struct pub_csv_s {
  pub_t *p;
  struct csv_parser parser;
  /* The row being read: its cells back to back in `cells`. */
  pub_buf_t cells;
  size_t *cell_off;
  size_t *cell_len;
  int ncells;
  int cells_cap;
  size_t row_bytes;
  int row_too_large;
  uint64_t row_line; /* the line the row starts on */
  int row_open;      /* a row begun on an earlier line goes on */
  int row_ended;     /* a row ended in the line being fed */
  int err;           /* a fatal error met in a callback */
  /* The header. */
  int have_header;
  col_t *cols;
  int ncols;
  int key_col;
  pub_buf_t prefixes;
  pub_buf_t out; /* the JSON of the row */
};

static void row_reset(pub_csv_t *c) {
  c->cells.len = 0;
  c->ncells = 0;
  c->row_bytes = 0;
  c->row_too_large = 0;
}

static void parser_reset(pub_csv_t *c) {
  csv_free(&c->parser);
  csv_init(&c->parser, PUB_CSV_OPTIONS);
  csv_set_delim(&c->parser, (unsigned char)c->p->o->delimiter);
  row_reset(c);
  c->row_open = 0;
}

static void on_cell(void *s, size_t n, void *data) {
  pub_csv_t *c = data;
  if (c->err || c->row_too_large) return;
  c->row_bytes += n + 1;
  if (c->row_bytes > c->p->o->max_record_bytes) {
    c->row_too_large = 1;
    return;
  }
  if (c->ncells == c->cells_cap) {
    int cap = c->cells_cap ? c->cells_cap * 2 : 32;
    size_t *off = realloc(c->cell_off, (size_t)cap * sizeof(*off));
    if (off) c->cell_off = off;
    size_t *len = realloc(c->cell_len, (size_t)cap * sizeof(*len));
    if (len) c->cell_len = len;
    if (!off || !len) {
      c->err = PUB_ERR_FATAL;
      return;
    }
    c->cells_cap = cap;
  }
  c->cell_off[c->ncells] = c->cells.len;
  c->cell_len[c->ncells] = n;
  c->ncells++;
  if (n > 0 && pub_buf_append(&c->cells, s, n) != 0) c->err = PUB_ERR_FATAL;
}

static const char *cell(const pub_csv_t *c, int i) { return c->cells.data + c->cell_off[i]; }

/* A column named in --int / --bool / --key; -1 if the header lacks it. */
static int col_find(const pub_csv_t *c, const char *name) {
  for (int i = 0; i < c->ncols; i++)
    if (!strcmp(c->cols[i].name, name)) return i;
  return -1;
}

static int set_kinds(pub_csv_t *c, const pub_list_t *l, col_kind_t kind, const char *flag) {
  for (int i = 0; i < l->cnt; i++) {
    int col = col_find(c, l->items[i]);
    if (col < 0) {
      if (!l->explicit_) continue; /* a default column this file lacks */
      pub_say(c->p, "%s %s: the header has no column \"%s\"", flag, l->items[i], l->items[i]);
      return PUB_ERR_USAGE;
    }
    if (c->cols[col].kind != COL_STRING && c->cols[col].kind != kind) {
      pub_say(c->p, "column \"%s\" is in both --int and --bool", l->items[i]);
      return PUB_ERR_USAGE;
    }
    c->cols[col].kind = kind;
  }
  return 0;
}

static int set_header(pub_csv_t *c) {
  pub_t *p = c->p;
  if (c->row_too_large) {
    pub_say(p, "line %llu: the header is longer than %zu bytes",
            (unsigned long long)c->row_line, p->o->max_record_bytes);
    return PUB_ERR_USAGE;
  }
  c->cols = calloc((size_t)c->ncells, sizeof(*c->cols));
  if (!c->cols) return PUB_ERR_FATAL;
  c->ncols = c->ncells;
  for (int i = 0; i < c->ncols; i++) {
    size_t n = c->cell_len[i];
    col_t *col = &c->cols[i];
    if (n == 0) {
      pub_say(p, "line %llu: header column %d has no name", (unsigned long long)c->row_line, i + 1);
      return PUB_ERR_USAGE;
    }
    col->name = strndup(cell(c, i), n);
    if (!col->name) return PUB_ERR_FATAL;
    if (strlen(col->name) != n || !pub_utf8_valid(col->name, n)) {
      pub_say(p, "line %llu: header column %d is not a valid UTF-8 name",
              (unsigned long long)c->row_line, i + 1);
      return PUB_ERR_USAGE;
    }
    for (int j = 0; j < i; j++) {
      if (!strcmp(c->cols[j].name, col->name)) {
        pub_say(p, "line %llu: the header names column \"%s\" twice",
                (unsigned long long)c->row_line, col->name);
        return PUB_ERR_USAGE;
      }
    }
    col->pfx = c->prefixes.len;
    if (pub_json_append_string(&c->prefixes, col->name, n) != 0 ||
        pub_buf_append(&c->prefixes, ":", 1) != 0)
      return PUB_ERR_FATAL;
    col->pfx_len = c->prefixes.len - col->pfx;
  }
  int err;
  if ((err = set_kinds(c, &p->o->int_fields, COL_INTEGER, "--int")) != 0 ||
      (err = set_kinds(c, &p->o->bool_fields, COL_BOOLEAN, "--bool")) != 0)
    return err;
  c->key_col = -1;
  if (p->o->key && (c->key_col = col_find(c, p->o->key)) < 0) {
    pub_say(p, "--key %s: the header has no column \"%s\"", p->o->key, p->o->key);
    return PUB_ERR_USAGE;
  }
  c->have_header = 1;
  return 0;
}

/* A cell of an --int or --bool column as a report may quote it: at most
 * 40 bytes, anything but printable ASCII as '?'. */
static const char *quotable(char *buf, size_t size, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n && i + 4 < size && i < 40; i++)
    buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
  if (i < n) buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
  buf[i] = '\0';
  return buf;
}

/* Optional sign, then decimal digits that fit in 64 bits. */
static int parse_integer(long long *out, const char *s, size_t n) {
  char tmp[32];
  size_t i = 0;
  if (n == 0 || n >= sizeof(tmp)) return -1;
  if (s[0] == '-' || s[0] == '+') i = 1;
  if (i == n) return -1;
  for (size_t j = i; j < n; j++)
    if (s[j] < '0' || s[j] > '9') return -1;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  errno = 0;
  *out = strtoll(tmp, NULL, 10);
  return errno == ERANGE ? -1 : 0;
}

static int parse_boolean(int *out, const char *s, size_t n) {
  static const char *const yes[] = {"true", "1", "yes", "t", "y"};
  static const char *const no[] = {"false", "0", "no", "f", "n"};
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    if (strlen(yes[i]) == n && !strncasecmp(s, yes[i], n)) return *out = 1, 0;
    if (strlen(no[i]) == n && !strncasecmp(s, no[i], n)) return *out = 0, 0;
  }
  return -1;
}

/* Builds the row's JSON and publishes it, or rejects the row. */
static int publish_row(pub_csv_t *c) {
  pub_t *p = c->p;
  uint64_t line = c->row_line;
  pub_buf_t *o = &c->out;
  char q[48];
  int first = 1;
  o->len = 0;
  if (pub_buf_append(o, "{", 1) != 0) return PUB_ERR_FATAL;
  for (int i = 0; i < c->ncols; i++) {
    const col_t *col = &c->cols[i];
    const char *s = cell(c, i);
    size_t n = c->cell_len[i];
    if (n == 0) continue;
    if (pub_buf_reserve(o, col->pfx_len + 32) != 0) return PUB_ERR_FATAL;
    if (!first) o->data[o->len++] = ',';
    first = 0;
    memcpy(o->data + o->len, c->prefixes.data + col->pfx, col->pfx_len);
    o->len += col->pfx_len;
    if (col->kind == COL_INTEGER) {
      long long v;
      if (parse_integer(&v, s, n) != 0) {
        pub_reject(p, line, PUB_REJ_BAD_INTEGER, "column \"%s\": \"%s\" is not an integer",
                   col->name, quotable(q, sizeof(q), s, n));
        return 0;
      }
      o->len += (size_t)snprintf(o->data + o->len, 32, "%lld", v);
    } else if (col->kind == COL_BOOLEAN) {
      int v;
      if (parse_boolean(&v, s, n) != 0) {
        pub_reject(p, line, PUB_REJ_BAD_BOOLEAN, "column \"%s\": \"%s\" is not a boolean",
                   col->name, quotable(q, sizeof(q), s, n));
        return 0;
      }
      memcpy(o->data + o->len, v ? "true" : "false", v ? 4 : 5);
      o->len += v ? 4 : 5;
    } else {
      int r = pub_json_append_string(o, s, n);
      if (r == -1) {
        pub_reject(p, line, PUB_REJ_INVALID_UTF8, "column \"%s\": not valid UTF-8", col->name);
        return 0;
      }
      if (r != 0) return PUB_ERR_FATAL;
    }
  }
  if (pub_buf_append(o, "}", 1) != 0) return PUB_ERR_FATAL;
  const char *key = NULL;
  size_t keylen = 0;
  if (c->key_col >= 0) {
    keylen = c->cell_len[c->key_col];
    key = keylen ? cell(c, c->key_col) : NULL;
    if (keylen == 0) {
      pub_reject(p, line, PUB_REJ_MISSING_KEY, "key field \"%s\" is empty", p->o->key);
      return 0;
    }
  }
  return pub_producer_add(p, o->data, o->len, key, keylen, line);
}

static void on_row(int term, void *data) {
  pub_csv_t *c = data;
  (void)term;
  c->row_ended = 1;
  if (c->err) return;
  if (!c->have_header) {
    c->err = set_header(c);
  } else {
    c->p->st.records++;
    if (c->row_too_large)
      pub_reject(c->p, c->row_line, PUB_REJ_TOO_LARGE,
                 "record of more than %zu bytes (--max-record-bytes)", c->p->o->max_record_bytes);
    else if (c->ncells != c->ncols)
      pub_reject(c->p, c->row_line, PUB_REJ_CELL_COUNT, "%d cells, header has %d", c->ncells,
                 c->ncols);
    else
      c->err = publish_row(c);
  }
  row_reset(c);
}

int pub_csv_new(pub_csv_t **out, pub_t *p) {
  pub_csv_t *c = calloc(1, sizeof(*c));
  *out = NULL;
  if (!c || csv_init(&c->parser, PUB_CSV_OPTIONS) != 0) {
    free(c);
    pub_say(p, "out of memory");
    return PUB_ERR_FATAL;
  }
  c->p = p;
  c->key_col = -1;
  csv_set_delim(&c->parser, (unsigned char)p->o->delimiter);
  *out = c;
  return 0;
}

static int is_blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
  return 1;
}

int pub_csv_line(pub_csv_t *c, uint64_t line, const char *s, size_t n) {
  pub_t *p = c->p;
  if (!c->row_open) c->row_line = line;
  c->row_ended = 0;
  size_t used = csv_parse(&c->parser, s, n, on_cell, on_row, c);
  if (c->err) return c->err;
  if (used < n || csv_error(&c->parser) != CSV_SUCCESS) {
    if (csv_error(&c->parser) != CSV_EPARSE) {
      pub_say(p, "line %llu: %s", (unsigned long long)line, csv_strerror(csv_error(&c->parser)));
      return PUB_ERR_FATAL;
    }
    if (!c->have_header) {
      pub_say(p, "line %llu: CSV syntax error in the header", (unsigned long long)line);
      return PUB_ERR_USAGE;
    }
    /* Strict mode: a quote inside an unquoted cell, or text after a closing
     * quote. The row is dropped; reading resumes on the next line. */
    p->st.records++;
    if (line == c->row_line)
      pub_reject(p, c->row_line, PUB_REJ_CSV_SYNTAX,
                 "CSV syntax error: stray quote (a quote inside an unquoted cell or after a closing quote)");
    else
      pub_reject(p, c->row_line, PUB_REJ_CSV_SYNTAX,
                 "CSV syntax error at line %llu: stray quote (a quote inside an unquoted cell or "
                 "after a closing quote)",
                 (unsigned long long)line);
    parser_reset(c);
    return 0;
  }
  if (c->row_ended)
    c->row_open = 0;
  else if (!is_blank(s, n))
    c->row_open = 1;
  if (c->row_open && c->row_bytes + c->parser.entry_pos > p->o->max_record_bytes) {
    /* Most likely a quote never closed: do not read the rest of the file
     * into one cell. */
    p->st.records++;
    pub_reject(p, c->row_line, PUB_REJ_TOO_LARGE,
               "record of more than %zu bytes (--max-record-bytes); an unclosed quote?",
               p->o->max_record_bytes);
    parser_reset(c);
  }
  return 0;
}

void pub_csv_skip_line(pub_csv_t *c, uint64_t line) {
  (void)line;
  parser_reset(c);
}

int pub_csv_finish(pub_csv_t *c) {
  pub_t *p = c->p;
  c->row_ended = 0;
  if (csv_fini(&c->parser, on_cell, on_row, c) != 0) {
    if (!c->have_header) {
      pub_say(p, "line %llu: the header has an unterminated quoted cell",
              (unsigned long long)c->row_line);
      return PUB_ERR_USAGE;
    }
    p->st.records++;
    pub_reject(p, c->row_line, PUB_REJ_CSV_SYNTAX,
               "CSV syntax error: quoted cell not closed before the end of the file");
    return 0;
  }
  if (c->err) return c->err;
  if (!c->have_header) pub_say(p, "%s: no header row (empty input)", p->o->path);
  return 0;
}

void pub_csv_free(pub_csv_t *c) {
  if (!c) return;
  csv_free(&c->parser);
  for (int i = 0; i < c->ncols; i++) free(c->cols[i].name);
  free(c->cols);
  free(c->cell_off);
  free(c->cell_len);
  pub_buf_free(&c->cells);
  pub_buf_free(&c->prefixes);
  pub_buf_free(&c->out);
  free(c);
}
