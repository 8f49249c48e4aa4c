/* HTTP/1.1 server and Server-Sent Events on libuv and http-parser; the
 * contract is in gb/http.h.
 *
 * One gb__conn_t per TCP connection, each with a uv_tcp_t and a uv_timer_t
 * (idle timeout, lingering close, or SSE keepalive, depending on state).
 * Bytes read are appended to the connection's input buffer and parsed one
 * request at a time: on_message_complete pauses the parser, the request is
 * dispatched, and parsing resumes only once it has been answered. That keeps
 * pipelined requests in order and lets handlers answer asynchronously.
 *
 * Memory: the server owns its routes and connections; a connection owns its
 * input buffer, the request being parsed and, once streaming, its gb_sse_t
 * and that stream's request. A dispatched request belongs to the handler
 * until gb_http_respond; if its connection closes first the request is
 * orphaned (req->conn = NULL) and gb_http_respond just frees it. Write
 * requests carry their own copy of the bytes and free themselves in the
 * write callback. Nothing is freed before libuv's close callbacks. */
#include "gb/http.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <http_parser.h>

#include "gb/err.h"

#define GB__HTTP_MAX_HEADERS 64
#define GB__HTTP_MAX_PARAMS 8
#define GB__HTTP_READ_BUF 65536
/* How long a closing connection keeps draining the client's bytes after our
 * FIN, so that the kernel does not answer them with a RST that could destroy
 * the error response before the client reads it. */
#define GB__HTTP_LINGER_MS 2000
/* A client that pipelines requests without reading the responses stops
 * being read once this much response data is queued. */
#define GB__HTTP_WQ_HIGH ((size_t)1 << 20)
#define GB__SSE_WQ_LIMIT ((size_t)4 << 20)
#define GB__HTTP_REFUSED_PER_S 10
#define GB__SSE_HEAD                                                           \
  "HTTP/1.1 200 OK\r\n"                                                        \
  "Content-Type: text/event-stream\r\n"                                        \
  "Cache-Control: no-cache\r\n"                                                \
  "Connection: keep-alive\r\n"                                                 \
  "X-Accel-Buffering: no\r\n\r\n"
#define GB__SSE_KEEPALIVE ": keepalive\n\n"

typedef struct gb__conn gb__conn_t;

typedef enum {
  GB__CONN_READING,  /* parsing requests; idle timer armed */
  GB__CONN_HANDLING, /* a request is with its handler; parsing paused */
  GB__CONN_SSE,      /* an event stream; input is read and dropped */
  GB__CONN_LINGER,   /* last response queued, then FIN; draining input */
  GB__CONN_CLOSING   /* uv_close called; freed in the close callbacks */
} gb__conn_state_t;

typedef enum { GB__H_NONE, GB__H_URL, GB__H_FIELD, GB__H_VALUE } gb__hstate_t;

typedef struct {
  char *method;
  char *pattern;
  gb_http_handler_fn fn;
  void *ud;
} gb__route_t;

typedef struct {
  uv_write_t req;
  gb__conn_t *conn;
  uv_buf_t buf;
  char data[];
} gb__wreq_t;

/* Strings of a request live in hbuf, NUL-separated, addressed by offsets
 * because hbuf moves when it grows. */
struct gb_http_req {
  gb__conn_t *conn; /* NULL once orphaned */
  const char *method;
  char *hbuf;
  size_t hlen, hcap;
  gb__hstate_t hstate;
  size_t url_off, path_off, query_off;
  struct {
    size_t name, value;
  } hdr[GB__HTTP_MAX_HEADERS];
  int nhdr;
  struct {
    size_t name, value;
  } param[GB__HTTP_MAX_PARAMS];
  int nparam;
  char *body;
  size_t body_len, body_cap;
  bool keep_alive;
  bool head;
  bool streaming; /* owned by a gb_sse_t */
  char peer[64];
};

struct gb_sse {
  gb__conn_t *conn;
  gb_http_req_t *req;
  gb_sse_close_fn on_close;
  void *ud;
};

struct gb__conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_shutdown_t shutdown;
  gb_http_server_t *srv;
  gb__conn_t *prev, *next;
  gb__conn_state_t state;
  int open_handles;
  bool counted;       /* in srv->nconns; false for 503-rejected connections */
  bool reading;       /* uv_read_start in effect */
  bool processing;    /* inside conn_process; stops re-entry from handlers */
  bool peer_eof;      /* the client half-closed */
  bool shutdown_done; /* our FIN has been sent */
  bool began;         /* bytes of the next request have arrived */
  http_parser parser;
  size_t header_bytes;
  int err_status; /* set by a parser callback that rejects the request */
  gb_http_req_t *cur;
  gb_sse_t *sse;
  char *in;
  size_t in_off, in_len, in_cap;
  char peer[64];
};

struct gb_http_server {
  uv_loop_t *loop;
  uv_tcp_t listener;
  gb_http_conf_t conf; /* conf.host is not kept */
  gb__route_t *routes;
  size_t nroutes, routes_cap;
  gb__conn_t *conns;
  int nconns, nstreams;
  bool closing;
  bool listener_closed;
  /* conf.on_refused's budget: GB__HTTP_REFUSED_PER_S calls a second. */
  uint64_t refused_second; /* uv_now() when the current second began */
  int refused_told;
  unsigned long refused_untold;
  /* libuv calls alloc_cb and read_cb back to back on this thread, so one
   * buffer serves every connection; unparsed bytes are copied out. */
  char rbuf[GB__HTTP_READ_BUF];
};

static void conn_close(gb__conn_t *c);
static void conn_process(gb__conn_t *c);
static void conn_update_reading(gb__conn_t *c);
static void on_timer(uv_timer_t *t);

/* ---- small helpers ---- */

