/* Unit tests for gb_site_normalize and gb_app_normalize: real-world shapes
 * from partner visit records and fraud listings, each fed as an exact-size
 * heap copy without a NUL so that ASan catches any read past len. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "gb/err.h"
#include "gb/site.h"

#define ROWS(t) (t), sizeof(t) / sizeof((t)[0])
/* A literal with an embedded NUL, and its length. */
#define NUL_IN(s) s, sizeof(s) - 1

typedef struct {
  const char *in;
  size_t len;         /* 0: strlen(in) */
  const char *host;   /* NULL: the input is rejected */
  const char *domain; /* if valid: the registrable domain; else a substring of errstr */
} site_row_t;

typedef struct {
  const char *in;
  size_t len;      /* 0: strlen(in) */
  int ok;
  const char *want; /* if ok: the output; else a substring of errstr */
} app_row_t;

static int site_exact(gb_site_t *out, const char *in, size_t len, char *err, size_t err_size) {
  char *copy = malloc(len ? len : 1);
  int rc;
  assert_non_null(copy);
  memcpy(copy, in, len);
  rc = gb_site_normalize(out, copy, len, err, err_size);
  free(copy);
  return rc;
}

static int app_exact(char *out, size_t out_size, const char *in, size_t len, char *err,
                     size_t err_size) {
  char *copy = malloc(len ? len : 1);
  int rc;
  assert_non_null(copy);
  memcpy(copy, in, len);
  rc = gb_app_normalize(out, out_size, copy, len, err, err_size);
  free(copy);
  return rc;
}

/* Checks one row; returns 1 on failure after printing why. */
static int site_check(size_t i, const site_row_t *r) {
  size_t len = r->len ? r->len : strlen(r->in);
  gb_site_t out, again;
  char err[256];
  int rc;
  memset(&out, 'Z', sizeof(out));
  memset(err, 'Z', sizeof(err));
  rc = site_exact(&out, r->in, len, err, sizeof(err));
  if (memchr(err, '\0', sizeof(err)) == NULL) {
    print_error("row %zu \"%s\": errstr not terminated\n", i, r->in);
    return 1;
  }
  if (r->host == NULL) {
    if (rc != GB_EINVAL || strstr(err, r->domain) == NULL || strncmp(err, "site: ", 6) != 0 ||
        out.host[0] != 'Z') {
      print_error("row %zu \"%s\": rc %d err \"%s\", want it to contain \"%s\"%s\n", i, r->in,
                  rc, err, r->domain, out.host[0] != 'Z' ? " (out was written)" : "");
      return 1;
    }
    return 0;
  }
  if (rc != 0 || err[0] != '\0' || strcmp(out.host, r->host) != 0 ||
      strcmp(out.domain, r->domain) != 0) {
    print_error("row %zu \"%s\": rc %d err \"%s\" host \"%.*s\" domain \"%.*s\", "
                "want \"%s\" \"%s\"\n",
                i, r->in, rc, err, GB_HOST_MAX, out.host, GB_HOST_MAX, out.domain, r->host,
                r->domain);
    return 1;
  }
  /* The output is a fixed point, so that an index built from normalised
   * hosts and domains finds them again; except that only one "www." goes,
   * so "www.www.example.com" gives www.example.com and then example.com. */
  rc = site_exact(&again, out.host, strlen(out.host), err, sizeof(err));
  if (rc != 0 || (strncmp(out.host, "www.", 4) != 0 && strcmp(again.host, out.host) != 0) ||
      strcmp(again.domain, out.domain) != 0) {
    print_error("row %zu \"%s\": host \"%s\" does not normalise to itself (%s)\n", i, r->in,
                out.host, err);
    return 1;
  }
  rc = site_exact(&again, out.domain, strlen(out.domain), err, sizeof(err));
  if (rc != 0 || strcmp(again.domain, out.domain) != 0) {
    print_error("row %zu \"%s\": domain \"%s\" does not normalise to itself (%s)\n", i,
                r->in, out.domain, err);
    return 1;
  }
  return 0;
}

static void site_rows(const site_row_t *rows, size_t n) {
  size_t i, failures = 0;
  for (i = 0; i < n; i++) failures += (size_t)site_check(i, &rows[i]);
  assert_int_equal(failures, 0);
}

