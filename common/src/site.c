/* Site and app normalisation. A site is reduced to the host a browser would
 * connect to and the registrable domain of that host; the rules follow the
 * WHATWG URL standard where a browser would reach the same host, and are
 * stricter where a record could only be garbage. site.h lists the decisions.
 * The public suffix list is the only global state, loaded once. */
#include "gb/site.h"

#include "gb/err.h"
#include "gb/utf8.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define set_err gb_errstr_set

/* Raw host bytes (before percent-decoding and IDNA) looked at. A 253-byte
 * ASCII host needs far fewer, but a host written in percent-encoded Chinese
 * takes about nine input bytes per character of output. */
#define RAW_HOST_MAX 4096

#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63

/* Input quoted in an error message is cut to this many bytes. */
#define QUOTE_MAX 80

/* ---- UTF-8 and white space ---------------------------------------------- */


static int is_ascii_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Unicode White_Space, plus the zero-width space and the byte-order mark,
 * which copy-paste and spreadsheet exports leave around identifiers. */
static int is_unicode_space(uint32_t cp) {
  return cp == 0x0085 || cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 ||
         cp == 0xFEFF;
}

/* Length of the white space character at s[0..n), or 0. */
static size_t space_at(const unsigned char *s, size_t n) {
  uint32_t cp;
  size_t k;
  if (s[0] < 0x80) return is_ascii_space(s[0]);
  k = gb_utf8_decode(s, n, &cp);
  return k && is_unicode_space(cp) ? k : 0;
}

/* Length of the white space character that ends s[0..n), or 0. */
static size_t space_before(const unsigned char *s, size_t n) {
  size_t k;
  if (s[n - 1] < 0x80) return is_ascii_space(s[n - 1]);
  for (k = 2; k <= 4 && k <= n; k++) {
    if (s[n - k] >= 0xC0) return space_at(s + n - k, k) == k ? k : 0;
    if (s[n - k] < 0x80) return 0;
  }
  return 0;
}

/* Narrows [*s, *s + *n) to drop white space at both ends. */
static void trim(const unsigned char **s, size_t *n) {
  size_t k;
  while (*n > 0 && (k = space_at(*s, *n)) != 0) *s += k, *n -= k;
  while (*n > 0 && (k = space_before(*s, *n)) != 0) *n -= k;
}

/* Copies at most QUOTE_MAX bytes of s into dst for an error message, with
 * control bytes and invalid UTF-8 replaced by '?', and "..." if cut. */
static const char *quote(char *dst, size_t dst_size, const void *src, size_t n) {
  const unsigned char *s = src;
  size_t i = 0, o = 0, k;
  uint32_t cp;
  while (i < n && o + 4 + 3 < dst_size && i < QUOTE_MAX) {
    if (s[i] >= 0x80 && (k = gb_utf8_decode(s + i, n - i, &cp)) != 0) {
      memcpy(dst + o, s + i, k);
      o += k, i += k;
    } else {
      dst[o++] = (s[i] < 0x20 || s[i] >= 0x7F) ? '?' : (char)s[i];
      i++;
    }
  }
  if (i < n) memcpy(dst + o, "...", 3), o += 3;
  dst[o] = '\0';
  return dst;
}

/* ---- Public suffix list -------------------------------------------------- */

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *psl_ctx;

/* The newer of libpsl's built-in list and Debian's /usr/share/publicsuffix;
 * the context lives as long as the process. */
static void psl_load(void) {
  const psl_ctx_t *p = psl_latest(NULL);
  psl_ctx = p ? p : psl_builtin();
}

static const psl_ctx_t *psl_get(void) {
  pthread_once(&psl_once, psl_load);
  return psl_ctx;
}