static void errfmt(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errfmt(char *errstr, size_t errstr_size, const char *fmt, ...) {
  va_list ap;
  if (!errstr || errstr_size == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(errstr, errstr_size, fmt, ap);
  va_end(ap);
}

static size_t put(char *dst, size_t at, const char *s, size_t n) {
  if (dst && n)
    memcpy(dst + at, s, n);
  return at + n;
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

/* Decodes one byte of a form-encoded string at s[*i], advancing *i. A '%'
 * without two hex digits after it stands for itself. */
static char pct_next(const char *s, size_t len, size_t *i) {
  char ch = s[*i];
  if (ch == '+') {
    (*i)++;
    return ' ';
  }
  if (ch == '%' && *i + 2 < len) {
    int hi = hexval((unsigned char)s[*i + 1]);
    int lo = hexval((unsigned char)s[*i + 2]);
    if (hi >= 0 && lo >= 0) {
      *i += 3;
      return (char)(hi << 4 | lo);
    }
  }
  (*i)++;
  return ch;
}

static bool pct_equal(const char *s, size_t len, const char *name) {
  size_t i = 0;
  while (i < len) {
    if (*name == '\0' || pct_next(s, len, &i) != *name)
      return false;
    name++;
  }
  return *name == '\0';
}

static bool pct_decode(char *dst, size_t dst_size, const char *s, size_t len) {
  size_t i = 0, n = 0;
  if (dst_size == 0)
    return false;
  while (i < len) {
    char ch = pct_next(s, len, &i);
    if (n + 1 >= dst_size)
      return false;
    dst[n++] = ch;
  }
  dst[n] = '\0';
  return true;
}

/* ---- write requests ---- */

static gb__wreq_t *wreq_new(gb__conn_t *c, size_t cap) {
  gb__wreq_t *w = malloc(sizeof(*w) + cap);
  if (!w)
    return NULL;
  w->conn = c;
  w->buf = uv_buf_init(w->data, 0);
  return w;
}

static void on_write(uv_write_t *req, int status) {
  gb__wreq_t *w = (gb__wreq_t *)req;
  gb__conn_t *c = w->conn;
  free(w);
  if (status < 0) {
    conn_close(c); /* no-op when the write was cancelled by our close */
    return;
  }
  if (c->state == GB__CONN_READING && !c->reading)
    conn_process(c); /* the write queue may have drained below the mark */
}

/* Queues w (len bytes of w->data); w is owned by libuv from here on. */
static int conn_write(gb__conn_t *c, gb__wreq_t *w, size_t len) {
  int r;
  w->buf = uv_buf_init(w->data, (unsigned int)len);
  r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &w->buf, 1, on_write);
  if (r < 0) {
    free(w);
    return GB_EIO;
  }
  return 0;
}

static int conn_write_copy(gb__conn_t *c, const char *s, size_t len) {
  gb__wreq_t *w = wreq_new(c, len);
  if (!w)
    return GB_ENOMEM;
  memcpy(w->data, s, len);
  return conn_write(c, w, len);
}

static int conn_write_response(gb__conn_t *c, int status, const char *ctype,
                               const char *extra, const char *body,
                               size_t body_len, size_t content_length,
                               bool keep_alive) {
  char head[160];
  const char *reason;
  size_t ct_len = ctype ? strlen(ctype) : 0;
  size_t ex_len = extra ? strlen(extra) : 0;
  size_t n = 0, cap;
  int hn;
  gb__wreq_t *w;

  if (status < 100 || status > 999)
    status = 500;
  reason = http_status_str((enum http_status)status);
  if (reason[0] == '<') /* "<unknown>" */
    reason = "";
  hn = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n", status, reason);
  if (hn < 0 || (size_t)hn >= sizeof(head))
    return GB_EINVAL;
  cap = (size_t)hn + 16 + ct_len + 48 + ex_len + 32 + body_len;
  if (!(w = wreq_new(c, cap)))
    return GB_ENOMEM;
  n = put(w->data, n, head, (size_t)hn);
  if (ctype) {
    n = put(w->data, n, "Content-Type: ", 14);
    n = put(w->data, n, ctype, ct_len);
    n = put(w->data, n, "\r\n", 2);
  }
  hn = snprintf(head, sizeof(head), "Content-Length: %zu\r\n", content_length);
  n = put(w->data, n, head, (size_t)hn);
  n = put(w->data, n, extra, ex_len);
  if (keep_alive)
    n = put(w->data, n, "Connection: keep-alive\r\n\r\n", 26);
  else
    n = put(w->data, n, "Connection: close\r\n\r\n", 21);
  n = put(w->data, n, body, body_len);
  return conn_write(c, w, n);
}

/* ---- requests ---- */

static gb_http_req_t *req_new(gb__conn_t *c) {
  gb_http_req_t *req = calloc(1, sizeof(*req));
  if (!req)
    return NULL;
  req->conn = c;
  memcpy(req->peer, c->peer, sizeof(req->peer));
  return req;
}

static void req_free(gb_http_req_t *req) {
  if (!req)
    return;
  free(req->hbuf);
  free(req->body);
  free(req);
}

static int req_reserve(gb_http_req_t *req, size_t n) {
  size_t need = req->hlen + n + 1, cap;
  char *p;
  if (need <= req->hcap)
    return 0;
  cap = req->hcap ? req->hcap : 512;
  while (cap < need)
    cap *= 2;
  if (!(p = realloc(req->hbuf, cap)))
    return GB_ENOMEM;
  req->hbuf = p;
  req->hcap = cap;
  return 0;
}

static int req_append(gb_http_req_t *req, const char *s, size_t n) {
  if (req_reserve(req, n) != 0)
    return GB_ENOMEM;
  memcpy(req->hbuf + req->hlen, s, n);
  req->hlen += n;
  return 0;
}

/* Terminates the string being collected in hbuf. */
static int req_end_string(gb_http_req_t *req) {
  if (req_reserve(req, 1) != 0)
    return GB_ENOMEM;
  req->hbuf[req->hlen++] = '\0';
  return 0;
}

static int req_end_header(gb_http_req_t *req) {
  if (req->hstate == GB__H_FIELD) {
    /* A field without a value callback: give it "". */
    if (req_end_string(req) != 0)
      return GB_ENOMEM;
    req->hdr[req->nhdr].value = req->hlen - 1;
    req->nhdr++;
  } else if (req->hstate == GB__H_VALUE) {
    if (req_end_string(req) != 0)
      return GB_ENOMEM;
    req->nhdr++;
  } else if (req->hstate == GB__H_URL) {
    if (req_end_string(req) != 0)
      return GB_ENOMEM;
  }
  req->hstate = GB__H_NONE;
  return 0;
}

/* Splits the URL (in place) into path and query; false if it is unusable. */
static bool req_split_url(gb_http_req_t *req, bool is_connect) {
  char *url = req->hbuf + req->url_off;
  size_t len = strlen(url);
  struct http_parser_url u;
  size_t end;

  if (len > UINT16_MAX) /* http_parser_url holds 16-bit offsets */
    return false;
  http_parser_url_init(&u);
  if (http_parser_parse_url(url, len, is_connect, &u) != 0 ||
      !(u.field_set & (1 << UF_PATH)))
    return false;
  req->path_off = req->url_off + u.field_data[UF_PATH].off;
  end = (size_t)u.field_data[UF_PATH].off + u.field_data[UF_PATH].len;
  if (u.field_set & (1 << UF_QUERY)) {
    size_t qoff = u.field_data[UF_QUERY].off;
    size_t qend = qoff + u.field_data[UF_QUERY].len;
    req->query_off = req->url_off + qoff;
    url[qend] = '\0';
  } else {
    req->query_off = req->url_off + len; /* the URL's own NUL: "" */
  }
  url[end] = '\0';
  return url[u.field_data[UF_PATH].off] == '/';
}

/* ---- parser callbacks ---- */

static int reject(gb__conn_t *c, int status) {
  c->err_status = status;
  return -1;
}

static int count_header_bytes(gb__conn_t *c, size_t n) {
  c->header_bytes += n;
  if (c->header_bytes > c->srv->conf.max_header_bytes)
    return reject(c, 431);
  return 0;
}

static int on_message_begin(http_parser *p) {
  gb__conn_t *c = p->data;
  req_free(c->cur);
  c->header_bytes = 0;
  c->err_status = 0;
  if (!(c->cur = req_new(c)))
    return reject(c, 500);
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t len) {
  gb__conn_t *c = p->data;
  gb_http_req_t *req = c->cur;
  /* The rest of the request line counts too, as sent in the usual form:
   * the method, a space, the URL, " HTTP/1.1" and CRLF. */
  size_t line = req->hstate == GB__H_URL
                    ? 0
                    : strlen(http_method_str((enum http_method)p->method)) + 12;
  if (count_header_bytes(c, len + line) != 0)
    return -1;
  if (req->hstate != GB__H_URL) {
    req->url_off = req->hlen;
    req->hstate = GB__H_URL;
  }
  return req_append(req, at, len) == 0 ? 0 : reject(c, 500);
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
  gb__conn_t *c = p->data;
  gb_http_req_t *req = c->cur;
  if (req->hstate != GB__H_FIELD) {
    if (count_header_bytes(c, 4) != 0) /* ": " and CRLF */
      return -1;
    if (req_end_header(req) != 0)
      return reject(c, 500);
    if (req->nhdr == GB__HTTP_MAX_HEADERS)
      return reject(c, 431);
    req->hdr[req->nhdr].name = req->hlen;
    req->hstate = GB__H_FIELD;
  }
  if (count_header_bytes(c, len) != 0)
    return -1;
  return req_append(req, at, len) == 0 ? 0 : reject(c, 500);
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
  gb__conn_t *c = p->data;
  gb_http_req_t *req = c->cur;
  if (count_header_bytes(c, len) != 0)
    return -1;
  if (req->hstate != GB__H_VALUE) {
    if (req_end_string(req) != 0)
      return reject(c, 500);
    req->hdr[req->nhdr].value = req->hlen;
    req->hstate = GB__H_VALUE;
  }
  return req_append(req, at, len) == 0 ? 0 : reject(c, 500);
}

static int on_headers_complete(http_parser *p) {
  gb__conn_t *c = p->data;
  gb_http_req_t *req = c->cur;
  const gb_http_conf_t *conf = &c->srv->conf;
  const char *expect;

  if (count_header_bytes(c, 2) != 0) /* the blank line */
    return -1;
  if (req_end_header(req) != 0)
    return reject(c, 500);
  if (!req_split_url(req, p->method == HTTP_CONNECT))
    return reject(c, 400);
  req->method = http_method_str((enum http_method)p->method);
  req->head = p->method == HTTP_HEAD;
  req->keep_alive = http_should_keep_alive(p) && !p->upgrade;
  if (p->content_length != ULLONG_MAX) {
    if (p->content_length > conf->max_body_bytes)
      return reject(c, 413);
    if (p->content_length > 0) {
      if (!(req->body = malloc((size_t)p->content_length + 1)))
        return reject(c, 500);
      req->body_cap = (size_t)p->content_length + 1;
    }
  }
  expect = gb_http_req_header(req, "Expect");
  /* No loop: gb_http_parse, which has no socket to answer on. */
  if (c->srv->loop && expect && strcasecmp(expect, "100-continue") == 0 &&
      p->http_major == 1 && p->http_minor >= 1) {
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (conn_write_copy(c, cont, sizeof(cont) - 1) != 0)
      return reject(c, 500);
  }
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  gb__conn_t *c = p->data;
  gb_http_req_t *req = c->cur;
  if (len > c->srv->conf.max_body_bytes - req->body_len)
    return reject(c, 413);
  if (req->body_len + len + 1 > req->body_cap) {
    size_t cap = req->body_cap ? req->body_cap : 1024;
    char *b;
    while (cap < req->body_len + len + 1)
      cap *= 2;
    if (!(b = realloc(req->body, cap)))
      return reject(c, 500);
    req->body = b;
    req->body_cap = cap;
  }
  memcpy(req->body + req->body_len, at, len);
  req->body_len += len;
  return 0;
}

static int on_message_complete(http_parser *p) {
  gb__conn_t *c = p->data;
  if (c->cur->body)
    c->cur->body[c->cur->body_len] = '\0';
  http_parser_pause(p, 1); /* conn_process dispatches the request */
  return 0;
}

static const http_parser_settings gb__parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- routing ---- */

typedef struct {
  const char *name;
  size_t name_len;
  size_t value_off; /* in req->hbuf */
  size_t value_len;
} gb__match_t;

/* Matches path against pattern; ":name" segments match one non-empty
 * segment. Returns the number of params (>= 0) or -1. */
static int route_match(const char *pattern, const gb_http_req_t *req,
                       gb__match_t *m) {
  const char *path = req->hbuf + req->path_off;
  const char *p = pattern, *q = path;
  int n = 0;
  while (*p && *q) {
    if (*p == ':' && p > pattern && p[-1] == '/') {
      const char *pe = p + 1, *qe = q;
      while (*pe && *pe != '/')
        pe++;
      while (*qe && *qe != '/')
        qe++;
      if (qe == q || n == GB__HTTP_MAX_PARAMS)
        return -1;
      m[n].name = p + 1;
      m[n].name_len = (size_t)(pe - p - 1);
      m[n].value_off = req->path_off + (size_t)(q - path);
      m[n].value_len = (size_t)(qe - q);
      n++;
      p = pe;
      q = qe;
      continue;
    }
    if (*p != *q)
      return -1;
    p++;
    q++;
  }
  return *p == '\0' && *q == '\0' ? n : -1;
}

static int req_set_params(gb_http_req_t *req, const gb__match_t *m, int n) {
  for (int i = 0; i < n; i++) {
    if (req_reserve(req, m[i].name_len + m[i].value_len + 2) != 0)
      return GB_ENOMEM;
    req->param[i].name = req->hlen;
    req->hlen = put(req->hbuf, req->hlen, m[i].name, m[i].name_len);
    req->hbuf[req->hlen++] = '\0';
    req->param[i].value = req->hlen;
    memmove(req->hbuf + req->hlen, req->hbuf + m[i].value_off, m[i].value_len);
    req->hlen += m[i].value_len;
    req->hbuf[req->hlen++] = '\0';
  }
  req->nparam = n;
  return 0;
}

static void allow_add(char *allow, size_t size, const char *method) {
  size_t len = strlen(allow), mlen = strlen(method);
  const char *s = allow + 7; /* after "Allow: " */
  while ((s = strstr(s, method)) != NULL) {
    if ((s[-1] == ' ') && (s[mlen] == ',' || s[mlen] == '\0'))
      return;
    s += mlen;
  }
  if (len + mlen + 3 >= size)
    return;
  if (len > 7)
    len = (size_t)(put(allow, len, ", ", 2));
  len = put(allow, len, method, mlen);
  allow[len] = '\0';
}

static void dispatch(gb__conn_t *c) {
  gb_http_server_t *srv = c->srv;
  gb_http_req_t *req = c->cur;
  gb__match_t m[GB__HTTP_MAX_PARAMS];
  char allow[256] = "Allow: ";

  c->state = GB__CONN_HANDLING;
  uv_timer_stop(&c->timer);
  for (size_t i = 0; i < srv->nroutes; i++) {
    const gb__route_t *r = &srv->routes[i];
    int n = route_match(r->pattern, req, m);
    if (n < 0)
      continue;
    if (strcmp(r->method, req->method) != 0) {
      allow_add(allow, sizeof(allow) - 2, r->method);
      continue;
    }
    if (req_set_params(req, m, n) != 0) {
      gb_http_respond(req, 500, "text/plain", NULL, "out of memory\n", 14);
      return;
    }
    r->fn(req, r->ud);
    return;
  }
  if (strlen(allow) > 7) {
    strcat(allow, "\r\n");
    gb_http_respond(req, 405, "text/plain", allow, "method not allowed\n", 19);
  } else {
    gb_http_respond(req, 404, "text/plain", NULL, "not found\n", 10);
  }
}

/* ---- parsing without a connection (gb_http_parse) ---- */

/* The same parser, callbacks and limits as a connection's, over a buffer:
 * a server and a connection that own no libuv handle (srv->loop NULL), so
 * nothing is written or read. */
int gb_http_parse(gb_http_req_t **out, size_t *used, int *status,
                  const char *buf, size_t len, const gb_http_conf_t *conf,
                  const char *pattern, char *errstr, size_t errstr_size) {
  gb_http_server_t *srv = calloc(1, sizeof(*srv));
  gb__conn_t *c = calloc(1, sizeof(*c));
  gb__match_t m[GB__HTTP_MAX_PARAMS];
  enum http_errno e;
  size_t n;
  int err = GB_EINVAL, np;

  *out = NULL;
  *used = 0;
  *status = 0;
  if (!srv || !c) {
    *status = 500;
    errfmt(errstr, errstr_size, "http: out of memory");
    err = GB_ENOMEM;
    goto cleanup;
  }
  if (conf) {
    srv->conf.max_header_bytes = conf->max_header_bytes;
    srv->conf.max_body_bytes = conf->max_body_bytes;
  }
  if (!srv->conf.max_header_bytes)
    srv->conf.max_header_bytes = 16 * 1024;
  if (!srv->conf.max_body_bytes)
    srv->conf.max_body_bytes = 1024 * 1024;
  c->srv = srv;
  c->state = GB__CONN_READING;
  strcpy(c->peer, "-");
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  n = http_parser_execute(&c->parser, &gb__parser_settings, buf ? buf : "",
                          buf ? len : 0);
  e = HTTP_PARSER_ERRNO(&c->parser);
  if (e == HPE_PAUSED) { /* on_message_complete: one whole request */
    if (pattern && (np = route_match(pattern, c->cur, m)) >= 0 &&
        req_set_params(c->cur, m, np) != 0) {
      *status = 500;
      errfmt(errstr, errstr_size, "http: out of memory");
      err = GB_ENOMEM;
      goto cleanup;
    }
    c->cur->conn = NULL;
    *out = c->cur, c->cur = NULL;
    *used = n;
    err = 0;
  } else if (e == HPE_OK) {
    errfmt(errstr, errstr_size, "http: the request is not whole after %zu bytes",
           len);
    err = GB_EAGAIN;
  } else {
    const char *why = http_errno_description(e);
    *status = c->err_status;
    if (!*status)
      *status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
    else if (e == HPE_CB_headers_complete && *status == 400)
      why = "unusable request target";
    errfmt(errstr, errstr_size, "http: %d at byte %zu: %s", *status, n, why);
  }
cleanup:
  if (c)
    req_free(c->cur);
  free(c);
  free(srv);
  return err;
}

void gb_http_req_free(gb_http_req_t *req) { req_free(req); }

/* ---- connections ---- */

static void srv_maybe_free(gb_http_server_t *srv) {
  if (!srv->closing || !srv->listener_closed || srv->conns)
    return;
  for (size_t i = 0; i < srv->nroutes; i++) {
    free(srv->routes[i].method);
    free(srv->routes[i].pattern);
  }
  free(srv->routes);
  free(srv);
}

static void on_conn_closed(uv_handle_t *h) {
  gb__conn_t *c = h->data;
  gb_http_server_t *srv = c->srv;
  if (--c->open_handles > 0)
    return;
  if (c->sse) {
    if (c->sse->on_close)
      c->sse->on_close(c->sse, c->sse->ud);
    req_free(c->sse->req);
    free(c->sse);
  }
  if (c->prev)
    c->prev->next = c->next;
  else
    srv->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  free(c->in);
  free(c);
  srv_maybe_free(srv);
}

static void conn_close(gb__conn_t *c) {
  gb__conn_state_t prev = c->state;
  if (prev == GB__CONN_CLOSING)
    return;
  c->state = GB__CONN_CLOSING;
  if (c->cur) {
    if (prev == GB__CONN_HANDLING)
      c->cur->conn = NULL; /* orphaned: the handler still owns it */
    else
      req_free(c->cur);
    c->cur = NULL;
  }
  if (c->counted)
    c->srv->nconns--;
  if (c->sse)
    c->srv->nstreams--;
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
  uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  gb__conn_t *c = req->data;
  if (c->state == GB__CONN_CLOSING)
    return;
  c->shutdown_done = true;
  if (status < 0 || c->peer_eof)
    conn_close(c);
}

/* Sends FIN once queued writes are out, then drains input until the client
 * closes or the linger timer runs out. */
static void conn_linger(gb__conn_t *c) {
  int linger = GB__HTTP_LINGER_MS;
  if (c->srv->conf.idle_timeout_ms < linger)
    linger = c->srv->conf.idle_timeout_ms;
  c->state = GB__CONN_LINGER;
  c->shutdown.data = c;
  if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
    conn_close(c);
    return;
  }
  uv_timer_start(&c->timer, on_timer, (uint64_t)linger, 0);
  if (!c->processing)
    conn_update_reading(c);
}

/* Tells conf.on_refused, within its budget (see gb_http_refused_fn). */
static void tell_refused(gb__conn_t *c, int status, const char *reason,
                         const char *detail) {
  gb_http_server_t *srv = c->srv;
  uint64_t now = uv_now(srv->loop);
  unsigned long untold;
  if (!srv->conf.on_refused)
    return;
  if (now - srv->refused_second >= 1000) {
    srv->refused_second = now;
    srv->refused_told = 0;
  }
  if (srv->refused_told >= GB__HTTP_REFUSED_PER_S) {
    srv->refused_untold++;
    return;
  }
  srv->refused_told++;
  untold = srv->refused_untold;
  srv->refused_untold = 0;
  srv->conf.on_refused(srv->conf.refused_ud, status, reason, detail, c->peer,
                       untold);
}

/* Answers a request that never reached a handler with a JSON error, and
 * closes. why (may be NULL) details a 400. */
static void conn_fail(gb__conn_t *c, int status, const char *why) {
  const gb_http_conf_t *conf = &c->srv->conf;
  const char *reason, *extra = NULL;
  char detail[200], body[256];
  size_t n = 0;
  int bn;
  req_free(c->cur);
  c->cur = NULL;
  switch (status) {
  case 400:
    reason = "bad_request";
    snprintf(detail, sizeof(detail), "bad request: %.150s",
             why ? why : "malformed");
    break;
  case 408:
    reason = "request_timeout";
    snprintf(detail, sizeof(detail),
             "request not received whole within %d ms of its first byte",
             conf->idle_timeout_ms);
    break;
  case 413:
    reason = "body_too_large";
    snprintf(detail, sizeof(detail),
             "request body too large: at most %zu bytes", conf->max_body_bytes);
    break;
  case 431:
    reason = "header_too_large";
    snprintf(detail, sizeof(detail),
             "request header too large: at most %zu bytes and %d header lines",
             conf->max_header_bytes, GB__HTTP_MAX_HEADERS);
    break;
  case 503:
    reason = "too_many_connections";
    extra = "Retry-After: 1\r\n";
    snprintf(detail, sizeof(detail),
             "too many connections: at most %d; try again",
             conf->max_connections);
    break;
  default:
    status = 500;
    reason = "internal";
    snprintf(detail, sizeof(detail), "internal error");
    break;
  }
  /* The texts above hold no quote or backslash; http-parser's might. */
  for (char *s = detail; *s; s++)
    if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
      *s = '\'';
  bn = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", detail);
  if (bn > 0)
    n = (size_t)bn < sizeof(body) ? (size_t)bn : sizeof(body) - 1;
  if (conn_write_response(c, status, "application/json", extra, body, n, n,
                          false) != 0) {
    conn_close(c);
    return;
  }
  tell_refused(c, status, reason, detail);
  conn_linger(c);
}

static bool conn_backpressured(const gb__conn_t *c) {
  return uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp) >
         GB__HTTP_WQ_HIGH;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  gb__conn_t *c = h->data;
  (void)suggested;
  *buf = uv_buf_init(c->srv->rbuf, sizeof(c->srv->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void conn_update_reading(gb__conn_t *c) {
  bool want;
  switch (c->state) {
  case GB__CONN_READING: want = !conn_backpressured(c); break;
  case GB__CONN_HANDLING:
    /* Keep reading to notice a client that leaves, up to a bound. */
    want = c->in_len - c->in_off < GB__HTTP_READ_BUF;
    break;
  case GB__CONN_SSE: want = true; break;
  case GB__CONN_LINGER: want = !c->peer_eof; break;
  default: return;
  }
  if (want && !c->reading) {
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
      conn_close(c);
      return;
    }
    c->reading = true;
  } else if (!want && c->reading) {
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
  }
}

static int conn_buffer(gb__conn_t *c, const char *data, size_t len) {
  if (c->in_off > 0) {
    memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
    c->in_len -= c->in_off;
    c->in_off = 0;
  }
  if (c->in_len + len > c->in_cap) {
    size_t cap = c->in_cap ? c->in_cap : 4096;
    char *p;
    while (cap < c->in_len + len)
      cap *= 2;
    if (!(p = realloc(c->in, cap)))
      return GB_ENOMEM;
    c->in = p;
    c->in_cap = cap;
  }
  memcpy(c->in + c->in_len, data, len);
  c->in_len += len;
  return 0;
}

/* Parses buffered input and dispatches complete requests, one at a time,
 * for as long as the connection is free to take the next one. */
static void conn_process(gb__conn_t *c) {
  if (c->processing)
    return;
  c->processing = true;
  while (c->state == GB__CONN_READING && c->in_off < c->in_len &&
         !conn_backpressured(c)) {
    size_t n = http_parser_execute(&c->parser, &gb__parser_settings,
                                   c->in + c->in_off, c->in_len - c->in_off);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    c->in_off += n;
    if (e == HPE_PAUSED) {
      http_parser_pause(&c->parser, 0);
      dispatch(c);
    } else if (e != HPE_OK) {
      int status = c->err_status;
      const char *why = http_errno_description(e);
      if (!status)
        status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
      else if (e == HPE_CB_headers_complete && status == 400)
        why = "unusable request target";
      conn_fail(c, status, why);
    }
  }
  if (c->in_off == c->in_len)
    c->in_off = c->in_len = 0;
  c->processing = false;
  conn_update_reading(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  gb__conn_t *c = s->data;
  if (nread == 0)
    return;
  if (nread < 0) {
    /* A client that half-closes after a complete exchange still gets its
     * queued responses; anything else in flight is abandoned. */
    if (nread == UV_EOF && c->state == GB__CONN_READING && !c->cur) {
      c->peer_eof = true;
      conn_linger(c);
    } else if (nread == UV_EOF && c->state == GB__CONN_LINGER) {
      c->peer_eof = true;
      if (c->shutdown_done)
        conn_close(c);
      else
        conn_update_reading(c);
    } else {
      conn_close(c);
    }
    return;
  }
  switch (c->state) {
  case GB__CONN_READING:
  case GB__CONN_HANDLING:
    if (conn_buffer(c, buf->base, (size_t)nread) != 0) {
      conn_close(c);
      return;
    }
    if (c->state == GB__CONN_READING) {
      /* A request's time runs from its first byte, not from the last one
       * read: a client trickling bytes cannot hold a connection forever. */
      if (!c->began)
        uv_timer_start(&c->timer, on_timer,
                       (uint64_t)c->srv->conf.idle_timeout_ms, 0);
      c->began = true;
      conn_process(c);
    } else {
      conn_update_reading(c);
    }
    break;
  default:
    break; /* SSE and lingering connections drop what they read */
  }
}

static int sse_keepalive(gb__conn_t *c);

static void on_timer(uv_timer_t *t) {
  gb__conn_t *c = t->data;
  switch (c->state) {
  case GB__CONN_SSE:
    if (sse_keepalive(c) == 0)
      uv_timer_start(&c->timer, on_timer,
                     (uint64_t)c->srv->conf.sse_keepalive_ms, 0);
    break;
  case GB__CONN_READING:
    /* Idle between requests: close. Mid-request: too slow (408). */
    if (c->began || c->cur)
      conn_fail(c, 408, NULL);
    else
      conn_close(c);
    break;
  case GB__CONN_LINGER:
    conn_close(c);
    break;
  default:
    break;
  }
}

static void on_connection(uv_stream_t *listener, int status) {
  gb_http_server_t *srv = listener->data;
  gb__conn_t *c;
  struct sockaddr_storage ss;
  int sl = sizeof(ss);

  if (status < 0 || srv->closing)
    return;
  if (!(c = calloc(1, sizeof(*c))))
    return;
  c->srv = srv;
  uv_tcp_init(srv->loop, &c->tcp);
  uv_timer_init(srv->loop, &c->timer);
  c->tcp.data = c;
  c->timer.data = c;
  c->open_handles = 2;
  c->state = GB__CONN_READING;
  c->next = srv->conns;
  if (srv->conns)
    srv->conns->prev = c;
  srv->conns = c;
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) != 0 ||
      uv_ip_name((struct sockaddr *)&ss, c->peer, sizeof(c->peer)) != 0)
    strcpy(c->peer, "?");
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  if (srv->nconns >= srv->conf.max_connections) {
    conn_fail(c, 503, NULL);
    return;
  }
  c->counted = true;
  srv->nconns++;
  uv_timer_start(&c->timer, on_timer, (uint64_t)srv->conf.idle_timeout_ms, 0);
  conn_update_reading(c);
}

/* ---- server ---- */

/* Binds and listens with plain sockets first so that every failure is
 * reported synchronously, before any libuv handle needs closing. */
static int listen_socket(const gb_http_conf_t *conf, int *fd_out, char *errstr,
                         size_t errstr_size) {
  struct sockaddr_storage ss;
  socklen_t sl;
  int fd, one = 1;

  memset(&ss, 0, sizeof(ss));
  if (uv_ip4_addr(conf->host, conf->port, (struct sockaddr_in *)&ss) == 0) {
    sl = sizeof(struct sockaddr_in);
  } else if (uv_ip6_addr(conf->host, conf->port, (struct sockaddr_in6 *)&ss) ==
             0) {
    sl = sizeof(struct sockaddr_in6);
  } else {
    errfmt(errstr, errstr_size, "http: host %s is not a numeric address",
           conf->host);
    return GB_EINVAL;
  }
  fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    errfmt(errstr, errstr_size, "http: socket: %s",
           uv_strerror(uv_translate_sys_error(errno)));
    return GB_EIO;
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
    errfmt(errstr, errstr_size, "http: bind %s:%d: %s", conf->host,
           conf->port, uv_strerror(uv_translate_sys_error(errno)));
    close(fd);
    return GB_EIO;
  }
  if (listen(fd, 511) != 0) {
    errfmt(errstr, errstr_size, "http: listen %s:%d: %s", conf->host,
           conf->port, uv_strerror(uv_translate_sys_error(errno)));
    close(fd);
    return GB_EIO;
  }
  *fd_out = fd;
  return 0;
}

