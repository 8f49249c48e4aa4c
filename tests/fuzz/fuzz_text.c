/* The small text helpers every reader leans on: UTF-8 validation and
 * decoding (common/src/utf8.c), which decides what ingest passes on and
 * what the normalisers read, and gb_log_quote (common/src/log.c), which
 * puts untrusted values into log lines.
 *
 * Input: one byte choosing a buffer size, then the text. Checks:
 * gb_utf8_valid agrees with a plain reference decoder (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF) and gb_utf8_decode
 * with it sequence by sequence; a quoted value fits its buffer, is
 * NUL-terminated, and is either the value itself (only when it holds no
 * space, control byte, '=', '"' or '\\') or quoted, with no control byte
 * and no unescaped quote inside. */
#include <string.h>

#include "fuzz.h"
#include "gb/log.h"
#include "gb/utf8.h"

/* Length of the valid sequence at s, or 0; *cp its code point. */
static size_t ref_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  size_t k;
  uint32_t v, min;
  if (s[0] < 0x80) return *cp = s[0], 1;
  if ((s[0] & 0xE0) == 0xC0) k = 2, v = s[0] & 0x1Fu, min = 0x80;
  else if ((s[0] & 0xF0) == 0xE0) k = 3, v = s[0] & 0x0Fu, min = 0x800;
  else if ((s[0] & 0xF8) == 0xF0) k = 4, v = s[0] & 0x07u, min = 0x10000;
  else return 0;
  if (n < k) return 0;
  for (size_t i = 1; i < k; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = v << 6 | (s[i] & 0x3Fu);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return k;
}

static void utf8(const uint8_t *s, size_t n) {
  size_t i = 0;
  int valid = 1;
  while (i < n) {
    uint32_t a = 0, b = 0;
    size_t ka = ref_decode(s + i, n - i, &a);
    if (s[i] >= 0x80) {
      size_t kb = gb_utf8_decode(s + i, n - i, &b);
      FUZZ_CHECK(ka == kb && (ka == 0 || a == b), "byte %zu: reference %zu U+%04X, ours %zu U+%04X",
                 i, ka, (unsigned)a, kb, (unsigned)b);
    }
    if (!ka) {
      valid = 0;
      break;
    }
    i += ka;
  }
  FUZZ_CHECK(gb_utf8_valid((const char *)s, n) == valid, "gb_utf8_valid says %d",
             !valid);
}

static void quote(const uint8_t *data, size_t size, size_t bsize) {
  char *s = fuzz_strndup(data, size);
  char *buf = malloc(bsize ? bsize : 1);
  if (!buf) abort();
  const char *q = gb_log_quote(buf, bsize, s);
  FUZZ_CHECK(q == buf, "returned another buffer");
  if (bsize) {
    FUZZ_CHECK(fuzz_terminated(buf, bsize), "not terminated");
    size_t n = strlen(buf);
    int bare = *s != '\0' && strpbrk(s, " \"=\\") == NULL;
    for (const char *p = s; *p && bare; p++) bare = (unsigned char)*p > ' ';
    /* Bare only when safe; quoting a safe value is allowed too (bytes
     * past ASCII are quoted). */
    if (n > 0 && buf[0] != '"') {
      FUZZ_CHECK(bare && strncmp(buf, s, n) == 0 && (n == strlen(s) || n == bsize - 1),
                 "'%s' left bare as '%s'", s, buf);
    } else if (n > 0) {
      for (size_t i = 1; i < n; i++) {
        FUZZ_CHECK((unsigned char)buf[i] >= 0x20, "control byte at %zu", i);
        if (buf[i] == '\\') {
          FUZZ_CHECK(i + 1 < n, "lone backslash at the end");
          i++;
        } else {
          FUZZ_CHECK(buf[i] != '"' || i == n - 1, "unescaped quote at %zu", i);
        }
      }
    }
  }
  free(buf);
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t sel = fuzz_take_byte(&data, &size);
  utf8(data, size);
  quote(data, size, sel < 0x80 ? sel : (size_t)sel * 4);
  return 0;
}
