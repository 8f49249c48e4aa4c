/* matcher: owns the protected-person index and the fraud list (applies
 * gb.registry and gb.intel to Redis) and decides, for every canonical event
 * (gb.events), whether a protected person is being targeted now. */
#include <stdio.h>
#include <string.h>

#include "gb/err.h"
#include "gb/log.h"
#include "gb/service.h"
#include "gb/timeparse.h"
#include "matcher.h"

static const gb_opt_t matcher_opts[] = {
    {"matcher.group", GB_OPT_STRING, "gb-matcher", 0, 0, "Kafka consumer group of matcher workers."},
    {"matcher.rules-file", GB_OPT_STRING, "", 0, 0,
     "The detection rules' settings (docs/RULES.md); empty: the defaults. Re-read on SIGHUP."},
    {"matcher.contacts-max", GB_OPT_INT, "16000000", 0, 1000000000,
     "Most calls of protected people the retro-hunting log keeps (24 bytes each); past it the "
     "oldest go early and gb_matcher_contacts_evicted_total counts them. 0 turns the log off."},
    {"admin.host", GB_OPT_STRING, "127.0.0.1", 0, 0,
     "Address of the admin endpoint (/healthz, /readyz, /metrics)."},
    {"admin.port", GB_OPT_INT, "9102", 0, 65535, "Port of the admin endpoint; 0 picks a free one."},
    GB_OPT_END,
};

gb_log_level_t matcher_redis_fail_level(const gb_redis_t *r) {
  gb_redis_health_t h;
  gb_redis_health(&h);
  return h.up && gb_redis_connected(r) ? GB_LOG_WARN : GB_LOG_DEBUG;
}

static int on_message(gb_pipeline_t *p, const rd_kafka_message_t *m, void *ud) {
  matcher_t *mt = ud;
  (void)p;
  const char *topic = rd_kafka_topic_name(m->rkt);
  if (strcmp(topic, mt->topic_events) == 0) return matcher_events_match(mt, m);
  if (strcmp(topic, mt->topic_registry) == 0) return matcher_registry_apply(mt, m);
  if (strcmp(topic, mt->topic_intel) == 0) return matcher_intel_apply(mt, m);
  gb_warn("message.unexpected_topic", "topic=%s", topic);
  return 0;
}

static int metrics_init(matcher_t *mt) {
  gb_metrics_t *g = mt->metrics = gb_metrics_new();
  if (!g) return -1;
  const char *ch = "gb_matcher_registry_changes_total";
  const char *chh = "Registry changes answered, by result.";
  mt->m.changes_accepted = gb_metrics_add(g, GB_METRIC_COUNTER, ch, chh, "result=\"accepted\"");
  mt->m.changes_refused = gb_metrics_add(g, GB_METRIC_COUNTER, ch, chh, "result=\"refused\"");
  mt->m.indicators = gb_metrics_add(g, GB_METRIC_COUNTER, "gb_matcher_indicators_total",
                                    "Fraud indicators applied.", NULL);
  mt->m.events = gb_metrics_add(g, GB_METRIC_COUNTER, "gb_matcher_events_total",
                                "Canonical events read.", NULL);
  mt->m.protected_events = gb_metrics_add(g, GB_METRIC_COUNTER,
                                          "gb_matcher_protected_events_total",
                                          "Events about a protected number (by the view).", NULL);
  mt->m.candidates = gb_metrics_add(g, GB_METRIC_COUNTER, "gb_matcher_candidates_total",
                                    "Events that may alert, confirmed in Redis.", NULL);
  const char *al = "gb_matcher_alerts_total";
  const char *alh = "Alert copies emitted (one per station), new or updated.";
  mt->m.alerts_new = gb_metrics_add(g, GB_METRIC_COUNTER, al, alh, "action=\"new\"");
  mt->m.alerts_updated = gb_metrics_add(g, GB_METRIC_COUNTER, al, alh, "action=\"update\"");
  mt->m.retro_hits = gb_metrics_add(g, GB_METRIC_COUNTER, "gb_matcher_retro_hits_total",
                                    "People found by retro-hunting.", NULL);
  mt->m.dead = gb_metrics_add(g, GB_METRIC_COUNTER, "gb_matcher_dead_total",
                              "Input messages sent to the dead-letter topic.", NULL);
  mt->m.view_protected = gb_metrics_add(g, GB_METRIC_GAUGE, "gb_matcher_view_protected",
                                        "Protected numbers in the local view.", NULL);
  mt->m.view_indicators = gb_metrics_add(g, GB_METRIC_GAUGE, "gb_matcher_view_indicators",
                                         "Fraud indicators in the local view.", NULL);
  mt->m.view_bytes = gb_metrics_add(g, GB_METRIC_GAUGE, "gb_matcher_view_bytes",
                                    "Memory held by the local view.", NULL);
  mt->m.contacts = gb_metrics_add(g, GB_METRIC_GAUGE, "gb_matcher_contacts",
                                  "Calls in the retro-hunting log.", NULL);
  mt->m.contacts_bytes = gb_metrics_add(g, GB_METRIC_GAUGE, "gb_matcher_contacts_bytes",
                                        "Memory held by the retro-hunting log.", NULL);
  mt->m.contacts_dropped = gb_metrics_add(g, GB_METRIC_COUNTER,
                                          "gb_matcher_contacts_dropped_total",
                                          "Calls not logged for want of memory.", NULL);
  mt->m.contacts_evicted = gb_metrics_add(g, GB_METRIC_GAUGE,
                                          "gb_matcher_contacts_evicted_total",
                                          "Calls dropped from the log before their look-back "
                                          "ended (matcher.contacts-max too small).", NULL);
  return mt->m.contacts_evicted ? 0 : -1;
}

