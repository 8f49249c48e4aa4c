/* Site and app normalisation, shared by ingest (visit records) and the
 * fraud-intelligence index (domain and app indicators), so that a listing
 * for example-fraud.com matches a visit to https://pay.Example-Fraud.com:8443/x?y.
 * Thread-safe: the public suffix list is loaded once, on first use. */
#ifndef GB_SITE_H
#define GB_SITE_H

#include <stddef.h>

#define GB_HOST_MAX 254 /* 253 characters of a DNS name, plus NUL */
#define GB_APP_MAX 256

typedef struct {
  /* The host as ASCII (IDN labels in punycode), lower-cased, without port,
   * path, query, user info, trailing dot or a leading "www.". */
  char host[GB_HOST_MAX];
  /* The registrable domain of host by the public suffix list
   * ("example-fraud.com" for "pay.example-fraud.com", "example.com.cn" for
   * "a.b.example.com.cn"); for an IP address, the address itself. */
  char domain[GB_HOST_MAX];
} gb_site_t;

/**
 * Normalises a URL or a bare host (len bytes, UTF-8, need not be
 * NUL-terminated).
 * @returns 0 and fills out, or GB_EINVAL with the reason in errstr
 *          ("site: no host", "site: 'xn--' label is not valid punycode").
 */
int gb_site_normalize(gb_site_t *out, const char *in, size_t len, char *errstr,
                      size_t errstr_size);

/**
 * Normalises an app package id ("com.example.loan"): surrounding white space
 * trimmed, otherwise kept as given (package ids are case-sensitive).
 * @returns 0, or GB_EINVAL (empty, too long, control characters, invalid
 *          UTF-8) with the reason in errstr.
 */
int gb_app_normalize(char *out, size_t out_size, const char *in, size_t len, char *errstr,
                     size_t errstr_size);

#endif
