/* gb_site_normalize and gb_app_normalize (common/src/site.c): the targets
 * of visit records and the values of domain and app indicators, with
 * percent-decoding, IDNA (libidn2), IPv4/IPv6 forms and the public suffix
 * list (libpsl).
 *
 * Input: one selector byte (bit 0: app instead of site; bits 1-2: a small
 * error buffer), then the text. Checks: on success host and domain are
 * NUL-terminated, zero-padded, at most 253 characters of [a-z0-9._-] (or an
 * IPv6 address), the domain is the host or a suffix of it at a label
 * boundary, and normalising the host again gives the same registrable
 * domain and a host that is the same or one "www." shorter; on failure the
 * output is untouched and errstr says why; an app id is trimmed, at most
 * GB_APP_MAX - 1 bytes, without control characters, and normalises to
 * itself. */
#include <string.h>

#include "fuzz.h"
#include "gb/err.h"
#include "gb/site.h"

static int host_chars(const char *h) {
  for (const char *p = h; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
          *p == '.' || *p == ':'))
      return 0;
  return 1;
}

static void check_padded(const char *s, size_t size) {
  size_t n = strnlen(s, size);
  FUZZ_CHECK(n < size, "not terminated");
  for (size_t i = n; i < size; i++) FUZZ_CHECK(s[i] == '\0', "not zero-padded at %zu", i);
}

static void check_site(const gb_site_t *s) {
  check_padded(s->host, sizeof(s->host));
  check_padded(s->domain, sizeof(s->domain));
  size_t hn = strlen(s->host), dn = strlen(s->domain);
  FUZZ_CHECK(hn > 0 && hn <= 253 && dn > 0 && dn <= hn, "host '%s' domain '%s'", s->host,
             s->domain);
  FUZZ_CHECK(host_chars(s->host), "host '%s'", s->host);
  FUZZ_CHECK(strcmp(s->host + hn - dn, s->domain) == 0 && (dn == hn || s->host[hn - dn - 1] == '.'),
             "domain '%s' is not a suffix of host '%s'", s->domain, s->host);
  FUZZ_CHECK(s->host[hn - 1] != '.', "trailing dot in '%s'", s->host);
}

static void site(const uint8_t *data, size_t size, size_t err_size) {
  gb_site_t out, again;
  char *err = malloc(err_size);
  if (!err) abort();
  memset(&out, 'Z', sizeof(out));
  int rc = gb_site_normalize(&out, (const char *)data, size, err, err_size);
  FUZZ_CHECK(fuzz_terminated(err, err_size), "errstr not terminated");
  FUZZ_CHECK(rc == 0 || rc == GB_EINVAL, "rc %d: %s", rc, err);
  if (rc != 0) {
    FUZZ_CHECK(err_size < 2 || err[0], "failed without a reason");
    for (size_t i = 0; i < sizeof(out); i++)
      FUZZ_CHECK(((const char *)&out)[i] == 'Z', "out written on failure");
    free(err);
    return;
  }
  FUZZ_CHECK(err[0] == '\0', "errstr '%s' on success", err);
  check_site(&out);
  char e2[256];
  rc = gb_site_normalize(&again, out.host, strlen(out.host), e2, sizeof(e2));
  FUZZ_CHECK(rc == 0, "host '%s' of '%.*s' does not normalise: %s", out.host, (int)size,
             (const char *)data, e2);
  FUZZ_CHECK(strcmp(again.domain, out.domain) == 0, "'%s': domain '%s', then '%s'", out.host,
             out.domain, again.domain);
  FUZZ_CHECK(strcmp(again.host, out.host) == 0 ||
                 (strncmp(out.host, "www.", 4) == 0 && strcmp(again.host, out.host + 4) == 0),
             "host '%s' normalises to '%s'", out.host, again.host);
  free(err);
}

static void app(const uint8_t *data, size_t size, size_t err_size) {
  char out[GB_APP_MAX], again[GB_APP_MAX], e2[200];
  char *err = malloc(err_size);
  if (!err) abort();
  int rc = gb_app_normalize(out, sizeof(out), (const char *)data, size, err, err_size);
  FUZZ_CHECK(fuzz_terminated(err, err_size), "errstr not terminated");
  if (rc == 0) {
    size_t n = strlen(out);
    FUZZ_CHECK(n > 0 && n < GB_APP_MAX, "app id of %zu bytes", n);
    for (size_t i = 0; i < n; i++)
      FUZZ_CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7F, "control byte in app id");
    FUZZ_CHECK(gb_app_normalize(again, sizeof(again), out, n, e2, sizeof(e2)) == 0 &&
                   strcmp(again, out) == 0,
               "app id '%s' is not its own normal form", out);
  } else {
    FUZZ_CHECK(rc == GB_EINVAL && (err_size < 2 || err[0]), "rc %d without a reason", rc);
  }
  free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t sel = fuzz_take_byte(&data, &size);
  size_t err_size = (sel & 6) == 6 ? 1u + (sel >> 4) : 256;
  if (sel & 1)
    app(data, size, err_size);
  else
    site(data, size, err_size);
  return 0;
}
