#include "gb/utf8.h"

size_t gb_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  size_t k, i;
  uint32_t v;
  unsigned char lo = 0x80, hi = 0xBF;
  if (s[0] >= 0xC2 && s[0] <= 0xDF) {
    k = 2, v = s[0] & 0x1Fu;
  } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
    k = 3, v = s[0] & 0x0Fu;
    if (s[0] == 0xE0) lo = 0xA0; /* overlong */
    if (s[0] == 0xED) hi = 0x9F; /* surrogates */
  } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
    k = 4, v = s[0] & 0x07u;
    if (s[0] == 0xF0) lo = 0x90; /* overlong */
    if (s[0] == 0xF4) hi = 0x8F; /* above U+10FFFF */
  } else {
    return 0;
  }
  if (n < k || s[1] < lo || s[1] > hi) return 0;
  for (i = 1; i < k; i++) {
    if (i > 1 && (s[i] < 0x80 || s[i] > 0xBF)) return 0;
    v = (v << 6) | (s[i] & 0x3Fu);
  }
  *cp = v;
  return k;
}

int gb_utf8_valid(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    if (p[i] < 0x80) {
      i++;
      continue;
    }
    uint32_t cp;
    size_t k = gb_utf8_decode(p + i, len - i, &cp);
    if (!k) return 0;
    i += k;
  }
  return 1;
}