static void app_rows(const app_row_t *rows, size_t n) {
  size_t i, failures = 0;
  for (i = 0; i < n; i++) {
    const app_row_t *r = &rows[i];
    size_t len = r->len ? r->len : strlen(r->in);
    char out[GB_APP_MAX], err[256];
    int rc;
    memset(out, 'Z', sizeof(out));
    memset(err, 'Z', sizeof(err));
    rc = app_exact(out, sizeof(out), r->in, len, err, sizeof(err));
    if (memchr(err, '\0', sizeof(err)) == NULL) {
      print_error("row %zu: errstr not terminated\n", i);
      failures++;
    } else if (r->ok && (rc != 0 || err[0] != '\0' || strcmp(out, r->want) != 0)) {
      print_error("row %zu \"%s\": rc %d err \"%s\" out \"%.*s\", want \"%s\"\n", i, r->in, rc,
                  err, GB_APP_MAX, out, r->want);
      failures++;
    } else if (!r->ok && (rc != GB_EINVAL || strstr(err, r->want) == NULL ||
                          strncmp(err, "app: ", 5) != 0 || out[0] != 'Z')) {
      print_error("row %zu: rc %d err \"%s\", want it to contain \"%s\"%s\n", i, rc, err,
                  r->want, out[0] != 'Z' ? " (out was written)" : "");
      failures++;
    }
  }
  assert_int_equal(failures, 0);
}

/* ---- Sites ---------------------------------------------------------------- */

static const site_row_t site_urls[] = {
    {"https://pay.Example-Fraud.com:8443/x?y", 0, "pay.example-fraud.com", "example-fraud.com"},
    {"pay.example-fraud.com", 0, "pay.example-fraud.com", "example-fraud.com"},
    {"PAY.EXAMPLE-FRAUD.COM.", 0, "pay.example-fraud.com", "example-fraud.com"},
    {"www.example-fraud.com", 0, "example-fraud.com", "example-fraud.com"},
    {"http://user:pw@www.example-fraud.com/login", 0, "example-fraud.com", "example-fraud.com"},
    {"example-fraud.com/path#frag", 0, "example-fraud.com", "example-fraud.com"},
    {"//cdn.example-fraud.com", 0, "cdn.example-fraud.com", "example-fraud.com"},
    {"https://a.b.example.com.cn", 0, "a.b.example.com.cn", "example.com.cn"},
    {"https://shop.example.co.uk", 0, "shop.example.co.uk", "example.co.uk"},
    {"https://x.github.io", 0, "x.github.io", "x.github.io"},
    {"https://a.b.x.github.io/repo", 0, "a.b.x.github.io", "x.github.io"},
    {" https://example.com  ", 0, "example.com", "example.com"},
    {"\t\r\nhttps://example.com/\r\n", 0, "example.com", "example.com"},
    {"\xe3\x80\x80https://example.com\xe3\x80\x80", 0, "example.com", "example.com"},
    {"\xef\xbb\xbfhttps://example.com\xc2\xa0", 0, "example.com", "example.com"},
    {"https://example.com\\path", 0, "example.com", "example.com"},
    {"https:\\\\example.com\\x", 0, "example.com", "example.com"},
    {"HTTPS://EXAMPLE.COM:443", 0, "example.com", "example.com"},
    {"ftp://files.example.org", 0, "files.example.org", "example.org"},
    {"svn+ssh://repo.example.org/trunk", 0, "repo.example.org", "example.org"},
    {"example.com:", 0, "example.com", "example.com"},
    {"example.com:8080/x", 0, "example.com", "example.com"},
    {"http://example.com:/x", 0, "example.com", "example.com"},
    {"https://example.com:0443", 0, "example.com", "example.com"},
    {"https://example.com:65535", 0, "example.com", "example.com"},
    {"https://example.com?q=1", 0, "example.com", "example.com"},
    {"https://example.com#top", 0, "example.com", "example.com"},
    {"http:example.com/x", 0, "example.com", "example.com"},
    {"http:/example.com/x", 0, "example.com", "example.com"},
    {"https://evil.com@good.com/", 0, "good.com", "good.com"},
    {"https://a@b@good.com/", 0, "good.com", "good.com"},
    {"https://user@example.com:8443", 0, "example.com", "example.com"},
    {"a@example.com", 0, "example.com", "example.com"},
    {"https://good.com%2eevil.com", 0, "good.com.evil.com", "evil.com"},
    {"https://%65xample.com", 0, "example.com", "example.com"},
    {"https://-bad-.example.com", 0, "-bad-.example.com", "example.com"},
    {"https://a_b.example.com", 0, "a_b.example.com", "example.com"},
    {"http://r3---sn-abc.googlevideo.com/videoplayback", 0, "r3---sn-abc.googlevideo.com",
     "googlevideo.com"},
    {"www.com", 0, "www.com", "www.com"},
    {"https://www.com.cn", 0, "www.com.cn", "www.com.cn"},
    {"https://www.github.io", 0, "www.github.io", "www.github.io"},
    {"https://www.x.github.io", 0, "x.github.io", "x.github.io"},
    {"https://www.www.example.com", 0, "www.example.com", "example.com"},
    {"https://wwwexample.com", 0, "wwwexample.com", "wwwexample.com"},
    {"http://intranet.local/", 0, "intranet.local", "intranet.local"},
    {"http://a.intranet.corp", 0, "a.intranet.corp", "intranet.corp"},
    {"https://a.b.c.example.co.jp/", 0, "a.b.c.example.co.jp", "example.co.jp"},
    {"https://pay.example.com/%zz\xff", 0, "pay.example.com", "example.com"},
    {NUL_IN("https://pay.example.com/a\0b"), "pay.example.com", "example.com"},
    {"https://example.com./", 0, "example.com", "example.com"},
    {"weixin://pay.example.com/x", 0, "pay.example.com", "example.com"},
};

