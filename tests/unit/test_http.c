/* Tests for gb/http.h: the server runs on a uv loop on the main thread and a
 * client thread talks to it over loopback with blocking sockets. Every wait
 * is bounded: client sockets time out after CLIENT_TIMEOUT_S, and a guard
 * timer on the loop ends the test as failed after GUARD_MS. Loop callbacks
 * only record what they saw; assertions run after the loop has stopped. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "gb/err.h"
#include "gb/http.h"

#define GUARD_MS 5000
#define CLIENT_TIMEOUT_S 3

typedef struct fx fx_t;

struct fx {
  uv_loop_t loop;
  gb_http_server_t *srv;
  int port;
  uv_async_t async;
  uv_timer_t guard;
  uv_timer_t aux;
  bool aux_used;
  pthread_t thread;
  void (*client)(fx_t *fx);
  void (*on_signal)(fx_t *fx, int n); /* loop thread, per client signal */
  atomic_int signals;
  int signals_seen;
  atomic_int client_done;
  int waits; /* loop events still expected before the test may finish */
  bool finished, timed_out;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int notified; /* loop -> client */

  /* written by the client thread, read after it has been joined */
  char resp[4][4096];
  bool ok[8];
  char stream[8192];

  /* written on the loop thread */
  int calls;
  char got[12][256];
  char order[64];
  int conns_seen, streams_seen;
  gb_http_req_t *held;
  gb_sse_t *sse;
  int on_close_calls;
  int rc[4];
  int sent;
};

/* ---- fixture ---- */

static void fx_finish(fx_t *fx) {
  if (fx->finished)
    return;
  fx->finished = true;
  gb_http_server_close(fx->srv);
  fx->srv = NULL;
  if (!uv_is_closing((uv_handle_t *)&fx->guard))
    uv_close((uv_handle_t *)&fx->guard, NULL);
  if (fx->aux_used && !uv_is_closing((uv_handle_t *)&fx->aux))
    uv_close((uv_handle_t *)&fx->aux, NULL);
  /* The client has finished (or, after a timeout, fails fast on its closed
   * socket or its own bounded waits), so this join is short. */
  pthread_join(fx->thread, NULL);
  uv_close((uv_handle_t *)&fx->async, NULL);
}

static void fx_check_done(fx_t *fx) {
  if (!fx->finished && atomic_load(&fx->client_done) && fx->waits <= 0)
    fx_finish(fx);
}

static void fx_event_seen(fx_t *fx) {
  fx->waits--;
  fx_check_done(fx);
}

static void on_async(uv_async_t *a) {
  fx_t *fx = a->data;
  while (!fx->finished && fx->signals_seen < atomic_load(&fx->signals)) {
    fx->signals_seen++;
    if (fx->on_signal)
      fx->on_signal(fx, fx->signals_seen);
  }
  fx_check_done(fx);
}

static void on_guard(uv_timer_t *t) {
  fx_t *fx = t->data;
  fx->timed_out = true;
  fx_finish(fx);
}

static void *client_main(void *arg) {
  fx_t *fx = arg;
  fx->client(fx);
  atomic_store(&fx->client_done, 1);
  uv_async_send(&fx->async);
  return NULL;
}

/* The fixture goes in *state so that fx_teardown frees it even when an
 * assertion fails. */
static fx_t *fx_new(void **state, const gb_http_conf_t *conf_in) {
  fx_t *fx = calloc(1, sizeof(*fx));
  gb_http_conf_t conf = {.host = "127.0.0.1"};
  char errstr[256] = "";
  assert_non_null(fx);
  *state = fx;
  if (conf_in)
    conf = *conf_in;
  assert_int_equal(uv_loop_init(&fx->loop), 0);
  assert_int_equal(
      gb_http_server_new(&fx->srv, &fx->loop, &conf, errstr, sizeof(errstr)),
      0);
  fx->port = gb_http_server_port(fx->srv);
  assert_true(fx->port > 0);
  assert_int_equal(uv_async_init(&fx->loop, &fx->async, on_async), 0);
  fx->async.data = fx;
  assert_int_equal(uv_timer_init(&fx->loop, &fx->guard), 0);
  fx->guard.data = fx;
  pthread_mutex_init(&fx->mu, NULL);
  pthread_cond_init(&fx->cv, NULL);
  return fx;
}

static void fx_aux_init(fx_t *fx) {
  assert_int_equal(uv_timer_init(&fx->loop, &fx->aux), 0);
  fx->aux.data = fx;
  fx->aux_used = true;
}

static void fx_run(fx_t *fx, void (*client)(fx_t *)) {
  fx->client = client;
  assert_int_equal(uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0), 0);
  assert_int_equal(pthread_create(&fx->thread, NULL, client_main, fx), 0);
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  gb_http_respond(fx->held, 200, NULL, NULL, NULL, 0); /* frees if orphaned */
  fx->held = NULL;
  assert_false(fx->timed_out);
  assert_int_equal(uv_loop_close(&fx->loop), 0);
}

static int fx_teardown(void **state) {
  fx_t *fx = *state;
  if (!fx)
    return 0;
  pthread_mutex_destroy(&fx->mu);
  pthread_cond_destroy(&fx->cv);
  free(fx);
  *state = NULL;
  return 0;
}

