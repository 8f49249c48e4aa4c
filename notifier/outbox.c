#include "outbox.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gb/err.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "feed.h"

#define LEASE_MS 15000
#define STATION_MAX 65
#define TURN_ENTRIES_MAX 5000 /* per station and turn, so one busy station cannot starve the rest */

typedef struct pending {
  char station[STATION_MAX];
  struct pending *next;
} pending_t;

struct outbox {
  outbox_conf_t c;
  char name[32], stream[32];
  const char *prefix;
  gb_redis_t *redis;
  char worker[128];
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pending_t *pending;
  int stop;
  _Atomic uint64_t trimmed;
};

static void key(char *out, const outbox_t *o, const char *what, const char *station) {
  snprintf(out, GB_KEY_MAX, "%s%s:{st:%s}", o->prefix, what, station);
}

const char *outbox_field(const redisReply *entry, const char *name) {
  if (!entry || entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) return NULL;
  const redisReply *f = entry->element[1];
  if (f->type != REDIS_REPLY_ARRAY) return NULL;
  for (size_t j = 0; j + 1 < f->elements; j += 2)
    if (f->element[j]->type == REDIS_REPLY_STRING && strcmp(f->element[j]->str, name) == 0)
      return f->element[j + 1]->type == REDIS_REPLY_STRING ? f->element[j + 1]->str : NULL;
  return NULL;
}


static const char release_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";
/* Take the lease, or keep it if it is ours already: a SET whose reply a
 * timeout lost may have run (a stopped Redis runs what it received when it
 * resumes), and the station must not wait out our own lease for it. */
static const char acquire_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and v ~= ARGV[1] then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "return 1\n";
/* Renew only one's own lease. */
static const char renew_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then"
    " return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
    "return 0\n";

/* Entries trimmed from the stream before this outbox read them: Redis 7
 * keeps the largest id it deleted. */
static void check_trimmed(outbox_t *o, const char *kstream, const char *station,
                          const char *cursor) {
  redisReply *r = gb_redis_command(o->redis, "XINFO STREAM %s", kstream);
  if (r && r->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
      if (r->element[i]->type != REDIS_REPLY_STRING ||
          strcmp(r->element[i]->str, "max-deleted-entry-id") != 0 ||
          r->element[i + 1]->type != REDIS_REPLY_STRING)
        continue;
      if (feed_id_cmp(r->element[i + 1]->str, cursor) > 0) {
        atomic_fetch_add(&o->trimmed, 1);
        gb_error("outbox.trimmed", "outbox=%s station=%s cursor=%s trimmed_up_to=%s "
                 "action=carry_on_from_the_oldest_kept", o->name, station, cursor,
                 r->element[i + 1]->str);
      }
    }
  }
  if (r) freeReplyObject(r);
}

/* Carries one station's new entries; returns 0, or GB_EIO to come back. */
static int drain_station(outbox_t *o, const char *station) {
  char klease[GB_KEY_MAX], kcur[GB_KEY_MAX], kstream[GB_KEY_MAX], lease_ms[16];
  snprintf(klease, sizeof(klease), "%sob:{st:%s}:%s:lease", o->prefix, station, o->name);
  snprintf(kcur, sizeof(kcur), "%sob:{st:%s}:%s", o->prefix, station, o->name);
  key(kstream, o, o->stream, station);
  snprintf(lease_ms, sizeof(lease_ms), "%d", LEASE_MS);
  static _Thread_local gb_script_t release = GB_SCRIPT(release_lua), renew = GB_SCRIPT(renew_lua),
                                    acquire = GB_SCRIPT(acquire_lua);
  const char *av[] = {"1", klease, o->worker, lease_ms};
  redisReply *r = gb_redis_eval(o->redis, &acquire, 4, av);
  int leased = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
  if (r) freeReplyObject(r);
  if (!leased) return r ? 0 : GB_EIO; /* another worker has it, or Redis is away */
  int err = 0, carried = 0;
  char cursor[48] = "0-0";
  r = gb_redis_command(o->redis, "GET %s", kcur);
  if (!r) err = GB_EIO;
  else if (r->type == REDIS_REPLY_STRING) snprintf(cursor, sizeof(cursor), "%s", r->str);
  if (r) freeReplyObject(r);
  if (!err && strcmp(cursor, "0-0") != 0) check_trimmed(o, kstream, station, cursor);
  while (!err && carried < TURN_ENTRIES_MAX) {
    char from[56];
    snprintf(from, sizeof(from), "(%s", cursor);
    r = gb_redis_command(o->redis, "XRANGE %s %s + COUNT %d", kstream, from, o->c.batch);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
      err = GB_EIO;
      if (r) freeReplyObject(r);
      break;
    }
    size_t n = r->elements;
    int done = n ? o->c.carry(o->c.ud, o->redis, station, r->element, n) : 0;
    if (done > 0) {
      snprintf(cursor, sizeof(cursor), "%s", r->element[done - 1]->element[0]->str);
      redisReply *s = gb_redis_command(o->redis, "SET %s %s", kcur, cursor);
      if (!s || s->type == REDIS_REPLY_ERROR) err = GB_EIO;
      if (s) freeReplyObject(s);
      carried += done;
    }
    freeReplyObject(r);
    if (done < 0) err = done;
    if (done < 0 || (size_t)done < n || n < (size_t)o->c.batch) break;
    const char *rv[] = {"1", klease, o->worker, lease_ms};
    redisReply *p = gb_redis_eval(o->redis, &renew, 4, rv);
    if (p) freeReplyObject(p);
  }
  const char *rl[] = {"1", klease, o->worker};
  r = gb_redis_eval(o->redis, &release, 3, rl);
  if (r) freeReplyObject(r);
  if (carried) gb_debug("outbox.carried", "outbox=%s station=%s entries=%d", o->name, station,
                        carried);
  return err;
}