static const site_row_t site_idn[] = {
    {"https://例子.测试/", 0, "xn--fsqu00a.xn--0zwm56d", "xn--fsqu00a.xn--0zwm56d"},
    {"https://中国银行.中国/", 0, "xn--fiqs8s856bruk.xn--fiqs8s", "xn--fiqs8s856bruk.xn--fiqs8s"},
    {"https://www.中国银行.中国/", 0, "xn--fiqs8s856bruk.xn--fiqs8s",
     "xn--fiqs8s856bruk.xn--fiqs8s"},
    {"https://网上银行.中国银行.中国/", 0, "xn--fhq341jdwfrtn.xn--fiqs8s856bruk.xn--fiqs8s",
     "xn--fiqs8s856bruk.xn--fiqs8s"},
    {"http://xn--fiqs8s.xn--fiqz9s/", 0, "xn--fiqs8s.xn--fiqz9s", "xn--fiqs8s.xn--fiqz9s"},
    {"http://XN--FIQS8S856BRUK.XN--FIQS8S/", 0, "xn--fiqs8s856bruk.xn--fiqs8s",
     "xn--fiqs8s856bruk.xn--fiqs8s"},
    {"https://bücher.de", 0, "xn--bcher-kva.de", "xn--bcher-kva.de"},
    {"https://BÜCHER.de", 0, "xn--bcher-kva.de", "xn--bcher-kva.de"},
    {"https://xn--bcher-kva.de/", 0, "xn--bcher-kva.de", "xn--bcher-kva.de"},
    {"https://faß.de", 0, "xn--fa-hia.de", "xn--fa-hia.de"},
    {"https://i❤.ws", 0, "xn--i-7iq.ws", "xn--i-7iq.ws"},
    {"https://xn--i-7iq.ws", 0, "xn--i-7iq.ws", "xn--i-7iq.ws"},
    {"https://xn--80ak6aa92e.com", 0, "xn--80ak6aa92e.com", "xn--80ak6aa92e.com"},
    {"ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ", 0, "example.com", "example.com"},
    {"https://example。com", 0, "example.com", "example.com"},
    {"https://example｡com", 0, "example.com", "example.com"},
    {"https://例子。测试", 0, "xn--fsqu00a.xn--0zwm56d", "xn--fsqu00a.xn--0zwm56d"},
    {"https://%E4%BE%8B%E5%AD%90.com", 0, "xn--fsqu00a.com", "xn--fsqu00a.com"},
    {"https://-bad-.例子.com", 0, "-bad-.xn--fsqu00a.com", "xn--fsqu00a.com"},
    {"https://例子.测试:8080/x", 0, "xn--fsqu00a.xn--0zwm56d", "xn--fsqu00a.xn--0zwm56d"},
    {"https://例子.测试./", 0, "xn--fsqu00a.xn--0zwm56d", "xn--fsqu00a.xn--0zwm56d"},
};

