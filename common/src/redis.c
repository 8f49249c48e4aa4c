#include "gb/redis.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gb/err.h"
#include "gb/log.h"
#include "gb/timeparse.h"

/* Reconnection backoff (without a watch) and the watch's probing backoff
 * while the server is down. */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
/* The watch's PING while the server answers. */
#define WATCH_EVERY_MS 1000

struct gb_redis {
  redisContext *c;
  char host[256];
  int port;
  int db;
  int timeout_ms;
  char url[300];
  char name[32];
  char err[512];   /* what gb_redis_errstr says about the last failure */
  char cause[400]; /* the I/O error that began the outage */
  bool is_watch;   /* the watch's own connection: never gated, logs nothing itself */
  int owed;        /* replies owed to appended commands: a pipeline under way */
  /* The connection's current outage (down), from its first failure to the
   * reconnection that succeeds. */
  bool down;
  int64_t down_since;   /* monotonic ms */
  int64_t dropped_at;   /* monotonic ms of the last failed connection or attempt */
  uint64_t drop_seq;    /* the watch's ok_seq then: reconnect once it has moved on */
  int64_t next_attempt; /* monotonic ms; used without a watch */
  int backoff_ms;
  uint64_t failed;   /* calls failed in this outage */
  uint64_t attempts; /* reconnection attempts in this outage */
};

/* Process-wide figures (atomics). */
static uint64_t failed_calls; /* every failed call of a connection other than the watch's */
static int conns_down;        /* connections in an outage now */

/* The watch. Flags and times are atomics; reason, stop and poke go under mu. */
static struct {
  int running;
  int up;
  uint64_t ok_seq;         /* successful probes so far */
  int64_t down_since_mono; /* the current outage, when down */
  int64_t down_since_wall;
  uint64_t outages;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* CLOCK_MONOTONIC */
  int stop, poke;
  char reason[200];
  gb_redis_t *r;
} watch = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int parse_url(gb_redis_t *r, const char *url, char *errstr, size_t errstr_size) {
  const char *p = url;
  if (strncmp(p, "redis://", 8) != 0) goto bad;
  p += 8;
  const char *colon = strrchr(p, ':');
  const char *slash = strchr(p, '/');
  if (!colon || (slash && colon > slash)) goto bad;
  size_t hl = (size_t)(colon - p);
  if (hl == 0 || hl >= sizeof(r->host)) goto bad;
  memcpy(r->host, p, hl);
  r->host[hl] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (end == colon + 1 || port < 1 || port > 65535 || (*end && *end != '/')) goto bad;
  r->port = (int)port;
  r->db = 0;
  if (*end == '/' && end[1]) {
    char *e2;
    long db = strtol(end + 1, &e2, 10);
    if (*e2 || db < 0 || db > 15) goto bad;
    r->db = (int)db;
  }
  snprintf(r->url, sizeof(r->url), "%s", url);
  return 0;
bad:
  snprintf(errstr, errstr_size, "redis: '%s' is not redis://host:port[/db]", url);
  return GB_EINVAL;
}

static gb_redis_t *redis_new(const char *url, int timeout_ms, char *errstr, size_t errstr_size,
                             int *err) {
  gb_redis_t *r = calloc(1, sizeof(*r));
  *err = GB_ENOMEM;
  if (!r) return NULL;
  r->timeout_ms = timeout_ms;
  snprintf(r->name, sizeof(r->name), "main");
  if ((*err = parse_url(r, url, errstr, errstr_size)) != 0) {
    free(r);
    return NULL;
  }
  return r;
}

static void watch_poke(void) {
  if (!__atomic_load_n(&watch.running, __ATOMIC_ACQUIRE)) return;
  pthread_mutex_lock(&watch.mu);
  watch.poke = 1;
  pthread_cond_signal(&watch.cv);
  pthread_mutex_unlock(&watch.mu);
}

