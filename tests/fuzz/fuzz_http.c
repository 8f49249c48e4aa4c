/* HTTP request parsing (common/src/http.c: nodejs' http-parser and our
 * callbacks, limits, URL split, routing and accessors), as notifier's API
 * and every service's admin endpoint parse requests, through
 * gb_http_parse, which runs them over a buffer without a socket.
 *
 * Input: a byte for the header limit, a byte for the body limit, a byte
 * choosing a route pattern of notifier's, then the bytes a client sends
 * (pipelined requests included). Checks: every request parsed or refused
 * with a status a server sends (400, 413, 431) and a reason; a parsed one
 * has a method, a path starting with '/', a body within the limit and
 * NUL-terminated, route parameters that are one non-empty segment each;
 * query parameters decode into buffers of any size without overrunning
 * them; the bytes a request took are within the input, and the next
 * request starts after them. */
#include <string.h>

#include "fuzz.h"
#include "gb/err.h"
#include "gb/http.h"

static const char *const patterns[] = {
    "/v1/alerts/:id/claim", "/v1/alerts/:id",      "/v1/stats/stations/:id",
    "/v1/accounts/:id/binding-code", "/v1/stream", "/:a/:b/:c/:d/:e/:f/:g/:h/:i",
    "/healthz",             "/v1/stations/:id/activate",
};
#define NPATTERNS (sizeof(patterns) / sizeof(patterns[0]))

static void check_query(const gb_http_req_t *req) {
  const char *q = gb_http_req_query(req);
  static const char *const names[] = {"access_token", "limit", "since", "q", "", "a b", "%"};
  FUZZ_CHECK(q != NULL, "no query");
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    static const size_t sizes[] = {1, 2, 8, 200};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      char *buf = malloc(sizes[s]);
      if (!buf) abort();
      const char *v = gb_http_req_query_param(req, names[i], buf, sizes[s]);
      if (v) FUZZ_CHECK(v == buf && fuzz_terminated(buf, sizes[s]), "query value");
      free(buf);
    }
  }
  /* The first parameter's own name, as it is written, finds a value
   * whenever the name holds no escape. */
  size_t n = strcspn(q, "=&");
  if (n > 0 && n < 64 && !memchr(q, '%', n) && !memchr(q, '+', n)) {
    char name[64], buf[4096];
    memcpy(name, q, n);
    name[n] = '\0';
    FUZZ_CHECK(gb_http_req_query_param(req, name, buf, sizeof(buf)) != NULL ||
                   strlen(q) - n >= sizeof(buf) - 1,
               "query '%s': its first parameter '%s' is not found", q, name);
  }
}

static void check_request(const gb_http_req_t *req, const char *pattern, size_t max_body) {
  const char *method = gb_http_req_method(req), *path = gb_http_req_path(req);
  FUZZ_CHECK(method && *method, "no method");
  FUZZ_CHECK(path && path[0] == '/', "path '%s'", path ? path : "(null)");
  FUZZ_CHECK(strcmp(gb_http_req_peer(req), "-") == 0, "peer");
  size_t blen = 99;
  const char *body = gb_http_req_body(req, &blen);
  FUZZ_CHECK(body && blen <= max_body && body[blen] == '\0', "body of %zu bytes, limit %zu",
             blen, max_body);
  static const char *const headers[] = {"Host", "authorization", "Content-Length",
                                        "Last-Event-ID", "Expect", ""};
  for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
    const char *v = gb_http_req_header(req, headers[i]);
    if (v) (void)strlen(v);
  }
  /* ":name" segments of the pattern: each a non-empty segment of the path. */
  for (const char *p = strchr(pattern, ':'); p; p = strchr(p + 1, ':')) {
    char name[32];
    size_t n = strcspn(p + 1, "/");
    snprintf(name, sizeof(name), "%.*s", (int)n, p + 1);
    const char *v = gb_http_req_param(req, name);
    if (v) FUZZ_CHECK(*v && !strchr(v, '/') && strstr(path, v), "param %s = '%s' of '%s'", name,
                      v, path);
  }
  check_query(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t hb = fuzz_take_byte(&data, &size), bb = fuzz_take_byte(&data, &size);
  const char *pattern = patterns[fuzz_take_byte(&data, &size) % NPATTERNS];
  gb_http_conf_t conf;
  memset(&conf, 0, sizeof(conf));
  conf.max_header_bytes = hb ? (size_t)hb * 32 : 0; /* 0: 16 KiB */
  conf.max_body_bytes = bb ? (size_t)bb * 16 : 0;   /* 0: 1 MiB */
  size_t max_body = bb ? (size_t)bb * 16 : 1024 * 1024;
  /* An exact-size copy: http-parser gets no NUL after the bytes. */
  char *buf = malloc(size ? size : 1);
  if (!buf) abort();
  if (size) memcpy(buf, data, size);
  size_t off = 0;
  for (int i = 0; i < 16 && off < size; i++) {
    gb_http_req_t *req = NULL;
    size_t used = 0;
    int status = -1;
    char err[160];
    err[0] = '\0';
    int rc = gb_http_parse(&req, &used, &status, buf + off, size - off, &conf,
                           i & 1 ? NULL : pattern, err, sizeof(err));
    FUZZ_CHECK(fuzz_terminated(err, sizeof(err)), "errstr not terminated");
    if (rc == GB_EAGAIN) {
      FUZZ_CHECK(!req && err[0], "incomplete, yet a request");
      break;
    }
    if (rc != 0) {
      FUZZ_CHECK(rc == GB_EINVAL && !req && err[0] &&
                     (status == 400 || status == 413 || status == 431),
                 "rc %d status %d '%s'", rc, status, err);
      break;
    }
    FUZZ_CHECK(req && used > 0 && used <= size - off, "used %zu of %zu", used, size - off);
    check_request(req, i & 1 ? "" : pattern, max_body);
    gb_http_req_free(req);
    off += used;
  }
  free(buf);
  return 0;
}