/* ---- Host ---------------------------------------------------------------- */

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int is_host_ascii(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Percent-decodes the raw host into buf (as a browser does before IDNA, so
 * "good.com%2eevil.com" is the host good.com.evil.com), checks the bytes,
 * lower-cases ASCII and turns the ideographic and full-width full stops into
 * '.'. Sets *n to the decoded length. */
static int host_decode(unsigned char *buf, size_t *n, const unsigned char *s,
                       size_t len, char *errstr, size_t errstr_size) {
  char q[QUOTE_MAX + 8];
  size_t i, o = 0, k;
  uint32_t cp;
  int hi, lo;

  for (i = 0; i < len; i++) {
    if (s[i] != '%') {
      buf[o++] = s[i];
    } else if (i + 2 < len && (hi = hex_value(s[i + 1])) >= 0 &&
               (lo = hex_value(s[i + 2])) >= 0) {
      buf[o++] = (unsigned char)(hi << 4 | lo);
      i += 2;
    } else {
      set_err(errstr, errstr_size, "site: bad percent escape in host '%s'",
              quote(q, sizeof(q), s, len));
      return GB_EINVAL;
    }
  }

  len = o, o = 0;
  for (i = 0; i < len; i += k) {
    unsigned char c = buf[i];
    k = 1;
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + ('a' - 'A'));
      if (!is_host_ascii(c)) {
        if (c >= 0x20 && c < 0x7F)
          set_err(errstr, errstr_size, "site: unexpected '%c' in host '%s'", c,
                  quote(q, sizeof(q), buf, len));
        else
          set_err(errstr, errstr_size, "site: unexpected byte 0x%02X in host '%s'", c,
                  quote(q, sizeof(q), buf, len));
        return GB_EINVAL;
      }
      buf[o++] = c;
      continue;
    }
    k = gb_utf8_decode(buf + i, len - i, &cp);
    if (k == 0) {
      set_err(errstr, errstr_size, "site: invalid UTF-8 byte 0x%02X in host '%s'", c,
              quote(q, sizeof(q), buf, len));
      return GB_EINVAL;
    }
    if (cp == 0x3002 || cp == 0xFF0E || cp == 0xFF61) {
      buf[o++] = '.';
    } else {
      memmove(buf + o, buf + i, k);
      o += k;
    }
  }
  *n = o;
  return 0;
}

/* One label to ASCII the way browsers do: UTS #46 non-transitional
 * processing, and transitional where that fails (emoji labels). */
static int label_to_ascii(const char *label, char **ascii) {
  int rc = idn2_to_ascii_8z(label, ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK && idn2_to_ascii_8z(label, ascii, IDN2_NFC_INPUT | IDN2_TRANSITIONAL) ==
                           IDN2_OK)
    rc = IDN2_OK;
  return rc;
}

/* Appends label s[0..n) to host (length *hn), converting it to an A-label if
 * it is not ASCII. */
static int append_label(char *host, size_t *hn, const unsigned char *s, size_t n,
                        int unicode, char *errstr, size_t errstr_size) {
  char label[RAW_HOST_MAX + 1], q[QUOTE_MAX + 8];
  char *ascii = NULL;
  const char *src = (const char *)s;
  size_t an = n;
  int rc;

  if (unicode) {
    memcpy(label, s, n);
    label[n] = '\0';
    rc = label_to_ascii(label, &ascii);
    if (rc != IDN2_OK) {
      set_err(errstr, errstr_size, "site: '%s' is not a valid internationalised label (%s)",
              quote(q, sizeof(q), s, n), idn2_strerror(rc));
      return GB_EINVAL;
    }
    src = ascii, an = strlen(ascii);
  }
  if (*hn + (*hn > 0) + an > DNS_NAME_MAX) {
    idn2_free(ascii);
    set_err(errstr, errstr_size, "site: host longer than %d characters", DNS_NAME_MAX);
    return GB_EINVAL;
  }
  if (*hn > 0) host[(*hn)++] = '.';
  memcpy(host + *hn, src, an);
  *hn += an;
  host[*hn] = '\0';
  idn2_free(ascii);
  return 0;
}

/* An existing A-label must decode and re-encode to itself, as a browser
 * requires; that rejects bad punycode and labels hiding disallowed or
 * upper-case characters. */
