/* CSV rows for the administration tools (gb-stations, gb-registry), read
 * with Debian's libcsv one physical line at a time, so that each row is
 * reported by the line it starts on (a quoted cell may span lines), with a
 * bound on a row's size and cells, and a bad row skipped rather than
 * stopping the file. A UTF-8 byte-order mark on line 1 is skipped. */
#ifndef GB_TOOLS_CSVROWS_H
#define GB_TOOLS_CSVROWS_H

#include <stddef.h>

typedef enum {
  CSVROWS_SYNTAX,    /* a stray quote; at_line is where it was found */
  CSVROWS_TOO_LARGE, /* the row grew past row_max_bytes: a quote not closed? */
  CSVROWS_UNCLOSED,  /* the input ended inside a quoted cell */
} csvrows_bad_t;

typedef struct {
  size_t row_max_bytes;
  int max_cells;
  /* A complete row: cells[0..ncells) NUL-terminated, valid during the call.
   * too_wide: the row had more cells or bytes than allowed (cells partial). */
  void (*row)(void *ud, unsigned long line, char **cells, int ncells, int too_wide);
  /* A row that could not be read; reading goes on with the next line. */
  void (*bad)(void *ud, unsigned long line, csvrows_bad_t why, unsigned long at_line);
  void *ud;
} csvrows_conf_t;

typedef struct csvrows csvrows_t;

/* Returns NULL when out of memory. */
csvrows_t *csvrows_new(const csvrows_conf_t *conf);
void csvrows_free(csvrows_t *c); /* NULL-safe */

/* Feeds one physical line (with its terminator, if any). Returns 0, or -1
 * when the reader cannot go on (out of memory); csvrows_error says why. */
int csvrows_line(csvrows_t *c, unsigned long line, const char *s, size_t n);
/* End of input: the last row, or an unclosed quoted cell. */
int csvrows_finish(csvrows_t *c);
const char *csvrows_error(const csvrows_t *c);

#endif
