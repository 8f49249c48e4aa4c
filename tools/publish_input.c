/*
 * gb-publish: reading the input, and JSON-lines records.
 *
 * The input is streamed through one buffer (4 MiB, grown only for a line
 * longer than that, up to --max-record-bytes): memory stays flat whatever
 * the file's size. A line longer than --max-record-bytes is reported and
 * skipped without being held. From a pipe, the reader waits for data at
 * most 100 ms at a time, so delivery reports, the progress line and stale
 * partial batches are served while the writer is slow.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "publish.h"

#define PUB_READ_CHUNK ((size_t)4 << 20)
#define PUB_TICK_LINES 4096 /* lines between two pub_tick() calls */

static int is_blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
  return 1;
}

static const char *json_type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER:
  case JSON_REAL: return "a number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  default: return "an object";
  }
}

/* Publishes a valid JSON object line with its key, or rejects it for its
 * key. k->ptr may point into the line or into a jansson value. */
static int publish_keyed(pub_t *p, uint64_t line, const char *s, size_t n,
                         const pub_json_key_t *k) {
  const char *key = p->o->key;
  if (!key) return pub_producer_add(p, s, n, NULL, 0, line);
  switch (k->kind) {
  case PUB_KEY_ABSENT:
    pub_reject(p, line, PUB_REJ_MISSING_KEY, "key field \"%s\" missing", key);
    return 0;
  case PUB_KEY_OTHER:
    pub_reject(p, line, PUB_REJ_BAD_KEY, "key field \"%s\" is not a string or integer", key);
    return 0;
  default:
    if (k->len == 0) {
      pub_reject(p, line, PUB_REJ_MISSING_KEY, "key field \"%s\" is empty", key);
      return 0;
    }
    return pub_producer_add(p, s, n, k->ptr, k->len, line);
  }
}

/* The slow path: jansson decides, and says what is wrong. */
static int jsonl_slow(pub_t *p, uint64_t line, const char *s, size_t n) {
  json_error_t je;
  json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
  if (!v) {
    pub_reject(p, line, PUB_REJ_INVALID_JSON, "invalid JSON at column %d: %s", je.column, je.text);
    return 0;
  }
  if (!json_is_object(v)) {
    pub_reject(p, line, PUB_REJ_NOT_OBJECT, "not a JSON object (%s)", json_type_name(v));
    json_decref(v);
    return 0;
  }
  pub_json_key_t k = {PUB_KEY_ABSENT, NULL, 0};
  char num[32];
  json_t *kv = p->o->key ? json_object_get(v, p->o->key) : NULL;
  if (kv && json_is_string(kv)) {
    k.kind = PUB_KEY_STRING;
    k.ptr = json_string_value(kv);
    k.len = json_string_length(kv);
  } else if (kv && json_is_integer(kv)) {
    k.kind = PUB_KEY_INTEGER;
    k.len = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(kv));
    k.ptr = num;
  } else if (kv) {
    k.kind = PUB_KEY_OTHER;
  }
  int err = publish_keyed(p, line, s, n, &k); /* copies the key before v goes */
  json_decref(v);
  return err;
}

/* One JSON line, without its '\n'. Published byte for byte, less a
 * trailing '\r' (a CRLF file's line end). */
static int jsonl_line(pub_t *p, uint64_t line, const char *s, size_t n) {
  if (n > 0 && s[n - 1] == '\r') n--;
  if (is_blank(s, n)) return 0;
  p->st.records++;
  if (n > p->o->max_record_bytes) {
    pub_reject(p, line, PUB_REJ_TOO_LARGE, "record of %zu bytes, limit %zu (--max-record-bytes)",
               n, p->o->max_record_bytes);
    return 0;
  }
  pub_json_key_t k;
  const char *key = p->o->key;
  if (pub_json_object_check(s, n, key, key ? strlen(key) : 0, &k))
    return publish_keyed(p, line, s, n, &k);
  return jsonl_slow(p, line, s, n);
}

/* Waits until fd (not a regular file) has data, serving the producer
 * meanwhile. Returns 0, or -1 when told to stop. */
static int wait_readable(pub_t *p, int fd) {
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r = poll(&pfd, 1, 100);
    if (r > 0 || (r < 0 && errno != EINTR)) return 0; /* read() tells the rest */
    pub_tick(p);
    if (*p->stop || p->fatal) return -1;
  }
}