static void log_rules(const char *event, const matcher_rules_t *r) {
  gb_info(event, "long_call_s=%u fraud_contact=%s intl_min_calls=%u intl_window_s=%u "
                 "combo_window_s=%u suppression_s=%u retro_lookback_s=%u",
          r->long_call_s, r->fraud_contact ? "on" : "off", r->intl_min_calls, r->intl_window_s,
          r->combo_window_s, r->suppression_s, r->retro_lookback_s);
}

/* SIGHUP: the rules are re-read between batches, so every event is matched
 * under one set of rules, old or new, and none is lost or read twice. */
static void gauges(matcher_t *mt) {
  contacts_stats_t cs;
  contacts_stats(mt->contacts, &cs);
  gb_metric_set(mt->m.view_protected, (int64_t)tagset_count(&mt->view.protected_));
  gb_metric_set(mt->m.view_indicators, (int64_t)tagset_count(&mt->view.indicators));
  gb_metric_set(mt->m.view_bytes, (int64_t)view_bytes(&mt->view));
  gb_metric_set(mt->m.contacts, (int64_t)cs.entries);
  gb_metric_set(mt->m.contacts_bytes, (int64_t)cs.bytes);
  gb_metric_set(mt->m.contacts_evicted, (int64_t)cs.evicted_early);
}

/* Between batches: the index feed into the view (so a change anywhere is
 * matched under within a second), retro-hunts for new fraud numbers, and
 * SIGHUP. */
static void on_tick(gb_pipeline_t *p, void *ud) {
  matcher_t *mt = ud;
  if (follow_poll(&mt->follow, 50) == GB_ENOMEM)
    gb_service_die("memory", "the local view cannot grow: it would no longer match the index");
  /* A hunt Redis failed is tried again with backoff, not every tick. */
  if (gb_mono_ms() >= mt->retro_next_ms) {
    int err = matcher_retro_hunt(mt);
    if (err == 0) {
      /* Retro alerts are not tied to any input offset: deliver them now. */
      rd_kafka_flush(gb_pipeline_producer(p), 10000);
      mt->retro_backoff_ms = 0;
    } else {
      mt->retro_backoff_ms = mt->retro_backoff_ms ? mt->retro_backoff_ms * 2 : 100;
      if (mt->retro_backoff_ms > 2000) mt->retro_backoff_ms = 2000;
      mt->retro_next_ms = gb_mono_ms() + mt->retro_backoff_ms;
    }
  }
  gauges(mt);
  if (!gb_service_reload) return;
  gb_service_reload = 0;
  matcher_rules_t next;
  char errstr[512];
  if (matcher_rules_load(&next, mt->rules_file, errstr, sizeof(errstr)) != 0) {
    char q[600];
    gb_error("rules.reload_failed", "file=%s reason=%s action=kept_previous_rules",
             mt->rules_file[0] ? mt->rules_file : "-", gb_log_quote(q, sizeof(q), errstr));
    return;
  }
  mt->rules = next;
  contacts_set_lookback(mt->contacts, mt->rules.retro_lookback_s);
  log_rules("rules.reloaded", &mt->rules);
}

static bool is_ready(void *ud, char *why, size_t why_size) {
  matcher_t *mt = ud;
  if (gb_pipeline_assigned(mt->p) > 0) return true;
  snprintf(why, why_size, "no input partitions assigned yet");
  return false;
}

