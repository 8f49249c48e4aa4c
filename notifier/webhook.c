#include "webhook.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/kafka.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "notifier.h"
#include "outbox.h"
#include "sealed.h"

#define GATEWAYS_MAX 8
#define RETRY_TAKE 200
#define RETRY_LEASE_MS 60000 /* a worker that dies mid-try leaves it for another after this */
#define BACKOFF_MAX_MS 300000
#define FLUSH_TIMEOUT_MS 10000

typedef struct webhook {
  notifier_t *n;
  char *urls[GATEWAYS_MAX];
  int ngw;
  unsigned char secret[256];
  size_t secret_len;
  int attempts, backoff_ms, timeout_ms;
  CURLM *multi;
  rd_kafka_t *producer;
  const char *topic_dlq, *prefix;
  outbox_t *outbox;
  gb_redis_t *r; /* the outbox thread's connection, during carry() and turn() */
} webhook_t;

typedef struct {
  int gw;
  const char *delivery_id, *event, *body; /* body: the envelope */
  int attempt;                            /* 1 for the first try */
  long status;                            /* HTTP status, 0 when none */
  char error[CURL_ERROR_SIZE + 64];       /* "" when delivered */
} delivery_t;

static size_t discard(char *p, size_t size, size_t n, void *ud) {
  (void)p, (void)ud;
  return size * n;
}

/* Tries every delivery at once; fills status and error. */
static void try_all(webhook_t *wh, delivery_t *d, size_t n) {
  CURL **easy = calloc(n ? n : 1, sizeof(*easy));
  struct curl_slist **hdrs = calloc(n ? n : 1, sizeof(*hdrs));
  char (*errbuf)[CURL_ERROR_SIZE] = calloc(n ? n : 1, CURL_ERROR_SIZE);
  if (!easy || !hdrs || !errbuf) {
    for (size_t i = 0; i < n; i++) snprintf(d[i].error, sizeof(d[i].error), "out of memory");
    goto out;
  }
  long now = (long)(gb_now_ms() / 1000);
  for (size_t i = 0; i < n; i++) {
    char ts[24], line[256], mac_hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    snprintf(ts, sizeof(ts), "%ld", now);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, wh->secret, wh->secret_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)d[i].body, strlen(d[i].body));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(mac_hex, sizeof(mac_hex), mac, sizeof(mac));
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(line, sizeof(line), "X-Goldenbell-Event: %s", d[i].event);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "X-Goldenbell-Delivery: %s", d[i].delivery_id);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "X-Goldenbell-Timestamp: %s", ts);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "X-Goldenbell-Attempt: %d", d[i].attempt);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "X-Goldenbell-Signature: sha256=%s", mac_hex);
    h = curl_slist_append(h, line);
    h = curl_slist_append(h, "Expect:");
    hdrs[i] = h;
    CURL *e = easy[i] = curl_easy_init();
    if (!e) {
      snprintf(d[i].error, sizeof(d[i].error), "out of memory");
      continue;
    }
    curl_easy_setopt(e, CURLOPT_URL, wh->urls[d[i].gw]);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, d[i].body);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)wh->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf[i]);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &d[i]);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "goldenbell-notifier");
    curl_multi_add_handle(wh->multi, e);
  }
  int running = 1;
  while (running) {
    if (curl_multi_perform(wh->multi, &running) != CURLM_OK) break;
    if (running) curl_multi_poll(wh->multi, NULL, 0, 1000, NULL);
  }
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(wh->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE) continue;
    delivery_t *di = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&di);
    if (!di) continue;
    curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &di->status);
    if (m->data.result != CURLE_OK) {
      size_t k = (size_t)(di - d);
      snprintf(di->error, sizeof(di->error), "%s", errbuf[k][0] ? errbuf[k]
                                                               : curl_easy_strerror(m->data.result));
    } else if (di->status < 200 || di->status > 299) {
      snprintf(di->error, sizeof(di->error), "HTTP %ld", di->status);
    }
  }
out:
  for (size_t i = 0; easy && i < n; i++) {
    if (easy[i]) {
      curl_multi_remove_handle(wh->multi, easy[i]);
      curl_easy_cleanup(easy[i]);
    }
    if (hdrs) curl_slist_free_all(hdrs[i]);
  }
  free(easy);
  free(hdrs);
  free(errbuf);
}