static const site_row_t site_ip[] = {
    {"http://192.168.1.10:8080/admin", 0, "192.168.1.10", "192.168.1.10"},
    {"1.2.3.4", 0, "1.2.3.4", "1.2.3.4"},
    {"http://1.2.3.4./", 0, "1.2.3.4", "1.2.3.4"},
    {"http://0xC0.0250.1.10/", 0, "192.168.1.10", "192.168.1.10"},
    {"http://3232235786/", 0, "192.168.1.10", "192.168.1.10"},
    {"http://127.1/", 0, "127.0.0.1", "127.0.0.1"},
    {"http://010.0.0.1/", 0, "8.0.0.1", "8.0.0.1"},
    {"https://１９２．１６８．１．１/", 0, "192.168.1.1", "192.168.1.1"},
    {"http://[2001:db8::1]:443/", 0, "2001:db8::1", "2001:db8::1"},
    {"http://[2001:DB8:0:0:0:0:0:1]/", 0, "2001:db8::1", "2001:db8::1"},
    {"[2001:db8::1]", 0, "2001:db8::1", "2001:db8::1"},
    {"2001:db8::1", 0, "2001:db8::1", "2001:db8::1"},
    {"http://[::ffff:192.168.1.1]/", 0, "::ffff:192.168.1.1", "::ffff:192.168.1.1"},
};

static char label64[] = "https://"
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                        ".example.com/";

static const site_row_t site_invalid[] = {
    {"", 0, NULL, "site: empty"},
    {"   ", 0, NULL, "site: empty"},
    {"\xe3\x80\x80\t", 0, NULL, "site: empty"},
    {"https://", 0, NULL, "no host in 'https://'"},
    {"https:///x", 0, NULL, "site: no host in 'https:///x'"},
    {"file:///etc/passwd", 0, NULL, "no host"},
    {"http:", 0, NULL, "no host"},
    {"https://:443/", 0, NULL, "no host"},
    {"https://user@/", 0, NULL, "no host"},
    {"https://./", 0, NULL, "no host"},
    {"/just/a/path", 0, NULL, "no host"},
    {"?q=1", 0, NULL, "no host"},
    {"javascript:alert(1)", 0, NULL, "site: 'javascript:' URL has no host"},
    {"mailto:a@b.com", 0, NULL, "site: 'mailto:' URL has no host"},
    {"data:text/html,<script>alert(1)</script>", 0, NULL, "'data:' URL has no host"},
    {"tel:10086", 0, NULL, "single label"},
    {"http://localhost/", 0, NULL, "site: 'localhost' is a single label, not a site"},
    {"localhost:3000", 0, NULL, "'localhost' is a single label"},
    {"https://www/", 0, NULL, "single label"},
    {"http://com.cn/", 0, NULL, "site: 'com.cn' is a public suffix, not a site"},
    {"https://github.io", 0, NULL, "'github.io' is a public suffix"},
    {"https://中国", 0, NULL, "single label"},
    {"https://exa mple.com", 0, NULL, "site: unexpected ' ' in host 'exa mple.com'"},
    {"https://a\tb.com", 0, NULL, "unexpected byte 0x09"},
    {"https://example..com", 0, NULL, "site: empty label in host 'example..com'"},
    {"https://.example.com", 0, NULL, "empty label"},
    {"https://example.com..", 0, NULL, "empty label"},
    {label64, 0, NULL, "site: label longer than 63 characters"},
    {"http://xn--zz/", 0, NULL, "site: 'xn--zz' is not valid punycode"},
    {"http://xn--zz.com/", 0, NULL, "site: 'xn--zz' is not valid punycode"},
    {"http://xn--.com/", 0, NULL, "'xn--' is not valid punycode"},
    {"http://xn--a.com/", 0, NULL, "'xn--a' is not a valid IDN label"},
    {"https://xn--a-ecp.ru", 0, NULL, "'xn--a-ecp' is not a valid IDN label"},
    {"http://example.com:99999/", 0, NULL, "site: port 99999 out of range"},
    {"http://example.com:65536", 0, NULL, "port 65536 out of range"},
    {"http://example.com:99999999999999999999999/", 0, NULL, "out of range"},
    {"https://例子.测试:abc/", 0, NULL, "site: port 'abc' is not a number"},
    {"example.com:abc", 0, NULL, "port 'abc' is not a number"},
    {"https://example.com:-1", 0, NULL, "not a number"},
    {"https://exa\xffmple.com", 0, NULL, "invalid UTF-8 byte 0xFF"},
    {"https://\xe4\xbe.com", 0, NULL, "invalid UTF-8"},
    {"https://\xc0\xae.com", 0, NULL, "invalid UTF-8 byte 0xC0"},
    {NUL_IN("https://example.com\0.evil.com/"), NULL, "unexpected byte 0x00"},
    {NUL_IN("example.com\0"), NULL, "unexpected byte 0x00"},
    {"https://%00example.com", 0, NULL, "unexpected byte 0x00"},
    {"https://good.com%2fevil.com", 0, NULL, "unexpected '/'"},
    {"https://example.com%zz", 0, NULL, "bad percent escape"},
    {"https://example.com%2", 0, NULL, "bad percent escape"},
    {"https://%", 0, NULL, "bad percent escape"},
    {"https://%25.com", 0, NULL, "unexpected '%'"},
    {"http://*.example.com/", 0, NULL, "unexpected '*'"},
    {"http://1.2.3.4.5/", 0, NULL, "'1.2.3.4.5' is not a valid IPv4 address"},
    {"http://256.1.1.1/", 0, NULL, "not a valid IPv4 address"},
    {"http://foo.123/", 0, NULL, "not a valid IPv4 address"},
    {"http://1.2.3.08/", 0, NULL, "not a valid IPv4 address"},
    {"http://4294967296/", 0, NULL, "not a valid IPv4 address"},
    {"http://[2001:db8::g]/", 0, NULL, "'[2001:db8::g]' is not a valid IPv6 address"},
    {"http://[fe80::1%25eth0]/", 0, NULL, "not a valid IPv6 address"},
    {"http://[2001:db8::1/", 0, NULL, "no ']'"},
    {"http://[::1]x/", 0, NULL, "unexpected 'x' after ']'"},
    {"http://[::1]:99999/", 0, NULL, "out of range"},
    {"https://-例子.com", 0, NULL, "is not a valid internationalised label"},
    {"https://例\xe3\x80\x80子.com", 0, NULL, "not a valid internationalised label"},
    {"https://⒈.example.com", 0, NULL, "not a valid internationalised label"},
};