static int check_alabel(const char *s, size_t n, char *errstr, size_t errstr_size) {
  char label[DNS_LABEL_MAX + 1], q[QUOTE_MAX + 8];
  char *u = NULL, *a = NULL;
  int rc, same;

  memcpy(label, s, n);
  label[n] = '\0';
  rc = idn2_to_unicode_8z8z(label, &u, 0);
  if (rc != IDN2_OK) {
    set_err(errstr, errstr_size, "site: '%s' is not valid punycode",
            quote(q, sizeof(q), s, n));
    return GB_EINVAL;
  }
  same = u[0] != '\0' && label_to_ascii(u, &a) == IDN2_OK && strcmp(a, label) == 0;
  idn2_free(u);
  idn2_free(a);
  if (!same) {
    set_err(errstr, errstr_size, "site: '%s' is not a valid IDN label",
            quote(q, sizeof(q), s, n));
    return GB_EINVAL;
  }
  return 0;
}

/* WHATWG "ends in a number": the last label is decimal digits or 0x hex, so
 * the host can only be an IPv4 address. */
static int ends_in_number(const char *h, size_t n) {
  size_t i = n;
  while (i > 0 && h[i - 1] != '.') i--;
  if (i == n) return 0;
  if (n - i >= 2 && h[i] == '0' && h[i + 1] == 'x') {
    for (i += 2; i < n; i++)
      if (hex_value((unsigned char)h[i]) < 0) return 0;
    return 1;
  }
  for (; i < n; i++)
    if (!is_digit((unsigned char)h[i])) return 0;
  return 1;
}

/* WHATWG IPv4 parsing: one to four parts, each decimal, 0x hex or 0 octal,
 * the last filling the remaining bytes ("127.1", "0xC0.0250.1.10",
 * "3232235786"), written back in dotted decimal as browsers do. */
static int ipv4_canonical(char *out, size_t out_size, const char *h, size_t n) {
  uint64_t parts[4], v, ip = 0;
  size_t i = 0, np = 0, j;
  unsigned radix;
  int d;

  while (i <= n) {
    size_t end = i;
    while (end < n && h[end] != '.') end++;
    if (np == 4 || end == i) return -1;
    radix = 10;
    if (end - i >= 2 && h[i] == '0' && h[i + 1] == 'x') {
      radix = 16, i += 2;
    } else if (end - i >= 2 && h[i] == '0') {
      radix = 8, i += 1;
    }
    for (v = 0, j = i; j < end; j++) {
      d = hex_value((unsigned char)h[j]);
      if (d < 0 || (unsigned)d >= radix) return -1;
      if (v <= UINT32_MAX) v = v * radix + (unsigned)d;
    }
    parts[np++] = v;
    i = end + 1;
  }
  for (i = 0; i + 1 < np; i++) {
    if (parts[i] > 255) return -1;
    ip = ip << 8 | parts[i];
  }
  if (parts[np - 1] >= (uint64_t)1 << (8 * (5 - np))) return -1;
  ip = ip << (8 * (5 - np)) | parts[np - 1];
  snprintf(out, out_size, "%u.%u.%u.%u", (unsigned)(ip >> 24), (unsigned)(ip >> 16 & 255),
           (unsigned)(ip >> 8 & 255), (unsigned)(ip & 255));
  return 0;
}

static int ipv6_canonical(char *out, size_t out_size, const unsigned char *s, size_t n) {
  char buf[INET6_ADDRSTRLEN];
  struct in6_addr a;
  if (n >= sizeof(buf)) return -1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  if (inet_pton(AF_INET6, buf, &a) != 1) return -1;
  return inet_ntop(AF_INET6, &a, out, (socklen_t)out_size) ? 0 : -1;
}

/* Checks the labels of an ASCII host and counts them. */
static int check_labels(const char *h, size_t n, size_t *nlabels, char *errstr,
                        size_t errstr_size) {
  char q[QUOTE_MAX + 8];
  size_t i = 0, end;
  *nlabels = 0;
  while (i <= n) {
    for (end = i; end < n && h[end] != '.'; end++) {
      if (!is_host_ascii((unsigned char)h[end])) {
        set_err(errstr, errstr_size, "site: unexpected byte 0x%02X in host '%s'",
                (unsigned char)h[end], quote(q, sizeof(q), h, n));
        return GB_EINVAL;
      }
    }
    if (end == i) {
      set_err(errstr, errstr_size, "site: empty label in host '%s'",
              quote(q, sizeof(q), h, n));
      return GB_EINVAL;
    }
    if (end - i > DNS_LABEL_MAX) {
      set_err(errstr, errstr_size, "site: label longer than %d characters in host '%s'",
              DNS_LABEL_MAX, quote(q, sizeof(q), h, n));
      return GB_EINVAL;
    }
    if (end - i >= 4 && memcmp(h + i, "xn--", 4) == 0 &&
        check_alabel(h + i, end - i, errstr, errstr_size) != 0)
      return GB_EINVAL;
    (*nlabels)++;
    i = end + 1;
  }
  return 0;
}