static void on_listener_closed(uv_handle_t *h) {
  gb_http_server_t *srv = h->data;
  srv->listener_closed = true;
  srv_maybe_free(srv);
}

int gb_http_server_new(gb_http_server_t **out, uv_loop_t *loop,
                       const gb_http_conf_t *conf, char *errstr,
                       size_t errstr_size) {
  gb_http_server_t *srv;
  int fd = -1, err, r;

  if (out)
    *out = NULL;
  if (!out || !loop || !conf || !conf->host) {
    errfmt(errstr, errstr_size, "http: missing loop, conf or host");
    return GB_EINVAL;
  }
  if (conf->port < 0 || conf->port > 65535 || conf->max_connections < 0 ||
      conf->sse_keepalive_ms < 0 || conf->idle_timeout_ms < 0) {
    errfmt(errstr, errstr_size, "http: port or a limit is out of range");
    return GB_EINVAL;
  }
  if (!(srv = calloc(1, sizeof(*srv)))) {
    errfmt(errstr, errstr_size, "http: out of memory");
    return GB_ENOMEM;
  }
  srv->loop = loop;
  srv->conf = *conf;
  srv->conf.host = NULL;
  if (!srv->conf.max_header_bytes)
    srv->conf.max_header_bytes = 16 * 1024;
  if (!srv->conf.max_body_bytes)
    srv->conf.max_body_bytes = 1024 * 1024;
  if (!srv->conf.max_connections)
    srv->conf.max_connections = 1024;
  if (!srv->conf.sse_keepalive_ms)
    srv->conf.sse_keepalive_ms = 15000;
  if (!srv->conf.idle_timeout_ms)
    srv->conf.idle_timeout_ms = 60000;
  if ((err = listen_socket(conf, &fd, errstr, errstr_size)) != 0) {
    free(srv);
    return err;
  }
  uv_tcp_init(loop, &srv->listener);
  srv->listener.data = srv;
  r = uv_tcp_open(&srv->listener, fd);
  if (r != 0)
    close(fd);
  else
    r = uv_listen((uv_stream_t *)&srv->listener, 511, on_connection);
  if (r != 0) {
    /* Not expected on a socket that is already listening. The handle
     * exists now, so the memory goes in its close callback. */
    errfmt(errstr, errstr_size, "http: listen %s:%d: %s", conf->host,
           conf->port, uv_strerror(r));
    srv->closing = true;
    uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
    return GB_EIO;
  }
  *out = srv;
  return 0;
}

