/* Phone-number normalisation: a hand-written, China-centred subset of what
 * libphonenumber does, driven by the tables below. No allocation, no global
 * state; every function here is pure. */
#include "gb/phone.h"

#include "gb/err.h"
#include "gb/utf8.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Longer inputs are rejected before scanning. Fifteen full-width digits with
 * ideographic spaces between them take about 90 bytes; nothing a carrier
 * sends as one number comes near this. */
#define PHONE_MAX_INPUT 256

/* Digits kept while scanning. More are counted but not stored: anything
 * beyond 15 (plus a 00 prefix) is rejected as too long. */
#define PHONE_DIGITS_CAP 24

#define E164_MAX_DIGITS 15

/* The shortest numbers in service are 7 digits with their country code
 * (Niue, +683 xxxx), so E.164 gives no floor higher than that. */
#define E164_MIN_DIGITS 7

#define set_err gb_errstr_set

const char *gb_phone_class_name(gb_phone_class_t c) {
  switch (c) {
  case GB_PHONE_MOBILE: return "mobile";
  case GB_PHONE_LANDLINE: return "landline";
  case GB_PHONE_SERVICE: return "service";
  case GB_PHONE_INTERNATIONAL: return "international";
  case GB_PHONE_INVALID: break;
  }
  return "invalid";
}

/* ---- Scanning: separators out, digits in -------------------------------- */

enum { CH_OTHER, CH_DIGIT, CH_SEP, CH_PLUS };

static const unsigned char ascii_kinds[128] = {
    ['0'] = CH_DIGIT, ['1'] = CH_DIGIT, ['2'] = CH_DIGIT, ['3'] = CH_DIGIT,
    ['4'] = CH_DIGIT, ['5'] = CH_DIGIT, ['6'] = CH_DIGIT, ['7'] = CH_DIGIT,
    ['8'] = CH_DIGIT, ['9'] = CH_DIGIT,
    [' '] = CH_SEP,   ['\t'] = CH_SEP,  ['-'] = CH_SEP,   ['.'] = CH_SEP,
    ['('] = CH_SEP,   [')'] = CH_SEP,
    ['+'] = CH_PLUS,
};

static int ascii_kind(unsigned char c) {
  return c < 0x80 ? ascii_kinds[c] : CH_OTHER;
}

/* Non-ASCII characters dropped like an ASCII space or dash. Besides the
 * ideographic space and NBSP these are what word processors and web pages
 * substitute for a hyphen or space when a number is copied out of them. The
 * full-width forms U+FF01..U+FF5E are not listed: they are folded to ASCII
 * first, so "１３８－００１３" is read as "138-0013". */
static const struct {
  uint32_t lo, hi;
  int space;
} unicode_seps[] = {
    {0x00A0, 0x00A0, 1}, /* no-break space */
    {0x2000, 0x200B, 1}, /* en quad .. zero-width space */
    {0x2010, 0x2015, 0}, /* hyphen, non-breaking hyphen, figure/en/em dash, bar */
    {0x202F, 0x202F, 1}, /* narrow no-break space */
    {0x2212, 0x2212, 0}, /* minus sign */
    {0x3000, 0x3000, 1}, /* ideographic space */
    {0xFEFF, 0xFEFF, 1}, /* byte-order mark left by spreadsheet exports */
};


/* Classifies a non-ASCII code point; *ascii becomes the ASCII character it
 * stands for, ' ' for a space-like separator. */
static int unicode_kind(uint32_t cp, unsigned char *ascii) {
  size_t i;
  if (cp >= 0xFF01 && cp <= 0xFF5E) {
    *ascii = (unsigned char)(cp - 0xFEE0);
    return ascii_kind(*ascii);
  }
  for (i = 0; i < sizeof(unicode_seps) / sizeof(unicode_seps[0]); i++) {
    if (cp >= unicode_seps[i].lo && cp <= unicode_seps[i].hi) {
      *ascii = unicode_seps[i].space ? ' ' : '-';
      return CH_SEP;
    }
  }
  return CH_OTHER;
}

