/* Site and app normalisation, shared by ingest (visit records) and the
 * fraud-intelligence index (domain and app indicators), so that a listing
 * for example-fraud.com matches a visit to https://pay.Example-Fraud.com:8443/x?y.
 * Thread-safe: the public suffix list is loaded once, on first use, and kept
 * for the life of the process. */
#ifndef GB_SITE_H
#define GB_SITE_H

#include <stddef.h>

#define GB_HOST_MAX 254 /* 253 characters of a DNS name, plus NUL */
#define GB_APP_MAX 256

typedef struct {
  /* The host as ASCII (IDN labels in punycode), lower-cased, without port,
   * path, query, user info, trailing dot or a leading "www.". An IPv4
   * address in dotted decimal; an IPv6 address without brackets, in the
   * compressed lower-case form ("2001:db8::1"). */
  char host[GB_HOST_MAX];
  /* The registrable domain of host by the public suffix list, private
   * suffixes included ("example-fraud.com" for "pay.example-fraud.com",
   * "example.com.cn" for "a.b.example.com.cn", "x.github.io" for
   * "x.github.io"); for a TLD the list does not know, the last two labels;
   * for an IP address, the address itself. */
  char domain[GB_HOST_MAX];
} gb_site_t;

/**
 * Normalises a URL or a bare host (len bytes, UTF-8, need not be
 * NUL-terminated) to the host a browser would connect to.
 *
 * Accepted: white space (ASCII and Unicode) around the input; any scheme
 * followed by "//", or none, or "//host"; "http:host" and "http:/host" for
 * the schemes browsers treat specially (http, https, ws, wss, ftp); '\'
 * wherever '/' may appear; user info, up to the last '@'; a port of at most
 * 65535, possibly empty ("example.com:"); anything after the authority
 * (path, query, fragment) is ignored, whatever its bytes.
 *
 * The host is percent-decoded as browsers do ("good.com%2eevil.com" is
 * good.com.evil.com); the full stops U+3002, U+FF0E and U+FF61 separate
 * labels; non-ASCII labels go through UTS #46 (non-transitional, then
 * transitional) to punycode; existing "xn--" labels must decode and
 * re-encode to themselves. Labels are 1-63 of [a-z0-9-_], hyphens allowed
 * at either end (browsers resolve such hosts); the host is at most 253
 * characters. One trailing dot is dropped. A host whose last label is a
 * number is an IPv4 address, read the WHATWG way ("0xC0.0250.1.10",
 * "3232235786") and written in dotted decimal, or rejected. One leading
 * "www." is dropped when what remains still has a registrable domain
 * ("www.com" stays www.com).
 *
 * Rejected: empty; no host ("https:///x", "file:///x"); a scheme without
 * "//" and no host ("mailto:a@b.com", "javascript:alert(1)"); other
 * characters in the host (space, '*', '%' left after decoding, control
 * bytes, invalid UTF-8); a single label ("localhost"); a public suffix
 * ("com.cn", "github.io").
 *
 * out is written only on success, both strings zero-padded to GB_HOST_MAX;
 * errstr is set to "" on success.
 * @returns 0 and fills out; GB_EINVAL with the reason in errstr
 *          ("site: no host in 'https:///x'", "site: 'xn--zz' is not valid
 *          punycode"); GB_EIO if libpsl has no public suffix list at all.
 */
int gb_site_normalize(gb_site_t *out, const char *in, size_t len, char *errstr,
                      size_t errstr_size);

/**
 * Normalises an app package id ("com.example.loan", an Android package or
 * an iOS bundle id): ASCII and Unicode white space at both ends trimmed
 * (with U+200B and the byte-order mark), otherwise kept byte for byte
 * (package ids are case-sensitive).
 * @returns 0 and a NUL-terminated id in out, or GB_EINVAL (empty, more than
 *          GB_APP_MAX - 1 bytes after trimming, C0 or C1 control
 *          characters, invalid UTF-8, out too small) with the reason in
 *          errstr.
 */
int gb_app_normalize(char *out, size_t out_size, const char *in, size_t len, char *errstr,
                     size_t errstr_size);

#endif
