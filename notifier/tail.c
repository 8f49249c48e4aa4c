#include "tail.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "feed.h"
#include "gb/err.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "notifier.h"

#define SWEEP_MS 1000    /* every watched feed is read this often, noted or not */
#define BLOCK_MAX_MS 500 /* the longest XREAD BLOCK: how long a stop may wait */
#define NOTES_MAX 1000   /* pushlog entries read at a time */
#define READ_MAX 500     /* feed entries read at a time */
#define ID_MAX 48

/* A station whose feed this worker reads. */
typedef struct watch {
  char station[65];
  char cursor[ID_MAX]; /* the last entry read */
  int refs;            /* this worker's open streams of the station ("*" ones not counted) */
  int due;             /* read it at the next turn */
  struct watch *next;
} watch_t;

/* An entry read, on its way to the loop thread. */
typedef struct item {
  struct item *next;
  char *station, *id, *event, *json;
} item_t;

struct tail {
  notifier_t *n;
  gb_redis_t *r;
  pthread_t thread;
  pthread_mutex_t mu; /* guards what follows */
  pthread_cond_t cv;
  watch_t *watches;
  int all_refs; /* open "*" streams: every station is watched */
  item_t *out, **out_end;
  int stop;
  uv_async_t async; /* wakes the loop for out */
  char pushlog[GB_KEY_MAX];
  char note_after[ID_MAX]; /* the last pushlog entry read (thread only) */
  int block_ms;
  _Atomic unsigned long long delivered;
};

static watch_t *find(tail_t *t, const char *station) {
  for (watch_t *w = t->watches; w; w = w->next)
    if (strcmp(w->station, station) == 0) return w;
  return NULL;
}

static watch_t *add(tail_t *t, const char *station, const char *cursor) {
  watch_t *w = calloc(1, sizeof(*w));
  if (!w) return NULL;
  snprintf(w->station, sizeof(w->station), "%s", station);
  snprintf(w->cursor, sizeof(w->cursor), "%s", cursor);
  w->due = 1;
  w->next = t->watches;
  t->watches = w;
  return w;
}

/* Drops the watches nothing needs any more. Under mu. */
static void prune(tail_t *t) {
  for (watch_t **p = &t->watches; *p;) {
    watch_t *w = *p;
    if (w->refs == 0 && t->all_refs == 0) {
      *p = w->next;
      free(w);
    } else {
      p = &w->next;
    }
  }
}

static void item_free(item_t *it) {
  free(it->station), free(it->id), free(it->event), free(it->json);
  free(it);
}

/* ---- the loop thread ---- */

static void on_async(uv_async_t *a) {
  tail_t *t = a->data;
  pthread_mutex_lock(&t->mu);
  item_t *list = t->out;
  t->out = NULL, t->out_end = &t->out;
  pthread_mutex_unlock(&t->mu);
  while (list) {
    item_t *it = list;
    list = it->next;
    int streams = hub_deliver(&t->n->hub, it->station, it->id, it->event, it->json,
                              strlen(it->json));
    gb_debug("push.delivered", "station=%s feed_id=%s event=%s streams=%d", it->station, it->id,
             it->event, streams);
    item_free(it);
  }
}

void tail_watch(tail_t *t, const char *station, const char *after) {
  pthread_mutex_lock(&t->mu);
  if (strcmp(station, HUB_ALL) == 0) {
    t->all_refs++;
  } else {
    watch_t *w = find(t, station);
    if (!w) w = add(t, station, after);
    /* Read again from after when the tail is past it: what lies between
     * may have reached the loop before this stream was there (a replay
     * cut short). The station's other streams skip it; "*" streams may
     * see it twice (they carry no ids, and every event is the alert's
     * latest state). */
    else if (feed_id_cmp(after, w->cursor) < 0)
      snprintf(w->cursor, sizeof(w->cursor), "%s", after), w->due = 1;
    if (w) w->refs++;
    else gb_error("push.watch_failed", "station=%s reason=\"out of memory\"", station);
  }
  pthread_mutex_unlock(&t->mu);
}

void tail_unwatch(tail_t *t, const char *station) {
  pthread_mutex_lock(&t->mu);
  if (strcmp(station, HUB_ALL) == 0) {
    if (t->all_refs > 0) t->all_refs--;
  } else {
    watch_t *w = find(t, station);
    if (w && w->refs > 0) w->refs--;
  }
  prune(t);
  pthread_mutex_unlock(&t->mu);
}