typedef struct {
  char d[PHONE_DIGITS_CAP];
  size_t n;   /* digits seen; only the first PHONE_DIGITS_CAP are stored */
  int plus;   /* a '+' came before the first digit */
  int blank;  /* nothing but spaces: no digit, no '+' */
} scan_t;

static int scan(scan_t *sc, const unsigned char *in, size_t len, char *errstr,
                size_t errstr_size) {
  /* Locals rather than sc->: a store into sc->d may alias sc->n otherwise,
   * and the loop would reload it for every byte. */
  size_t i = 0, k, n = 0;
  int plus = 0, blank = 1, kind;
  uint32_t cp;
  unsigned char c;

  while (i < len) {
    c = in[i], k = 1;
    if (c < 0x80) {
      kind = ascii_kinds[c];
      if (kind == CH_OTHER) {
        if (c > 0x20 && c < 0x7F)
          set_err(errstr, errstr_size, "phone: unexpected '%c' at byte %zu", c, i);
        else
          set_err(errstr, errstr_size, "phone: unexpected byte 0x%02X at byte %zu",
                  c, i);
        return -1;
      }
    } else {
      k = gb_utf8_decode(in + i, len - i, &cp);
      if (k == 0) {
        set_err(errstr, errstr_size, "phone: invalid UTF-8 byte 0x%02X at byte %zu",
                c, i);
        return -1;
      }
      kind = unicode_kind(cp, &c);
      if (kind == CH_OTHER) {
        set_err(errstr, errstr_size, "phone: unexpected U+%04X at byte %zu",
                (unsigned)cp, i);
        return -1;
      }
    }
    if (kind == CH_DIGIT) {
      if (n < PHONE_DIGITS_CAP) sc->d[n] = (char)c;
      n++;
    } else if (kind == CH_PLUS) {
      if (plus || n > 0) {
        set_err(errstr, errstr_size,
                "phone: unexpected '+' at byte %zu, '+' may only start the number",
                i);
        return -1;
      }
      plus = 1;
    } else if (c != ' ' && c != '\t') {
      blank = 0;
    }
    i += k;
  }
  sc->n = n, sc->plus = plus, sc->blank = blank && !plus && n == 0;
  return 0;
}

/* ---- Tables -------------------------------------------------------------- */

/* Short and non-geographic numbers of the mainland plan that callers dial as
 * they are, so they are kept as dialled digits without "+86". 'x' is any
 * digit; a pattern matches only a number of exactly its length. These are
 * the numbers fraudsters spoof (95xxx banks, 10086, 110) and the ones a
 * victim is told to call back, so they must be recognised, not rejected. */
#define SVC(pattern, what) {pattern, sizeof(pattern) - 1, what}
static const struct {
  const char *pattern;
  size_t len;
  const char *what;
} service_numbers[] = {
    SVC("110", "police"),
    SVC("112", "mobile emergency, routed to 110"),
    SVC("114", "directory enquiries"),
    SVC("119", "fire"),
    SVC("120", "ambulance"),
    SVC("122", "traffic police"),
    SVC("12110", "police by SMS"),
    SVC("12306", "railway"),
    SVC("12315", "consumer complaints"),
    SVC("12345", "government hotline"),
    SVC("12381", "MIIT anti-fraud early warning"),
    SVC("96110", "anti-fraud hotline"),
    SVC("100xx", "carrier customer service: 10086, 10010, 10000, 10099"),
    SVC("95xxx", "national enterprise service: 95588, 95555, 95533"),
    SVC("400xxxxxxx", "toll-free, cost shared with the caller"),
    SVC("800xxxxxxx", "toll-free"),
};
#undef SVC

static int is_service(const char *d, size_t n) {
  size_t i, j;
  for (i = 0; i < sizeof(service_numbers) / sizeof(service_numbers[0]); i++) {
    const char *p = service_numbers[i].pattern;
    if (service_numbers[i].len != n) continue;
    for (j = 0; j < n; j++)
      if (p[j] != 'x' && p[j] != d[j]) break;
    if (j == n) return 1;
  }
  return 0;
}

