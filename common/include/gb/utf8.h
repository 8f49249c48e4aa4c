/* UTF-8 (RFC 3629) decoding and validation, shared by the normalisers and
 * the record readers. Pure functions, any thread. */
#ifndef GB_UTF8_H
#define GB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one sequence at s (n >= 1 bytes available, s[0] >= 0x80).
 * Returns its length and sets *cp, or 0 if the bytes are not valid UTF-8
 * (overlong forms, surrogates and values above U+10FFFF included). */
size_t gb_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Whether s (len bytes) is well-formed UTF-8. */
int gb_utf8_valid(const char *s, size_t len);

#endif
