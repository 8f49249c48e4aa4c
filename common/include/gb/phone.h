/* Phone-number normalisation to E.164 (ITU-T E.164, "+<country><number>").
 *
 * One implementation for the whole product: ingest normalises call and visit
 * records with it, the index normalises registrants, family numbers and fraud
 * numbers with it, so that the same person is the same string everywhere.
 * Pure functions, no allocation, safe from any thread. */
#ifndef GB_PHONE_H
#define GB_PHONE_H

#include <stddef.h>

typedef enum {
  GB_PHONE_INVALID = 0,
  GB_PHONE_MOBILE = 1,        /* Chinese mobile: +861[3-9]x xxxx xxxx */
  GB_PHONE_LANDLINE = 2,      /* Chinese fixed line with area code: +86<area><local> */
  GB_PHONE_SERVICE = 3,       /* short service number: 110, 12381, 95xxx; kept as dialled */
  GB_PHONE_INTERNATIONAL = 4, /* outside China: +<cc>... */
} gb_phone_class_t;

/* Longest E.164 string plus NUL ("+" and at most 15 digits). */
#define GB_PHONE_MAX 17

/**
 * Normalises `in` (len bytes, need not be NUL-terminated, never read past
 * len) to E.164 in `out`.
 *
 * Accepts Chinese mobiles with or without +86 / 0086 / 86 and with a trunk 0
 * (013800138000); landlines with an area code (010-12345678,
 * (0755) 8888 8888, +86 21 5555 6666, +86 (0)21 ...); international numbers
 * with 00 or + (Hong Kong, Macau and Taiwan are INTERNATIONAL); short
 * service numbers (110, 12381, 95xxx, 100xx, 400/800 xxx xxxx, the table in
 * phone.c), returned as digits without "+" and class GB_PHONE_SERVICE.
 *
 * Separators are dropped: space, tab, - . ( ), NBSP, U+3000 and Unicode
 * dashes. Full-width forms (U+FF01..U+FF5E, e.g. "１３８", "＋", "（") count
 * as their ASCII twins. Anything else, extensions ("ext", "x", "#")
 * included, makes the number invalid; inputs over 256 bytes are invalid.
 *
 * @returns the class (> 0) and fills out (GB_PHONE_MAX bytes always
 *          suffice), or GB_PHONE_INVALID (0) with a reason in errstr
 *          ("phone: 9 digits, a Chinese mobile has 11", "phone: unexpected
 *          'x' at byte 10"; byte positions count from 0). out is untouched
 *          on failure. errstr may be NULL; otherwise it is always
 *          NUL-terminated, and empty on success.
 */
gb_phone_class_t gb_phone_normalize(char *out, size_t out_size, const char *in,
                                    size_t len, char *errstr, size_t errstr_size);

/* "mobile", "landline", "service", "international", "invalid". */
const char *gb_phone_class_name(gb_phone_class_t c);

#endif