/* ITU-T E.164 assigned country codes, indexed by their first two digits.
 * Codes are prefix-free: 1 and 7 take every number starting with them; CC2
 * marks a two-digit code; otherwise the bits say which third digits complete
 * an assigned three-digit code. Spare and withdrawn codes are left out so a
 * typo such as +28... is rejected rather than passed on as foreign. The set
 * is libphonenumber's country-code map plus 383 (Kosovo), 870 (Inmarsat),
 * 881/882 (satellite and international networks) and 997 (reserved for
 * Kazakhstan): numbers that reach a Chinese carrier but that libphonenumber
 * has no metadata for. When the ITU assigns a code, add its bit here.
 *
 * Hong Kong (852), Macau (853) and Taiwan (886) are outside the mainland
 * numbering plan: they are dialled with their own codes from the mainland,
 * so they are classed INTERNATIONAL like any foreign number. */
#define CC2 0x8000u
#define B(x) (1u << (x))
#define ALL 0x03FFu
static const uint16_t cc_table[100] = {
    [20] = CC2,
    [21] = B(1) | B(2) | B(3) | B(6) | B(8),
    [22] = ALL, [23] = ALL, [24] = ALL,
    [25] = ALL & ~B(9),
    [26] = ALL,
    [27] = CC2,
    [29] = B(0) | B(1) | B(7) | B(8) | B(9),
    [30] = CC2, [31] = CC2, [32] = CC2, [33] = CC2, [34] = CC2,
    [35] = ALL,
    [36] = CC2,
    [37] = ALL,
    [38] = ALL & ~(B(4) | B(8)),
    [39] = CC2, [40] = CC2, [41] = CC2,
    [42] = B(0) | B(1) | B(3),
    [43] = CC2, [44] = CC2, [45] = CC2, [46] = CC2, [47] = CC2, [48] = CC2,
    [49] = CC2,
    [50] = ALL,
    [51] = CC2, [52] = CC2, [53] = CC2, [54] = CC2, [55] = CC2, [56] = CC2,
    [57] = CC2, [58] = CC2,
    [59] = ALL,
    [60] = CC2, [61] = CC2, [62] = CC2, [63] = CC2, [64] = CC2, [65] = CC2,
    [66] = CC2,
    [67] = ALL & ~B(1),
    [68] = ALL & ~B(4),
    [69] = B(0) | B(1) | B(2),
    [80] = B(0) | B(8),                             /* freephone, shared cost */
    [81] = CC2, [82] = CC2, [84] = CC2,
    [85] = B(0) | B(2) | B(3) | B(5) | B(6),
    [86] = CC2,
    [87] = B(0),                                    /* Inmarsat */
    [88] = B(0) | B(1) | B(2) | B(3) | B(6) | B(8), /* 881-883: satellite, networks */
    [90] = CC2, [91] = CC2, [92] = CC2, [93] = CC2, [94] = CC2, [95] = CC2,
    [96] = ALL & ~B(9),
    [97] = ALL & ~B(8),
    [98] = CC2,
    [99] = ALL & ~(B(0) | B(1) | B(9)),
};
#undef B
#undef ALL

/* Returns the length of the country code that starts p, 0 if no assigned
 * code does, or -1 if p is too short to tell. p[0] is not '0'. */
static int country_code_len(const char *p, size_t m) {
  unsigned v;
  if (p[0] == '1' || p[0] == '7') return 1;
  if (m < 2) return -1;
  v = cc_table[(p[0] - '0') * 10 + (p[1] - '0')];
  if (v & CC2) return 2;
  if (m < 3) return v ? -1 : 0;
  return (v & (1u << (p[2] - '0'))) ? 3 : 0;
}

/* National significant number lengths where they are fixed and the number
 * is common in our records; other countries get only the E.164 bounds. */
static const struct {
  const char *cc;
  unsigned char min, max;
} nsn_lengths[] = {
    {"1", 10, 10},  /* NANP: area code + 7 */
    {"7", 10, 10},  /* Russia, Kazakhstan */
    {"852", 8, 9},  /* Hong Kong; 9 for 800 freephone */
    {"853", 8, 8},  /* Macau */
    {"886", 8, 9},  /* Taiwan */
};

/* ---- Mainland numbering plan ------------------------------------------- */

static int is_cn_mobile(const char *d, size_t n) {
  return n == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9';
}