/* KEYS: retry, job. ARGV: member, body, event, attempts, error, due. */
static const char schedule_lua[] =
    "redis.call('HSET', KEYS[2], 'body', ARGV[2], 'event', ARGV[3], 'attempts', ARGV[4],"
    " 'error', ARGV[5])\n"
    "redis.call('ZADD', KEYS[1], ARGV[6], ARGV[1])\n"
    "return 1\n";
/* KEYS: retry, job. ARGV: member. */
static const char forget_lua[] =
    "redis.call('ZREM', KEYS[1], ARGV[1])\n"
    "redis.call('DEL', KEYS[2])\n"
    "return 1\n";
/* KEYS: retry. ARGV: now, limit, lease until: the due ones, hidden from
 * other workers for the lease. */
static const char take_lua[] =
    "local m = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])\n"
    "for _, x in ipairs(m) do redis.call('ZADD', KEYS[1], ARGV[3], x) end\n"
    "return m\n";

static void keys(webhook_t *wh, const char *member, char *kretry, char *kjob) {
  snprintf(kretry, GB_KEY_MAX, "%s{wh}:retry", wh->prefix);
  snprintf(kjob, GB_KEY_MAX, "%s{wh}:job:%s", wh->prefix, member);
}

static int redis_ok(redisReply *r) {
  int ok = r && r->type != REDIS_REPLY_ERROR;
  if (r) freeReplyObject(r);
  return ok;
}

static int forget(webhook_t *wh, const char *member) {
  char kr[GB_KEY_MAX], kj[GB_KEY_MAX];
  keys(wh, member, kr, kj);
  return redis_ok(gb_redis_command(wh->r, "EVAL %s 2 %s %s %s", forget_lua, kr, kj, member))
             ? 0 : GB_EIO;
}

/* The last try failed: on gb.dlq with the reason, and in the dead list. */
static int dead_letter(webhook_t *wh, const delivery_t *d, const char *member) {
  char attempts[16];
  snprintf(attempts, sizeof(attempts), "%d", d->attempt);
  uint64_t failures = gb_kafka_delivery_failures();
  rd_kafka_resp_err_t e = rd_kafka_producev(
      wh->producer, RD_KAFKA_V_TOPIC(wh->topic_dlq),
      RD_KAFKA_V_KEY(d->delivery_id, strlen(d->delivery_id)),
      RD_KAFKA_V_VALUE((void *)d->body, strlen(d->body)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_HEADER("content-type", "application/json", -1),
      RD_KAFKA_V_HEADER("gb-reason", "webhook_failed", -1),
      RD_KAFKA_V_HEADER("gb-detail", d->error, -1),
      RD_KAFKA_V_HEADER("gb-field", wh->urls[d->gw], -1),
      RD_KAFKA_V_HEADER("gb-attempts", attempts, -1),
      RD_KAFKA_V_HEADER("gb-service", "notifier", -1), RD_KAFKA_V_END);
  if (e || gb_kafka_flush_acked(wh->producer, failures, FLUSH_TIMEOUT_MS) != 0) return GB_EIO;
  json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "delivery_id", d->delivery_id,
                        "gateway", wh->urls[d->gw], "event", d->event, "attempts", d->attempt,
                        "error", d->error, "at_ms", (json_int_t)gb_now_ms());
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  char kd[GB_KEY_MAX];
  snprintf(kd, sizeof(kd), "%s" WH_DEAD, wh->prefix);
  int ok = s && redis_ok(gb_redis_command(wh->r, "LPUSH %s %s", kd, s)) &&
           redis_ok(gb_redis_command(wh->r, "LTRIM %s 0 %d", kd, WH_DEAD_MAX - 1));
  free(s);
  gb_error("webhook.dead_letter", "delivery=%s gateway=%s event=%s attempts=%d reason=\"%s\"",
           d->delivery_id, wh->urls[d->gw], d->event, d->attempt, d->error);
  return ok ? forget(wh, member) : GB_EIO;
}

