/* notifier: delivers alerts (gb.alerts) to the officers' devices of the
 * alert's station over the push stream, and serves the HTTP API. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "gb/err.h"
#include "gb/health.h"
#include "gb/keyring.h"
#include "gb/log.h"
#include "gb/numkey.h"
#include "gb/service.h"
#include "alertstats.h"
#include "auth.h"
#include "notifier.h"
#include "relay.h"
#include "tail.h"
#include "web.h"
#include "webhook.h"

static const gb_opt_t notifier_opts[] = {
    {"notifier.group", GB_OPT_STRING, "gb-notifier", 0, 0,
     "Kafka consumer group of notifier workers."},
    {"http.host", GB_OPT_STRING, "127.0.0.1", 0, 0, "Address the HTTP API listens on."},
    {"http.port", GB_OPT_INT, "8080", 0, 65535, "Port of the HTTP API; 0 picks a free one."},
    {"notifier.escalate-after-s", GB_OPT_INT, "300", 1, 86400,
     "An alert nobody claimed this long after it arrived is pushed again and raised to the "
     "station administrator; as long again, to the bureau."},
    {"notifier.remind-after-s", GB_OPT_INT, "1800", 1, 86400,
     "A claimed alert with no dissuasion record this long after the claim reminds the officer "
     "who has it (alert.reminder), and again each time as long passes."},
    {"notifier.confirmed-intel-days", GB_OPT_INT, "180", 1, 3650,
     "A fraud number, site or app confirmed by an officer's record (dissuaded, money "
     "transferred) is sent to the intelligence topic to expire after this many days."},
    {"notifier.webhook-urls", GB_OPT_STRING, "", 0, 0,
     "Push gateways every notification is POSTed to, comma-separated http(s) URLs (at most 8); "
     "empty: no webhooks."},
    {"notifier.webhook-secret-file", GB_OPT_STRING, "", 0, 0,
     "File whose first line (16 to 256 bytes) is the HMAC-SHA256 key that signs every webhook "
     "request; required with webhook-urls."},
    {"notifier.webhook-attempts", GB_OPT_INT, "8", 1, 100,
     "Tries of a webhook delivery before it is dead-lettered (gb.dlq and GET /v1/webhooks/dead)."},
    {"notifier.webhook-backoff-ms", GB_OPT_INT, "1000", 10, 3600000,
     "Wait before the second try of a failed webhook delivery; doubles with each try, at most "
     "5 minutes."},
    {"notifier.webhook-timeout-ms", GB_OPT_INT, "5000", 100, 120000,
     "How long a gateway may take to answer one webhook request."},
    {"notifier.web-root", GB_OPT_STRING, "", 0, 0,
     "Directory of the console's and dashboard's files (console/, dashboard/, common/); "
     "empty: the web/ of the source tree it was built from (installed: "
     "<prefix>/share/goldenbell/web)."},
    {"http.max-connections", GB_OPT_INT, "10000", 1, 1000000,
     "Most open HTTP connections (devices included); more are refused with 503."},
    {"http.max-header-bytes", GB_OPT_INT, "16384", 1024, 65536,
     "Largest request head (request line, header lines and the blank line after them, as "
     "sent); a larger one, or one of more than 64 header lines, is refused with 431."},
    {"http.max-body-bytes", GB_OPT_INT, "1048576", 1024, 16777216,
     "Largest request body; a larger one is refused with 413 (before it is read when its "
     "Content-Length says so)."},
    {"http.idle-timeout-ms", GB_OPT_INT, "60000", 100, 3600000,
     "A keep-alive connection idle this long is closed; a request not received whole this "
     "long after its first byte is refused with 408."},
    GB_OPT_END,
};

/* 200 while the process runs; the body says whether it is degraded: Redis
 * away (the watch, gb/redis.h), with the alerts waiting for it. */
static void on_healthz(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  json_t *o = gb_health_json();
  if (o) json_object_set_new(o, "alerts_held", json_integer((json_int_t)notifier_consumer_held(n)));
  gb_health_respond(req, o);
}

/* 503 while Redis does not answer (almost every route needs it; the push
 * streams stay open but nothing new reaches them), 200 once it does. */
static void on_readyz(gb_http_req_t *req, void *ud) {
  (void)ud;
  gb_ready_respond(req, true, NULL);
}

void notifier_feed_changed(notifier_t *n, const char *station, const char *feed_id,
                           int audited) {
  if (feed_id && feed_id[0]) tail_note(n, station, feed_id);
  webhook_kick(n, station);
  if (audited) relay_kick(n, station);
}

/* Every connection is a file descriptor. Past the process's limit libuv
 * closes new connections unanswered, so the soft limit is raised to what
 * http.max-connections needs (plus room for Redis, Kafka, curl and
 * connections lingering after a 503), as far as the hard limit allows. */
static void raise_fd_limit(long max_connections) {
  struct rlimit rl;
  rlim_t want = (rlim_t)max_connections + 512;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) return;
  rlim_t to = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
  if (to > rl.rlim_cur) {
    rl.rlim_cur = to;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  }
  if (rl.rlim_cur < want)
    gb_warn("http.fd_limit",
            "max_connections=%ld open_files=%llu hint=\"connections past the open-files limit are "
            "closed unanswered: raise it (LimitNOFILE, ulimit -n) or lower http.max-connections\"",
            max_connections, (unsigned long long)rl.rlim_cur);
}

static void on_signal(uv_signal_t *h, int sig) {
  notifier_t *n = h->data;
  gb_info("notifier.stopping", "signal=%d", sig);
  uv_stop(n->loop);
}