/* Area code length of a national significant number (no trunk 0): 10 and
 * 20-29 are two digits, codes starting 3-9 three; 0 when d cannot start an
 * area code. */
static size_t cn_area_len(const char *d, size_t n) {
  if (n < 2) return 0;
  if (d[0] == '1') return d[1] == '0' ? 2 : 0;
  if (d[0] == '2') return 2;
  if (d[0] >= '3' && d[0] <= '9') return 3;
  return 0;
}

/* 400 and 800 numbers are not geographic: "400" is no area code, and
 * reading 400 xxx xxxx as one would give the number a second normal form
 * (+864001234567 beside 4001234567). */
static int is_cn_landline(const char *d, size_t n) {
  size_t a = cn_area_len(d, n), local;
  if (a == 0 || n <= a || d[a] == '0' || (n == 10 && is_service(d, n))) return 0;
  local = n - a;
  return a == 2 ? local == 8 : (local == 7 || local == 8);
}

static gb_phone_class_t cn_nsn_class(const char *d, size_t n) {
  if (is_cn_mobile(d, n)) return GB_PHONE_MOBILE;
  if (is_cn_landline(d, n)) return GB_PHONE_LANDLINE;
  return GB_PHONE_INVALID;
}

static gb_phone_class_t emit(char *out, size_t out_size, const char *prefix,
                             const char *d, size_t n, gb_phone_class_t cls,
                             char *errstr, size_t errstr_size) {
  size_t pl = 0, i;
  while (prefix[pl]) pl++;
  if (!out || out_size < pl + n + 1) {
    set_err(errstr, errstr_size,
            "phone: output buffer of %zu bytes is too small, need %zu",
            out ? out_size : 0, pl + n + 1);
    return GB_PHONE_INVALID;
  }
  /* At most 16 bytes: a loop beats two calls into libc here. */
  for (i = 0; i < pl; i++) out[i] = prefix[i];
  for (i = 0; i < n; i++) out[pl + i] = d[i];
  out[pl + n] = '\0';
  if (errstr && errstr_size) errstr[0] = '\0';
  return cls;
}

/* Explains why a national number (dialled without + or 00) is not valid. */
static void explain_national(const char *d, size_t n, char *errstr,
                             size_t errstr_size) {
  size_t a, local;
  if (n < 3) {
    set_err(errstr, errstr_size, "phone: %zu digit%s, too short for any number", n,
            n == 1 ? "" : "s");
    return;
  }
  if (d[0] == '1' && d[1] >= '3' && d[1] <= '9') {
    set_err(errstr, errstr_size, "phone: %zu digits, a Chinese mobile has 11", n);
  } else if (d[0] == '1') {
    set_err(errstr, errstr_size,
            "phone: %zu digits starting %.2s is neither a mobile (13-19) nor a "
            "known service number", n, d);
  } else if (d[0] == '0' && d[1] == '1' && d[2] >= '3' && d[2] <= '9') {
    set_err(errstr, errstr_size,
            "phone: %zu digits starting %.3s, a mobile with trunk prefix 0 has 12", n,
            d);
  } else if (d[0] == '0') {
    a = cn_area_len(d + 1, n - 1);
    local = n - 1 - a;
    if (a == 0)
      set_err(errstr, errstr_size, "phone: no Chinese area code starts %.3s", d);
    else if (local > 0 && d[1 + a] == '0')
      set_err(errstr, errstr_size,
              "phone: local number after area code 0%.*s starts with 0", (int)a,
              d + 1);
    else if (a == 2)
      set_err(errstr, errstr_size,
              "phone: area code 0%.2s needs an 8-digit local number, got %zu", d + 1,
              local);
    else
      set_err(errstr, errstr_size,
              "phone: area code 0%.3s needs a 7- or 8-digit local number, got %zu",
              d + 1, local);
  } else if (d[0] == '8' && d[1] == '6' && n >= 12) {
    set_err(errstr, errstr_size,
            "phone: 86 number with %zu digits is neither mobile nor landline", n - 2);
  } else if ((d[0] == '4' || d[0] == '8') && d[1] == '0' && d[2] == '0') {
    set_err(errstr, errstr_size, "phone: %zu digits starting %.3s, a %.3s number has 10",
            n, d, d);
  } else if (d[0] == '9' && d[1] == '5') {
    set_err(errstr, errstr_size,
            "phone: %zu digits starting 95, a 95 service number has 5", n);
  } else if (n == 7 || n == 8) {
    set_err(errstr, errstr_size,
            "phone: %zu-digit local number without area code", n);
  } else {
    set_err(errstr, errstr_size,
            "phone: %zu digits is not a Chinese mobile, landline or service number", n);
  }
}