/* After a failed try: the next one, or the dead letter after the last. */
static int failed(webhook_t *wh, const delivery_t *d) {
  char member[160], kr[GB_KEY_MAX], kj[GB_KEY_MAX], attempts[16], due[24];
  snprintf(member, sizeof(member), "%d|%s", d->gw, d->delivery_id);
  keys(wh, member, kr, kj);
  gb_warn("webhook.failed", "delivery=%s gateway=%s attempt=%d of=%d reason=\"%s\"",
          d->delivery_id, wh->urls[d->gw], d->attempt, wh->attempts, d->error);
  if (d->attempt >= wh->attempts) return dead_letter(wh, d, member);
  int64_t backoff = (int64_t)wh->backoff_ms << (d->attempt - 1 < 20 ? d->attempt - 1 : 20);
  if (backoff > BACKOFF_MAX_MS) backoff = BACKOFF_MAX_MS;
  snprintf(attempts, sizeof(attempts), "%d", d->attempt);
  snprintf(due, sizeof(due), "%lld", (long long)(gb_now_ms() + backoff));
  /* The body names people: kept sealed until the retry (sealed.h). */
  char *body = sealed_seal(&wh->n->keys, SEALED_WEBHOOK, d->body);
  if (!body) return GB_ENOMEM;
  const char *argv[] = {"EVAL", schedule_lua, "2", kr, kj, member, body, d->event, attempts,
                        d->error, due};
  int ok = redis_ok(gb_redis_commandargv(wh->r, 11, argv, NULL));
  free(body);
  return ok ? 0 : GB_EIO;
}

/* The envelope a gateway receives. */
static char *envelope(const char *delivery_id, const char *event, const char *station,
                      const char *data) {
  json_t *d = json_loads(data, 0, NULL);
  if (!d) return NULL;
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o}", "delivery_id", delivery_id, "event", event,
                        "station_id", station, "audience",
                        strncmp(event, "registrant.", 11) == 0 ? "registrant" : "station",
                        "data", d);
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}

static int carry(void *ud, gb_redis_t *r, const char *station, redisReply *const *entries,
                 size_t n) {
  webhook_t *wh = ud;
  wh->r = r;
  size_t cap = n * (size_t)wh->ngw, nd = 0;
  delivery_t *d = calloc(cap ? cap : 1, sizeof(*d));
  char **ids = calloc(n ? n : 1, sizeof(*ids)), **bodies = calloc(n ? n : 1, sizeof(*bodies));
  int err = 0;
  if (!d || !ids || !bodies) err = GB_ENOMEM;
  for (size_t i = 0; !err && i < n; i++) {
    const char *event = outbox_field(entries[i], "event"), *json = outbox_field(entries[i], "json");
    if (!event || !json) continue;
    char *plain = sealed_feed_json(&wh->n->keys, json, outbox_field(entries[i], "extra"));
    if (!plain) {
      gb_error("webhook.unreadable", "station=%s entry=%s reason=\"does not open with the "
               "keyring\"", station, entries[i]->element[0]->str);
      continue;
    }
    size_t len = strlen(station) + strlen(entries[i]->element[0]->str) + 2;
    if (!(ids[i] = malloc(len))) {
      free(plain);
      err = GB_ENOMEM;
      break;
    }
    snprintf(ids[i], len, "%s/%s", station, entries[i]->element[0]->str);
    bodies[i] = envelope(ids[i], event, station, plain);
    free(plain);
    if (!bodies[i]) continue;
    for (int g = 0; g < wh->ngw; g++)
      d[nd++] = (delivery_t){.gw = g, .delivery_id = ids[i], .event = event, .body = bodies[i],
                             .attempt = 1};
  }
  if (!err) try_all(wh, d, nd);
  size_t ok = 0;
  for (size_t i = 0; !err && i < nd; i++) {
    if (!d[i].error[0]) ok++;
    else if (failed(wh, &d[i]) != 0) err = GB_EIO;
  }
  if (nd) gb_debug("webhook.carried", "station=%s deliveries=%zu delivered=%zu", station, nd, ok);
  for (size_t i = 0; ids && i < n; i++) free(ids[i]);
  for (size_t i = 0; bodies && i < n; i++) free(bodies[i]);
  free(ids);
  free(bodies);
  free(d);
  /* A retry that could not be stored: the whole batch again (the gateway
   * dedupes by delivery id). */
  return err ? err : (int)n;
}