static void test_site__urls(void **state) {
  (void)state;
  site_rows(ROWS(site_urls));
}

static void test_site__idn(void **state) {
  (void)state;
  site_rows(ROWS(site_idn));
}

static void test_site__ip(void **state) {
  (void)state;
  site_rows(ROWS(site_ip));
}

static void test_site__invalid(void **state) {
  (void)state;
  site_rows(ROWS(site_invalid));
}

/* Builds "https://<labels of 63 and 'rest' characters>.com/" so that the
 * host is exactly host_len characters. */
static void long_host(char *buf, size_t host_len) {
  size_t n = 0, o;
  o = (size_t)sprintf(buf, "https://");
  while (n + 4 < host_len) {
    size_t k = host_len - 4 - n - (n > 0);
    if (k > 63) k = 63;
    if (n > 0) buf[o++] = '.', n++;
    memset(buf + o, 'a' + (char)(n % 26), k);
    o += k, n += k;
  }
  o += (size_t)sprintf(buf + o, ".com/");
  buf[o] = '\0';
}

static void test_site__length_limits(void **state) {
  char url[600], raw[6000];
  gb_site_t out;
  char err[256];
  (void)state;

  long_host(url, 253);
  assert_int_equal(site_exact(&out, url, strlen(url), err, sizeof(err)), 0);
  assert_int_equal(strlen(out.host), 253);
  assert_int_equal(site_exact(&out, url, strlen(url) - 1, err, sizeof(err)), 0);

  long_host(url, 254);
  assert_int_equal(site_exact(&out, url, strlen(url), err, sizeof(err)), GB_EINVAL);
  assert_non_null(strstr(err, "site: host longer than 253 characters"));

  memcpy(url, "https://", 8);
  memset(url + 8, 'a', 63);
  memcpy(url + 71, ".com", 5);
  assert_int_equal(site_exact(&out, url, strlen(url), err, sizeof(err)), 0);
  assert_int_equal(strlen(out.host), 67);

  memcpy(raw, "https://", 8);
  memset(raw + 8, 'a', 5000);
  memcpy(raw + 5008, ".com", 5);
  assert_int_equal(site_exact(&out, raw, strlen(raw), err, sizeof(err)), GB_EINVAL);
  assert_non_null(strstr(err, "longer than 253 characters"));

  /* A long path or query does not matter. */
  memcpy(raw, "https://example.com/", 20);
  memset(raw + 20, 'q', 5000);
  raw[5020] = '\0';
  assert_int_equal(site_exact(&out, raw, strlen(raw), err, sizeof(err)), 0);
  assert_string_equal(out.host, "example.com");

  /* Error messages quote at most a prefix of a long input. */
  memcpy(raw, "https:///", 9);
  memset(raw + 9, 'x', 3000);
  raw[3009] = '\0';
  assert_int_equal(site_exact(&out, raw, strlen(raw), err, sizeof(err)), GB_EINVAL);
  assert_true(strlen(err) < 120);
  assert_non_null(strstr(err, "...'"));
}