typedef struct reader_s {
  pub_t *p;
  pub_csv_t *csv;
  uint64_t line;
} reader_t;

/* s[0..n) is one line; has_nl tells whether s[n] is its '\n'. */
static int on_line(reader_t *r, const char *s, size_t n, int has_nl) {
  if (r->csv) return pub_csv_line(r->csv, r->line, s, n + (has_nl ? 1 : 0));
  return jsonl_line(r->p, r->line, s, n);
}

static void on_long_line(reader_t *r) {
  pub_t *p = r->p;
  p->st.records++;
  pub_reject(p, r->line, PUB_REJ_TOO_LARGE, "line longer than %zu bytes (--max-record-bytes)",
             p->o->max_record_bytes);
  if (r->csv) pub_csv_skip_line(r->csv, r->line);
}

int pub_input_run(pub_t *p, int fd) {
  struct stat sb;
  int regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
  size_t limit = p->o->max_record_bytes + 2; /* a longest line, its "\r\n" */
  size_t cap = PUB_READ_CHUNK, len = 0, pos;
  int skipping = 0, bom_checked = 0, err = 0;
  reader_t r = {p, NULL, 0};
  char *buf = malloc(cap);

  if (regular) {
    p->st.file_size = sb.st_size;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  if (!buf) {
    pub_say(p, "out of memory");
    err = PUB_ERR_FATAL;
    goto cleanup;
  }
  if (p->o->format == PUB_FMT_CSV && (err = pub_csv_new(&r.csv, p)) != 0) goto cleanup;

  for (;;) {
    if (*p->stop || p->fatal) break;
    if (!regular && wait_readable(p, fd) != 0) break;
    ssize_t got = read(fd, buf + len, cap - len);
    if (got < 0) {
      if (errno == EINTR) continue;
      pub_say(p, "read %s: %s", p->o->path, strerror(errno));
      err = PUB_ERR_FATAL;
      goto cleanup;
    }
    if (got == 0) break;
    p->st.bytes_read += (uint64_t)got;
    len += (size_t)got;
    pos = 0;
    if (!bom_checked && (len >= 3 || !memchr(buf, 0xEF, len))) {
      /* A UTF-8 byte order mark, as spreadsheet exports write, is not data. */
      if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) pos = 3;
      bom_checked = 1;
    }
    if (!bom_checked) continue;

    char *nl;
    while ((nl = memchr(buf + pos, '\n', len - pos)) != NULL) {
      size_t n = (size_t)(nl - (buf + pos));
      if (skipping) {
        skipping = 0; /* the end of a line too long to hold */
      } else {
        if (*p->stop || p->fatal) break;
        r.line++;
        if ((err = on_line(&r, buf + pos, n, 1)) != 0) goto cleanup;
        if ((r.line % PUB_TICK_LINES) == 0) {
          p->st.bytes_done = p->st.bytes_read - (len - (size_t)(nl - buf) - 1);
          pub_tick(p);
        }
      }
      pos = (size_t)(nl - buf) + 1;
    }
    if (skipping) {
      len = 0;
      continue;
    }
    if (pos == 0 && len == cap) {
      /* No line end in a full buffer. */
      if (cap < limit) {
        size_t ncap = cap * 2 < limit ? cap * 2 : limit;
        char *nbuf = realloc(buf, ncap);
        if (!nbuf) {
          pub_say(p, "out of memory");
          err = PUB_ERR_FATAL;
          goto cleanup;
        }
        buf = nbuf;
        cap = ncap;
      } else {
        r.line++;
        on_long_line(&r);
        skipping = 1;
        len = 0;
      }
      continue;
    }
    memmove(buf, buf + pos, len - pos);
    len -= pos;
    p->st.bytes_done = p->st.bytes_read - len;
    pub_tick(p);
  }
  if (!*p->stop && !p->fatal) {
    if (len > 0 && !skipping) {
      /* The last line has no '\n'. (Fewer than 3 bytes were read if the
       * BOM check is still pending: they cannot be a BOM.) */
      pos = 0;
      r.line++;
      if ((err = on_line(&r, buf + pos, len - pos, 0)) != 0) goto cleanup;
    }
    if (r.csv) err = pub_csv_finish(r.csv);
  }
cleanup:
  p->st.lines = r.line;
  pub_csv_free(r.csv);
  free(buf);
  return err;
}