int gb_http_server_port(const gb_http_server_t *srv) {
  struct sockaddr_storage ss;
  int sl = sizeof(ss);
  if (!srv)
    return GB_EINVAL;
  if (uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &sl) != 0)
    return GB_EIO;
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int gb_http_route(gb_http_server_t *srv, const char *method,
                  const char *pattern, gb_http_handler_fn fn, void *ud) {
  gb__route_t *r;
  if (!srv || srv->closing || !method || !*method || !pattern ||
      pattern[0] != '/' || !fn)
    return GB_EINVAL;
  if (srv->nroutes == srv->routes_cap) {
    size_t cap = srv->routes_cap ? srv->routes_cap * 2 : 8;
    gb__route_t *p = realloc(srv->routes, cap * sizeof(*p));
    if (!p)
      return GB_ENOMEM;
    srv->routes = p;
    srv->routes_cap = cap;
  }
  r = &srv->routes[srv->nroutes];
  r->method = strdup(method);
  r->pattern = strdup(pattern);
  if (!r->method || !r->pattern) {
    free(r->method);
    free(r->pattern);
    return GB_ENOMEM;
  }
  r->fn = fn;
  r->ud = ud;
  srv->nroutes++;
  return 0;
}

void gb_http_server_close(gb_http_server_t *srv) {
  if (!srv || srv->closing)
    return;
  srv->closing = true;
  uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
  for (gb__conn_t *c = srv->conns; c; c = c->next)
    conn_close(c);
}