int main(int argc, char **argv) {
  const gb_opt_t *const tables[] = {gb_common_opts, gb_numkey_opts, gb_keyring_opts, matcher_opts,
                                    NULL};
  gb_config_t *cfg = gb_service_init(
      "matcher",
      "Keeps the protected-person index and the fraud list, and turns canonical events into "
      "alerts (gb.alerts).",
      tables, argc, argv);
  char errstr[512];
  matcher_t mt = {0};
  mt.cfg = cfg;
  mt.prefix = gb_config_str(cfg, "redis.prefix");
  mt.topic_registry = gb_config_str(cfg, "topic.registry");
  mt.topic_results = gb_config_str(cfg, "topic.registry-results");
  mt.topic_intel = gb_config_str(cfg, "topic.intel");
  mt.topic_events = gb_config_str(cfg, "topic.events");
  mt.topic_alerts = gb_config_str(cfg, "topic.alerts");
  mt.topic_dlq = gb_config_str(cfg, "topic.dlq");
  mt.topic_index = gb_config_str(cfg, "topic.index");
  mt.rules_file = gb_config_str(cfg, "matcher.rules-file");
  if (matcher_rules_load(&mt.rules, mt.rules_file, errstr, sizeof(errstr)) != 0)
    gb_service_die("config", errstr);
  if (gb_numkey_load(&mt.numkey, cfg, errstr, sizeof(errstr)) != 0)
    gb_service_die("config", errstr);
  if (gb_keyring_load(&mt.keys, cfg, errstr, sizeof(errstr)) != 0)
    gb_service_die("config", errstr);
  if (gb_redis_connect(&mt.redis, gb_config_str(cfg, "redis.url"),
                       (int)gb_config_int(cfg, "redis.timeout-ms"),
                       (int)gb_config_int(cfg, "startup.timeout-ms"), errstr,
                       sizeof(errstr)) != 0)
    gb_service_die("redis", errstr);
  gb_redis_set_name(mt.redis, "pipeline");
  /* The watch says whether Redis answers: /healthz and /readyz (admin.c),
   * and no call waits on a server known to be away. */
  if (gb_redis_watch_start(gb_config_str(cfg, "redis.url"),
                           (int)gb_config_int(cfg, "redis.timeout-ms"), errstr,
                           sizeof(errstr)) != 0)
    gb_service_die("redis", errstr);
  if (gb_registry_new(&mt.registry, mt.redis, mt.prefix, &mt.numkey, &mt.keys) != 0)
    gb_service_die("memory", "registry");
  if (view_init(&mt.view, &mt.numkey) != 0 ||
      contacts_new(&mt.contacts, (size_t)gb_config_int(cfg, "matcher.contacts-max"),
                   mt.rules.retro_lookback_s) != 0)
    gb_service_die("memory", "view");
  /* The view first: matching starts only once it holds the whole index. */
  if (follow_open(&mt.follow, cfg, mt.topic_index, &mt.view, mt.redis, mt.prefix, errstr,
                  sizeof(errstr)) != 0)
    gb_service_die("kafka", errstr);
  int lerr = follow_load(&mt.follow, &gb_service_stop);
  if (lerr == GB_ECANCELED) {
    gb_info("matcher.stopped", "during=index_load");
    return 0;
  }
  if (lerr != 0) gb_service_die("index", "loading the index feed failed");

  const char *topics[] = {mt.topic_registry, mt.topic_intel, mt.topic_events};
  gb_pipeline_conf_t pc = {
      .group = gb_config_str(cfg, "matcher.group"),
      .topics = topics,
      .ntopics = 3,
      .on_message = on_message,
      .on_batch_end = matcher_batch_end,
      .on_tick = on_tick,
      .ud = &mt,
  };
  if (gb_pipeline_new(&mt.p, cfg, &pc, errstr, sizeof(errstr)) != 0)
    gb_service_die("kafka", errstr);
  gb_registry_set_feed(mt.registry, matcher_feed_protected, &mt);
  if (metrics_init(&mt) != 0) gb_service_die("memory", "metrics");
  if (gb_admin_start(&mt.admin, gb_config_str(cfg, "admin.host"),
                     (int)gb_config_int(cfg, "admin.port"), mt.metrics, is_ready, &mt, errstr,
                     sizeof(errstr)) != 0)
    gb_service_die("admin", errstr);
  gb_info("matcher.started", "redis=%s rules=%s admin=%s:%d", gb_redis_url(mt.redis),
          mt.rules_file[0] ? mt.rules_file : "defaults", gb_config_str(cfg, "admin.host"),
          gb_admin_port(mt.admin));
  log_rules("rules.loaded", &mt.rules);
  int err = gb_pipeline_run(mt.p, &gb_service_stop);
  gb_info("matcher.stopped", "in=%llu alerts=%llu dead=%llu",
          (unsigned long long)gb_pipeline_stats(mt.p)->in, (unsigned long long)mt.alerts,
          (unsigned long long)mt.dead);
  gb_admin_stop(mt.admin);
  gb_pipeline_free(mt.p);
  follow_close(&mt.follow);
  cand_list_free(&mt.cands);
  contacts_free(mt.contacts);
  view_free(&mt.view);
  gb_metrics_free(mt.metrics);
  gb_registry_free(mt.registry);
  gb_redis_watch_stop();
  gb_redis_free(mt.redis);
  gb_config_free(cfg);
  return err ? 1 : 0;
}