/* The connection lost the server (or failed to reach it again). */
static void outage_begin(gb_redis_t *r) {
  int64_t now = gb_mono_ms();
  r->dropped_at = now;
  r->drop_seq = __atomic_load_n(&watch.ok_seq, __ATOMIC_ACQUIRE);
  if (r->down) return;
  r->down = true;
  r->down_since = now;
  r->failed = r->attempts = 0;
  r->backoff_ms = BACKOFF_MIN_MS;
  r->next_attempt = now; /* the first reconnection at once: a dropped idle connection costs nothing */
  snprintf(r->cause, sizeof(r->cause), "%.*s", (int)sizeof(r->cause) - 1, r->err);
  if (r->is_watch) return;
  __atomic_add_fetch(&conns_down, 1, __ATOMIC_RELAXED);
  char q[600];
  gb_warn("redis.disconnected", "conn=%s url=%s reason=%s action=fail_fast_until_reconnected",
          r->name, r->url, gb_log_quote(q, sizeof(q), r->cause));
  watch_poke();
}

static void outage_end(gb_redis_t *r) {
  if (!r->down) return;
  r->down = false;
  if (r->is_watch) return;
  __atomic_sub_fetch(&conns_down, 1, __ATOMIC_RELAXED);
  gb_info("redis.reconnected", "conn=%s url=%s down_ms=%lld failed_calls=%llu attempts=%llu",
          r->name, r->url, (long long)(gb_mono_ms() - r->down_since),
          (unsigned long long)r->failed, (unsigned long long)r->attempts);
}

static void drop(gb_redis_t *r, const char *why) {
  r->owed = 0;
  if (r->c) {
    snprintf(r->err, sizeof(r->err), "%s", r->c->errstr[0] ? r->c->errstr : why);
    redisFree(r->c);
    r->c = NULL;
  }
  outage_begin(r);
}

static void count_failure(gb_redis_t *r) {
  r->failed++;
  if (!r->is_watch) __atomic_add_fetch(&failed_calls, 1, __ATOMIC_RELAXED);
}

/* Connects, selects the database and PINGs: a server that accepts
 * connections but does not answer (stopped, overloaded) is not up. Sets
 * r->c, or r->err and GB_EIO. */
static int connect_once(gb_redis_t *r) {
  struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
  redisContext *c = redisConnectWithTimeout(r->host, r->port, tv);
  if (!c || c->err) {
    snprintf(r->err, sizeof(r->err), "connect %s:%d: %s", r->host, r->port,
             c ? c->errstr : "out of memory");
    if (c) redisFree(c);
    return GB_EIO;
  }
  redisSetTimeout(c, tv);
  redisEnableKeepAlive(c);
  redisReply *rep = r->db ? redisCommand(c, "SELECT %d", r->db) : redisCommand(c, "PING");
  if (rep && rep->type != REDIS_REPLY_ERROR && r->db) {
    freeReplyObject(rep);
    rep = redisCommand(c, "PING");
  }
  int ok = rep && rep->type != REDIS_REPLY_ERROR;
  snprintf(r->err, sizeof(r->err), "%s %s:%d: %s", r->db ? "SELECT/PING" : "PING", r->host,
           r->port, rep ? (rep->type == REDIS_REPLY_ERROR ? rep->str : "ok")
                        : (c->errstr[0] ? c->errstr : "no answer"));
  if (rep) freeReplyObject(rep);
  if (!ok) {
    redisFree(c);
    return GB_EIO;
  }
  r->err[0] = '\0';
  r->c = c;
  gb_debug("redis.connected", "conn=%s url=%s", r->name, r->url);
  return 0;
}