int gb_http_server_connections(const gb_http_server_t *srv) {
  return srv ? srv->nconns : 0;
}

int gb_http_server_streams(const gb_http_server_t *srv) {
  return srv ? srv->nstreams : 0;
}

/* ---- request accessors ---- */

const char *gb_http_req_method(const gb_http_req_t *req) {
  return req ? req->method : NULL;
}

const char *gb_http_req_path(const gb_http_req_t *req) {
  return req ? req->hbuf + req->path_off : NULL;
}

const char *gb_http_req_query(const gb_http_req_t *req) {
  return req ? req->hbuf + req->query_off : NULL;
}

const char *gb_http_req_param(const gb_http_req_t *req, const char *name) {
  if (!req || !name)
    return NULL;
  for (int i = 0; i < req->nparam; i++)
    if (strcmp(req->hbuf + req->param[i].name, name) == 0)
      return req->hbuf + req->param[i].value;
  return NULL;
}

const char *gb_http_req_query_param(const gb_http_req_t *req, const char *name,
                                    char *buf, size_t buf_size) {
  const char *q;
  if (!req || !name || !buf)
    return NULL;
  q = req->hbuf + req->query_off;
  while (*q) {
    const char *amp = strchr(q, '&');
    const char *eq;
    if (!amp)
      amp = q + strlen(q);
    eq = memchr(q, '=', (size_t)(amp - q));
    if (pct_equal(q, (size_t)((eq ? eq : amp) - q), name)) {
      const char *v = eq ? eq + 1 : amp;
      return pct_decode(buf, buf_size, v, (size_t)(amp - v)) ? buf : NULL;
    }
    q = *amp ? amp + 1 : amp;
  }
  return NULL;
}

