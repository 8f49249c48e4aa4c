#include "gb/admin.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "gb/err.h"
#include "gb/health.h"
#include "gb/http.h"
#include "gb/log.h"

/* The admin endpoint's limits: three GET routes for probes and a scraper,
 * on loopback by default; nothing here needs more. */
#define ADMIN_MAX_CONNECTIONS 64
#define ADMIN_MAX_HEADER_BYTES 16384
#define ADMIN_MAX_BODY_BYTES 4096

struct gb_admin {
  uv_loop_t loop;
  uv_async_t stop;
  gb_http_server_t *http;
  pthread_t thread;
  int port;
  const gb_metrics_t *metrics;
  gb_admin_ready_fn ready;
  void *ud;
};

static void on_healthz(gb_http_req_t *req, void *ud) {
  (void)ud;
  gb_health_respond(req, gb_health_json());
}

/* 503 while the service says it is not ready, or while Redis (watched)
 * does not answer: a load balancer or an orchestrator stops counting on
 * it until it can do its work again. */
static void on_readyz(gb_http_req_t *req, void *ud) {
  gb_admin_t *a = ud;
  char why[256] = "";
  bool ok = a->ready ? a->ready(a->ud, why, sizeof(why)) : true;
  gb_ready_respond(req, ok, why);
}

static void on_metrics(gb_http_req_t *req, void *ud) {
  gb_admin_t *a = ud;
  size_t len = 0;
  char *text = gb_metrics_render(a->metrics, &len);
  if (!text) {
    gb_http_respond(req, 500, "text/plain", NULL, "out of memory\n", 14);
    return;
  }
  gb_http_respond(req, 200, "text/plain; version=0.0.4", NULL, text, len);
  free(text);
}

static void on_stop(uv_async_t *h) {
  gb_admin_t *a = h->data;
  gb_http_server_close(a->http);
  a->http = NULL;
  uv_close((uv_handle_t *)&a->stop, NULL);
}

static void *run(void *arg) {
  gb_admin_t *a = arg;
  uv_run(&a->loop, UV_RUN_DEFAULT);
  return NULL;
}

int gb_admin_start(gb_admin_t **out, const char *host, int port, const gb_metrics_t *metrics,
                   gb_admin_ready_fn ready, void *ud, char *errstr, size_t errstr_size) {
  gb_admin_t *a = calloc(1, sizeof(*a));
  *out = NULL;
  if (!a) return GB_ENOMEM;
  a->metrics = metrics;
  a->ready = ready;
  a->ud = ud;
  uv_loop_init(&a->loop);
  gb_http_conf_t hc = {.host = host,
                       .port = port,
                       .max_connections = ADMIN_MAX_CONNECTIONS,
                       .max_header_bytes = ADMIN_MAX_HEADER_BYTES,
                       .max_body_bytes = ADMIN_MAX_BODY_BYTES,
                       .on_refused = gb_health_log_refused,
                       .refused_ud = "admin"};
  int err = gb_http_server_new(&a->http, &a->loop, &hc, errstr, errstr_size);
  if (err) {
    uv_loop_close(&a->loop);
    free(a);
    return err;
  }
  a->port = gb_http_server_port(a->http);
  gb_http_route(a->http, "GET", "/healthz", on_healthz, a);
  gb_http_route(a->http, "GET", "/readyz", on_readyz, a);
  gb_http_route(a->http, "GET", "/metrics", on_metrics, a);
  uv_async_init(&a->loop, &a->stop, on_stop);
  a->stop.data = a;
  if (pthread_create(&a->thread, NULL, run, a) != 0) {
    gb_errstr_set(errstr, errstr_size, "admin: cannot start thread");
    uv_close((uv_handle_t *)&a->stop, NULL);
    gb_http_server_close(a->http);
    uv_run(&a->loop, UV_RUN_DEFAULT);
    uv_loop_close(&a->loop);
    free(a);
    return GB_EIO;
  }
  *out = a;
  return 0;
}

int gb_admin_port(const gb_admin_t *a) { return a->port; }

void gb_admin_stop(gb_admin_t *a) {
  if (!a) return;
  uv_async_send(&a->stop);
  pthread_join(a->thread, NULL);
  uv_loop_close(&a->loop);
  free(a);
}