/* Normalises a domain name (not an IP literal in brackets) into out. */
static int host_normalize(gb_site_t *out, const unsigned char *s, size_t len,
                          const char *input, size_t input_len, char *errstr,
                          size_t errstr_size) {
  unsigned char buf[RAW_HOST_MAX + 1];
  char host[DNS_NAME_MAX + 1], q[QUOTE_MAX + 8];
  const char *h, *dom;
  const psl_ctx_t *psl;
  size_t n, hn = 0, i, end, nlabels;
  if (len > RAW_HOST_MAX) {
    set_err(errstr, errstr_size, "site: host of %zu bytes, longer than %d characters", len,
            DNS_NAME_MAX);
    return GB_EINVAL;
  }
  if (host_decode(buf, &n, s, len, errstr, errstr_size) != 0) return GB_EINVAL;
  if (n > 0 && buf[n - 1] == '.') n--;
  if (n == 0) {
    set_err(errstr, errstr_size, "site: no host in '%s'", quote(q, sizeof(q), input, input_len));
    return GB_EINVAL;
  }

  /* Labels are converted one by one so that an ASCII label next to a
   * Unicode one is judged by the same rules as in an all-ASCII host. */
  host[0] = '\0';
  for (i = 0; i <= n; i = end + 1) {
    int u = 0;
    for (end = i; end < n && buf[end] != '.'; end++) u |= buf[end] >= 0x80;
    if (end == i) {
      set_err(errstr, errstr_size, "site: empty label in host '%s'", quote(q, sizeof(q), buf, n));
      return GB_EINVAL;
    }
    if (append_label(host, &hn, buf + i, end - i, u, errstr, errstr_size) != 0)
      return GB_EINVAL;
  }

  if (ends_in_number(host, hn)) {
    if (ipv4_canonical(out->host, sizeof(out->host), host, hn) != 0) {
      set_err(errstr, errstr_size, "site: '%s' is not a valid IPv4 address",
              quote(q, sizeof(q), host, hn));
      return GB_EINVAL;
    }
    memcpy(out->domain, out->host, strlen(out->host) + 1);
    return 0;
  }

  if (check_labels(host, hn, &nlabels, errstr, errstr_size) != 0) return GB_EINVAL;
  if (nlabels == 1) {
    set_err(errstr, errstr_size, "site: '%s' is a single label, not a site",
            quote(q, sizeof(q), host, hn));
    return GB_EINVAL;
  }

  if ((psl = psl_get()) == NULL) {
    set_err(errstr, errstr_size, "site: no public suffix list (libpsl has neither "
                                 "/usr/share/publicsuffix nor a built-in list)");
    return GB_EIO;
  }
  h = host;
  dom = psl_registrable_domain(psl, h);
  if (dom == NULL) {
    set_err(errstr, errstr_size, "site: '%s' is a public suffix, not a site",
            quote(q, sizeof(q), h, hn));
    return GB_EINVAL;
  }
  /* "www." goes only if the registrable domain lies beyond it: then the
   * rest of the host has the same one ("www.com" keeps its "www."). */
  if (hn > 4 && memcmp(h, "www.", 4) == 0 && dom >= h + 4) h += 4, hn -= 4;
  memcpy(out->host, h, hn + 1);
  memcpy(out->domain, dom, strlen(dom) + 1);
  return 0;
}

/* ---- URL ----------------------------------------------------------------- */

static int is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

static int is_slash(unsigned char c) { return c == '/' || c == '\\'; }

/* Where the authority ends, as in a browser: '\' counts as '/'. */
static int ends_authority(unsigned char c) {
  return c == '/' || c == '\\' || c == '?' || c == '#';
}

