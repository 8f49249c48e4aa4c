#include "follow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gb/err.h"
#include "gb/indexfeed.h"
#include "gb/kafka.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/site.h"
#include "gb/timeparse.h"
#include "gb/pbwire.h"
#include "matcher.h"

/* Removals confirmed per Redis pipeline. */
#define CONFIRM_BATCH 512

int follow_open(follow_t *f, const gb_config_t *cfg, const char *topic, view_t *view,
                gb_redis_t *redis, const char *prefix, char *errstr, size_t errstr_size) {
  memset(f, 0, sizeof(*f));
  f->topic = topic, f->view = view, f->redis = redis, f->prefix = prefix;
  int err = gb_kafka_reader_new(&f->rk, cfg, topic, &f->high, &f->npart, errstr, errstr_size);
  if (err) return err;
  /* Size the view for what the feed holds (every message at most one
   * entry), rather than growing it, at twice the memory, while loading. */
  size_t total = 0;
  for (int i = 0; i < f->npart; i++) total += f->high[i] > 0 ? (size_t)f->high[i] : 0;
  if (total > 1024 && tagset_count(&view->protected_) == 0) {
    tagset_free(&view->protected_);
    if (tagset_init(&view->protected_, total) != 0) {
      snprintf(errstr, errstr_size, "view: no memory for %zu entries", total);
      return GB_ENOMEM;
    }
  }
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

/* The fields of an IndexChange the view needs, read in place (pbwire.h):
 * at start the whole feed goes through here, ten million entries and more,
 * and a protobuf-c unpack would malloc every string of each. */
typedef struct {
  uint64_t version;
  int which; /* 10 protected, 11 indicator, 0 neither */
  const char *hash;
  size_t hash_len;
  uint64_t tag;
  bool removed;
  uint64_t kind;
  const char *value;
  size_t value_len;
  int64_t expires_ms;
} change_t;

static int scan_entry(const uint8_t *p, size_t len, change_t *c) {
  gb_pbwire_t w;
  gb_pbfield_t fl;
  const char *why;
  int r;
  gb_pbwire_init(&w, p, len);
  while ((r = gb_pbwire_next(&w, &fl, &why)) == 1) {
    if (c->which == 10) {
      if (fl.field == 1 && fl.wire == GB_PBWIRE_LEN)
        c->hash = (const char *)fl.data, c->hash_len = fl.len;
      else if (fl.field == 5 && fl.wire == GB_PBWIRE_VARINT)
        c->removed = fl.varint != 0;
      else if (fl.field == 6 && fl.wire == GB_PBWIRE_I64)
        c->tag = fl.varint;
    } else {
      if (fl.field == 1 && fl.wire == GB_PBWIRE_VARINT)
        c->kind = fl.varint;
      else if (fl.field == 2 && fl.wire == GB_PBWIRE_LEN)
        c->value = (const char *)fl.data, c->value_len = fl.len;
      else if (fl.field == 3 && fl.wire == GB_PBWIRE_VARINT)
        c->expires_ms = (int64_t)fl.varint;
      else if (fl.field == 4 && fl.wire == GB_PBWIRE_VARINT)
        c->removed = fl.varint != 0;
    }
  }
  return r;
}

static int scan_change(const uint8_t *p, size_t len, change_t *c) {
  gb_pbwire_t w;
  gb_pbfield_t fl;
  const char *why;
  int r;
  memset(c, 0, sizeof(*c));
  gb_pbwire_init(&w, p, len);
  while ((r = gb_pbwire_next(&w, &fl, &why)) == 1) {
    if (fl.field == 1 && fl.wire == GB_PBWIRE_VARINT) {
      c->version = fl.varint;
    } else if ((fl.field == 10 || fl.field == 11) && fl.wire == GB_PBWIRE_LEN) {
      /* A oneof: the last member wins, as in protobuf-c. */
      change_t keep = *c;
      memset(c, 0, sizeof(*c));
      c->version = keep.version;
      c->which = (int)fl.field;
      if ((r = scan_entry(fl.data, fl.len, c)) < 0) return r;
    }
  }
  return r;
}

static int apply(follow_t *f, const rd_kafka_message_t *m, int64_t now_ms) {
  if (!m->payload) return 0; /* a tombstone: nothing to add, and removals come as entries */
  change_t c;
  if (scan_change(m->payload, m->len, &c) < 0 || c.version > 1 ||
      (c.which == 10 && (c.hash_len == 0 || c.hash_len > GB_NUMKEY_HEX_LEN)) ||
      (c.which == 11 && (c.value_len == 0 || c.value_len > GB_HOST_MAX))) {
    /* Written by our own code; a bad one is a bug elsewhere, not a reason
     * to stop matching. Counted and logged. */
    f->bad++;
    gb_error("index.bad_change", "topic=%s partition=%d offset=%lld", f->topic, m->partition,
             (long long)m->offset);
    return 0;
  }
  int err = 0;
  if (c.which == 10) {
    char hash[GB_NUMKEY_HEX_LEN + 1];
    memcpy(hash, c.hash, c.hash_len);
    hash[c.hash_len] = '\0';
    err = follow_protected(f, hash, c.tag, c.removed);
  } else if (c.which == 11) {
    char value[GB_HOST_MAX + 1];
    memcpy(value, c.value, c.value_len);
    value[c.value_len] = '\0';
    bool expired = c.expires_ms && c.expires_ms <= now_ms;
    err = follow_indicator(f, (gb_indicator_kind_t)c.kind, value, c.removed || expired);
  }
  f->applied++;
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

#define CONSUME_BATCH 4096

/* Applies up to CONSUME_BATCH messages that are ready (waiting up to
 * timeout_ms for the first). Returns how many, or a negative code. */
static int consume(follow_t *f, int timeout_ms) {
  static rd_kafka_message_t *msgs[CONSUME_BATCH];
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(f->rk);
  ssize_t n = rd_kafka_consume_batch_queue(q, timeout_ms, msgs, CONSUME_BATCH);
  rd_kafka_queue_destroy(q);
  int err = 0, applied = 0;
  int64_t now = gb_now_ms();
  for (ssize_t i = 0; i < n; i++) {
    rd_kafka_message_t *m = msgs[i];
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        gb_warn("index.consume_error", "err=%s msg=\"%s\"", rd_kafka_err2name(m->err),
                rd_kafka_message_errstr(m));
    } else if (!err) {
      err = apply(f, m, now);
      reached(f, m);
      applied++;
    }
    rd_kafka_message_destroy(m);
  }
  return err ? err : applied;
}

int follow_poll(follow_t *f, int budget_ms) {
  int64_t deadline = gb_mono_ms() + budget_ms;
  int n = 0, k;
  do {
    if ((k = consume(f, 0)) < 0) return k;
    n += k;
  } while (k == CONSUME_BATCH && gb_mono_ms() < deadline);
  if (confirm(f) != 0) {
    char q[600];
    gb_log(matcher_redis_fail_level(f->redis), "index.confirm_failed", "pending=%zu reason=%s action=retry",
           f->nrm, gb_log_quote(q, sizeof(q), gb_redis_errstr(f->redis)));
    return GB_EIO;
  }
  return n;
}

int follow_load(follow_t *f, volatile sig_atomic_t *stop) {
  int64_t t0 = gb_mono_ms(), last_log = t0;
  while (f->behind > 0) {
    if (*stop) return GB_ECANCELED;
    int k = consume(f, 200);
    if (k < 0) return k;
    if (gb_mono_ms() - last_log >= 5000) {
      last_log = gb_mono_ms();
      gb_info("index.loading", "applied=%llu protected=%zu indicators=%zu partitions_behind=%d",
              (unsigned long long)f->applied, tagset_count(&f->view->protected_),
              tagset_count(&f->view->indicators), f->behind);
    }
  }
  /* Removals seen during the load are confirmed now, against Redis as it
   * is: anything protected again since is kept. */
  int err, wait_ms = 100;
  while ((err = confirm(f)) != 0) {
    if (*stop) return GB_ECANCELED;
    gb_warn("index.confirm_failed", "pending=%zu reason=\"%s\" action=retry_in_%d_ms", f->nrm,
            gb_redis_errstr(f->redis), wait_ms);
    struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    wait_ms = wait_ms * 2 > 2000 ? 2000 : wait_ms * 2;
  }
  gb_info("index.loaded", "changes=%llu protected=%zu indicators=%zu view_bytes=%zu ms=%lld",
          (unsigned long long)f->applied, tagset_count(&f->view->protected_),
          tagset_count(&f->view->indicators), view_bytes(f->view),
          (long long)(gb_mono_ms() - t0));
  return 0;
}