const char *gb_http_req_header(const gb_http_req_t *req, const char *name) {
  if (!req || !name)
    return NULL;
  for (int i = 0; i < req->nhdr; i++)
    if (strcasecmp(req->hbuf + req->hdr[i].name, name) == 0)
      return req->hbuf + req->hdr[i].value;
  return NULL;
}

const char *gb_http_req_body(const gb_http_req_t *req, size_t *len) {
  if (len)
    *len = req ? req->body_len : 0;
  if (!req)
    return NULL;
  return req->body ? req->body : "";
}

const char *gb_http_req_peer(const gb_http_req_t *req) {
  return req ? req->peer : NULL;
}

/* ---- responding ---- */

void gb_http_respond(gb_http_req_t *req, int status, const char *content_type,
                     const char *extra_headers, const char *body, size_t len) {
  gb__conn_t *c;
  bool keep;
  int err;

  if (!req || req->streaming)
    return;
  c = req->conn;
  if (!c) {
    req_free(req);
    return;
  }
  keep = req->keep_alive && !c->srv->closing;
  err = conn_write_response(c, status, content_type, extra_headers,
                            req->head ? NULL : body, req->head ? 0 : len, len,
                            keep);
  c->cur = NULL;
  req_free(req);
  if (err != 0) {
    conn_close(c);
    return;
  }
  if (!keep) {
    conn_linger(c);
    return;
  }
  c->state = GB__CONN_READING;
  c->began = false;
  uv_timer_start(&c->timer, on_timer, (uint64_t)c->srv->conf.idle_timeout_ms,
                 0);
  conn_process(c); /* a no-op when called from inside a handler */
}