static void test_site__errstr_contract(void **state) {
  gb_site_t out;
  char small[8];
  (void)state;
  assert_int_equal(gb_site_normalize(&out, "", 0, NULL, 0), GB_EINVAL);
  assert_int_equal(gb_site_normalize(&out, "http://localhost", 16, NULL, 0), GB_EINVAL);
  assert_int_equal(gb_site_normalize(&out, NULL, 0, small, sizeof(small)), GB_EINVAL);
  assert_string_equal(small, "site: e");
  assert_int_equal(gb_site_normalize(&out, NULL, 3, small, sizeof(small)), GB_EINVAL);
  assert_int_equal(gb_site_normalize(NULL, "a.com", 5, small, sizeof(small)), GB_EINVAL);
  assert_int_equal(gb_site_normalize(&out, "a.com", 5, NULL, 0), 0);
  assert_string_equal(out.domain, "a.com");
  small[0] = 'x';
  assert_int_equal(gb_site_normalize(&out, "a.com", 5, small, sizeof(small)), 0);
  assert_string_equal(small, "");
}

static void test_site__output_zero_padded(void **state) {
  static const char *const inputs[] = {"https://pay.example.com/", "http://10.0.0.1/",
                                       "[2001:db8::1]", "2001:db8::1"};
  gb_site_t out;
  char err[128];
  size_t i, j, n;
  (void)state;
  for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
    memset(&out, 'Z', sizeof(out));
    assert_int_equal(site_exact(&out, inputs[i], strlen(inputs[i]), err, sizeof(err)), 0);
    for (n = strlen(out.host), j = n; j < sizeof(out.host); j++) assert_int_equal(out.host[j], 0);
    for (n = strlen(out.domain), j = n; j < sizeof(out.domain); j++)
      assert_int_equal(out.domain[j], 0);
  }
}

/* Inputs built from URL-ish pieces: nothing crashes or reads past len, every
 * rejection says why, and every accepted host is a fixed point. */
static void test_site__random_inputs(void **state) {
  static const char *const pieces[] = {
      "https://", "http:", "//", "/", "\\", "@", ":", ":80", ".", "..", "com", "cn",
      "example", "www.", "xn--", "xn--fiqs8s", "%2e", "%", "%e4%b8%ad", "中国", "例子",
      "。", "．", "[", "]", "::1", "1", "0x", "255", "?", "#", " ", "\t", "\xff", "-",
      "_", "github.io", "a",
  };
  char buf[128], err[256];
  gb_site_t out, again;
  unsigned seed = 12345;
  int i, j, k, n;
  (void)state;
  for (i = 0; i < 20000; i++) {
    size_t len = 0;
    n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 8;
    for (j = 0; j < n; j++) {
      const char *p;
      seed = seed * 1103515245u + 12345u;
      p = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
      k = (int)strlen(p);
      if (len + (size_t)k > sizeof(buf)) break;
      memcpy(buf + len, p, (size_t)k);
      len += (size_t)k;
    }
    if (site_exact(&out, buf, len, err, sizeof(err)) != 0) {
      assert_true(strncmp(err, "site: ", 6) == 0);
      continue;
    }
    assert_true(strlen(out.host) > 0 && strlen(out.host) < GB_HOST_MAX);
    assert_true(strspn(out.host, "abcdefghijklmnopqrstuvwxyz0123456789-_.:") ==
                strlen(out.host));
    assert_int_equal(site_exact(&again, out.host, strlen(out.host), err, sizeof(err)), 0);
    if (strncmp(out.host, "www.", 4) != 0) assert_string_equal(again.host, out.host);
    assert_string_equal(again.domain, out.domain);
  }
}

/* Several threads normalise at once from the first call, so they race into
 * the one-time load of the public suffix list. Runs first. */