void tail_note(notifier_t *n, const char *station, const char *feed_id) {
  char k[GB_KEY_MAX], maxlen[16];
  snprintf(k, sizeof(k), "%spushlog", n->prefix);
  snprintf(maxlen, sizeof(maxlen), "%d", TAIL_PUSHLOG_MAXLEN);
  const char *argv[] = {"XADD", k, "MAXLEN", "~", maxlen, "*", "s", station, "i", feed_id};
  redisReply *r = gb_redis_commandargv(n->redis, 10, argv, NULL);
  if (!r || r->type == REDIS_REPLY_ERROR)
    gb_warn("push.note_failed", "station=%s feed_id=%s reason=\"%s\" action=sweep_delivers",
            station, feed_id, r ? r->str : gb_redis_errstr(n->redis));
  if (r) freeReplyObject(r);
}

unsigned long long tail_delivered(const tail_t *t) { return atomic_load(&t->delivered); }

/* ---- the tail's thread ---- */

/* Waits ms unless stopped; returns whether to stop. */
static int pause_ms(tail_t *t, int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
  pthread_mutex_lock(&t->mu);
  if (!t->stop) pthread_cond_timedwait(&t->cv, &t->mu, &ts);
  int stop = t->stop;
  pthread_mutex_unlock(&t->mu);
  return stop;
}

/* The pushlog's newest entry, to read notes after: 0, or GB_EIO. */
static int notes_start(tail_t *t) {
  redisReply *r = gb_redis_command(t->r, "XREVRANGE %s + - COUNT 1", t->pushlog);
  int err = r && r->type == REDIS_REPLY_ARRAY ? 0 : GB_EIO;
  if (!err)
    snprintf(t->note_after, sizeof(t->note_after), "%s",
             r->elements == 1 && r->element[0]->elements == 2 ? r->element[0]->element[0]->str
                                                             : "0-0");
  if (r) freeReplyObject(r);
  return err;
}

/* Marks due the stations the notes name (one an "*" stream needs and no
 * watch has yet starts just before its noted entry). Under mu. */
static void take_note(tail_t *t, const char *station, const char *feed_id) {
  watch_t *w = find(t, station);
  if (w) {
    w->due = 1;
  } else if (t->all_refs > 0) {
    char before[ID_MAX];
    if (feed_id_before(feed_id, before, sizeof(before)) == 0) add(t, station, before);
  }
}

/* Blocks on the pushlog for notes. 0, or GB_EIO (Redis away). */
static int read_notes(tail_t *t) {
  char block[16], count[16];
  snprintf(block, sizeof(block), "%d", t->block_ms);
  snprintf(count, sizeof(count), "%d", NOTES_MAX);
  const char *argv[] = {"XREAD", "COUNT", count, "BLOCK", block, "STREAMS", t->pushlog,
                        t->note_after};
  redisReply *r = gb_redis_commandargv(t->r, 8, argv, NULL);
  if (!r || r->type == REDIS_REPLY_ERROR) {
    if (r) freeReplyObject(r);
    return GB_EIO;
  }
  /* nil: nothing within the block; else [[key, [[id, [f, v, ...]], ...]]] */
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->elements == 2) {
    const redisReply *entries = r->element[0]->element[1];
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < entries->elements; i++) {
      const redisReply *e = entries->element[i];
      if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
      snprintf(t->note_after, sizeof(t->note_after), "%s", e->element[0]->str);
      const char *station = NULL, *id = NULL;
      const redisReply *f = e->element[1];
      for (size_t j = 0; j + 1 < f->elements; j += 2) {
        if (strcmp(f->element[j]->str, "s") == 0) station = f->element[j + 1]->str;
        if (strcmp(f->element[j]->str, "i") == 0) id = f->element[j + 1]->str;
      }
      if (station && id) take_note(t, station, id);
    }
    pthread_mutex_unlock(&t->mu);
  }
  freeReplyObject(r);
  return 0;
}

typedef struct {
  const char *station;
  item_t *head, **end;
} batch_t;

static char *dup(const char *s) {
  char *d = strdup(s);
  if (!d) abort(); /* a few bytes: nothing sensible is left to do */
  return d;
}

static void collect(const char *id, const char *event, const char *json, void *ud) {
  batch_t *b = ud;
  item_t *it = calloc(1, sizeof(*it));
  if (!it) abort();
  it->station = dup(b->station), it->id = dup(id), it->event = dup(event), it->json = dup(json);
  *b->end = it;
  b->end = &it->next;
}

/* Reads one due station's feed on from its cursor and hands what it read
 * to the loop. Returns 1 when it read a full batch (more may wait), 0, or
 * GB_EIO. */
static int read_feed(tail_t *t, const char *station, const char *cursor) {
  batch_t b = {station, NULL, &b.head};
  feed_read_t got;
  int sent = feed_replay(t->r, &t->n->keys, t->n->prefix, station, cursor, READ_MAX, collect, &b,
                         &got);
  if (sent < 0) return GB_EIO;
  pthread_mutex_lock(&t->mu);
  watch_t *w = find(t, station);
  /* Moved back meanwhile (tail_watch): read again from there instead. */
  if (w && got.read > 0 && strcmp(w->cursor, cursor) == 0)
    snprintf(w->cursor, sizeof(w->cursor), "%s", got.last);
  if (w && got.read == READ_MAX) w->due = 1;
  if (b.head) {
    *t->out_end = b.head;
    t->out_end = b.end;
  }
  pthread_mutex_unlock(&t->mu);
  if (b.head) {
    atomic_fetch_add(&t->delivered, (unsigned long long)sent);
    uv_async_send(&t->async);
  }
  return got.read == READ_MAX;
}