/* Loop thread: wakes a client blocked in cli_wait. */
static void fx_notify(fx_t *fx) {
  pthread_mutex_lock(&fx->mu);
  fx->notified++;
  pthread_cond_broadcast(&fx->cv);
  pthread_mutex_unlock(&fx->mu);
}

/* ---- blocking client (client thread only) ---- */

typedef struct {
  int fd;
  size_t len;
  char buf[1 << 16];
} cli_t;

static bool cli_wait(fx_t *fx, int n) {
  struct timespec ts;
  bool ok = true;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += CLIENT_TIMEOUT_S;
  pthread_mutex_lock(&fx->mu);
  while (fx->notified < n && ok)
    ok = pthread_cond_timedwait(&fx->cv, &fx->mu, &ts) == 0;
  ok = fx->notified >= n;
  pthread_mutex_unlock(&fx->mu);
  return ok;
}

static void cli_signal(fx_t *fx) {
  atomic_fetch_add(&fx->signals, 1);
  uv_async_send(&fx->async);
}

static bool cli_connect_rcvbuf(cli_t *c, int port, int rcvbuf) {
  struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_S};
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)port)};
  c->len = 0;
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c->fd < 0)
    return false;
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (rcvbuf > 0)
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  return connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

static bool cli_connect(cli_t *c, int port) {
  return cli_connect_rcvbuf(c, port, 0);
}

static void cli_close(cli_t *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}

static bool cli_sendn(cli_t *c, const char *s, size_t n) {
  while (n > 0) {
    ssize_t r = send(c->fd, s, n, MSG_NOSIGNAL);
    if (r <= 0)
      return false;
    s += r;
    n -= (size_t)r;
  }
  return true;
}

static bool cli_send(cli_t *c, const char *s) {
  return cli_sendn(c, s, strlen(s));
}

/* Reads more; > 0 bytes, 0 on EOF, < 0 on error or timeout. */
static ssize_t cli_fill(cli_t *c) {
  ssize_t r;
  if (c->len == sizeof(c->buf))
    return -1;
  r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
  if (r > 0)
    c->len += (size_t)r;
  return r;
}

static void cli_consume(cli_t *c, size_t n) {
  memmove(c->buf, c->buf + n, c->len - n);
  c->len -= n;
}

static const char *cli_find(const cli_t *c, const char *needle) {
  return memmem(c->buf, c->len, needle, strlen(needle));
}

/* Pops the next complete response (headers and Content-Length body) into
 * out as a string. */
static bool cli_response(cli_t *c, char *out, size_t out_size) {
  for (;;) {
    const char *end = cli_find(c, "\r\n\r\n");
    if (end) {
      size_t hlen = (size_t)(end - c->buf) + 4, clen = 0, total;
      char head[4096];
      const char *cl;
      if (hlen >= sizeof(head))
        return false;
      memcpy(head, c->buf, hlen);
      head[hlen] = '\0';
      if ((cl = strcasestr(head, "\r\nContent-Length:")) != NULL)
        clen = strtoul(cl + 17, NULL, 10);
      total = hlen + clen;
      if (c->len >= total) {
        if (total >= out_size)
          return false;
        memcpy(out, c->buf, total);
        out[total] = '\0';
        cli_consume(c, total);
        return true;
      }
    }
    if (cli_fill(c) <= 0)
      return false;
  }
}

static bool cli_until(cli_t *c, const char *needle) {
  while (!cli_find(c, needle))
    if (cli_fill(c) <= 0)
      return false;
  return true;
}

static bool cli_until_len(cli_t *c, size_t n) {
  while (c->len < n)
    if (cli_fill(c) <= 0)
      return false;
  return true;
}

/* True once the server has closed the connection (EOF or reset). */
static bool cli_eof(cli_t *c) {
  for (;;) {
    ssize_t r;
    c->len = 0;
    r = cli_fill(c);
    if (r == 0 || (r < 0 && errno == ECONNRESET))
      return true;
    if (r < 0)
      return false;
  }
}

static bool cli_get(cli_t *c, const char *path, char *out, size_t out_size) {
  char req[512];
  snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
  return cli_send(c, req) && cli_response(c, out, out_size);
}

static const char *body_of(const char *resp) {
  const char *b = strstr(resp, "\r\n\r\n");
  return b ? b + 4 : "";
}

/* ---- shared handlers ---- */

static void h_text(gb_http_req_t *req, void *ud) {
  fx_t *fx = ud;
  fx->calls++;
  fx->conns_seen = gb_http_server_connections(fx->srv);
  gb_http_respond(req, 200, "text/plain", NULL, "pong", 4);
}

static void h_echo_param(gb_http_req_t *req, void *ud) {
  const char *x = gb_http_req_param(req, "x");
  fx_t *fx = ud;
  size_t n = strlen(fx->order);
  if (n + 2 < sizeof(fx->order))
    fx->order[n] = x[0];
  gb_http_respond(req, 200, "text/plain", NULL, x, strlen(x));
}

static void h_echo_body(gb_http_req_t *req, void *ud) {
  size_t len;
  const char *body = gb_http_req_body(req, &len);
  fx_t *fx = ud;
  fx->calls++;
  gb_http_respond(req, 201, "application/octet-stream", "X-Echo: 1\r\n", body,
                  len);
}

static void h_hold(gb_http_req_t *req, void *ud) {
  fx_t *fx = ud;
  fx->calls++;
  fx->held = req;
  fx_notify(fx);
}