/* Schemes that always have a host, even when written "http:example.com". */
static int is_special_scheme(const unsigned char *s, size_t n) {
  static const char *const special[] = {"http", "https", "ws", "wss", "ftp"};
  size_t i, j;
  for (i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
    if (strlen(special[i]) != n) continue;
    for (j = 0; j < n && (s[j] | 0x20) == special[i][j]; j++) {
    }
    if (j == n) return 1;
  }
  return 0;
}

/* Finds where the authority starts. Returns 0 and sets *start, or GB_EINVAL
 * for a URL that has no authority at all (mailto:, javascript:). */
static int find_authority(size_t *start, const unsigned char *s, size_t len, char *errstr,
                          size_t errstr_size) {
  char q[QUOTE_MAX + 8];
  size_t i = 0, r;
  int dot = 0, port_like = 1;

  if (len >= 2 && is_slash(s[0]) && is_slash(s[1])) {
    *start = 2;
    return 0;
  }
  *start = 0;
  if (!is_alpha(s[0])) return 0;
  for (i = 1; i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' ||
                          s[i] == '-' || s[i] == '.');
       i++)
    dot |= s[i] == '.';
  if (i == len || s[i] != ':') return 0;
  r = i + 1;
  if (len - r >= 2 && is_slash(s[r]) && is_slash(s[r + 1])) {
    *start = r + 2;
    return 0;
  }
  if (is_special_scheme(s, i)) {
    *start = r + (r < len && is_slash(s[r]));
    return 0;
  }
  /* Not followed by "//": "example.com:8080" and "localhost:3000" are a
   * host and port; "mailto:a@b.com" is a URL without a host. */
  for (; r < len && !ends_authority(s[r]); r++) port_like &= is_digit(s[r]);
  if (dot || port_like) return 0;
  set_err(errstr, errstr_size, "site: '%s:' URL has no host", quote(q, sizeof(q), s, i));
  return GB_EINVAL;
}

static int check_port(const unsigned char *p, size_t n, char *errstr, size_t errstr_size) {
  char q[QUOTE_MAX + 8];
  uint32_t v = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    if (!is_digit(p[i])) {
      set_err(errstr, errstr_size, "site: port '%s' is not a number",
              quote(q, sizeof(q), p, n));
      return GB_EINVAL;
    }
    if (v <= 65535) v = v * 10 + (p[i] - '0');
  }
  if (v > 65535) {
    set_err(errstr, errstr_size, "site: port %s out of range (at most 65535)",
            quote(q, sizeof(q), p, n));
    return GB_EINVAL;
  }
  return 0;
}

/* A whole input such as "2001:db8::1" is an IPv6 address without brackets;
 * nothing else can look like one. */
static int is_bare_ipv6(gb_site_t *out, const unsigned char *s, size_t len) {
  size_t i, colons = 0;
  if (len >= INET6_ADDRSTRLEN) return 0;
  for (i = 0; i < len; i++) {
    if (s[i] == ':') colons++;
    else if (hex_value(s[i]) < 0 && s[i] != '.') return 0;
  }
  return colons >= 2 && ipv6_canonical(out->host, sizeof(out->host), s, len) == 0;
}

/* Fills out on success, zero-padded so that callers copying or hashing the
 * whole arrays see no stale bytes. */
static int emit(gb_site_t *out, const char *host, const char *domain) {
  size_t hn = strlen(host), dn = strlen(domain);
  memcpy(out->host, host, hn);
  memset(out->host + hn, 0, sizeof(out->host) - hn);
  memcpy(out->domain, domain, dn);
  memset(out->domain + dn, 0, sizeof(out->domain) - dn);
  return 0;
}