/* ---- Server-Sent Events ---- */

gb_sse_t *gb_http_sse_start(gb_http_req_t *req, gb_sse_close_fn on_close,
                            void *ud) {
  gb__conn_t *c;
  gb_sse_t *s;

  if (!req || req->streaming)
    return NULL;
  if (!(c = req->conn)) {
    req_free(req);
    return NULL;
  }
  if (!(s = calloc(1, sizeof(*s)))) {
    gb_http_respond(req, 500, "text/plain", NULL, "out of memory\n", 14);
    return NULL;
  }
  s->conn = c;
  s->req = req;
  s->on_close = on_close;
  s->ud = ud;
  req->streaming = true;
  c->cur = NULL;
  c->sse = s;
  c->state = GB__CONN_SSE;
  c->srv->nstreams++;
  /* Pipelined bytes after a stream request have nowhere to go. */
  c->in_off = c->in_len = 0;
  if (conn_write_copy(c, GB__SSE_HEAD, sizeof(GB__SSE_HEAD) - 1) != 0) {
    conn_close(c); /* on_close still runs, from the close callback */
    return s;
  }
  uv_timer_start(&c->timer, on_timer, (uint64_t)c->srv->conf.sse_keepalive_ms,
                 0);
  if (!c->processing)
    conn_update_reading(c);
  return s;
}