/* How long until the next retry is due, in ms (at most a second). */
static int64_t next_due(webhook_t *wh) {
  char kr[GB_KEY_MAX], kj[GB_KEY_MAX];
  keys(wh, "", kr, kj);
  redisReply *r = gb_redis_command(wh->r, "ZRANGE %s 0 0 WITHSCORES", kr);
  int64_t wait = 1000;
  if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
    wait = (int64_t)atoll(r->element[1]->str) - gb_now_ms();
  if (r) freeReplyObject(r);
  return wait < 1000 ? wait : 1000;
}

/* Once a turn: the retries that are due. */
static int64_t turn(void *ud, gb_redis_t *r) {
  webhook_t *wh = ud;
  wh->r = r;
  char kr[GB_KEY_MAX], kj[GB_KEY_MAX], now[24], lease[24], take[8];
  keys(wh, "", kr, kj);
  int64_t t = gb_now_ms();
  snprintf(now, sizeof(now), "%lld", (long long)t);
  snprintf(lease, sizeof(lease), "%lld", (long long)(t + RETRY_LEASE_MS));
  snprintf(take, sizeof(take), "%d", RETRY_TAKE);
  redisReply *m = gb_redis_command(r, "EVAL %s 1 %s %s %s %s", take_lua, kr, now, take, lease);
  if (!m || m->type != REDIS_REPLY_ARRAY || m->elements == 0) {
    if (m) freeReplyObject(m);
    return m ? next_due(wh) : 1000;
  }
  size_t n = m->elements, nd = 0;
  delivery_t *d = calloc(n, sizeof(*d));
  redisReply **jobs = calloc(n, sizeof(*jobs));
  char **opened = calloc(n, sizeof(*opened)); /* the bodies, opened for the try */
  for (size_t i = 0; d && jobs && opened && i < n; i++) {
    const char *member = m->element[i]->str, *bar = strchr(member, '|');
    keys(wh, member, kr, kj);
    jobs[i] = gb_redis_command(r, "HMGET %s body event attempts", kj);
    redisReply *j = jobs[i];
    if (!bar || !j || j->type != REDIS_REPLY_ARRAY || j->elements != 3 ||
        j->element[0]->type != REDIS_REPLY_STRING || j->element[1]->type != REDIS_REPLY_STRING) {
      if (j && j->type == REDIS_REPLY_ARRAY) forget(wh, member); /* the job is gone: done with */
      continue;
    }
    int gw = atoi(member);
    if (gw < 0 || gw >= wh->ngw) {
      forget(wh, member); /* a gateway no longer configured */
      continue;
    }
    if (!(opened[i] = sealed_open(&wh->n->keys, SEALED_WEBHOOK, j->element[0]->str))) {
      gb_error("webhook.unreadable", "delivery=%s reason=\"the queued body does not open\"",
               bar + 1);
      continue; /* kept: a keyring with its key opens it on a later turn */
    }
    d[nd++] = (delivery_t){.gw = gw, .delivery_id = bar + 1, .event = j->element[1]->str,
                           .body = opened[i],
                           .attempt = (j->element[2]->str ? atoi(j->element[2]->str) : 1) + 1};
  }
  try_all(wh, d, nd);
  for (size_t i = 0; i < nd; i++) {
    char member[160];
    snprintf(member, sizeof(member), "%d|%s", d[i].gw, d[i].delivery_id);
    if (!d[i].error[0]) {
      gb_info("webhook.delivered", "delivery=%s gateway=%s attempt=%d", d[i].delivery_id,
              wh->urls[d[i].gw], d[i].attempt);
      forget(wh, member);
    } else {
      failed(wh, &d[i]); /* not stored: it comes back when its lease ends */
    }
  }
  for (size_t i = 0; jobs && i < n; i++)
    if (jobs[i]) freeReplyObject(jobs[i]);
  for (size_t i = 0; opened && i < n; i++) free(opened[i]);
  free(opened);
  free(jobs);
  free(d);
  freeReplyObject(m);
  return next_due(wh);
}

