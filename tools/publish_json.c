/*
 * gb-publish: byte buffers, JSON string output and the fast check of JSON
 * lines.
 *
 * Why a hand-written check: jansson builds a tree (a hash table per object,
 * an allocation per value) and manages about 200 000 call records/s on one
 * core, a fifth of what the benchmarks need. pub_json_object_check() walks
 * the text once without allocating and answers "certainly valid" only for
 * a strict subset of what jansson accepts; for anything else it answers
 * "unsure" and the caller asks jansson, which decides and explains. So the
 * tool accepts exactly the lines jansson accepts (with JSON_REJECT_DUPLICATES,
 * as ingest parses them), and pays for jansson only on unusual lines.
 */
#include <stdlib.h>
#include <string.h>

#include "publish.h"

int pub_buf_reserve(pub_buf_t *b, size_t more) {
  if (b->cap - b->len >= more) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < more) {
    if (cap > ((size_t)-1) / 2) return -1;
    cap *= 2;
  }
  char *d = realloc(b->data, cap);
  if (!d) return -1;
  b->data = d;
  b->cap = cap;
  return 0;
}

int pub_buf_append(pub_buf_t *b, const void *s, size_t n) {
  if (pub_buf_reserve(b, n) != 0) return -1;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}

void pub_buf_free(pub_buf_t *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

/* Length of the UTF-8 sequence at p (p[0] >= 0x80), or 0 if it is not a
 * valid one: the rules of jansson's utf8_check_full (RFC 3629). */
static size_t utf8_seq(const unsigned char *p, size_t avail) {
  unsigned c = p[0];
  size_t n;
  uint32_t v;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    v = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    v = c & 0x07;
  } else {
    return 0;
  }
  if (avail < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000)) return 0; /* overlong */
  if ((v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) return 0;
  return n;
}

int pub_utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s, *end = p + n;
  while (p < end) {
    if (*p < 0x80) {
      p++;
      continue;
    }
    size_t k = utf8_seq(p, (size_t)(end - p));
    if (!k) return 0;
    p += k;
  }
  return 1;
}

/* Byte classes inside a JSON string: 0 plain ASCII, 1 '"', 2 '\\',
 * 3 control character, 4 start of a multi-byte sequence. */
static unsigned char str_class[256];
static int str_class_ready;

static void str_class_init(void) {
  if (str_class_ready) return;
  for (int i = 0; i < 0x20; i++) str_class[i] = 3;
  str_class['"'] = 1;
  str_class['\\'] = 2;
  for (int i = 0x80; i < 0x100; i++) str_class[i] = 4;
  str_class_ready = 1;
}

int pub_json_append_string(pub_buf_t *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  str_class_init();
  if (n > ((size_t)-1 - 2) / 6 || pub_buf_reserve(b, n * 6 + 2) != 0) return -2;
  const unsigned char *p = (const unsigned char *)s, *end = p + n;
  char *o = b->data + b->len;
  *o++ = '"';
  while (p < end) {
    const unsigned char *run = p;
    while (p < end && str_class[*p] == 0) p++;
    memcpy(o, run, (size_t)(p - run));
    o += p - run;
    if (p == end) break;
    unsigned c = *p;
    switch (str_class[c]) {
    case 1:
    case 2:
      *o++ = '\\';
      *o++ = (char)c;
      p++;
      break;
    case 3:
      *o++ = '\\';
      switch (c) {
      case '\n': *o++ = 'n'; break;
      case '\r': *o++ = 'r'; break;
      case '\t': *o++ = 't'; break;
      case '\b': *o++ = 'b'; break;
      case '\f': *o++ = 'f'; break;
      default:
        *o++ = 'u', *o++ = '0', *o++ = '0';
        *o++ = hex[c >> 4], *o++ = hex[c & 15];
      }
      p++;
      break;
    default: {
      size_t k = utf8_seq(p, (size_t)(end - p));
      if (!k) return -1; /* b->len is unchanged: nothing was committed */
      memcpy(o, p, k);
      o += k;
      p += k;
    }
    }
  }
  *o++ = '"';
  b->len = (size_t)(o - b->data);
  return 0;
}