static void *site_thread(void *arg) {
  const site_row_t *rows[] = {site_urls, site_idn, site_ip};
  const size_t counts[] = {sizeof(site_urls) / sizeof(site_urls[0]),
                           sizeof(site_idn) / sizeof(site_idn[0]),
                           sizeof(site_ip) / sizeof(site_ip[0])};
  size_t t, i, bad = 0;
  int round;
  (void)arg;
  for (round = 0; round < 20; round++) {
    for (t = 0; t < 3; t++) {
      for (i = 0; i < counts[t]; i++) {
        const site_row_t *r = &rows[t][i];
        gb_site_t out;
        char err[256];
        size_t len = r->len ? r->len : strlen(r->in);
        if (gb_site_normalize(&out, r->in, len, err, sizeof(err)) != 0 ||
            strcmp(out.host, r->host) != 0 || strcmp(out.domain, r->domain) != 0)
          bad++;
      }
    }
  }
  return (void *)(uintptr_t)bad;
}

static void test_site__concurrent_first_use(void **state) {
  pthread_t th[8];
  size_t i;
  void *bad;
  (void)state;
  for (i = 0; i < 8; i++) assert_int_equal(pthread_create(&th[i], NULL, site_thread, NULL), 0);
  for (i = 0; i < 8; i++) {
    assert_int_equal(pthread_join(th[i], &bad), 0);
    assert_int_equal((uintptr_t)bad, 0);
  }
}

/* ---- Apps ----------------------------------------------------------------- */

static char app255[256], app256[257], app257[258], app255_padded[300];

static void make_long_apps(void) {
  memset(app255, 'a', 255);
  memcpy(app255, "com.", 4);
  memset(app256, 'a', 256);
  memcpy(app256, "com.", 4);
  memset(app257, 'a', 257);
  memcpy(app257, "com.", 4);
  memset(app255_padded, ' ', 299);
  memcpy(app255_padded + 20, app255, 255);
}

static const app_row_t app_valid[] = {
    {"com.example.loan", 0, 1, "com.example.loan"},
    {"  com.example.loan\n", 0, 1, "com.example.loan"},
    {"com.Example.Loan", 0, 1, "com.Example.Loan"},
    {"com.apple.mobilesafari", 0, 1, "com.apple.mobilesafari"},
    {"cn.gov.pbc.dcep", 0, 1, "cn.gov.pbc.dcep"},
    {"com.tencent.mm", 0, 1, "com.tencent.mm"},
    {"com.eg.android.AlipayGphone", 0, 1, "com.eg.android.AlipayGphone"},
    {"com.ss.android.ugc.aweme", 0, 1, "com.ss.android.ugc.aweme"},
    {"com.example_app.v2", 0, 1, "com.example_app.v2"},
    {"com.example-app.ios", 0, 1, "com.example-app.ios"},
    {"a", 0, 1, "a"},
    {"x.y", 0, 1, "x.y"},
    {"\t\r\ncom.tencent.mm \r\n", 0, 1, "com.tencent.mm"},
    {"\v\fcom.example.loan\v\f", 0, 1, "com.example.loan"},
    {"\xe3\x80\x80" "com.example.loan\xe3\x80\x80", 0, 1, "com.example.loan"},
    {"\xc2\xa0" "com.example.loan\xc2\xa0", 0, 1, "com.example.loan"},
    {"\xef\xbb\xbf" "com.example.loan", 0, 1, "com.example.loan"},
    {"com.example.loan\xe2\x80\x8b", 0, 1, "com.example.loan"},
    {"\xe2\x80\x83" "com.x\xe2\x80\x83", 0, 1, "com.x"},
    {"\xe1\x9a\x80" "com.x", 0, 1, "com.x"},
    {"com.x\xe2\x80\xa8\xe2\x80\xa9", 0, 1, "com.x"},
    {"com.x\xc2\x85", 0, 1, "com.x"},
    {"com.x\xe2\x80\xaf\xe2\x81\x9f", 0, 1, "com.x"},
    {"  \xe3\x80\x80 com.tencent.mm  \xe3\x80\x80", 0, 1, "com.tencent.mm"},
    {"com.example.贷款", 0, 1, "com.example.贷款"},
    {"\xe3\x80\x80" "com.example.贷款\xe3\x80\x80", 0, 1, "com.example.贷款"},
    {"com.example loan", 0, 1, "com.example loan"},
    {"com.x\xe3\x80\x80y", 0, 1, "com.x\xe3\x80\x80y"},
    {"ＣＯＭ.example", 0, 1, "ＣＯＭ.example"},
    {"com.example.loan.", 0, 1, "com.example.loan."},
    {app255, 0, 1, app255},
    {app255_padded, 0, 1, app255},
};