/* A mainland number after +86 or 0086. A trunk 0 written after the country
 * code ("+86 (0)21 ...") is tolerated: it is a common way of writing a
 * number for both domestic and foreign readers. */
static gb_phone_class_t cn_after_cc(char *out, size_t out_size, const char *d,
                                    size_t n, char *errstr, size_t errstr_size) {
  gb_phone_class_t c;
  if (n == 0) {
    set_err(errstr, errstr_size, "phone: no digits after country code 86");
    return GB_PHONE_INVALID;
  }
  if (is_service(d, n))
    return emit(out, out_size, "", d, n, GB_PHONE_SERVICE, errstr, errstr_size);
  if ((c = cn_nsn_class(d, n)) != GB_PHONE_INVALID)
    return emit(out, out_size, "+86", d, n, c, errstr, errstr_size);
  if (d[0] == '0' && (c = cn_nsn_class(d + 1, n - 1)) != GB_PHONE_INVALID)
    return emit(out, out_size, "+86", d + 1, n - 1, c, errstr, errstr_size);
  set_err(errstr, errstr_size,
          "phone: +86 number with %zu digits is neither mobile nor landline", n);
  return GB_PHONE_INVALID;
}

/* A number dialled inside the mainland: service, mobile, 0 + area code +
 * local, or the same with a bare 86 in front as some switches record it. */
static gb_phone_class_t cn_national(char *out, size_t out_size, const char *d,
                                    size_t n, char *errstr, size_t errstr_size) {
  gb_phone_class_t c;
  if (is_service(d, n))
    return emit(out, out_size, "", d, n, GB_PHONE_SERVICE, errstr, errstr_size);
  if (is_cn_mobile(d, n))
    return emit(out, out_size, "+86", d, n, GB_PHONE_MOBILE, errstr, errstr_size);
  if (n >= 2 && d[0] == '0' && (c = cn_nsn_class(d + 1, n - 1)) != GB_PHONE_INVALID)
    return emit(out, out_size, "+86", d + 1, n - 1, c, errstr, errstr_size);
  /* A national number starts with 0, 1, 4, 8 (400/800) or 9 (95xxx) and
   * never with 86 and 12 or more digits, so this reading is unambiguous. */
  if (n >= 12 && d[0] == '8' && d[1] == '6') {
    const char *p = d + 2;
    size_t m = n - 2;
    if (is_service(p, m)) /* as after +86 */
      return emit(out, out_size, "", p, m, GB_PHONE_SERVICE, errstr, errstr_size);
    if ((c = cn_nsn_class(p, m)) != GB_PHONE_INVALID)
      return emit(out, out_size, "+86", p, m, c, errstr, errstr_size);
    if (p[0] == '0' && (c = cn_nsn_class(p + 1, m - 1)) != GB_PHONE_INVALID)
      return emit(out, out_size, "+86", p + 1, m - 1, c, errstr, errstr_size);
  }
  explain_national(d, n, errstr, errstr_size);
  return GB_PHONE_INVALID;
}