static size_t sse_format(char *dst, const char *id, const char *event,
                         const char *data, size_t len) {
  size_t n = 0, start = 0;
  if (id) {
    n = put(dst, n, "id: ", 4);
    n = put(dst, n, id, strlen(id));
    n = put(dst, n, "\n", 1);
  }
  if (event) {
    n = put(dst, n, "event: ", 7);
    n = put(dst, n, event, strlen(event));
    n = put(dst, n, "\n", 1);
  }
  for (;;) {
    size_t end = start;
    while (end < len && data[end] != '\n' && data[end] != '\r')
      end++;
    n = put(dst, n, "data: ", 6);
    n = put(dst, n, data + start, end - start);
    n = put(dst, n, "\n", 1);
    if (end >= len)
      break;
    start = end + 1;
    if (data[end] == '\r' && start < len && data[start] == '\n')
      start++;
  }
  return put(dst, n, "\n", 1);
}

/* Queues len bytes built by the caller in w, unless the client has fallen
 * so far behind that the stream must go. */
static int sse_queue(gb__conn_t *c, gb__wreq_t *w, size_t len) {
  size_t queued =
      uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
  if (queued + len > GB__SSE_WQ_LIMIT) {
    free(w);
    conn_close(c);
    return GB_ETOOBIG;
  }
  if (conn_write(c, w, len) != 0) {
    conn_close(c);
    return GB_EIO;
  }
  return 0;
}

static int sse_keepalive(gb__conn_t *c) {
  size_t len = sizeof(GB__SSE_KEEPALIVE) - 1;
  gb__wreq_t *w = wreq_new(c, len);
  if (!w) {
    conn_close(c);
    return GB_ENOMEM;
  }
  memcpy(w->data, GB__SSE_KEEPALIVE, len);
  return sse_queue(c, w, len);
}

int gb_sse_send(gb_sse_t *s, const char *id, const char *event,
                const char *data, size_t len) {
  gb__conn_t *c;
  gb__wreq_t *w;
  size_t n;
  int err;

  if (!s || (!data && len))
    return GB_EINVAL;
  c = s->conn;
  if (c->state != GB__CONN_SSE)
    return GB_EIO;
  if ((id && strpbrk(id, "\r\n")) || (event && strpbrk(event, "\r\n")))
    return GB_EINVAL;
  n = sse_format(NULL, id, event, data, len);
  if (!(w = wreq_new(c, n)))
    return GB_ENOMEM;
  sse_format(w->data, id, event, data, len);
  if ((err = sse_queue(c, w, n)) != 0)
    return err;
  uv_timer_start(&c->timer, on_timer, (uint64_t)c->srv->conf.sse_keepalive_ms,
                 0);
  return 0;
}

void gb_sse_close(gb_sse_t *s) {
  if (s)
    conn_close(s->conn);
}

const gb_http_req_t *gb_sse_req(const gb_sse_t *s) {
  return s ? s->req : NULL;
}
