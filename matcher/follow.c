#include "follow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/indexfeed.h"
#include "gb/kafka.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/timeparse.h"
#include "goldenbell/v1/index.pb-c.h"

/* Removals confirmed per Redis pipeline. */
#define CONFIRM_BATCH 512

int follow_open(follow_t *f, const gb_config_t *cfg, const char *topic, view_t *view,
                gb_redis_t *redis, const char *prefix, char *errstr, size_t errstr_size) {
  memset(f, 0, sizeof(*f));
  f->topic = topic, f->view = view, f->redis = redis, f->prefix = prefix;
  int err = gb_kafka_reader_new(&f->rk, cfg, topic, &f->high, &f->npart, errstr, errstr_size);
  if (err) return err;
  for (int i = 0; i < f->npart; i++) {
    if (f->high[i] > 0)
      f->behind++;
    else
      f->high[i] = -1;
  }
  return 0;
}

void follow_close(follow_t *f) {
  if (f->rk) {
    rd_kafka_consumer_close(f->rk);
    rd_kafka_destroy(f->rk);
  }
  free(f->high);
  free(f->rm);
  free(f->phones);
  memset(f, 0, sizeof(*f));
}

static int grow(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap * 2 : 64;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * size);
  if (!q) return GB_ENOMEM;
  *p = q, *cap = c;
  return 0;
}

int follow_protected(follow_t *f, const char *number_hash, uint64_t tag, bool removed) {
  if (!removed) {
    /* A removal still waiting for Redis would now be wrong to apply. */
    for (size_t i = 0; i < f->nrm; i++)
      if (f->rm[i].tag == tag) f->rm[i] = f->rm[--f->nrm], i--;
    return tagset_add(&f->view->protected_, tag) < 0 ? GB_ENOMEM : 0;
  }
  if (!tagset_has(&f->view->protected_, tag)) return 0;
  if (grow((void **)&f->rm, &f->caprm, f->nrm + 1, sizeof(*f->rm)) != 0) return GB_ENOMEM;
  follow_removal_t *r = &f->rm[f->nrm++];
  snprintf(r->hash, sizeof(r->hash), "%s", number_hash);
  r->tag = tag;
  return 0;
}

int follow_indicator(follow_t *f, gb_indicator_kind_t kind, const char *value, bool removed) {
  size_t len = strlen(value);
  uint64_t fp = view_indicator_fp(f->view, kind, value, len);
  /* One key per indicator in the feed: its messages arrive in order, and
   * the last one is the truth, so a withdrawal applies at once. */
  if (removed) {
    tagset_del(&f->view->indicators, fp);
    return 0;
  }
  int added = tagset_add(&f->view->indicators, fp);
  if (added < 0) return GB_ENOMEM;
  /* Retro-hunting starts only from live changes: at load, nothing is new. */
  if (added && kind == GB_IND_PHONE && f->behind == 0 && len < GB_PHONE_MAX) {
    if (grow((void **)&f->phones, &f->capphones, f->nphones + 1, sizeof(*f->phones)) != 0)
      return GB_ENOMEM;
    memcpy(f->phones[f->nphones++], value, len + 1);
  }
  return 0;
}

const char (*follow_new_phones(const follow_t *f, size_t *n))[GB_PHONE_MAX] {
  *n = f->nphones;
  return (const char(*)[GB_PHONE_MAX])f->phones;
}

void follow_clear_new_phones(follow_t *f) { f->nphones = 0; }

static int apply(follow_t *f, const rd_kafka_message_t *m) {
  if (!m->payload) return 0; /* a tombstone: nothing to add, and removals come as entries */
  Goldenbell__V1__IndexChange *c =
      goldenbell__v1__index_change__unpack(NULL, m->len, (const uint8_t *)m->payload);
  if (!c || c->version > 1) {
    /* Written by our own code; a bad one is a bug elsewhere, not a reason
     * to stop matching. Counted and logged. */
    f->bad++;
    gb_error("index.bad_change", "topic=%s partition=%d offset=%lld", f->topic, m->partition,
             (long long)m->offset);
    if (c) goldenbell__v1__index_change__free_unpacked(c, NULL);
    return 0;
  }
  int err = 0;
  if (c->change_case == GOLDENBELL__V1__INDEX_CHANGE__CHANGE_PROTECTED && c->protected_) {
    const Goldenbell__V1__ProtectedEntry *e = c->protected_;
    err = follow_protected(f, e->number_hash, e->number_tag, e->removed);
  } else if (c->change_case == GOLDENBELL__V1__INDEX_CHANGE__CHANGE_INDICATOR && c->indicator) {
    const Goldenbell__V1__IndicatorEntry *e = c->indicator;
    bool expired = e->expires_ms && e->expires_ms <= gb_now_ms();
    err = follow_indicator(f, (gb_indicator_kind_t)e->kind, e->value, e->removed || expired);
  }
  f->applied++;
  goldenbell__v1__index_change__free_unpacked(c, NULL);
  return err;
}