static gb_phone_class_t international(char *out, size_t out_size, const char *p,
                                      size_t m, const char *via, char *errstr,
                                      size_t errstr_size) {
  int ccl;
  size_t i, nsn;
  if (m == 0) {
    set_err(errstr, errstr_size, "phone: no digits after %s", via);
    return GB_PHONE_INVALID;
  }
  if (p[0] == '0') {
    set_err(errstr, errstr_size, "phone: country code after %s cannot start with 0",
            via);
    return GB_PHONE_INVALID;
  }
  if (m > E164_MAX_DIGITS) {
    set_err(errstr, errstr_size, "phone: %zu digits, E.164 allows at most %d", m,
            E164_MAX_DIGITS);
    return GB_PHONE_INVALID;
  }
  ccl = country_code_len(p, m);
  if (ccl == 0) {
    set_err(errstr, errstr_size, "phone: +%.3s is not an assigned country code", p);
    return GB_PHONE_INVALID;
  }
  if (ccl == 2 && p[0] == '8' && p[1] == '6')
    return cn_after_cc(out, out_size, p + 2, m - 2, errstr, errstr_size);
  if (ccl < 0 || m < E164_MIN_DIGITS) {
    set_err(errstr, errstr_size, "phone: %zu digit%s after %s, E.164 needs at least %d",
            m, m == 1 ? "" : "s", via, E164_MIN_DIGITS);
    return GB_PHONE_INVALID;
  }
  nsn = m - (size_t)ccl;
  for (i = 0; i < sizeof(nsn_lengths) / sizeof(nsn_lengths[0]); i++) {
    const char *cc = nsn_lengths[i].cc;
    if (strlen(cc) != (size_t)ccl || memcmp(cc, p, (size_t)ccl) != 0) continue;
    if (nsn < nsn_lengths[i].min || nsn > nsn_lengths[i].max) {
      if (nsn_lengths[i].min == nsn_lengths[i].max)
        set_err(errstr, errstr_size, "phone: +%s number with %zu digits, want %u", cc,
                nsn, nsn_lengths[i].min);
      else
        set_err(errstr, errstr_size, "phone: +%s number with %zu digits, want %u-%u",
                cc, nsn, nsn_lengths[i].min, nsn_lengths[i].max);
      return GB_PHONE_INVALID;
    }
    break;
  }
  return emit(out, out_size, "+", p, m, GB_PHONE_INTERNATIONAL, errstr, errstr_size);
}

gb_phone_class_t gb_phone_normalize(char *out, size_t out_size, const char *in,
                                    size_t len, char *errstr, size_t errstr_size) {
  scan_t sc;
  const char *d;
  size_t n;

  if (len == 0) {
    set_err(errstr, errstr_size, "phone: empty");
    return GB_PHONE_INVALID;
  }
  if (!in) {
    set_err(errstr, errstr_size, "phone: NULL input with length %zu", len);
    return GB_PHONE_INVALID;
  }
  if (len > PHONE_MAX_INPUT) {
    set_err(errstr, errstr_size, "phone: %zu bytes, longer than any number (limit %d)",
            len, PHONE_MAX_INPUT);
    return GB_PHONE_INVALID;
  }
  if (scan(&sc, (const unsigned char *)in, len, errstr, errstr_size) != 0)
    return GB_PHONE_INVALID;

  d = sc.d, n = sc.n;
  if (n == 0) {
    if (sc.plus)
      set_err(errstr, errstr_size, "phone: no digits after '+'");
    else
      set_err(errstr, errstr_size, "phone: %s", sc.blank ? "empty" : "no digits");
    return GB_PHONE_INVALID;
  }
  if (n > PHONE_DIGITS_CAP) {
    set_err(errstr, errstr_size, "phone: %zu digits, E.164 allows at most %d", n,
            E164_MAX_DIGITS);
    return GB_PHONE_INVALID;
  }

  /* "+0086..." has both international prefixes; +0 starts no country code,
   * so reading it as one prefix loses nothing. */
  if (sc.plus && n > 2 && d[0] == '0' && d[1] == '0' && d[2] != '0')
    return international(out, out_size, d + 2, n - 2, "'+00'", errstr, errstr_size);
  if (sc.plus)
    return international(out, out_size, d, n, "'+'", errstr, errstr_size);
  if (n >= 2 && d[0] == '0' && d[1] == '0')
    return international(out, out_size, d + 2, n - 2, "international prefix 00",
                         errstr, errstr_size);
  if (n > E164_MAX_DIGITS) {
    set_err(errstr, errstr_size, "phone: %zu digits, E.164 allows at most %d", n,
            E164_MAX_DIGITS);
    return GB_PHONE_INVALID;
  }
  return cn_national(out, out_size, d, n, errstr, errstr_size);
}