/* ---- routing, params, query ---- */

static void h_params(gb_http_req_t *req, void *ud) {
  fx_t *fx = ud;
  char buf[64], tiny[3];
  const char *v;
  fx->calls++;
  snprintf(fx->got[0], 256, "%s", gb_http_req_param(req, "id"));
  snprintf(fx->got[1], 256, "%s", gb_http_req_param(req, "item"));
  v = gb_http_req_query_param(req, "name", buf, sizeof(buf));
  snprintf(fx->got[2], 256, "%s", v ? v : "(null)");
  v = gb_http_req_query_param(req, "x", buf, sizeof(buf));
  snprintf(fx->got[3], 256, "%s", v ? v : "(null)");
  v = gb_http_req_query_param(req, "flag", buf, sizeof(buf));
  snprintf(fx->got[4], 256, "%s", v ? v : "(null)");
  v = gb_http_req_query_param(req, "missing", buf, sizeof(buf));
  snprintf(fx->got[5], 256, "%s", v ? v : "(null)");
  v = gb_http_req_query_param(req, "name", tiny, sizeof(tiny));
  snprintf(fx->got[6], 256, "%s", v ? v : "(null)");
  v = gb_http_req_query_param(req, "bad", buf, sizeof(buf));
  snprintf(fx->got[7], 256, "%s", v ? v : "(null)");
  snprintf(fx->got[8], 256, "%s %s ? %s", gb_http_req_method(req),
           gb_http_req_path(req), gb_http_req_query(req));
  v = gb_http_req_header(req, "x-test-header");
  snprintf(fx->got[9], 256, "%s", v ? v : "(null)");
  snprintf(fx->got[10], 256, "%s", gb_http_req_peer(req));
  v = gb_http_req_param(req, "nope");
  snprintf(fx->got[11], 256, "%s", v ? v : "(null)");
  gb_http_respond(req, 200, "text/plain", NULL, "ok", 2);
}

static void client_params(fx_t *fx) {
  cli_t c;
  fx->ok[0] =
      cli_connect(&c, fx->port) &&
      cli_send(&c, "GET /users/42/items/a%20b?name=J%C3%B6rg+B&x=a%2Bb&flag"
                   "&bad=%zz%4&n%61me=second HTTP/1.1\r\nHost: t\r\n"
                   "X-Test-Header: yes\r\n\r\n") &&
      cli_response(&c, fx->resp[0], sizeof(fx->resp[0]));
  cli_close(&c);
}

static void test_http__route_params_and_query(void **state) {
  fx_t *fx = fx_new(state, NULL);
  assert_int_equal(gb_http_route(fx->srv, "GET", "/users/:id", h_text, fx), 0);
  assert_int_equal(
      gb_http_route(fx->srv, "GET", "/users/:id/items/:item", h_params, fx), 0);
  fx_run(fx, client_params);
  assert_true(fx->ok[0]);
  assert_int_equal(fx->calls, 1);
  assert_string_equal(fx->got[0], "42");
  assert_string_equal(fx->got[1], "a%20b"); /* path params stay undecoded */
  assert_string_equal(fx->got[2], "J\xc3\xb6rg B");
  assert_string_equal(fx->got[3], "a+b");
  assert_string_equal(fx->got[4], "");
  assert_string_equal(fx->got[5], "(null)");
  assert_string_equal(fx->got[6], "(null)"); /* does not fit in 3 bytes */
  assert_string_equal(fx->got[7], "%zz%4");
  assert_string_equal(fx->got[8],
                      "GET /users/42/items/a%20b ? name=J%C3%B6rg+B&x=a%2Bb"
                      "&flag&bad=%zz%4&n%61me=second");
  assert_string_equal(fx->got[9], "yes");
  assert_string_equal(fx->got[10], "127.0.0.1");
  assert_string_equal(fx->got[11], "(null)");
  assert_non_null(strstr(fx->resp[0], "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(fx->resp[0], "Content-Type: text/plain\r\n"));
  assert_non_null(strstr(fx->resp[0], "Content-Length: 2\r\n"));
  assert_non_null(strstr(fx->resp[0], "Connection: keep-alive\r\n"));
  assert_string_equal(body_of(fx->resp[0]), "ok");
}

/* ---- bodies ---- */

static void client_post(fx_t *fx) {
  cli_t c;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                           "Content-Length: 11\r\n\r\nhello world") &&
              cli_response(&c, fx->resp[0], sizeof(fx->resp[0]));
  fx->ok[1] = fx->ok[0] &&
              cli_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n6\r\n chunk\r\n0\r\n\r\n") &&
              cli_response(&c, fx->resp[1], sizeof(fx->resp[1]));
  /* Expect: 100-continue gets the interim response before the body. */
  fx->ok[2] = fx->ok[1] &&
              cli_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                           "Expect: 100-continue\r\n"
                           "Content-Length: 3\r\n\r\n") &&
              cli_until(&c, "\r\n\r\n");
  if (fx->ok[2]) {
    snprintf(fx->resp[2], sizeof(fx->resp[2]), "%.*s", (int)c.len, c.buf);
    c.len = 0;
  }
  fx->ok[3] = fx->ok[2] && cli_send(&c, "abc") &&
              cli_response(&c, fx->resp[3], sizeof(fx->resp[3]));
  cli_close(&c);
}