int gb_redis_connect(gb_redis_t **out, const char *url, int timeout_ms, int startup_timeout_ms,
                     char *errstr, size_t errstr_size) {
  int err;
  gb_redis_t *r = redis_new(url, timeout_ms, errstr, errstr_size, &err);
  *out = NULL;
  if (!r) return err;
  int64_t deadline = gb_mono_ms() + startup_timeout_ms;
  while ((err = connect_once(r)) != 0 && gb_mono_ms() < deadline) {
    /* A dependency starting alongside us: try again shortly, bounded. */
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (err) {
    snprintf(errstr, errstr_size, "redis: no answer from %s within %d ms (%s)", url,
             startup_timeout_ms, r->err);
    goto cleanup;
  }
  *out = r, r = NULL;
cleanup:
  gb_redis_free(r);
  return err;
}

void gb_redis_set_name(gb_redis_t *r, const char *name) {
  snprintf(r->name, sizeof(r->name), "%s", name);
}

/* A reconnection attempt; on failure the next one waits (backoff, or the
 * watch's next successful probe). */
static int attempt(gb_redis_t *r) {
  r->attempts++;
  if (connect_once(r) == 0) {
    outage_end(r);
    return 0;
  }
  r->dropped_at = gb_mono_ms();
  r->drop_seq = __atomic_load_n(&watch.ok_seq, __ATOMIC_ACQUIRE);
  r->next_attempt = r->dropped_at + r->backoff_ms;
  r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
  return GB_EIO;
}

/* A call refused without touching the network. */
static int fail_fast(gb_redis_t *r, const char *why) {
  if (r->down)
    snprintf(r->err, sizeof(r->err), "redis unavailable for %lld ms (%s)",
             (long long)(gb_mono_ms() - r->down_since), why);
  else
    snprintf(r->err, sizeof(r->err), "redis unavailable (%s)", why);
  count_failure(r);
  return GB_EIO;
}

/* Before each call: 0 when the call may go to the server. */
static int usable(gb_redis_t *r) {
  if (r->is_watch) return r->c ? 0 : attempt(r);
  int watched = __atomic_load_n(&watch.running, __ATOMIC_ACQUIRE);
  if (watched && !__atomic_load_n(&watch.up, __ATOMIC_ACQUIRE) && !(r->c && r->owed > 0)) {
    /* Nothing is sent to a server the watch finds silent: a stopped
     * server would run it whenever it resumes, long after we gave up.
     * (A pipeline under way is let finish, to keep the connection in
     * step: it fails on its own if the server is gone.) */
    char why[sizeof(watch.reason)];
    pthread_mutex_lock(&watch.mu);
    snprintf(why, sizeof(why), "%s", watch.reason);
    pthread_mutex_unlock(&watch.mu);
    if (r->c) {
      /* Its server may be gone (restarted, failed over): this connection
       * starts its outage now and reconnects after, like the others. */
      redisFree(r->c);
      r->c = NULL;
      snprintf(r->err, sizeof(r->err), "%s (found by the watch)", why);
      outage_begin(r);
    }
    return fail_fast(r, why);
  }
  if (r->c) return 0;
  bool due = watched ? __atomic_load_n(&watch.ok_seq, __ATOMIC_ACQUIRE) > r->drop_seq
                     : gb_mono_ms() >= r->next_attempt;
  if (!due) return fail_fast(r, r->cause);
  if (attempt(r) == 0) return 0;
  count_failure(r);
  return GB_EIO;
}

static redisReply *checked(gb_redis_t *r, void *rep) {
  if (!rep) {
    drop(r, "I/O error");
    count_failure(r);
  }
  return rep;
}

redisReply *gb_redis_command(gb_redis_t *r, const char *fmt, ...) {
  if (usable(r) != 0) return NULL;
  va_list ap;
  va_start(ap, fmt);
  void *rep = redisvCommand(r->c, fmt, ap);
  va_end(ap);
  return checked(r, rep);
}

redisReply *gb_redis_commandargv(gb_redis_t *r, int argc, const char **argv,
                                 const size_t *argvlen) {
  if (usable(r) != 0) return NULL;
  return checked(r, redisCommandArgv(r->c, argc, argv, argvlen));
}

int gb_redis_append(gb_redis_t *r, const char *fmt, ...) {
  if (usable(r) != 0) return GB_EIO;
  va_list ap;
  va_start(ap, fmt);
  int rc = redisvAppendCommand(r->c, fmt, ap);
  va_end(ap);
  if (rc != REDIS_OK) return GB_ENOMEM;
  r->owed++;
  return 0;
}

int gb_redis_appendargv(gb_redis_t *r, int argc, const char **argv, const size_t *argvlen) {
  if (usable(r) != 0) return GB_EIO;
  if (redisAppendCommandArgv(r->c, argc, argv, argvlen) != REDIS_OK) return GB_ENOMEM;
  r->owed++;
  return 0;
}

redisReply *gb_redis_reply(gb_redis_t *r) {
  if (!r->c) return NULL;
  if (r->owed > 0) r->owed--;
  void *rep = NULL;
  if (redisGetReply(r->c, &rep) != REDIS_OK) rep = NULL;
  return checked(r, rep);
}

int gb_redis_connected(const gb_redis_t *r) { return r->c != NULL; }
const char *gb_redis_errstr(const gb_redis_t *r) { return r->err; }
const char *gb_redis_url(const gb_redis_t *r) { return r->url; }

void gb_redis_free(gb_redis_t *r) {
  if (!r) return;
  if (r->c) redisFree(r->c);
  if (r->down && !r->is_watch) __atomic_sub_fetch(&conns_down, 1, __ATOMIC_RELAXED);
  free(r);
}

#define EVAL_ARGS_MAX 64

static redisReply *run_script(gb_redis_t *r, const char *cmd, const char *script_or_sha, int argc,
                              const char **argv) {
  const char *v[EVAL_ARGS_MAX + 2];
  if (argc > EVAL_ARGS_MAX) return NULL;
  v[0] = cmd;
  v[1] = script_or_sha;
  for (int i = 0; i < argc; i++) v[2 + i] = argv[i];
  return gb_redis_commandargv(r, argc + 2, v, NULL);
}

redisReply *gb_redis_eval(gb_redis_t *r, gb_script_t *s, int argc, const char **argv) {
  if (!s->sha[0]) {
    redisReply *x = gb_redis_command(r, "SCRIPT LOAD %s", s->body);
    if (!x) return NULL; /* the connection failed: no second try now */
    if (x->type == REDIS_REPLY_STRING && x->len == 40) memcpy(s->sha, x->str, 41);
    freeReplyObject(x);
    if (!s->sha[0]) return run_script(r, "EVAL", s->body, argc, argv); /* says why */
  }
  redisReply *rep = run_script(r, "EVALSHA", s->sha, argc, argv);
  if (rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
    freeReplyObject(rep);
    s->sha[0] = '\0';
    rep = run_script(r, "EVAL", s->body, argc, argv); /* loads it again, too */
  }
  return rep;
}

/* ---- the watch ---- */

/* One probe: 0 when the server answered PING. A connection that broke
 * (a restarted server) gets one fresh try at once; a timeout does not (the
 * server is there but silent: waiting twice tells nothing more). */
static int probe(gb_redis_t *r) {
  for (int tries = 0; tries < 2; tries++) {
    if (!r->c) return connect_once(r); /* it PINGs */
    redisReply *rep = redisCommand(r->c, "PING");
    if (rep && rep->type != REDIS_REPLY_ERROR) {
      freeReplyObject(rep);
      return 0;
    }
    int timed_out = !rep && r->c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    snprintf(r->err, sizeof(r->err), "PING %s:%d: %s", r->host, r->port,
             rep ? rep->str : r->c->errstr[0] ? r->c->errstr : "no answer");
    if (timed_out) snprintf(r->err, sizeof(r->err), "PING %s:%d: no answer within %d ms",
                            r->host, r->port, r->timeout_ms);
    if (rep) {
      freeReplyObject(rep); /* an error reply (LOADING, BUSY): the connection is fine */
      return GB_EIO;
    }
    redisFree(r->c);
    r->c = NULL;
    if (timed_out) return GB_EIO;
  }
  return GB_EIO;
}

static void *watch_run(void *arg) {
  gb_redis_t *r = arg;
  int backoff = BACKOFF_MIN_MS;
  int64_t wait_ms = 0;
  uint64_t probes = 0, failed_before = 0;
  for (;;) {
    pthread_mutex_lock(&watch.mu);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (wait_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
    /* A connection that lost the server pokes: probe now, unless already
     * down (then the backoff decides, however many poke). */
    while (!watch.stop && !(watch.poke && __atomic_load_n(&watch.up, __ATOMIC_RELAXED)) &&
           pthread_cond_timedwait(&watch.cv, &watch.mu, &until) == 0) {
    }
    watch.poke = 0;
    int stop = watch.stop;
    pthread_mutex_unlock(&watch.mu);
    if (stop) break;
    int ok = probe(r) == 0;
    int64_t now = gb_mono_ms();
    int up = __atomic_load_n(&watch.up, __ATOMIC_RELAXED);
    if (ok) {
      __atomic_add_fetch(&watch.ok_seq, 1, __ATOMIC_RELEASE);
      if (!up) {
        pthread_mutex_lock(&watch.mu);
        watch.reason[0] = '\0';
        pthread_mutex_unlock(&watch.mu);
        __atomic_store_n(&watch.up, 1, __ATOMIC_RELEASE);
        gb_warn("redis.up", "url=%s down_ms=%lld failed_calls=%llu probes=%llu", r->url,
                (long long)(now - watch.down_since_mono),
                (unsigned long long)(__atomic_load_n(&failed_calls, __ATOMIC_RELAXED) -
                                     failed_before),
                (unsigned long long)probes);
      }
      backoff = BACKOFF_MIN_MS;
      wait_ms = WATCH_EVERY_MS;
      continue;
    }
    probes++;
    pthread_mutex_lock(&watch.mu);
    snprintf(watch.reason, sizeof(watch.reason), "%.*s", (int)sizeof(watch.reason) - 1, r->err);
    pthread_mutex_unlock(&watch.mu);
    if (up) {
      probes = 1;
      failed_before = __atomic_load_n(&failed_calls, __ATOMIC_RELAXED);
      __atomic_store_n(&watch.down_since_mono, now, __ATOMIC_RELAXED);
      __atomic_store_n(&watch.down_since_wall, gb_now_ms(), __ATOMIC_RELAXED);
      __atomic_add_fetch(&watch.outages, 1, __ATOMIC_RELAXED);
      __atomic_store_n(&watch.up, 0, __ATOMIC_RELEASE);
      char q[600];
      gb_error("redis.down", "url=%s reason=%s action=hold_and_retry", r->url,
               gb_log_quote(q, sizeof(q), r->err));
    }
    wait_ms = backoff;
    backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
  }
  return NULL;
}

int gb_redis_watch_start(const char *url, int timeout_ms, char *errstr, size_t errstr_size) {
  int err;
  if (__atomic_load_n(&watch.running, __ATOMIC_ACQUIRE)) return 0;
  gb_redis_t *r = redis_new(url, timeout_ms, errstr, errstr_size, &err);
  if (!r) return err;
  r->is_watch = true;
  snprintf(r->name, sizeof(r->name), "watch");
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&watch.cv, &ca);
  pthread_condattr_destroy(&ca);
  watch.stop = watch.poke = 0;
  watch.r = r;
  __atomic_store_n(&watch.up, 1, __ATOMIC_RELAXED);
  __atomic_store_n(&watch.running, 1, __ATOMIC_RELEASE);
  if (pthread_create(&watch.thread, NULL, watch_run, r) != 0) {
    __atomic_store_n(&watch.running, 0, __ATOMIC_RELEASE);
    pthread_cond_destroy(&watch.cv);
    watch.r = NULL;
    gb_redis_free(r);
    snprintf(errstr, errstr_size, "redis: cannot start the watch thread");
    return GB_EIO;
  }
  return 0;
}

void gb_redis_watch_stop(void) {
  if (!__atomic_load_n(&watch.running, __ATOMIC_ACQUIRE)) return;
  pthread_mutex_lock(&watch.mu);
  watch.stop = 1;
  pthread_cond_signal(&watch.cv);
  pthread_mutex_unlock(&watch.mu);
  pthread_join(watch.thread, NULL);
  /* Connections still in use fall back to their own backoff. */
  __atomic_store_n(&watch.running, 0, __ATOMIC_RELEASE);
  pthread_cond_destroy(&watch.cv);
  gb_redis_free(watch.r);
  watch.r = NULL;
}

void gb_redis_health(gb_redis_health_t *out) {
  memset(out, 0, sizeof(*out));
  out->watched = __atomic_load_n(&watch.running, __ATOMIC_ACQUIRE);
  out->conns_down = __atomic_load_n(&conns_down, __ATOMIC_RELAXED);
  out->failed_calls = __atomic_load_n(&failed_calls, __ATOMIC_RELAXED);
  out->outages = __atomic_load_n(&watch.outages, __ATOMIC_RELAXED);
  if (!out->watched) {
    out->up = out->conns_down == 0;
    return;
  }
  out->up = __atomic_load_n(&watch.up, __ATOMIC_ACQUIRE);
  if (out->up) return;
  out->down_ms = gb_mono_ms() - __atomic_load_n(&watch.down_since_mono, __ATOMIC_RELAXED);
  out->since_ms = __atomic_load_n(&watch.down_since_wall, __ATOMIC_RELAXED);
  pthread_mutex_lock(&watch.mu);
  snprintf(out->reason, sizeof(out->reason), "%s", watch.reason);
  pthread_mutex_unlock(&watch.mu);
}