/* Reads every due station (all of them when sweep). 0, or GB_EIO. */
static int read_due(tail_t *t, int sweep) {
  for (;;) {
    char station[65], cursor[ID_MAX];
    station[0] = '\0';
    pthread_mutex_lock(&t->mu);
    if (sweep) {
      for (watch_t *w = t->watches; w; w = w->next) w->due = 1;
      sweep = 0;
    }
    for (watch_t *w = t->watches; w; w = w->next)
      if (w->due) {
        w->due = 0;
        snprintf(station, sizeof(station), "%s", w->station);
        snprintf(cursor, sizeof(cursor), "%s", w->cursor);
        break;
      }
    int stop = t->stop;
    pthread_mutex_unlock(&t->mu);
    if (!station[0] || stop) return 0;
    if (read_feed(t, station, cursor) < 0) {
      pthread_mutex_lock(&t->mu);
      watch_t *w = find(t, station);
      if (w) w->due = 1;
      pthread_mutex_unlock(&t->mu);
      return GB_EIO;
    }
  }
}

static void *run(void *arg) {
  tail_t *t = arg;
  int started = 0;
  int64_t next_sweep = 0;
  while (!pause_ms(t, 0)) {
    if (!started && notes_start(t) != 0) {
      if (pause_ms(t, 200)) break;
      continue;
    }
    started = 1;
    int sweep = gb_mono_ms() >= next_sweep;
    if (sweep) next_sweep = gb_mono_ms() + SWEEP_MS;
    /* Due stations first (just watched, or a full batch read): the block
     * below may last a while. */
    if (read_due(t, sweep) != 0 || read_notes(t) != 0 || read_due(t, 0) != 0) {
      /* Redis away: its watch (gb/redis.h) says when it is back; the next
       * sweep reads whatever was missed. */
      next_sweep = 0;
      if (pause_ms(t, 200)) break;
    }
  }
  return NULL;
}

int tail_start(tail_t **out, notifier_t *n, char *errstr, size_t errstr_size) {
  tail_t *t = calloc(1, sizeof(*t));
  *out = NULL;
  if (!t) return GB_ENOMEM;
  t->n = n;
  t->out_end = &t->out;
  snprintf(t->pushlog, sizeof(t->pushlog), "%spushlog", n->prefix);
  int timeout_ms = (int)gb_config_int(n->cfg, "redis.timeout-ms");
  /* The block must end well within a command's timeout. */
  t->block_ms = timeout_ms / 2 < BLOCK_MAX_MS ? timeout_ms / 2 : BLOCK_MAX_MS;
  if (t->block_ms < 1) t->block_ms = 1;
  int err = gb_redis_connect(&t->r, gb_config_str(n->cfg, "redis.url"), timeout_ms,
                             (int)gb_config_int(n->cfg, "startup.timeout-ms"), errstr,
                             errstr_size);
  if (err) {
    free(t);
    return err;
  }
  gb_redis_set_name(t->r, "tail");
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->cv, NULL);
  uv_async_init(n->loop, &t->async, on_async);
  t->async.data = t;
  if (pthread_create(&t->thread, NULL, run, t) != 0) {
    gb_errstr_set(errstr, errstr_size, "tail: cannot start thread");
    gb_redis_free(t->r);
    t->r = NULL;
    t->stop = 1; /* freed by tail_free, after the loop closed the handle */
    uv_close((uv_handle_t *)&t->async, NULL);
    *out = t;
    return GB_EIO;
  }
  *out = t;
  return 0;
}

void tail_free(tail_t *t) {
  if (!t) return;
  while (t->out) {
    item_t *it = t->out;
    t->out = it->next;
    item_free(it);
  }
  while (t->watches) {
    watch_t *w = t->watches;
    t->watches = w->next;
    free(w);
  }
  pthread_mutex_destroy(&t->mu);
  pthread_cond_destroy(&t->cv);
  free(t);
}

void tail_stop(tail_t *t) {
  if (!t || t->stop) return;
  pthread_mutex_lock(&t->mu);
  t->stop = 1;
  pthread_cond_signal(&t->cv);
  pthread_mutex_unlock(&t->mu);
  pthread_join(t->thread, NULL);
  gb_redis_free(t->r);
  t->r = NULL;
  uv_close((uv_handle_t *)&t->async, NULL);
}