/* ---- the fast check ---- */

#define JC_MAX_DEPTH 32 /* jansson allows 2048; deeper lines go to jansson */
#define JC_MAX_KEYS 64  /* members per object checked for duplicates here */

typedef struct jc_s {
  const unsigned char *p, *end;
} jc_t;

typedef enum { JC_STRING, JC_INTEGER, JC_OTHER } jc_kind_t;

static inline void jc_ws(jc_t *c) {
  while (c->p < c->end &&
         (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static inline int hexval(unsigned c) {
  if (c >= '0' && c <= '9') return (int)(c - '0');
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
  return -1;
}

static inline int is_digit(unsigned c) { return c >= '0' && c <= '9'; }

/* c->p is at '"'. Leaves c->p after the closing quote; *esc tells whether
 * the string had escapes. */
static int jc_string(jc_t *c, int *esc) {
  const unsigned char *p = c->p + 1, *end = c->end;
  *esc = 0;
  for (;;) {
    while (p < end && str_class[*p] == 0) p++;
    if (p >= end) return -1;
    switch (str_class[*p]) {
    case 1:
      c->p = p + 1;
      return 0;
    case 2:
      *esc = 1;
      if (++p >= end) return -1;
      switch (*p) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        p++;
        break;
      case 'u': {
        unsigned v = 0;
        if (end - p < 5) return -1;
        for (int i = 1; i <= 4; i++) {
          int h = hexval(p[i]);
          if (h < 0) return -1;
          v = (v << 4) | (unsigned)h;
        }
        /* jansson refuses \u0000 and checks surrogate pairs: its call. */
        if (v == 0 || (v >= 0xD800 && v <= 0xDFFF)) return -1;
        p += 5;
        break;
      }
      default:
        return -1;
      }
      break;
    case 3:
      return -1;
    default: {
      size_t k = utf8_seq(p, (size_t)(end - p));
      if (!k) return -1;
      p += k;
    }
    }
  }
}

/* RFC 8259 numbers, and only those jansson surely converts: integers that
 * fit in 64 bits, reals too short to overflow a double. */
static int jc_number(jc_t *c, jc_kind_t *kind) {
  const unsigned char *s = c->p, *p = s, *end = c->end;
  int integer = 1;
  if (p < end && *p == '-') p++;
  if (p >= end) return -1;
  if (*p == '0') {
    p++;
  } else if (*p >= '1' && *p <= '9') {
    while (p < end && is_digit(*p)) p++;
  } else {
    return -1;
  }
  size_t int_digits = (size_t)(p - s) - (*s == '-');
  if (p < end && *p == '.') {
    integer = 0;
    p++;
    if (p >= end || !is_digit(*p)) return -1;
    while (p < end && is_digit(*p)) p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    integer = 0;
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    const unsigned char *e0 = p;
    while (p < end && is_digit(*p)) p++;
    if (p == e0 || p - e0 > 2) return -1;
  }
  if (integer ? int_digits > 18 : p - s > 30) return -1;
  c->p = p;
  *kind = integer ? JC_INTEGER : JC_OTHER;
  return 0;
}

static int jc_object(jc_t *c, int depth, const char *key, size_t keylen, pub_json_key_t *kout);

static int jc_array(jc_t *c, int depth);

static int jc_value(jc_t *c, int depth, jc_kind_t *kind, int *esc) {
  const unsigned char *p = c->p, *end = c->end;
  *esc = 0;
  *kind = JC_OTHER;
  if (p >= end) return -1;
  switch (*p) {
  case '{':
    return depth >= JC_MAX_DEPTH ? -1 : jc_object(c, depth + 1, NULL, 0, NULL);
  case '[':
    return depth >= JC_MAX_DEPTH ? -1 : jc_array(c, depth + 1);
  case '"':
    *kind = JC_STRING;
    return jc_string(c, esc);
  case 't':
    if (end - p < 4 || memcmp(p, "true", 4) != 0) return -1;
    c->p += 4;
    return 0;
  case 'f':
    if (end - p < 5 || memcmp(p, "false", 5) != 0) return -1;
    c->p += 5;
    return 0;
  case 'n':
    if (end - p < 4 || memcmp(p, "null", 4) != 0) return -1;
    c->p += 4;
    return 0;
  default:
    return jc_number(c, kind);
  }
}

static int jc_array(jc_t *c, int depth) {
  jc_kind_t kind;
  int esc;
  c->p++;
  jc_ws(c);
  if (c->p < c->end && *c->p == ']') {
    c->p++;
    return 0;
  }
  for (;;) {
    if (jc_value(c, depth, &kind, &esc) != 0) return -1;
    jc_ws(c);
    if (c->p >= c->end) return -1;
    if (*c->p == ']') {
      c->p++;
      return 0;
    }
    if (*c->p != ',') return -1;
    c->p++;
    jc_ws(c);
  }
}

static int jc_object(jc_t *c, int depth, const char *key, size_t keylen, pub_json_key_t *kout) {
  struct {
    const unsigned char *p;
    size_t n;
  } keys[JC_MAX_KEYS];
  int nkeys = 0;
  c->p++;
  jc_ws(c);
  if (c->p < c->end && *c->p == '}') {
    c->p++;
    return 0;
  }
  for (;;) {
    int esc;
    if (c->p >= c->end || *c->p != '"') return -1;
    const unsigned char *ks = c->p + 1;
    if (jc_string(c, &esc) != 0 || esc) return -1; /* escaped keys: jansson compares */
    size_t kn = (size_t)(c->p - 1 - ks);
    if (nkeys == JC_MAX_KEYS) return -1;
    for (int i = 0; i < nkeys; i++)
      if (keys[i].n == kn && memcmp(keys[i].p, ks, kn) == 0) return -1; /* duplicate */
    keys[nkeys].p = ks;
    keys[nkeys].n = kn;
    nkeys++;
    jc_ws(c);
    if (c->p >= c->end || *c->p != ':') return -1;
    c->p++;
    jc_ws(c);
    const unsigned char *vs = c->p;
    jc_kind_t kind;
    if (jc_value(c, depth, &kind, &esc) != 0) return -1;
    if (kout && kn == keylen && memcmp(ks, key, kn) == 0) {
      if (kind == JC_STRING) {
        if (esc) return -1; /* jansson unescapes it */
        kout->kind = PUB_KEY_STRING;
        kout->ptr = (const char *)vs + 1;
        kout->len = (size_t)(c->p - vs) - 2;
      } else if (kind == JC_INTEGER) {
        if (vs[0] == '-' && vs[1] == '0') return -1; /* "-0" is 0 to jansson */
        kout->kind = PUB_KEY_INTEGER;
        kout->ptr = (const char *)vs;
        kout->len = (size_t)(c->p - vs);
      } else {
        kout->kind = PUB_KEY_OTHER;
      }
    }
    jc_ws(c);
    if (c->p >= c->end) return -1;
    if (*c->p == '}') {
      c->p++;
      return 0;
    }
    if (*c->p != ',') return -1;
    c->p++;
    jc_ws(c);
  }
}

int pub_json_object_check(const char *s, size_t n, const char *key, size_t keylen,
                          pub_json_key_t *kout) {
  jc_t c = {(const unsigned char *)s, (const unsigned char *)s + n};
  str_class_init();
  if (kout) {
    kout->kind = PUB_KEY_ABSENT;
    kout->ptr = NULL;
    kout->len = 0;
  }
  jc_ws(&c);
  if (c.p >= c.end || *c.p != '{') return 0;
  if (jc_object(&c, 1, key, keylen, key ? kout : NULL) != 0) return 0;
  jc_ws(&c);
  return c.p == c.end;
}