static void test_http__post_body(void **state) {
  fx_t *fx = fx_new(state, NULL);
  assert_int_equal(gb_http_route(fx->srv, "POST", "/echo", h_echo_body, fx), 0);
  fx_run(fx, client_post);
  assert_true(fx->ok[0] && fx->ok[1] && fx->ok[2] && fx->ok[3]);
  assert_int_equal(fx->calls, 3);
  assert_non_null(strstr(fx->resp[0], "HTTP/1.1 201 Created\r\n"));
  assert_non_null(strstr(fx->resp[0], "X-Echo: 1\r\n"));
  assert_non_null(strstr(fx->resp[0], "Content-Length: 11\r\n"));
  assert_string_equal(body_of(fx->resp[0]), "hello world");
  assert_string_equal(body_of(fx->resp[1]), "hello chunk");
  assert_string_equal(fx->resp[2], "HTTP/1.1 100 Continue\r\n\r\n");
  assert_string_equal(body_of(fx->resp[3]), "abc");
}

/* ---- keep-alive and pipelining ---- */

static void client_keepalive(fx_t *fx) {
  cli_t c;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_get(&c, "/ping", fx->resp[0], sizeof(fx->resp[0]));
  fx->ok[1] =
      fx->ok[0] && cli_get(&c, "/ping", fx->resp[1], sizeof(fx->resp[1]));
  /* Connection: close is honoured: the answer says so and EOF follows. */
  fx->ok[2] = fx->ok[1] &&
              cli_send(&c, "GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n") &&
              cli_response(&c, fx->resp[2], sizeof(fx->resp[2])) && cli_eof(&c);
  cli_close(&c);
  /* HTTP/1.0 without keep-alive closes too. */
  fx->ok[3] = cli_connect(&c, fx->port) &&
              cli_send(&c, "GET /ping HTTP/1.0\r\n\r\n") &&
              cli_response(&c, fx->resp[3], sizeof(fx->resp[3])) && cli_eof(&c);
  cli_close(&c);
}