static const app_row_t app_invalid[] = {
    {"", 0, 0, "app: empty"},
    {"   ", 0, 0, "app: empty"},
    {"\n\t", 0, 0, "app: empty"},
    {"\xe3\x80\x80\xe3\x80\x80", 0, 0, "app: empty"},
    {"\xef\xbb\xbf", 0, 0, "app: empty"},
    {app256, 0, 0, "app: 256 bytes, at most 255"},
    {app257, 0, 0, "app: 257 bytes, at most 255"},
    {"com.example\x01loan", 0, 0, "app: control character 0x01 at byte 11"},
    {"com.example\x7floan", 0, 0, "control character 0x7F"},
    {"com.example\xc2\x80loan", 0, 0, "control character U+0080 at byte 11"},
    {"com.example\xc2\x9floan", 0, 0, "control character U+009F"},
    {NUL_IN("com\0.example"), 0, "control character 0x00 at byte 3"},
    {NUL_IN("com.example.loan\0"), 0, "control character 0x00 at byte 16"},
    {NUL_IN("\0com.example.loan"), 0, "control character 0x00 at byte 0"},
    {"com.example\tloan", 0, 0, "control character 0x09"},
    {"com.example\nloan", 0, 0, "control character 0x0A"},
    {"\x1b[31mcom.x", 0, 0, "control character 0x1B"},
    {"  com.example\xff", 0, 0, "app: invalid UTF-8 byte 0xFF at byte 13"},
    {"\xc0\xaf" "com", 0, 0, "invalid UTF-8 byte 0xC0"},
    {"com.\xed\xa0\x80x", 0, 0, "invalid UTF-8 byte 0xED"},
    {"com.\xe4\xbd", 0, 0, "invalid UTF-8 byte 0xE4"},
    {"com.\xf4\x90\x80\x80", 0, 0, "invalid UTF-8 byte 0xF4"},
    {"com.\x80x", 0, 0, "invalid UTF-8 byte 0x80"},
    {"\xe3\x80", 0, 0, "invalid UTF-8"},
};

static void test_site__app_valid(void **state) {
  (void)state;
  app_rows(ROWS(app_valid));
}

static void test_site__app_invalid(void **state) {
  (void)state;
  app_rows(ROWS(app_invalid));
}

static void test_site__app_contract(void **state) {
  char out[8], err[128];
  (void)state;
  assert_int_equal(gb_app_normalize(out, sizeof(out), "com.x", 5, NULL, 0), 0);
  assert_string_equal(out, "com.x");
  out[0] = 'Z';
  assert_int_equal(gb_app_normalize(out, sizeof(out), "com.example", 11, err, sizeof(err)),
                   GB_EINVAL);
  assert_non_null(strstr(err, "output buffer of 8 bytes is too small, need 12"));
  assert_int_equal(out[0], 'Z');
  assert_int_equal(gb_app_normalize(NULL, 0, "com.x", 5, err, sizeof(err)), GB_EINVAL);
  assert_int_equal(gb_app_normalize(out, sizeof(out), NULL, 0, err, sizeof(err)), GB_EINVAL);
  assert_string_equal(err, "app: empty");
  assert_int_equal(gb_app_normalize(out, sizeof(out), NULL, 4, err, sizeof(err)), GB_EINVAL);
  assert_int_equal(gb_app_normalize(out, sizeof(out), " com.x ", 7, err, sizeof(err)), 0);
  assert_string_equal(err, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_site__concurrent_first_use),
      cmocka_unit_test(test_site__urls),
      cmocka_unit_test(test_site__idn),
      cmocka_unit_test(test_site__ip),
      cmocka_unit_test(test_site__invalid),
      cmocka_unit_test(test_site__length_limits),
      cmocka_unit_test(test_site__errstr_contract),
      cmocka_unit_test(test_site__output_zero_padded),
      cmocka_unit_test(test_site__random_inputs),
      cmocka_unit_test(test_site__app_valid),
      cmocka_unit_test(test_site__app_invalid),
      cmocka_unit_test(test_site__app_contract),
  };
  make_long_apps();
  return cmocka_run_group_tests(tests, NULL, NULL);
}