/* Asks Redis whether the numbers of pending removals are still protected;
 * drops from the view those nobody protects. */
static int confirm(follow_t *f) {
  while (f->nrm > 0) {
    size_t n = f->nrm < CONFIRM_BATCH ? f->nrm : CONFIRM_BATCH, sent = 0;
    follow_removal_t *batch = &f->rm[f->nrm - n];
    char key[GB_KEY_MAX];
    for (; sent < n; sent++)
      if (gb_redis_append(f->redis, "EXISTS %s",
                          gb_key_protected(key, f->prefix, batch[sent].hash)) != 0)
        break;
    int ok = sent == n;
    for (size_t i = 0; i < sent; i++) {
      redisReply *r = gb_redis_reply(f->redis);
      if (!r || r->type != REDIS_REPLY_INTEGER) {
        ok = 0;
      } else if (r->integer == 0) {
        tagset_del(&f->view->protected_, batch[i].tag);
        f->removed++;
      } else {
        f->kept++;
      }
      if (r) freeReplyObject(r);
    }
    if (!ok) return GB_EIO; /* the batch stays pending; EXISTS is safe to repeat */
    f->nrm -= n;
  }
  return 0;
}

static void reached(follow_t *f, const rd_kafka_message_t *m) {
  if (m->partition < 0 || m->partition >= f->npart) return;
  int64_t *h = &f->high[m->partition];
  if (*h >= 0 && m->offset + 1 >= *h) {
    *h = -1;
    f->behind--;
  }
}

int follow_poll(follow_t *f, int budget_ms) {
  int64_t deadline = gb_mono_ms() + budget_ms;
  int n = 0;
  for (;;) {
    int64_t left = deadline - gb_mono_ms();
    rd_kafka_message_t *m = rd_kafka_consumer_poll(f->rk, 0);
    if (!m) break;
    if (m->err) {
      gb_warn("index.consume_error", "err=%s msg=\"%s\"", rd_kafka_err2name(m->err),
              rd_kafka_message_errstr(m));
    } else {
      int err = apply(f, m);
      reached(f, m);
      if (err) {
        rd_kafka_message_destroy(m);
        return err;
      }
      n++;
    }
    rd_kafka_message_destroy(m);
    if (left <= 0) break;
  }
  if (confirm(f) != 0) {
    gb_warn("index.confirm_failed", "pending=%zu reason=\"%s\" action=retry", f->nrm,
            gb_redis_errstr(f->redis));
    return GB_EIO;
  }
  return n;
}

int follow_load(follow_t *f, volatile sig_atomic_t *stop) {
  int64_t t0 = gb_mono_ms(), last_log = t0;
  while (f->behind > 0) {
    if (*stop) return GB_ECANCELED;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(f->rk, 200);
    if (m) {
      if (!m->err) {
        int err = apply(f, m);
        reached(f, m);
        if (err) {
          rd_kafka_message_destroy(m);
          return err;
        }
      } else {
        gb_warn("index.consume_error", "err=%s msg=\"%s\"", rd_kafka_err2name(m->err),
                rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
    if (gb_mono_ms() - last_log >= 5000) {
      last_log = gb_mono_ms();
      gb_info("index.loading", "applied=%llu protected=%zu indicators=%zu partitions_behind=%d",
              (unsigned long long)f->applied, tagset_count(&f->view->protected_),
              tagset_count(&f->view->indicators), f->behind);
    }
  }
  /* Removals seen during the load are confirmed now, against Redis as it
   * is: anything protected again since is kept. */
  int err;
  while ((err = confirm(f)) != 0) {
    if (*stop) return GB_ECANCELED;
    gb_warn("index.confirm_failed", "pending=%zu reason=\"%s\" action=retry", f->nrm,
            gb_redis_errstr(f->redis));
  }
  gb_info("index.loaded", "changes=%llu protected=%zu indicators=%zu view_bytes=%zu ms=%lld",
          (unsigned long long)f->applied, tagset_count(&f->view->protected_),
          tagset_count(&f->view->indicators), view_bytes(f->view),
          (long long)(gb_mono_ms() - t0));
  return 0;
}