static void test_http__keepalive(void **state) {
  fx_t *fx = fx_new(state, NULL);
  assert_int_equal(gb_http_route(fx->srv, "GET", "/ping", h_text, fx), 0);
  fx_run(fx, client_keepalive);
  assert_true(fx->ok[0] && fx->ok[1] && fx->ok[2] && fx->ok[3]);
  assert_int_equal(fx->calls, 4);
  for (int i = 0; i < 2; i++) {
    assert_non_null(strstr(fx->resp[i], "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(fx->resp[i], "Connection: keep-alive\r\n"));
    assert_string_equal(body_of(fx->resp[i]), "pong");
  }
  assert_non_null(strstr(fx->resp[2], "Connection: close\r\n"));
  assert_non_null(strstr(fx->resp[3], "Connection: close\r\n"));
}

static void client_pipelined(fx_t *fx) {
  cli_t c;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_send(&c, "GET /p/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                           "GET /p/2 HTTP/1.1\r\nHost: t\r\n\r\n"
                           "GET /p/3 HTTP/1.1\r\nHost: t\r\n\r\n") &&
              cli_response(&c, fx->resp[0], sizeof(fx->resp[0])) &&
              cli_response(&c, fx->resp[1], sizeof(fx->resp[1])) &&
              cli_response(&c, fx->resp[2], sizeof(fx->resp[2]));
  cli_close(&c);
}

static void test_http__pipelined(void **state) {
  fx_t *fx = fx_new(state, NULL);
  assert_int_equal(gb_http_route(fx->srv, "GET", "/p/:x", h_echo_param, fx), 0);
  fx_run(fx, client_pipelined);
  assert_true(fx->ok[0]);
  assert_string_equal(body_of(fx->resp[0]), "1");
  assert_string_equal(body_of(fx->resp[1]), "2");
  assert_string_equal(body_of(fx->resp[2]), "3");
  assert_string_equal(fx->order, "123");
}

/* ---- async respond ---- */

static void on_slow_timer(uv_timer_t *t) {
  fx_t *fx = t->data;
  strcat(fx->order, "r");
  gb_http_respond(fx->held, 200, "text/plain", NULL, "slow", 4);
  fx->held = NULL;
  uv_close((uv_handle_t *)t, NULL);
}

static void h_slow(gb_http_req_t *req, void *ud) {
  fx_t *fx = ud;
  strcat(fx->order, "s");
  fx->held = req;
  uv_timer_start(&fx->aux, on_slow_timer, 30, 0);
}

static void h_fast(gb_http_req_t *req, void *ud) {
  fx_t *fx = ud;
  strcat(fx->order, "f");
  gb_http_respond(req, 200, "text/plain", NULL, "fast", 4);
}

static void client_async(fx_t *fx) {
  cli_t c;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_send(&c, "GET /slow HTTP/1.1\r\n\r\n"
                           "GET /fast HTTP/1.1\r\n\r\n") &&
              cli_response(&c, fx->resp[0], sizeof(fx->resp[0])) &&
              cli_response(&c, fx->resp[1], sizeof(fx->resp[1]));
  cli_close(&c);
}

static void test_http__async_respond(void **state) {
  fx_t *fx = fx_new(state, NULL);
  fx_aux_init(fx);
  assert_int_equal(gb_http_route(fx->srv, "GET", "/slow", h_slow, fx), 0);
  assert_int_equal(gb_http_route(fx->srv, "GET", "/fast", h_fast, fx), 0);
  fx_run(fx, client_async);
  assert_true(fx->ok[0]);
  assert_string_equal(body_of(fx->resp[0]), "slow");
  assert_string_equal(body_of(fx->resp[1]), "fast");
  /* The pipelined /fast waited for /slow's answer. */
  assert_string_equal(fx->order, "srf");
}

static void on_poll_disconnected(uv_timer_t *t) {
  fx_t *fx = t->data;
  if (gb_http_server_connections(fx->srv) != 0)
    return;
  fx->conns_seen = gb_http_server_connections(fx->srv);
  gb_http_respond(fx->held, 200, "text/plain", NULL, "late", 4);
  fx->held = NULL;
  uv_close((uv_handle_t *)t, NULL);
  fx_event_seen(fx);
}

static void h_hold_and_poll(gb_http_req_t *req, void *ud) {
  fx_t *fx = ud;
  h_hold(req, ud);
  /* No public event says the connection went away, so poll the count;
   * the guard timer bounds this. */
  uv_timer_start(&fx->aux, on_poll_disconnected, 2, 2);
}

static void client_disconnect(fx_t *fx) {
  cli_t c;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_send(&c, "GET /hold HTTP/1.1\r\n\r\n") && cli_wait(fx, 1);
  cli_close(&c);
}

static void test_http__disconnect_before_async_respond(void **state) {
  fx_t *fx = fx_new(state, NULL);
  fx_aux_init(fx);
  fx->waits = 1;
  fx->conns_seen = -1;
  assert_int_equal(gb_http_route(fx->srv, "GET", "/hold", h_hold_and_poll, fx),
                   0);
  fx_run(fx, client_disconnect);
  assert_true(fx->ok[0]);
  assert_int_equal(fx->calls, 1);
  assert_int_equal(fx->conns_seen, 0);
  assert_null(fx->held);
}

static void on_signal_close_server(fx_t *fx, int n) {
  (void)n;
  gb_http_server_close(fx->srv);
  fx->srv = NULL;
}

static void client_hold_then_close(fx_t *fx) {
  cli_t c;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_send(&c, "GET /hold HTTP/1.1\r\n\r\n") && cli_wait(fx, 1);
  cli_signal(fx);
  fx->ok[1] = fx->ok[0] && cli_eof(&c);
  cli_close(&c);
}

/* The handler still holds its request when the server is freed; fx_run
 * responds to it afterwards, which must only free it. */
static void test_http__respond_after_server_close(void **state) {
  fx_t *fx = fx_new(state, NULL);
  fx->on_signal = on_signal_close_server;
  assert_int_equal(gb_http_route(fx->srv, "GET", "/hold", h_hold, fx), 0);
  fx_run(fx, client_hold_then_close);
  assert_true(fx->ok[0] && fx->ok[1]);
  assert_int_equal(fx->calls, 1);
}

/* ---- errors and limits ---- */

static void client_404_405(fx_t *fx) {
  cli_t c;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_get(&c, "/nope", fx->resp[0], sizeof(fx->resp[0])) &&
              cli_send(&c, "DELETE /items/7 HTTP/1.1\r\n\r\n") &&
              cli_response(&c, fx->resp[1], sizeof(fx->resp[1])) &&
              cli_get(&c, "/items/7/", fx->resp[2], sizeof(fx->resp[2])) &&
              cli_get(&c, "/items/7", fx->resp[3], sizeof(fx->resp[3]));
  cli_close(&c);
}

static void test_http__not_found_and_method_not_allowed(void **state) {
  fx_t *fx = fx_new(state, NULL);
  assert_int_equal(gb_http_route(fx->srv, "GET", "/items/:id", h_text, fx), 0);
  assert_int_equal(gb_http_route(fx->srv, "POST", "/items/:id", h_text, fx), 0);
  assert_int_equal(gb_http_route(fx->srv, "GET", "/items/:id", h_text, fx), 0);
  assert_int_equal(gb_http_route(fx->srv, "PUT", "/other", h_text, fx), 0);
  fx_run(fx, client_404_405);
  assert_true(fx->ok[0]);
  assert_non_null(strstr(fx->resp[0], "HTTP/1.1 404 Not Found\r\n"));
  assert_non_null(strstr(fx->resp[0], "Connection: keep-alive\r\n"));
  assert_non_null(strstr(fx->resp[1], "HTTP/1.1 405 Method Not Allowed\r\n"));
  assert_non_null(strstr(fx->resp[1], "\r\nAllow: GET, POST\r\n"));
  assert_non_null(strstr(fx->resp[2], "HTTP/1.1 404 Not Found\r\n"));
  assert_non_null(strstr(fx->resp[3], "HTTP/1.1 200 OK\r\n"));
  assert_int_equal(fx->calls, 1);
}

static void client_431(fx_t *fx) {
  char big[2200];
  cli_t c;
  memset(big, 'a', sizeof(big));
  memcpy(big, "X-Big: ", 7);
  memcpy(big + sizeof(big) - 5, "\r\n\r\n", 5);
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_send(&c, "GET /ping HTTP/1.1\r\n") && cli_send(&c, big) &&
              cli_response(&c, fx->resp[0], sizeof(fx->resp[0])) && cli_eof(&c);
  cli_close(&c);
  memset(big, 'b', sizeof(big));
  memcpy(big, "GET /", 5);
  memcpy(big + sizeof(big) - 16, " HTTP/1.1\r\n\r\n", 14);
  fx->ok[1] = cli_connect(&c, fx->port) && cli_send(&c, big) &&
              cli_response(&c, fx->resp[1], sizeof(fx->resp[1])) && cli_eof(&c);
  cli_close(&c);
}

static void test_http__header_too_large(void **state) {
  gb_http_conf_t conf = {.host = "127.0.0.1", .max_header_bytes = 1024};
  fx_t *fx = fx_new(state, &conf);
  assert_int_equal(gb_http_route(fx->srv, "GET", "/ping", h_text, fx), 0);
  fx_run(fx, client_431);
  assert_true(fx->ok[0] && fx->ok[1]);
  for (int i = 0; i < 2; i++) {
    assert_non_null(strstr(fx->resp[i], "HTTP/1.1 431 Request Header Fields "
                                        "Too Large\r\n"));
    assert_non_null(strstr(fx->resp[i], "Connection: close\r\n"));
  }
  assert_int_equal(fx->calls, 0);
}

static void client_413(fx_t *fx) {
  char chunk[80];
  cli_t c;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_send(&c, "POST /echo HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"
                           "0123456789") &&
              cli_response(&c, fx->resp[0], sizeof(fx->resp[0])) && cli_eof(&c);
  cli_close(&c);
  /* A chunked body has no length up front; it is cut off while read. */
  memset(chunk, 'z', sizeof(chunk));
  fx->ok[1] = cli_connect(&c, fx->port) &&
              cli_send(&c, "POST /echo HTTP/1.1\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n50\r\n") &&
              cli_sendn(&c, chunk, sizeof(chunk)) &&
              cli_send(&c, "\r\n50\r\n") &&
              cli_sendn(&c, chunk, sizeof(chunk)) &&
              cli_response(&c, fx->resp[1], sizeof(fx->resp[1])) && cli_eof(&c);
  cli_close(&c);
}

static void test_http__body_too_large(void **state) {
  gb_http_conf_t conf = {.host = "127.0.0.1", .max_body_bytes = 100};
  fx_t *fx = fx_new(state, &conf);
  assert_int_equal(gb_http_route(fx->srv, "POST", "/echo", h_echo_body, fx), 0);
  fx_run(fx, client_413);
  assert_true(fx->ok[0] && fx->ok[1]);
  for (int i = 0; i < 2; i++) {
    assert_non_null(strstr(fx->resp[i], "HTTP/1.1 413 Payload Too Large\r\n"));
    assert_non_null(strstr(fx->resp[i], "Connection: close\r\n"));
  }
  assert_int_equal(fx->calls, 0);
}

static void client_400(fx_t *fx) {
  static const char *bad[] = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
  };
  for (int i = 0; i < 3; i++) {
    cli_t c;
    fx->ok[i] = cli_connect(&c, fx->port) && cli_send(&c, bad[i]) &&
                cli_response(&c, fx->resp[i], sizeof(fx->resp[i])) &&
                cli_eof(&c);
    cli_close(&c);
  }
}

static void test_http__malformed(void **state) {
  fx_t *fx = fx_new(state, NULL);
  assert_int_equal(gb_http_route(fx->srv, "GET", "/", h_text, fx), 0);
  fx_run(fx, client_400);
  for (int i = 0; i < 3; i++) {
    assert_true(fx->ok[i]);
    assert_non_null(strstr(fx->resp[i], "HTTP/1.1 400 Bad Request\r\n"));
  }
  assert_int_equal(fx->calls, 0);
}

static void client_503(fx_t *fx) {
  cli_t a, b;
  fx->ok[0] = cli_connect(&a, fx->port) &&
              cli_get(&a, "/ping", fx->resp[0], sizeof(fx->resp[0]));
  fx->ok[1] = cli_connect(&b, fx->port) &&
              cli_response(&b, fx->resp[1], sizeof(fx->resp[1])) && cli_eof(&b);
  cli_close(&b);
  fx->ok[2] =
      fx->ok[0] && cli_get(&a, "/ping", fx->resp[2], sizeof(fx->resp[2]));
  cli_close(&a);
}

static void test_http__max_connections(void **state) {
  gb_http_conf_t conf = {.host = "127.0.0.1", .max_connections = 1};
  fx_t *fx = fx_new(state, &conf);
  assert_int_equal(gb_http_route(fx->srv, "GET", "/ping", h_text, fx), 0);
  fx_run(fx, client_503);
  assert_true(fx->ok[0] && fx->ok[1] && fx->ok[2]);
  assert_non_null(strstr(fx->resp[0], "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(fx->resp[1], "HTTP/1.1 503 Service Unavailable\r\n"));
  assert_non_null(strstr(fx->resp[2], "HTTP/1.1 200 OK\r\n"));
  assert_int_equal(fx->conns_seen, 1);
}

static void client_idle(fx_t *fx) {
  cli_t c;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_get(&c, "/ping", fx->resp[0], sizeof(fx->resp[0])) &&
              cli_eof(&c);
  cli_close(&c);
}

static void test_http__idle_timeout(void **state) {
  gb_http_conf_t conf = {.host = "127.0.0.1", .idle_timeout_ms = 50};
  fx_t *fx = fx_new(state, &conf);
  assert_int_equal(gb_http_route(fx->srv, "GET", "/ping", h_text, fx), 0);
  fx_run(fx, client_idle);
  assert_true(fx->ok[0]);
  assert_non_null(strstr(fx->resp[0], "Connection: keep-alive\r\n"));
}

/* ---- Server-Sent Events ---- */

#define SSE_HEAD                                                               \
  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"                     \
  "Cache-Control: no-cache\r\nConnection: keep-alive\r\n"                      \
  "X-Accel-Buffering: no\r\n\r\n"

static void on_sse_close(gb_sse_t *s, void *ud) {
  fx_t *fx = ud;
  const gb_http_req_t *req = gb_sse_req(s);
  fx->on_close_calls++;
  fx->rc[3] = gb_sse_send(s, NULL, NULL, "late", 4);
  snprintf(fx->got[0], 256, "%s", gb_http_req_path(req));
  snprintf(fx->got[1], 256, "%s", gb_http_req_header(req, "last-event-id"));
  fx->streams_seen = gb_http_server_streams(fx->srv);
  fx->sse = NULL;
  fx_event_seen(fx);
}

static void h_events(gb_http_req_t *req, void *ud) {
  fx_t *fx = ud;
  fx->calls++;
  fx->sse = gb_http_sse_start(req, on_sse_close, fx);
  fx->conns_seen = gb_http_server_streams(fx->srv);
  fx->rc[0] = gb_sse_send(fx->sse, "1", "alert", "line1\nline2", 11);
  fx->rc[1] = gb_sse_send(fx->sse, "2", NULL, "x", 1);
  fx->rc[2] = gb_sse_send(fx->sse, NULL, NULL, "a\r\nb", 4);
}

static const char sse_expected[] = SSE_HEAD
    "id: 1\nevent: alert\ndata: line1\ndata: line2\n\n"
    "id: 2\ndata: x\n\n"
    "data: a\ndata: b\n\n";

static void client_sse(fx_t *fx) {
  cli_t c;
  size_t n = sizeof(sse_expected) - 1;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_send(&c, "GET /events HTTP/1.1\r\n"
                           "Last-Event-ID: 7\r\n\r\n") &&
              cli_until_len(&c, n);
  snprintf(fx->stream, sizeof(fx->stream), "%.*s", (int)c.len, c.buf);
  /* Whatever the client sends on a stream is read and ignored. */
  fx->ok[1] = fx->ok[0] && cli_send(&c, "ignored bytes\r\n\r\n");
  cli_close(&c);
}

static void test_http__sse_events_and_client_close(void **state) {
  fx_t *fx = fx_new(state, NULL);
  fx->waits = 1;
  assert_int_equal(gb_http_route(fx->srv, "GET", "/events", h_events, fx), 0);
  fx_run(fx, client_sse);
  assert_true(fx->ok[0] && fx->ok[1]);
  assert_int_equal(fx->conns_seen, 1);
  assert_int_equal(fx->rc[0], 0);
  assert_int_equal(fx->rc[1], 0);
  assert_int_equal(fx->rc[2], 0);
  assert_string_equal(fx->stream, sse_expected);
  assert_int_equal(fx->on_close_calls, 1);
  assert_int_equal(fx->rc[3], GB_EIO);
  assert_string_equal(fx->got[0], "/events");
  assert_string_equal(fx->got[1], "7");
  assert_int_equal(fx->streams_seen, 0);
}

static void client_sse_server_close(fx_t *fx) {
  cli_t c;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_send(&c, "GET /events HTTP/1.1\r\n\r\n") &&
              cli_until_len(&c, sizeof(sse_expected) - 1);
  cli_signal(fx);
  fx->ok[1] = fx->ok[0] && cli_eof(&c);
  cli_close(&c);
}

static void test_http__sse_server_close(void **state) {
  fx_t *fx = fx_new(state, NULL);
  fx->waits = 1;
  fx->on_signal = on_signal_close_server;
  assert_int_equal(gb_http_route(fx->srv, "GET", "/events", h_events, fx), 0);
  fx_run(fx, client_sse_server_close);
  assert_true(fx->ok[0] && fx->ok[1]);
  assert_int_equal(fx->on_close_calls, 1);
  assert_int_equal(fx->rc[3], GB_EIO);
}

static void h_events_quiet(gb_http_req_t *req, void *ud) {
  fx_t *fx = ud;
  fx->sse = gb_http_sse_start(req, on_sse_close, fx);
}

static void client_sse_keepalive(fx_t *fx) {
  cli_t c;
  fx->ok[0] = cli_connect(&c, fx->port) &&
              cli_send(&c, "GET /events HTTP/1.1\r\n\r\n") &&
              cli_until_len(&c, strlen(SSE_HEAD ": keepalive\n\n"));
  /* A slow client thread may already hold a second keepalive. */
  snprintf(fx->stream, sizeof(fx->stream), "%.*s",
           (int)strlen(SSE_HEAD ": keepalive\n\n"), c.buf);
  cli_close(&c);
}

static void test_http__sse_keepalive(void **state) {
  gb_http_conf_t conf = {.host = "127.0.0.1", .sse_keepalive_ms = 20};
  fx_t *fx = fx_new(state, &conf);
  fx->waits = 1;
  assert_int_equal(gb_http_route(fx->srv, "GET", "/events", h_events_quiet, fx),
                   0);
  fx_run(fx, client_sse_keepalive);
  assert_true(fx->ok[0]);
  assert_string_equal(fx->stream, SSE_HEAD ": keepalive\n\n");
  assert_int_equal(fx->on_close_calls, 1);
}

static void h_events_flood(gb_http_req_t *req, void *ud) {
  fx_t *fx = ud;
  static char chunk[64 * 1024];
  int rc = 0;
  memset(chunk, 'q', sizeof(chunk));
  fx->sse = gb_http_sse_start(req, on_sse_close, fx);
  /* The client does not read, so the queue must pass 4 MiB well before
   * this cap. */
  while (rc == 0 && fx->sent < 4096) {
    rc = gb_sse_send(fx->sse, NULL, NULL, chunk, sizeof(chunk));
    fx->sent += rc == 0;
  }
  fx->rc[0] = rc;
  fx->rc[1] = gb_sse_send(fx->sse, NULL, NULL, "x", 1);
  fx_notify(fx);
}

static void client_sse_slow(fx_t *fx) {
  cli_t c;
  fx->ok[0] = cli_connect_rcvbuf(&c, fx->port, 16 * 1024) &&
              cli_send(&c, "GET /events HTTP/1.1\r\n\r\n") && cli_wait(fx, 1);
  cli_close(&c);
}

static void test_http__sse_slow_consumer(void **state) {
  fx_t *fx = fx_new(state, NULL);
  fx->waits = 1;
  assert_int_equal(gb_http_route(fx->srv, "GET", "/events", h_events_flood, fx),
                   0);
  fx_run(fx, client_sse_slow);
  assert_true(fx->ok[0]);
  assert_int_equal(fx->rc[0], GB_ETOOBIG);
  assert_int_equal(fx->rc[1], GB_EIO);
  assert_true(fx->sent >= 64 && fx->sent < 4096);
  assert_int_equal(fx->on_close_calls, 1);
}

/* ---- construction and NULL safety ---- */

static void test_http__new_errors_and_null_safety(void **state) {
  uv_loop_t loop;
  gb_http_server_t *a = NULL, *b = (gb_http_server_t *)&loop;
  gb_http_conf_t conf = {.host = "127.0.0.1"};
  char errstr[256] = "";
  char buf[8];
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(gb_http_server_new(&a, &loop, &conf, errstr, sizeof(errstr)),
                   0);
  conf.port = gb_http_server_port(a);
  assert_int_equal(gb_http_server_new(&b, &loop, &conf, errstr, sizeof(errstr)),
                   GB_EIO);
  assert_null(b);
  assert_non_null(strstr(errstr, "http: bind 127.0.0.1:"));
  assert_non_null(strstr(errstr, "address already in use"));
  conf.host = "not-an-address";
  assert_int_equal(gb_http_server_new(&b, &loop, &conf, errstr, sizeof(errstr)),
                   GB_EINVAL);
  conf.host = "127.0.0.1";
  conf.port = 70000;
  assert_int_equal(gb_http_server_new(&b, &loop, &conf, errstr, sizeof(errstr)),
                   GB_EINVAL);
  assert_int_equal(gb_http_server_new(&b, &loop, NULL, NULL, 0), GB_EINVAL);
  assert_int_equal(gb_http_route(a, "GET", "no-slash", h_text, NULL),
                   GB_EINVAL);
  assert_int_equal(gb_http_server_connections(a), 0);
  assert_int_equal(gb_http_server_streams(a), 0);

  gb_http_server_close(NULL);
  gb_http_respond(NULL, 200, NULL, NULL, NULL, 0);
  gb_sse_close(NULL);
  assert_null(gb_http_sse_start(NULL, NULL, NULL));
  assert_int_equal(gb_sse_send(NULL, NULL, NULL, "x", 1), GB_EINVAL);
  assert_null(gb_sse_req(NULL));
  assert_true(gb_http_server_port(NULL) < 0);
  assert_null(gb_http_req_header(NULL, "x"));
  assert_null(gb_http_req_query_param(NULL, "x", buf, sizeof(buf)));

  gb_http_server_close(a);
  gb_http_server_close(a); /* idempotent until the loop runs */
  assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&loop), 0);
}

#define FX_TEST(f) cmocka_unit_test_teardown(f, fx_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      FX_TEST(test_http__route_params_and_query),
      FX_TEST(test_http__post_body),
      FX_TEST(test_http__keepalive),
      FX_TEST(test_http__pipelined),
      FX_TEST(test_http__async_respond),
      FX_TEST(test_http__disconnect_before_async_respond),
      FX_TEST(test_http__respond_after_server_close),
      FX_TEST(test_http__not_found_and_method_not_allowed),
      FX_TEST(test_http__header_too_large),
      FX_TEST(test_http__body_too_large),
      FX_TEST(test_http__malformed),
      FX_TEST(test_http__max_connections),
      FX_TEST(test_http__idle_timeout),
      FX_TEST(test_http__sse_events_and_client_close),
      FX_TEST(test_http__sse_server_close),
      FX_TEST(test_http__sse_keepalive),
      FX_TEST(test_http__sse_slow_consumer),
      cmocka_unit_test(test_http__new_errors_and_null_safety),
  };
  /* libuv writes with write(2); a peer that has gone must not kill us. */
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