/* Every station the outbox has seen, and every registered one. */
static void sweep(outbox_t *o) {
  char k[GB_KEY_MAX];
  snprintf(k, sizeof(k), "%sob:stations", o->prefix);
  redisReply *r = gb_redis_command(o->redis, "SMEMBERS %s", k);
  if (r && r->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i < r->elements && !o->stop; i++)
      if (r->element[i]->type == REDIS_REPLY_STRING) drain_station(o, r->element[i]->str);
  if (r) freeReplyObject(r);
}

static void remember(outbox_t *o, const char *station) {
  char k[GB_KEY_MAX];
  snprintf(k, sizeof(k), "%sob:stations", o->prefix);
  redisReply *r = gb_redis_command(o->redis, "SADD %s %s", k, station);
  if (r) freeReplyObject(r);
}

static void *run(void *arg) {
  outbox_t *o = arg;
  int64_t next_sweep = 0, next_turn = 0;
  for (;;) {
    pthread_mutex_lock(&o->mu);
    while (!o->stop && !o->pending && gb_mono_ms() < next_sweep && gb_mono_ms() < next_turn) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      int64_t wait = (next_sweep < next_turn ? next_sweep : next_turn) - gb_mono_ms();
      if (wait < 1) wait = 1;
      ts.tv_sec += wait / 1000;
      ts.tv_nsec += (wait % 1000) * 1000000;
      if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
      if (pthread_cond_timedwait(&o->cv, &o->mu, &ts) != 0) break;
    }
    /* Gather: a burst of changes is carried as one batch. */
    if (o->pending && !o->stop && o->c.gather_ms > 0) {
      int64_t until = gb_mono_ms() + o->c.gather_ms;
      while (!o->stop && gb_mono_ms() < until) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t wait = until - gb_mono_ms();
        ts.tv_sec += wait / 1000;
        ts.tv_nsec += (wait % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&o->cv, &o->mu, &ts);
      }
    }
    pending_t *list = o->pending;
    o->pending = NULL;
    int stop = o->stop;
    pthread_mutex_unlock(&o->mu);
    while (list) {
      pending_t *p = list;
      list = p->next;
      if (!stop) {
        remember(o, p->station);
        if (drain_station(o, p->station) != 0) next_sweep = 0; /* come back soon */
      }
      free(p);
    }
    if (stop) break;
    if (gb_mono_ms() >= next_sweep) {
      sweep(o);
      next_sweep = gb_mono_ms() + o->c.sweep_ms;
    }
    int64_t soon = o->c.turn ? o->c.turn(o->c.ud, o->redis) : 1000;
    next_turn = gb_mono_ms() + (soon < 1000 ? (soon > 0 ? soon : 1) : 1000);
  }
  return NULL;
}

int outbox_start(outbox_t **out, const gb_config_t *cfg, const outbox_conf_t *conf,
                 char *errstr, size_t errstr_size) {
  outbox_t *o = calloc(1, sizeof(*o));
  if (!o) return snprintf(errstr, errstr_size, "out of memory"), GB_ENOMEM;
  o->c = *conf;
  snprintf(o->name, sizeof(o->name), "%s", conf->name);
  snprintf(o->stream, sizeof(o->stream), "%s", conf->stream);
  o->c.name = o->name;
  o->c.stream = o->stream;
  o->prefix = gb_config_str(cfg, "redis.prefix");
  char host[64] = "?";
  gethostname(host, sizeof(host) - 1);
  snprintf(o->worker, sizeof(o->worker), "%s:%d", host, (int)getpid());
  int err = gb_redis_connect(&o->redis, gb_config_str(cfg, "redis.url"),
                             (int)gb_config_int(cfg, "redis.timeout-ms"),
                             (int)gb_config_int(cfg, "startup.timeout-ms"), errstr, errstr_size);
  if (err) {
    free(o);
    return err;
  }
  gb_redis_set_name(o->redis, o->name);
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  if (pthread_create(&o->thread, NULL, run, o) != 0) {
    gb_redis_free(o->redis);
    free(o);
    return snprintf(errstr, errstr_size, "cannot start the %s thread", conf->name), GB_EIO;
  }
  *out = o;
  return 0;
}

void outbox_kick(outbox_t *o, const char *station) {
  if (!o || strlen(station) >= STATION_MAX) return;
  pthread_mutex_lock(&o->mu);
  pending_t *p;
  for (p = o->pending; p && strcmp(p->station, station) != 0; p = p->next) {
  }
  if (!p && (p = calloc(1, sizeof(*p))) != NULL) {
    snprintf(p->station, sizeof(p->station), "%s", station);
    p->next = o->pending;
    o->pending = p;
  }
  pthread_cond_signal(&o->cv);
  pthread_mutex_unlock(&o->mu);
}

void outbox_stop(outbox_t *o) {
  if (!o) return;
  pthread_mutex_lock(&o->mu);
  o->stop = 1;
  pthread_cond_signal(&o->cv);
  pthread_mutex_unlock(&o->mu);
  pthread_join(o->thread, NULL);
  for (pending_t *p = o->pending, *q; p; p = q) {
    q = p->next;
    free(p);
  }
  pthread_mutex_destroy(&o->mu);
  pthread_cond_destroy(&o->cv);
  gb_redis_free(o->redis);
  free(o);
}

uint64_t outbox_trimmed(const outbox_t *o) { return o ? atomic_load(&o->trimmed) : 0; }