int gb_site_normalize(gb_site_t *out, const char *in, size_t len, char *errstr,
                      size_t errstr_size) {
  const unsigned char *s = (const unsigned char *)in;
  char q[QUOTE_MAX + 8];
  gb_site_t site;
  size_t a, ae, h, he, i;
  int err;

  if (errstr && errstr_size) errstr[0] = '\0';
  if (!out || (!in && len)) {
    set_err(errstr, errstr_size, "site: NULL %s", out ? "input" : "output");
    return GB_EINVAL;
  }
  trim(&s, &len);
  if (len == 0) {
    set_err(errstr, errstr_size, "site: empty");
    return GB_EINVAL;
  }
  if (is_bare_ipv6(&site, s, len)) {
    return emit(out, site.host, site.host);
  }
  if ((err = find_authority(&a, s, len, errstr, errstr_size)) != 0) return err;
  for (ae = a; ae < len && !ends_authority(s[ae]); ae++) {
  }
  /* The last '@' ends the user info: "https://evil.com@good.com/" is good.com. */
  for (h = ae; h > a && s[h - 1] != '@'; h--) {
  }

  if (h < ae && s[h] == '[') {
    for (he = h + 1; he < ae && s[he] != ']'; he++) {
    }
    if (he == ae) {
      set_err(errstr, errstr_size, "site: no ']' after '[' in '%s'",
              quote(q, sizeof(q), s, len));
      return GB_EINVAL;
    }
    i = he + 1;
    if (i < ae && s[i] != ':') {
      set_err(errstr, errstr_size, "site: unexpected '%c' after ']' in '%s'", s[i],
              quote(q, sizeof(q), s, len));
      return GB_EINVAL;
    }
    if (i < ae && check_port(s + i + 1, ae - i - 1, errstr, errstr_size) != 0)
      return GB_EINVAL;
    if (ipv6_canonical(site.host, sizeof(site.host), s + h + 1, he - h - 1) != 0) {
      set_err(errstr, errstr_size, "site: '%s' is not a valid IPv6 address",
              quote(q, sizeof(q), s + h, he + 1 - h));
      return GB_EINVAL;
    }
    return emit(out, site.host, site.host);
  }

  for (he = h; he < ae && s[he] != ':'; he++) {
  }
  if (he == h) {
    set_err(errstr, errstr_size, "site: no host in '%s'", quote(q, sizeof(q), s, len));
    return GB_EINVAL;
  }
  if (he < ae && check_port(s + he + 1, ae - he - 1, errstr, errstr_size) != 0)
    return GB_EINVAL;
  if ((err = host_normalize(&site, s + h, he - h, (const char *)s, len, errstr,
                            errstr_size)) != 0)
    return err;
  return emit(out, site.host, site.domain);
}

/* ---- App ----------------------------------------------------------------- */

int gb_app_normalize(char *out, size_t out_size, const char *in, size_t len, char *errstr,
                     size_t errstr_size) {
  const unsigned char *s = (const unsigned char *)in;
  size_t i, k, n;
  uint32_t cp;

  if (errstr && errstr_size) errstr[0] = '\0';
  if (!in && len) {
    set_err(errstr, errstr_size, "app: NULL input with length %zu", len);
    return GB_EINVAL;
  }
  n = len;
  trim(&s, &n);
  if (n == 0) {
    set_err(errstr, errstr_size, "app: empty");
    return GB_EINVAL;
  }
  if (n > GB_APP_MAX - 1) {
    set_err(errstr, errstr_size, "app: %zu bytes, at most %d", n, GB_APP_MAX - 1);
    return GB_EINVAL;
  }
  for (i = 0; i < n; i += k) {
    size_t at = (size_t)(s - (const unsigned char *)in) + i;
    k = 1;
    if (s[i] < 0x20 || s[i] == 0x7F) {
      set_err(errstr, errstr_size, "app: control character 0x%02X at byte %zu", s[i], at);
      return GB_EINVAL;
    }
    if (s[i] < 0x80) continue;
    k = gb_utf8_decode(s + i, n - i, &cp);
    if (k == 0) {
      set_err(errstr, errstr_size, "app: invalid UTF-8 byte 0x%02X at byte %zu", s[i], at);
      return GB_EINVAL;
    }
    if (cp <= 0x9F) {
      set_err(errstr, errstr_size, "app: control character U+%04X at byte %zu",
              (unsigned)cp, at);
      return GB_EINVAL;
    }
  }
  if (!out || out_size < n + 1) {
    set_err(errstr, errstr_size, "app: output buffer of %zu bytes is too small, need %zu",
            out ? out_size : 0, n + 1);
    return GB_EINVAL;
  }
  memcpy(out, s, n);
  out[n] = '\0';
  return 0;
}