int main(int argc, char **argv) {
  const gb_opt_t *const tables[] = {gb_common_opts, gb_numkey_opts, gb_keyring_opts, notifier_opts,
                                     NULL};
  gb_config_t *cfg = gb_service_init(
      "notifier", "Delivers alerts to the officers' devices and serves the HTTP API.", tables,
      argc, argv);
  char errstr[512];
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) gb_service_die("curl", "curl_global_init failed");
  notifier_t n;
  memset(&n, 0, sizeof(n));
  n.cfg = cfg;
  n.loop = uv_default_loop();
  n.prefix = gb_config_str(cfg, "redis.prefix");
  if (gb_redis_connect(&n.redis, gb_config_str(cfg, "redis.url"),
                       (int)gb_config_int(cfg, "redis.timeout-ms"),
                       (int)gb_config_int(cfg, "startup.timeout-ms"), errstr,
                       sizeof(errstr)) != 0)
    gb_service_die("redis", errstr);
  gb_redis_set_name(n.redis, "loop");
  /* The watch tells /healthz and /readyz whether Redis answers, and keeps
   * the loop from waiting on a server known to be away (gb/redis.h). */
  if (gb_redis_watch_start(gb_config_str(cfg, "redis.url"),
                           (int)gb_config_int(cfg, "redis.timeout-ms"), errstr,
                           sizeof(errstr)) != 0)
    gb_service_die("redis", errstr);
  /* The people an alert is about are shown from their sealed records: no
   * notifier starts without the keys that open them. */
  if (gb_numkey_load(&n.numkey, cfg, errstr, sizeof(errstr)) != 0)
    gb_service_die("config", errstr);
  if (gb_keyring_load(&n.keys, cfg, errstr, sizeof(errstr)) != 0) gb_service_die("config", errstr);
  gb_http_conf_t hc = {
      .host = gb_config_str(cfg, "http.host"),
      .port = (int)gb_config_int(cfg, "http.port"),
      .max_connections = (int)gb_config_int(cfg, "http.max-connections"),
      .max_header_bytes = (size_t)gb_config_int(cfg, "http.max-header-bytes"),
      .max_body_bytes = (size_t)gb_config_int(cfg, "http.max-body-bytes"),
      .idle_timeout_ms = (int)gb_config_int(cfg, "http.idle-timeout-ms"),
      .on_refused = gb_health_log_refused,
      .refused_ud = "api",
  };
  raise_fd_limit(hc.max_connections);
  if (gb_http_server_new(&n.http, n.loop, &hc, errstr, sizeof(errstr)) != 0)
    gb_service_die("http", errstr);
  gb_http_route(n.http, "GET", "/healthz", on_healthz, &n);
  gb_http_route(n.http, "GET", "/readyz", on_readyz, &n);
  gb_http_route(n.http, "GET", "/v1/stream", notifier_stream_handler, &n);
  notifier_api_risk_register(&n);
  notifier_api_stations_register(&n);
  notifier_api_stats_register(&n);
  notifier_api_accounts_register(&n);
  notifier_workflow_register(&n);
  notifier_api_intel_register(&n);
  notifier_api_webhooks_register(&n);
  notifier_api_alertstats_register(&n);
  notifier_api_alerts_register(&n);
  notifier_api_series_register(&n);
  if (web_start(&n, errstr, sizeof(errstr)) != 0) gb_service_die("web", errstr);
  if (relay_start(&n, errstr, sizeof(errstr)) != 0) gb_service_die("relay", errstr);
  if (webhook_start(&n, errstr, sizeof(errstr)) != 0) gb_service_die("webhook", errstr);
  if (tail_start(&n.tail, &n, errstr, sizeof(errstr)) != 0) gb_service_die("tail", errstr);
  if (notifier_consumer_start(&n, errstr, sizeof(errstr)) != 0) gb_service_die("kafka", errstr);
  n.escalate_ms = gb_config_int(cfg, "notifier.escalate-after-s") * 1000;
  n.remind_ms = gb_config_int(cfg, "notifier.remind-after-s") * 1000;
  if (notifier_escalation_start(&n) != 0) gb_service_die("timer", "escalation timer");

  uv_signal_init(n.loop, &n.sigterm);
  uv_signal_init(n.loop, &n.sigint);
  n.sigterm.data = n.sigint.data = &n;
  uv_signal_start(&n.sigterm, on_signal, SIGTERM);
  uv_signal_start(&n.sigint, on_signal, SIGINT);
  gb_info("notifier.started", "http=%s:%d", hc.host, gb_http_server_port(n.http));

  uv_run(n.loop, UV_RUN_DEFAULT);

  /* Every handled alert is committed as it is handled; closing the consumer
   * leaves the group, closing the server ends the devices' streams (they
   * reconnect elsewhere and resume). */
  notifier_escalation_stop(&n);
  notifier_consumer_stop(&n);
  relay_stop(&n);
  webhook_stop(&n);
  gb_http_server_close(n.http);
  tail_stop(n.tail);
  web_stop(&n);
  uv_close((uv_handle_t *)&n.sigterm, NULL);
  uv_close((uv_handle_t *)&n.sigint, NULL);
  uv_run(n.loop, UV_RUN_DEFAULT);
  uv_loop_close(n.loop);
  tail_free(n.tail);
  gb_info("notifier.stopped", "alerts_in=%llu pushed=%llu exit=%d",
          (unsigned long long)n.alerts_in, (unsigned long long)n.alerts_pushed, n.exit_code);
  gb_redis_watch_stop();
  gb_redis_free(n.redis);
  gb_config_free(cfg);
  curl_global_cleanup();
  return n.exit_code;
}