static int load_secret(webhook_t *wh, const char *path, char *errstr, size_t errstr_size) {
  FILE *f = *path ? fopen(path, "r") : NULL;
  if (!f) {
    snprintf(errstr, errstr_size, "webhook secret: set --notifier.webhook-secret-file to a "
             "readable file (its first line, at least 16 bytes, signs every request)");
    return GB_EINVAL;
  }
  char line[300] = "";
  char *ok = fgets(line, sizeof(line), f);
  fclose(f);
  size_t len = ok ? strcspn(line, "\r\n") : 0;
  if (len < 16 || len > sizeof(wh->secret)) {
    sodium_memzero(line, sizeof(line));
    snprintf(errstr, errstr_size, "webhook secret: the first line of %s must be 16 to %zu bytes",
             path, sizeof(wh->secret));
    return GB_EINVAL;
  }
  memcpy(wh->secret, line, len);
  wh->secret_len = len;
  sodium_memzero(line, sizeof(line));
  return 0;
}

static int parse_urls(webhook_t *wh, const char *list, char *errstr, size_t errstr_size) {
  char *copy = strdup(list), *save = NULL;
  for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
    u += strspn(u, " ");
    if (!*u) continue;
    if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) ||
        wh->ngw == GATEWAYS_MAX) {
      snprintf(errstr, errstr_size, "notifier.webhook-urls: '%s' is not an http(s) URL, or more "
               "than %d gateways", u, GATEWAYS_MAX);
      free(copy);
      return GB_EINVAL;
    }
    wh->urls[wh->ngw++] = strdup(u);
  }
  free(copy);
  return 0;
}

static void webhook_free(webhook_t *wh) {
  for (int i = 0; i < wh->ngw; i++) free(wh->urls[i]);
  if (wh->multi) curl_multi_cleanup(wh->multi);
  if (wh->producer) rd_kafka_destroy(wh->producer);
  sodium_memzero(wh->secret, sizeof(wh->secret));
  free(wh);
}

int webhook_start(notifier_t *n, char *errstr, size_t errstr_size) {
  const char *urls = gb_config_str(n->cfg, "notifier.webhook-urls");
  if (!*urls) return 0;
  webhook_t *wh = calloc(1, sizeof(*wh));
  if (!wh) return GB_ENOMEM;
  wh->n = n;
  wh->prefix = n->prefix;
  wh->topic_dlq = gb_config_str(n->cfg, "topic.dlq");
  wh->attempts = (int)gb_config_int(n->cfg, "notifier.webhook-attempts");
  wh->backoff_ms = (int)gb_config_int(n->cfg, "notifier.webhook-backoff-ms");
  wh->timeout_ms = (int)gb_config_int(n->cfg, "notifier.webhook-timeout-ms");
  int err = parse_urls(wh, urls, errstr, errstr_size);
  if (!err)
    err = load_secret(wh, gb_config_str(n->cfg, "notifier.webhook-secret-file"), errstr,
                      errstr_size);
  if (!err && !(wh->multi = curl_multi_init())) err = GB_ENOMEM;
  if (!err) err = gb_kafka_producer_new(&wh->producer, n->cfg, errstr, errstr_size);
  outbox_conf_t oc = {.name = "webhook", .stream = "feed", .batch = 100, .sweep_ms = 5000,
                      .gather_ms = 10,
                      .carry = carry, .turn = turn, .ud = wh};
  if (!err) err = outbox_start(&wh->outbox, n->cfg, &oc, errstr, errstr_size);
  if (err) {
    webhook_free(wh);
    return err;
  }
  n->webhook = wh;
  gb_info("webhook.started", "gateways=%d attempts=%d backoff_ms=%d", wh->ngw, wh->attempts,
          wh->backoff_ms);
  return 0;
}

void webhook_kick(notifier_t *n, const char *station) {
  if (n->webhook) outbox_kick(n->webhook->outbox, station);
}

void webhook_stop(notifier_t *n) {
  webhook_t *wh = n->webhook;
  if (!wh) return;
  outbox_stop(wh->outbox);
  rd_kafka_flush(wh->producer, FLUSH_TIMEOUT_MS);
  webhook_free(wh);
  n->webhook = NULL;
}
